"""Evidence for the checks of notebook 07 that a learner's typing cannot fake.

- which data a run trained on (the steps per epoch that ``fit`` recorded in the History);
- whether a model does better than guessing (a binomial test on the re-measured accuracy);
- whether a base still holds its pretrained weights, and which layers moved (compared with
  the pristine ImageNet file, not with a copy an earlier check took);
- where a run started (a fingerprint of the weights that every History records when
  ``fit`` begins, installed by :func:`record_fit_starts`).

>>> steps_for(300, (32,))
{10}
>>> beyond_chance(0.9, 100, 10)
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tlhelpers.storage import assets
from tlhelpers.settings import config, registry
from tlhelpers.exercises.check_runs import LAST, looks_random
from tlhelpers.exercises.feedback import NB03, Feedback
from tlhelpers.exercises.inspection import backbone_of, leaves
from tlhelpers.analysis.stats import chance_p_value

#: batch sizes a learner is likely to use; step counts are compared at these
BATCH_SIZES = (8, 16, 32, 64, 128)


# ---------------------------------------------------------------- which data a run saw
def steps_for(n: int, batch_sizes=BATCH_SIZES) -> set[int]:
    """The numbers of steps per epoch that ``n`` examples make at the given batch sizes."""
    return {math.ceil(n / b) for b in batch_sizes if n > 0}


def trained_steps(history: Any) -> int | None:
    """Steps per epoch recorded by ``fit`` in ``history.params`` (None when unknown)."""
    steps = (getattr(history, "params", None) or {}).get("steps")
    try:
        return int(steps) if steps else None
    except (TypeError, ValueError):
        return None


def check_trained_on(fb: Feedback, history: Any, n_train: int, others: dict[str, int],
                     name: str = "history", batch_sizes=BATCH_SIZES) -> None:
    """A fix when the History's steps per epoch fit another split and not the training split.

    ``others`` maps a split's name ("validation", "test") to its number of examples.
    """
    steps = trained_steps(history)
    if steps is None:
        return
    train_fit = steps in steps_for(n_train, batch_sizes)
    wrong = [split for split, n in others.items() if steps in steps_for(n, batch_sizes)]
    if train_fit:
        fb.ok(f"`{name}`: {steps} steps per epoch, as the {n_train} training images make.")
    elif wrong:
        fb.fix(f"`{name}` shows {steps} steps per epoch: that is what the {others[wrong[0]]} {wrong[0]} "
               f"images make, not the {n_train} training images. The model was trained on the "
               f"{' or '.join(wrong)} split, so its {wrong[0]} accuracy says nothing about new images.",
               "Train on the training split: `model.fit(train_ds, validation_data=val_ds, ...)`.")


def check_folder_run(fb: Feedback, history: Any, folder_data: Any, name: str) -> None:
    """:func:`check_trained_on` for a run on a FolderData's training split (exercises 2-5)."""
    check_trained_on(fb, history, len(folder_data.train_paths),
                     {"validation": len(folder_data.val_paths), "test": len(folder_data.test_paths)},
                     name, batch_sizes())


# ---------------------------------------------------------------- better than guessing
def chance_p(accuracy: float, n: int, num_classes: int) -> float:
    """One-sided binomial p-value of scoring ``accuracy`` on ``n`` images by guessing."""
    return float(chance_p_value(accuracy, n, 1.0 / num_classes))


def beyond_chance(accuracy: float, n: int, num_classes: int, alpha: float = 0.05) -> bool:
    """True when ``accuracy`` on ``n`` images is beyond what guessing gives (p < alpha)."""
    return chance_p(accuracy, n, num_classes) < alpha


def can_tell_from_chance(n: int, num_classes: int, alpha: float = 0.05) -> bool:
    """True when even a perfect score on ``n`` images could be told apart from guessing."""
    return n > 0 and chance_p(1.0, n, num_classes) < alpha


