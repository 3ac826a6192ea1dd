"""Inspecting a learner's data pipeline and model for :mod:`tlhelpers.check`.

>>> convention_of(-1.0, 1.0)
'[-1, 1] (MobileNet / Inception style)'
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tlhelpers.feedback import Feedback, is_fraction, positive

# ---------------------------------------------------------------- data checks
#: Input conventions of keras.applications backbones: the value range of preprocessed pixels.
CONVENTIONS = {
    "[0, 1] (pixels / 255)": (0.0, 1.0),
    "[-1, 1] (MobileNet / Inception style)": (-1.0, 1.0),
    "[0, 255] (raw pixels)": (0.0, 255.0),
    "ImageNet means subtracted, BGR (VGG / ResNet 'caffe' style)": (-123.68, 151.061),
}


def expected_range(backbone: str) -> tuple[float, float]:
    """The value range the backbone's own ``preprocess_input`` gives to [0, 255] pixels."""
    from tlhelpers.pipeline import get_preprocess

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


def check_folder_data(fb: Feedback, data: Any) -> None:
    from tlhelpers.folders import FolderData

    if not isinstance(data, FolderData):
        fb.fix(f"`data` is a {type(data).__name__}, not the FolderData of a loaded folder.",
               "Use `folders.load_image_folder(...)`.")
        return
    fb.ok(f"{data.num_classes} classes found: {', '.join(data.class_names)}.")
    n_tr, n_va = len(data.train_paths), len(data.val_paths)
    fb.check(n_tr > 0 and n_va > 0, f"{n_tr} training and {n_va} validation images.",
             "The training or validation split is empty.", "Ask for a validation fraction such as 0.2.")
    overlap = set(data.train_paths) & (set(data.val_paths) | set(data.test_paths))
    fb.check(not overlap, "No image is in two splits.", f"{len(overlap)} images are in two splits.",
             "Split the files once, so each file lands in exactly one split.")
    missing = set(range(data.num_classes)) - set(np.asarray(data.val_labels).tolist())
    fb.check(not missing, "Every class appears in the validation split.",
             f"{len(missing)} classes have no validation image.", "Use a stratified split (per class).")


def check_batches(fb: Feedback, ds: Any, backbone: str | None, num_classes: int | None,
                  shapes: bool = True) -> None:
    from tlhelpers.backbones import get_spec
    from tlhelpers.pipeline import value_range

    try:
        spec = get_spec(backbone)
        x, y = next(iter(ds))
        low, high = value_range(ds, batches=2)
    except Exception as err:  # the learner's object: explain instead of crashing
        fb.fix(f"Could not read a batch of (images, labels) for backbone {backbone!r}: "
               f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}",
               "Build the dataset with `data.dataset(split, image_size, preprocess)`.")
        return
    if shapes:
        ok = len(x.shape) == 4 and x.shape[-1] == 3 and x.shape[1] == x.shape[2]
        fb.check(ok, f"Batches of square RGB images: {tuple(x.shape)}.",
                 f"A batch has shape {tuple(x.shape)}; expected (batch, size, size, 3).",
                 "Resize every image to the same square size.")
        labels = np.asarray(y)
        if num_classes:
            fb.check(labels.min() >= 0 and labels.max() < num_classes,
                     f"Labels are class ids in 0..{num_classes - 1}.",
                     f"Labels range from {labels.min()} to {labels.max()}.", "Use integer class ids.")
    want, got = convention_of(*expected_range(spec.name)), convention_of(low, high)
    fb.check(want == got, f"Inputs range over [{low:.3g}, {high:.3g}]: {want}, as {spec.name} expects.",
             f"Inputs range over [{low:.3g}, {high:.3g}], which looks like {got}; {spec.name} "
             f"expects {want}.", f"Each backbone needs its own preprocess_input: pass {spec.name!r} "
             "as the preprocessing of the pipeline.")


# ---------------------------------------------------------------- model checks
_NAME_PREFIXES = (("mobilenetv2", "mobilenet_v2"), ("mobilenet_0.25", "mobilenet_025"),
                  ("mobilenet_0.50", "mobilenet_050"), ("mobilenet_0.75", "mobilenet_075"),
                  ("mobilenet_1.00", "mobilenet_100"), ("vgg16", "vgg16"), ("resnet50", "resnet50"),
                  ("efficientnetb0", "efficientnet_b0"))


def backbone_of(base) -> str | None:
    """The tlhelpers backbone name of a keras.applications base, from its model name."""
    name = base.name.lower()
    return next((key for prefix, key in _NAME_PREFIXES if name.startswith(prefix)), None)


def check_model_and_base(fb: Feedback, model: Any, quiet: bool = False):
    import keras

    from tlhelpers.models import find_base

    if not isinstance(model, keras.Model):
        fb.fix(f"`model` is a {type(model).__name__}, not a Keras model.",
               "Build it with the functional API (or tlhelpers.models).")
        return None
    base = find_base(model)
    if base is model:
        fb.fix("No pretrained base found inside the model.",
               "Call the loaded backbone as a layer on the model's input.")
        return None
    if not quiet:
        fb.ok(f"The model reuses the pretrained base {base.name!r}.")
    return base


