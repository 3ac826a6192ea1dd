"""Looking inside a learner's data pipeline and Keras model, for :mod:`tlhelpers.check`.

The checks run the learner's own objects on a few images: what reaches the base, what
the model outputs, which layers are trainable. Nothing here trains or changes a model.

>>> convention_of(-1.0, 1.0)
'[-1, 1] (MobileNet / Inception style)'
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tlhelpers.transfer.walk import leaves
from tlhelpers.exercises.feedback import NB03, Feedback, describe

# ---------------------------------------------------------------- value ranges
#: Input conventions of keras.applications backbones: the value range of preprocessed pixels.
CONVENTIONS = {
    "[0, 1] (pixels / 255)": (0.0, 1.0),
    "[-1, 1] (MobileNet / Inception style)": (-1.0, 1.0),
    "[0, 255] (raw pixels)": (0.0, 255.0),
    "ImageNet means subtracted, BGR (VGG / ResNet 'caffe' style)": (-123.68, 151.061),
}
RAW = "[0, 255] (raw pixels)"


def expected_range(backbone: str) -> tuple[float, float]:
    """The value range the backbone's own ``preprocess_input`` gives to [0, 255] pixels."""
    from tlhelpers.transfer.pipeline import get_preprocess   # here: it imports TensorFlow

    pixels = np.array([[[[0.0, 0.0, 0.0], [255.0, 255.0, 255.0]]]], np.float32)
    out = np.asarray(get_preprocess(backbone)(pixels))
    return float(out.min()), float(out.max())


def convention_of(low: float, high: float) -> str:
    """The narrowest known convention whose range contains [low, high]."""
    fits = []
    for name, (lo, hi) in CONVENTIONS.items():
        tol = 0.02 * (hi - lo) + 1e-3
        if low >= lo - tol and high <= hi + tol:
            fits.append((hi - lo, name))
    return min(fits)[1] if fits else f"[{low:.3g}, {high:.3g}] (no known convention)"


def first_batch(data: Any, n: int = 32) -> tuple[np.ndarray, np.ndarray] | None:
    """(images, labels) of the first ``n`` examples of a tf.data dataset or an (x, y) pair."""
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = np.asarray(data[0]), np.asarray(data[1])
        return (x[:n].astype("float32"), y[:n]) if x.ndim == 4 else None
    if hasattr(data, "take") and hasattr(data, "element_spec"):
        for item in data.take(1):
            if isinstance(item, (tuple, list)) and len(item) >= 2:
                return np.asarray(item[0], np.float32)[:n], np.asarray(item[1])[:n]
    return None


# ---------------------------------------------------------------- the model's structure
_CONV = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")
_NAME_PREFIXES = (("mobilenetv2", "mobilenet_v2"), ("mobilenet_0.25", "mobilenet_025"),
                  ("mobilenet_0.50", "mobilenet_050"), ("mobilenet_0.75", "mobilenet_075"),
                  ("mobilenet_1.00", "mobilenet_100"), ("vgg16", "vgg16"), ("resnet50", "resnet50"),
                  ("efficientnetb0", "efficientnet_b0"))


def is_model(obj: Any) -> bool:
    """True for any Keras model (functional, Sequential or subclassed)."""
    import keras

    return isinstance(obj, keras.Model)


def built(model) -> bool:
    """True when ``model`` is built and has inputs, so it can be called and inspected."""
    try:
        if not model.built:
            return False
    except AttributeError:
        return False
    try:
        return len(model.inputs) > 0
    except (AttributeError, ValueError, TypeError):   # a built subclassed model has no symbolic inputs
        return True


def check_model(fb: Feedback, model: Any, name: str = "model", hint_nb: str = NB03) -> bool:
    """A Keras model with a known input: else a fix, and False."""
    if not is_model(model):
        fb.fix(f"`{name}` is {describe(model)}, not a Keras model.",
               f"Build it with `keras.Model(inputs, outputs)` or `keras.Sequential([...])` ({hint_nb}).")
        return False
    if not built(model):
        fb.fix(f"`{name}` is a Keras model that was never built: it has no input shape yet.",
               f"Start it with `keras.Input(shape=(size, size, 3))` ({hint_nb}).")
        return False
    return True


def find_base(model) -> Any:
    """The pretrained base: a nested model (or an InferenceMode's base) with convolutions."""
    for layer in getattr(model, "layers", []):
        inner = layer.base if type(layer).__name__ == "InferenceMode" else layer
        if is_model(inner) and sum(type(x).__name__ in _CONV for x in leaves(inner)) >= 3:
            return inner
    return None