def check_chance(fb: Feedback, accuracy: float, n: int, num_classes: int, what: str = "The model",
                 split: str = "validation") -> bool:
    """A fix when the re-measured ``accuracy`` (on ``n`` images of ``split``) is within the noise of
    guessing; True when it is beyond."""
    if not num_classes or num_classes < 2:
        return True
    guess = 1.0 / num_classes
    if not can_tell_from_chance(n, num_classes):
        fb.info(f"{n} {split} images are too few to tell learning from guessing ({guess:.3f}).")
        return True
    p = chance_p(accuracy, n, num_classes)
    fb.check(p < 0.05,
             f"{what} scores {accuracy:.3f} on {n} {split} images, beyond guessing ({guess:.3f}; "
             f"binomial p = {p:.2g}).",
             f"{what} scores {accuracy:.3f} on {n} {split} images; guessing among {num_classes} classes "
             f"scores {guess:.3f}, and a guesser would do this well {p:.0%} of the time (binomial test): "
             "it has not learned the task.",
             "Common causes: labels that do not match the images, inputs the base does not expect (raw "
             "pixels without preprocess_input, or preprocessing twice), a model whose output ignores its "
             "input, too few epochs, or training on other data than the training split.")
    return p < 0.05


# ---------------------------------------------------------------- pristine pretrained weights
_PRISTINE: dict = {}


def pristine_weights(base) -> dict[str, list[np.ndarray]] | None:
    """The ImageNet weights of ``base``'s architecture by layer name, read from the file
    Keras loads (None when the backbone is unknown, no file is on this machine, or
    ``TL_WEIGHTS=random``). Keras has files for several input sizes (MobileNet: 128-224 px)
    and falls back to the native-size one; the file closest to ``base`` is the reference.
    Nothing is downloaded."""
    from tlhelpers.transfer import backbones  # here: it imports Keras, which the checks load only when needed

    name = backbone_of(base)
    if name is None or config.settings().random_weights:
        return None
    try:
        shape = tuple(int(d) for d in base.input_shape[1:])
    except (TypeError, ValueError, AttributeError):
        return None
    spec = backbones.get_spec(name)
    files = dict.fromkeys([spec.weights_file(shape[0]), spec.weights_file(spec.native_size)])
    references = []
    for fname, url in files:
        key = (name, shape, fname)
        if key not in _PRISTINE:
            _PRISTINE[key] = _load_pristine(spec, shape, fname, url)
        if _PRISTINE[key] is not None:
            references.append(_PRISTINE[key])
    if (name, shape) in _PRISTINE:   # a reference set directly (the tests' stand-in for the file)
        references.append(_PRISTINE[(name, shape)])
    if not references:
        return None
    return min(references, key=lambda ref: sum(map(len, moved_layers(base, ref, atol=1e-6).values())))


def pristine_file(name: str, image_size: int | None = None) -> str | None:
    """The ImageNet file of backbone ``name`` (for ``image_size``, else the native size) when it
    is on this machine."""
    spec = registry.get_entry(name)
    return _file_here(spec, *spec.weights_file(image_size or spec.native_size))


def _file_here(spec, fname: str, url: str) -> str | None:
    try:
        path = assets.ensure_weights(spec.name, fname, url)
    except Exception:   # offline and absent: no evidence, not an error of the learner
        return None
    return str(path) if path is not None and str(path).endswith(".h5") else None


def _load_pristine(spec, shape, fname, url):
    import warnings

    path = _file_here(spec, fname, url)
    if path is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fresh = spec.constructor(include_top=False, weights=path, input_shape=shape, **dict(spec.kwargs))
    except Exception:
        return None
    return {layer.name: [np.array(w) for w in layer.get_weights()] for layer in fresh.layers if layer.weights}


def moved_layers(base, reference: dict[str, list[np.ndarray]], atol: float = 0.0) -> dict[str, list[str]]:
    """Layers of ``base`` whose weights differ from ``reference``, split into "kernels"
    (trainable kinds: kernels, biases, gamma, beta) and "statistics" (BN moving averages)."""
    out: dict[str, list[str]] = {"kernels": [], "statistics": []}
    for layer in leaves(base):
        ref = reference.get(layer.name)
        if ref is None or not layer.weights:
            continue
        for var, value, old in zip(layer.weights, layer.get_weights(), ref):
            if value.shape != old.shape or not np.allclose(value, old, rtol=0, atol=atol):
                kind = "statistics" if "moving_" in var.path.split("/")[-1] else "kernels"
                if layer.name not in out[kind]:
                    out[kind].append(layer.name)
    return out


