"""The check of exercise 2b in notebook 07: save the model, load it back, classify one image file.

It judges evidence, not code: the ``.keras`` file on disk (it must load and give the same
outputs as the model), the loaded object, and the top-3 list, which the check recomputes
from the image file with the usual ways of reading it (``keras.utils.load_img`` with its
default nearest-neighbour resize, or a bilinear one).

>>> from tlhelpers import check
>>> _ = check.exercise_2b(None, None, None, None, None, None)
Exercise 2b - save, reload and use the model
  [todo] Not done yet: `model`, `model_path`, `loaded`, `top3`, `image_path`, `folder_data` are still placeholders. Build them, then run this check again.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from tlhelpers.exercises import inspection as ins
from tlhelpers.exercises.feedback import TITLES, Feedback, describe, guarded, start

NB04 = "notebook 04, section 8 (Using the model)"
TOLERANCE = 0.02   # probabilities: resizing methods and float rounding differ a little


def _outputs(model, batch: np.ndarray) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(model(batch, training=False)), dtype="float64")


def _check_file(fb: Feedback, model_path: Any):
    """The loaded file's model, or None (with a fix) when there is no loadable .keras file."""
    import keras

    path = Path(str(model_path)).expanduser()
    if path.suffix != ".keras":
        fb.fix(f"`model_path` is {str(path)!r}; Keras 3 saves whole models to files ending in `.keras`.",
               f"Use a name like \"saved_models/07-exercise-2.keras\" with `model.save(model_path)` ({NB04}).")
        return None
    if not path.is_file():
        fb.fix(f"There is no file at {str(path)!r}.", f"Save the model first: `model.save(model_path)` ({NB04}).")
        return None
    if not zipfile.is_zipfile(path):
        fb.fix(f"{str(path)!r} is not a `.keras` file (a .keras file is a zip archive); it may be damaged or "
               "half written.", "Save the model again with `model.save(model_path)`.")
        return None
    try:
        return keras.models.load_model(path)
    except Exception as err:   # noqa: BLE001 - any reason a file will not load is the learner's to see
        lam = "Lambda" in str(err) or "safe_mode" in str(err)
        fb.fix(f"`keras.models.load_model` cannot read {str(path)!r}: {type(err).__name__}: {str(err)[:200]}",
               "A `layers.Lambda` cannot be loaded safely: call `keras.applications.mobilenet.preprocess_input` "
               "on the tensor instead (as in exercise 2), save again, then load." if lam else
               "Save the model again with `model.save(model_path)` and load that file.")
        return None


def _same_outputs(fb: Feedback, model, other, batch: np.ndarray, what: str) -> bool:
    try:
        gap = float(np.max(np.abs(_outputs(model, batch) - _outputs(other, batch))))
    except Exception as err:   # noqa: BLE001
        fb.fix(f"{what} cannot take the model's inputs: {type(err).__name__}: {str(err)[:160]}", None)
        return False
    return fb.check(gap < 1e-4, f"{what} gives the same outputs as `model` (largest difference {gap:.1e}).",
                    f"{what} gives other outputs than `model` (largest difference {gap:.3f}): it holds other "
                    "weights, for example a model saved before training or before a later change.",
                    "Save the trained model again and load that file.")


def _reference_top(loaded, image_path: Path, size: int, class_names) -> list[list[tuple[str, float]]]:
    """The top-3 the check itself computes from the file, with each usual resize."""
    import keras

    tops = []
    for interpolation in ("nearest", "bilinear"):
        img = keras.utils.load_img(image_path, target_size=(size, size), interpolation=interpolation)
        probs = _outputs(loaded, keras.utils.img_to_array(img)[None])[0]
        tops.append([(class_names[k], float(probs[k])) for k in np.argsort(probs)[::-1][:3]])
    return tops


def _as_pairs(fb: Feedback, top3: Any) -> list[tuple[str, float]] | None:
    items = list(top3.items()) if isinstance(top3, dict) else top3
    try:
        pairs = [(str(name), float(p)) for name, p in items]
    except (TypeError, ValueError):
        fb.fix("`top3` should hold (class name, probability) pairs, for example "
               "[(\"tulips\", 0.81), (\"roses\", 0.12), (\"daisy\", 0.03)].",
               "Sort the probabilities with `np.argsort(probs)[::-1][:3]` and pair each index with "
               "`folder_data.class_names[k]`.")
        return None
    if len(pairs) != 3:
        fb.fix(f"`top3` has {len(pairs)} entries; the task asks for the 3 most probable classes.", None)
        return None
    return pairs


@guarded("exercise_2b")
def exercise_2b(model: Any, model_path: Any, loaded: Any, top3: Any, image_path: Any,
                folder_data: Any) -> Feedback:
    """The model saved to a loadable .keras file, loaded back, and used on one image file."""
    fb = start("exercise_2b", model=model, model_path=model_path, loaded=loaded, top3=top3,
               image_path=image_path, folder_data=folder_data)
    if fb:
        return fb
    fb = Feedback("exercise_2b", TITLES["exercise_2b"])
    if not ins.check_model(fb, model):
        return fb.show()
    size = model.input_shape[1] if len(model.input_shape) == 4 and model.input_shape[1] else None
    if size is None:
        fb.fix("The model's input has no fixed image size.", "Build it on `keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3))`.")
        return fb.show()
    batch = np.random.default_rng(0).uniform(0, 255, (2, size, size, 3)).astype("float32")
    from_file = _check_file(fb, model_path)
    if from_file is not None:
        _same_outputs(fb, model, from_file, batch, f"The file {str(model_path)!r}")
    if loaded is model:
        fb.fix("`loaded` is `model` itself, not a model read back from the file.",
               "Write `loaded = keras.models.load_model(model_path)`.")
        return fb.show()
    if not ins.check_model(fb, loaded, "loaded") or not _same_outputs(fb, model, loaded, batch, "`loaded`"):
        return fb.show()
    image_path = Path(str(image_path)).expanduser()
    if not image_path.is_file():
        fb.fix(f"There is no image file at {str(image_path)!r}.", "Use `image_path = folder_data.test_paths[0]`.")
        return fb.show()
    pairs = _as_pairs(fb, top3)
    names = list(getattr(folder_data, "class_names", None) or [])
    if not names:
        fb.fix(f"`folder_data` is {describe(folder_data)}, which names no classes.", "Pass the object exercise 1 built.")
    if pairs is None or not names:
        return fb.show()
    refs = _reference_top(loaded, image_path, size, names)
    match = any([n for n, _ in pairs] == [n for n, _ in ref] and
                all(abs(p - q) <= TOLERANCE for (_, p), (_, q) in zip(pairs, ref)) for ref in refs)
    fb.check(match, "`top3` names the 3 most probable classes of the image file, with their probabilities.",
             f"`top3` is {pairs}; reading {image_path.name} and running `loaded` on it gives {refs[0]}.",
             "Read the file with `keras.utils.load_img(image_path, target_size=(IMAGE_SIZE, IMAGE_SIZE))`, "
             "turn it into a batch of one with `keras.utils.img_to_array(img)[None]`, pass raw pixels "
             "(the model preprocesses them), then take the 3 largest probabilities.")
    return fb.show()