def backbone_of(base) -> str | None:
    """The tlhelpers backbone name of a keras.applications base, from its model name."""
    name = str(getattr(base, "name", "")).lower()
    return next((key for prefix, key in _NAME_PREFIXES if name.startswith(prefix)), None)


def _operations(model) -> dict:
    """The layers and operations of a model by name (a functional model's public ``operations``)."""
    return {op.name: op for op in getattr(model, "operations", model.layers)}


def _calls(model) -> list[tuple[Any, dict, list[str]]]:
    """(layer or operation, call keyword arguments, names of what feeds it) for every call
    in a functional model, read from its public ``get_config()`` and ``operations``; []
    for other models."""
    try:
        layers_config = model.get_config().get("layers", [])
    except (AttributeError, NotImplementedError, TypeError, ValueError):
        return []
    by_name = _operations(model)
    calls = []
    for entry in layers_config if isinstance(layers_config, list) else []:
        for node in entry.get("inbound_nodes") or []:
            if not isinstance(node, dict):
                continue
            feeds = [arg["config"]["keras_history"][0] for arg in node.get("args", [])
                     if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__"]
            if entry.get("name") in by_name:
                calls.append((by_name[entry["name"]], node.get("kwargs") or {}, feeds))
    return calls


def _holds(layer, target) -> bool:
    return layer is target or getattr(layer, "base", None) is target or target in leaves(layer)


def base_call(model, base) -> tuple[bool, Any]:
    """(found, ``training`` passed) for the call of ``base`` in ``model``; "pinned" for InferenceMode."""
    import keras

    if isinstance(model, keras.Sequential):   # a Sequential calls its layers without arguments
        for layer in model.layers:
            if type(layer).__name__ == "InferenceMode" and getattr(layer, "base", None) is base:
                return True, "pinned"
            if layer is base:
                return True, None
        return False, None
    for layer, kwargs, _ in _calls(model):
        if type(layer).__name__ == "InferenceMode" and getattr(layer, "base", None) is base:
            return True, "pinned"
        if layer is base:
            return True, kwargs.get("training")
    return False, None


def input_of(model, target, x: np.ndarray, training: bool = False) -> np.ndarray | None:
    """The values that reach the top-level layer holding ``target`` when ``model`` sees ``x``."""
    import keras

    if isinstance(model, keras.Sequential):
        values = x
        for layer in model.layers:
            if _holds(layer, target):
                return np.asarray(values)
            values = layer(values, training=training)
        return None
    by_name = _operations(model)
    for layer, _, feeds in _calls(model):
        if _holds(layer, target) and len(feeds) == 1 and feeds[0] in by_name:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tensor = by_name[feeds[0]].output
                sub = keras.Model(model.inputs, tensor)
                return np.asarray(sub(x, training=training))
    return None


def check_reaches_base(fb: Feedback, model, base, x: np.ndarray) -> None:
    """What reaches the base must be in the range its own preprocess_input gives."""
    name = backbone_of(base)
    seen = input_of(model, base, x)
    if name is None or seen is None:
        fb.info("Could not check what reaches the base (an unknown backbone or not a functional model).")
        return
    low, high = float(seen.min()), float(seen.max())
    want, got = convention_of(*expected_range(name)), convention_of(low, high)
    spread = expected_range(name)[1] - expected_range(name)[0]
    if want == got and high - low > 0.05 * spread:
        fb.ok(f"The base receives values in [{low:.3g}, {high:.3g}]: {want}, as {name} expects.")
    elif high - low <= 0.05 * spread:
        fb.fix(f"The base receives values squeezed into [{low:.3g}, {high:.3g}]: the images were "
               "preprocessed twice (in the pipeline and in the model).",
               f"Preprocess once: raw pixels from the pipeline, `preprocess_input` inside the model ({NB03}).")
    else:
        fb.fix(f"The base receives values in [{low:.3g}, {high:.3g}] ({got}), but {name} expects {want}.",
               f"Put the backbone's own `keras.applications.<family>.preprocess_input` between "
               f"`keras.Input` and the base ({NB03}, preprocessing).")


# ---------------------------------------------------------------- output, loss, optimizer
def num_outputs(model) -> int | None:
    """The size of the last axis of the output (the number of classes), or None if unknown."""
    try:
        return int(model.output_shape[-1])
    except (AttributeError, ValueError, TypeError, IndexError):   # unbuilt, or several outputs
        return None


def last_activation(model) -> str | None:
    """The name of the activation of the last layer that has one ("softmax", "sigmoid"...), or None."""
    for layer in reversed(leaves(model)):
        if type(layer).__name__ == "Softmax":
            return "softmax"
        act = getattr(layer, "activation", None)
        if act is not None:
            return getattr(act, "__name__", str(act))
    return None


def loss_kind(model) -> tuple[str | None, bool]:
    """("sparse" | "categorical" | "binary" | other name | None, from_logits) of the compiled loss."""
    loss = getattr(model, "loss", None)
    if loss is None:
        return None, False
    name = loss if isinstance(loss, str) else getattr(loss, "name", None) or type(loss).__name__
    name = str(getattr(name, "__name__", name)).lower()
    logits = bool(getattr(loss, "from_logits", False)) or bool(getattr(loss, "_fn_kwargs", {}).get("from_logits"))
    for kind in ("sparse", "binary", "categorical"):
        if kind in name:
            return kind, logits
    return name, logits


def check_output(fb: Feedback, model, num_classes: int | None) -> None:
    """One output per class (or one sigmoid for two classes), matching the loss."""
    units, act = num_outputs(model), last_activation(model)
    kind, logits = loss_kind(model)
    two = num_classes == 2
    if units is None:
        fb.info("Could not read the size of the model's output (a subclassed model); the accuracy check below measures it.")
        return
    if num_classes and not (units == num_classes or (two and units == 1)):
        fb.fix(f"The output layer has {units} units but the data set has {num_classes} classes.",
               f"The last Dense layer needs one unit per class of this data set ({NB03}, the head).")
        return
    if units == 1:
        right = act == "sigmoid" and kind == "binary" and not logits
        right = right or (act == "linear" and kind == "binary" and logits)
        fb.check(right, "One sigmoid output with binary cross-entropy: the probability of class 1.",
                 f"One output with activation {act!r} and loss {kind!r}: these do not fit together.",
                 "For one output use activation='sigmoid' and loss='binary_crossentropy' (or two "
                 "softmax outputs with sparse categorical cross-entropy).")
        return
    if logits:
        fb.check(act == "linear", "Logits out, and the loss is told so (from_logits=True).",
                 f"The last activation is {act!r} but the loss expects logits (from_logits=True).",
                 "Use from_logits=True only with a linear last layer.")
    else:
        fb.check(act == "softmax", f"{units} softmax outputs: one probability per class.",
                 f"The last activation is {act!r}, so the outputs are not probabilities.",
                 f"Give the last Dense layer activation='softmax' ({NB03}, the head).")
    if kind == "categorical":   # fit would have failed with class ids: the labels were one-hot
        fb.ok("Categorical cross-entropy with one-hot labels (sparse categorical cross-entropy takes class ids as they are).")
    elif kind == "binary":
        fb.fix(f"The loss is binary cross-entropy, but there are {units} outputs, one per class.",
               "Use loss='sparse_categorical_crossentropy' with one output per class.")


def learning_rate(optimizer) -> float | None:
    """The rate ``optimizer`` trains with, or None when there is none or it cannot be read.

    A schedule counts with its largest value at the first, middle and current step: a cosine
    decay that ends at 0 did train, and a decay from a high rate is judged by that high rate.

    >>> import keras
    >>> round(learning_rate(keras.optimizers.Adam(1e-4)), 8), learning_rate(None)
    (0.0001, None)
    """
    # Keras 3's `learning_rate` is the current value; the schedule itself is kept in `_learning_rate`
    rate = getattr(optimizer, "_learning_rate", None)
    if rate is None:
        rate = getattr(optimizer, "learning_rate", None)
    if rate is None:
        return None
    try:
        if callable(rate):   # a LearningRateSchedule
            step = int(np.asarray(optimizer.iterations))
            return max(float(np.asarray(rate(s))) for s in (0, step // 2, step))
        return float(np.asarray(rate))
    except (TypeError, ValueError, AttributeError):
        return None


def check_compiled(fb: Feedback, model, name: str = "model", hint_nb: str = NB03):
    """The model's optimizer, or None with a fix when the model was never compiled."""
    opt = getattr(model, "optimizer", None)
    if opt is None or not getattr(model, "compiled", True):
        fb.fix(f"`{name}` was never compiled, so it cannot have been trained.",
               f"Call `{name}.compile(optimizer=..., loss=..., metrics=['accuracy'])` before fit ({hint_nb}).")
        return None
    return opt