# ---------------------------------------------------------------- where each run started
def fingerprint(model) -> np.ndarray:
    """A short summary of every weight of ``model`` (sum and sum of squares, in order)."""
    return np.array([(float(np.sum(w)), float(np.sum(np.square(w)))) for w in model.get_weights()])


def same_weights(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """True when two fingerprints (:func:`fingerprint`) describe the same weights.

    >>> same_weights(np.ones((2, 2)), np.ones((2, 2))), same_weights(np.ones((2, 2)), None)
    (True, False)
    """
    return a is not None and b is not None and a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-6)


def record_fit_starts() -> None:
    """Make every later ``fit`` record where it started: ``history.tl_start`` (a fingerprint).

    Called once by the checks of notebook 07 (idempotent). It adds one small array to each
    History and changes nothing else in training.
    """
    import keras

    history_cls = keras.callbacks.History
    if getattr(history_cls, "_tl_records_start", False):
        return
    original = history_cls.on_train_begin

    def on_train_begin(self, logs=None):
        try:
            self.tl_start = fingerprint(self.model)
        except Exception:   # never let the course's bookkeeping break a learner's fit
            self.tl_start = None
        return original(self, logs)

    history_cls.on_train_begin = on_train_begin
    history_cls._tl_records_start = True


def batch_sizes() -> tuple[int, ...]:
    """The learner's batch size when exercise 1's check saw it, else the common ones."""
    return (LAST["batch_size"],) if LAST.get("batch_size") else BATCH_SIZES


def check_pretrained(fb: Feedback, base, untouched: bool = False) -> dict | None:
    """Does ``base`` hold its ImageNet weights? Compared layer by layer with the pristine file
    when it is on this machine, else judged from the BatchNormalization statistics.
    ``untouched=True``: no layer may differ yet (before fine-tuning). Returns the pristine weights."""
    reference = pristine_weights(base)
    hint = (f"Build the base with `weights=\"imagenet\"` (in notebook 07, `weights=WEIGHTS`) and do not "
            f"re-initialise or reload its layers ({NB03}).")
    if reference is None:
        random = looks_random(base)
        if random:
            fb.fix("The base's BatchNormalization statistics are still at their initial values: it was "
                   "built with random weights, so nothing is transferred.", hint)
        elif random is False:
            fb.ok("The base carries pretrained weights (its BatchNormalization statistics were learned).")
        return None
    moved = moved_layers(base, reference, atol=1e-6)
    changed = moved["kernels"] + [n for n in moved["statistics"] if n not in moved["kernels"]]
    total = sum(1 for _ in reference)
    if untouched or len(changed) > total // 2:
        fb.check(not changed, f"The base holds the ImageNet weights: all {total} layers with weights match the file.",
                 f"{len(changed)} of the base's {total} layers with weights differ from the ImageNet file "
                 f"(e.g. {', '.join(changed[:3])}): they were re-initialised, reloaded or trained, so "
                 "this is not the pretrained base.", hint)
    return reference


_OWNERS: dict = {}


def check_not_reused(fb: Feedback, base, key: str, name: str) -> None:
    """A fix when ``base`` is the very base object of an earlier exercise's model: changing
    its ``trainable`` flags or weights here changes that model too."""
    import weakref

    for other, ref in list(_OWNERS.items()):
        if other != key and ref() is base:
            fb.fix(f"`{name}` reuses the base object of {other.replace('_', ' ').title()}'s model: freezing, "
                   f"unfreezing or training it here also changes that model.",
                   "Build a new base with `keras.applications...(weights=...)` for this exercise.")
            return
    try:
        _OWNERS[key] = weakref.ref(base)
    except TypeError:
        pass