def base_call_training(model, base) -> tuple[bool, Any]:
    """(found, value of ``training``) for the call of ``base`` inside ``model``'s graph.

    Looks at the nodes of this model's functional graph only (a base reused by several
    models has one node per call). ``value`` is None when ``training`` was not passed.
    """
    graph = getattr(model, "_functional", None) or model  # Sequential keeps a Functional inside
    nodes_by_depth = getattr(graph, "_nodes_by_depth", None)
    if not nodes_by_depth:
        return False, None
    for nodes in nodes_by_depth.values():
        for node in nodes:
            op = getattr(node, "operation", None)
            if getattr(op, "base", None) is base and type(op).__name__ == "InferenceMode":
                return True, "pinned"  # tlhelpers.models.InferenceMode always passes training=False
            if op is base:
                args = getattr(node, "arguments", None)
                kwargs = getattr(args, "kwargs", {}) or {}
                return True, kwargs.get("training")
    return False, None


def check_inference_mode(fb: Feedback, model, base) -> None:
    found, value = base_call_training(model, base)
    if not found:
        fb.info("Could not inspect how the base is called (not a functional model).")
    elif value == "pinned":
        fb.ok("The base runs in inference mode (training=False, pinned by InferenceMode): "
              "BatchNormalization keeps its ImageNet statistics.")
    elif value is False:
        fb.ok("The base is called in inference mode (training=False).")
        fb.info("In Keras 3, `fit` can override training=False of a nested model (keras-team/keras#20285); "
                "keeping BatchNormalization layers frozen (or tlhelpers.models.InferenceMode) makes it safe.")
    else:
        fb.fix(f"The base is called with training={value}: its BatchNormalization layers would update "
               "their statistics and can wreck the pretrained features when you fine-tune.",
               "Look at the arguments you pass when you call the base on the input.")


def num_outputs(model) -> int | None:
    try:
        return int(model.output_shape[-1])
    except Exception:
        return None


def _last_activation(model) -> str | None:
    for layer in reversed(_ordered_leaves(model)):
        act = getattr(layer, "activation", None)
        if act is not None:
            return getattr(act, "__name__", str(act))
        if type(layer).__name__ == "Softmax":
            return "softmax"
    return None


def _ordered_leaves(model) -> list:
    out = []
    for layer in getattr(model, "layers", []):
        out.extend(_ordered_leaves(layer) if hasattr(layer, "layers") else [layer])
    return out


def check_output(fb: Feedback, model, num_classes: int | None) -> None:
    units = num_outputs(model)
    if num_classes is not None:
        fb.check(units == num_classes, f"The output layer has {units} units, one per class.",
                 f"The output layer has {units} units but there are {num_classes} classes.",
                 "The last Dense layer needs one unit per class of YOUR data set.")
    act = _last_activation(model)
    fb.check(act == "softmax", "The output is a softmax: one probability per class.",
             f"The last activation is {act!r}, so the outputs are not probabilities.",
             "The course's loss expects probabilities: give the last layer a softmax.")


def check_unfrozen(fb: Feedback, base) -> None:
    leaves = _ordered_leaves(base)
    trainable = [layer for layer in leaves if layer.trainable and base.trainable and layer.weights]
    with_weights = [layer for layer in leaves if layer.weights]
    bn_trainable = [layer for layer in trainable if type(layer).__name__ == "BatchNormalization"]
    fb.check(bool(trainable), f"{len(trainable)} of the {len(with_weights)} base layers that have weights "
             "are trainable.", "No layer of the base is trainable, so fine-tuning changes nothing.",
             "Unfreeze the top of the base (tlhelpers.models.unfreeze helps).")
    if trainable and len(trainable) == len(with_weights):
        fb.info("The whole base is unfrozen; with little data, unfreezing only the top layers is safer.")
    fb.check(not bn_trainable, "BatchNormalization layers stay frozen.",
             f"{len(bn_trainable)} BatchNormalization layers are trainable.",
             "Keep BatchNormalization layers frozen while fine-tuning with little data.")


def check_optimizer(fb: Feedback, model, head_learning_rate) -> None:
    opt = getattr(model, "optimizer", None)
    if opt is None:
        fb.fix("The model is not compiled.", "Compile it again after changing `trainable`.")
        return
    lr = float(np.asarray(opt.learning_rate))
    if positive(head_learning_rate):
        fb.check(lr < float(head_learning_rate),
                 f"Fine-tuning learning rate {lr:g} is lower than the head's {float(head_learning_rate):g}.",
                 f"Fine-tuning learning rate {lr:g} is not lower than the head's "
                 f"{float(head_learning_rate):g}: large updates can destroy the pretrained features.",
                 "Fine-tune with a learning rate about 10 to 100 times lower than the head's.")
    tracked = getattr(opt, "_trainable_variables", None)
    if getattr(opt, "built", False) and tracked is not None and len(tracked) != len(model.trainable_variables):
        fb.fix(f"The optimizer updates {len(tracked)} variables but the model now has "
               f"{len(model.trainable_variables)} trainable ones: it was not recompiled after unfreezing.",
               "Keras fixes the set of weights to train when it compiles: compile again after unfreezing.")


def check_accuracy(fb: Feedback, value: Any, name: str, n_classes: int | None) -> None:
    if not is_fraction(value):
        fb.fix(f"`{name}` should be an accuracy between 0 and 1, got {value!r}.",
               "Use the accuracy that `model.evaluate` returns on the held-out validation split.")
        return
    chance = 1.0 / n_classes if n_classes else None
    text = f"`{name}` = {float(value):.3f}" + (f" (chance level {chance:.3f})" if chance else "") + "."
    if chance is None or float(value) > chance:
        fb.ok(text + (" Better than guessing." if chance else ""))
    else:
        fb.fix(text + " That is no better than guessing.",
               "Check the preprocessing and the labels, and train the head for a few more epochs.")
