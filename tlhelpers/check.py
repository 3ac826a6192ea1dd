"""Automatic feedback for notebook 07: call ``check.exercise_N(...)`` after each exercise.

Every check looks at your own objects (the data, the model and its layers, the
optimizer, the History that ``fit`` returned) and says what is right, what to fix and
where the course teaches it. Numbers you type are recomputed from your model, so they
must come from a run. Placeholders (``None`` or ``...``) are reported as "not done
yet", and anything else that is not what a check expects gets an explanation, never
a traceback.

>>> from tlhelpers import check
>>> fb = check.exercise_2(None, None, None, None)
Exercise 2 - a feature-extraction model in Keras
  [todo] Not done yet: `model`, `history`, `val_accuracy`, `folder_data` are still placeholders. Build them, then run this check again.
>>> fb.passed
False
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from tlhelpers.exercises import check_evidence as ev
from tlhelpers.exercises import check_runs as runs
from tlhelpers.exercises import inspection as ins
from tlhelpers.exercises.check_models import exercise_3, exercise_4, exercise_5
from tlhelpers.exercises.check_saving import exercise_2b
from tlhelpers.exercises.check_tasks import exercise_6, exercise_7
from tlhelpers.exercises.feedback import NB03, TITLES, Feedback, count, describe, guarded, is_missing, ready, start
from tlhelpers.exercises.feedback import RESULTS  # noqa: F401  (public API)
from tlhelpers.transfer.folders import FolderData

ev.record_fit_starts()   # every later History notes where its fit started (exercise 7 reads it)


def _labels_of(ds: Any, limit: int = 5000) -> np.ndarray | None:
    """The labels of a (images, labels) dataset, in order (``tl_labels`` when the pipeline kept them)."""
    known = getattr(ds, "tl_labels", None)
    if known is not None:
        return np.asarray(known).reshape(-1)
    out = []
    for _, y in ds:
        out.append(np.asarray(y).reshape(-1))
        if sum(len(o) for o in out) >= limit:
            break
    return np.concatenate(out) if out else None


def _check_folder_data(fb: Feedback, data: Any) -> bool:
    if not isinstance(data, FolderData):
        fb.fix(f"`folder_data` is {describe(data)}, not the FolderData of a loaded folder.",
               "Use `course.load_image_folder(folder, ...)` as the exercise says.")
        return False
    fb.ok(f"{data.num_classes} classes found: {', '.join(data.class_names)}.")
    n_tr, n_va, n_te = len(data.train_paths), len(data.val_paths), len(data.test_paths)
    fb.check(n_tr > 0 and n_va > 0 and n_te > 0, f"{n_tr} training, {n_va} validation and {n_te} test images.",
             f"A split is empty ({n_tr} training, {n_va} validation, {n_te} test images).",
             "Ask for validation_split=0.2 and test_split=0.2.")
    missing = set(range(data.num_classes)) - set(np.asarray(data.val_labels).tolist())
    fb.check(not missing, "Every class appears in the validation split.",
             f"{len(missing)} classes have no validation image.", "Load more images per class (max_per_class).")
    return True


def _check_split(fb: Feedback, ds: Any, data: Any, split: str, name: str, build: str) -> None:
    """``ds`` holds the images of ``split`` (the same number, the same labels in any order)."""
    batch = ins.first_batch(ds)
    if batch is None:
        return
    if runs.endless(ds):
        fb.fix(f"`{name}` repeats forever (`.repeat()`): fit would never finish an epoch on its own.",
               f"Build it without `.repeat()`: `{name} = {build}`.")
        return
    want = np.asarray(data.split(split)[1]).reshape(-1)
    got = _labels_of(ds, limit=len(want) + 1)
    runs.LAST["batch_size"] = int(batch[0].shape[0])   # later checks read step counts at this batch size
    k = max(int(data.num_classes), 1)
    same = got is not None and len(got) == len(want) and (got.min(initial=0) >= 0) and np.array_equal(
        np.bincount(got.astype(int), minlength=k), np.bincount(want.astype(int), minlength=k))
    fb.check(same, f"`{name}` streams the {len(want)} images of the {split} split.",
             f"`{name}` does not stream the {split} split ({len(want)} images): it gives "
             f"{'more than ' + str(len(want)) if got is not None and len(got) > len(want) else (len(got) if got is not None else 'no')} "
             "images, or other labels.", f"Build it with `{name} = {build}`.")


def _check_raw_batches(fb: Feedback, ds: Any, num_classes: int | None, name: str = "train_ds") -> None:
    """A pipeline of (images, labels) batches with raw [0, 255] pixels: the model preprocesses."""
    batch = ins.first_batch(ds) if not isinstance(ds, (tuple, list)) else None
    if batch is None:
        fb.fix(f"`{name}` is {describe(ds)}, not a dataset of (images, labels) batches.",
               "Use `folder_data.dataset(split, IMAGE_SIZE, ...)`.")
        return
    x, y = batch
    ok = x.ndim == 4 and x.shape[-1] == 3 and x.shape[1] == x.shape[2]
    fb.check(ok, f"`{name}` gives batches of square RGB images: {tuple(x.shape)}.",
             f"A batch of `{name}` has shape {tuple(x.shape)}; expected (batch, size, size, 3).",
             "Pass one image size, e.g. IMAGE_SIZE, to `folder_data.dataset`.")
    if num_classes and y.size:
        fb.check(y.min() >= 0 and y.max() < num_classes, f"Labels are class ids 0..{num_classes - 1}.",
                 f"Labels range from {y.min()} to {y.max()}.", "Use the labels the folder gives.")
    got = ins.convention_of(float(x.min()), float(x.max()))
    fb.check(got == ins.RAW, f"`{name}` gives raw pixels {ins.RAW}: the model will preprocess them itself.",
             f"`{name}` gives values in [{x.min():.3g}, {x.max():.3g}] ({got}), but in this notebook the "
             "model does its own preprocessing, so the pipeline must give raw pixels.",
             "Leave out the `preprocess` argument of `folder_data.dataset` (see the input convention in "
             f"{NB03}).")



@guarded("exercise_1")
def exercise_1(folder_data: Any, train_ds: Any, val_ds: Any) -> Feedback:
    """The folder loaded with three splits; pipelines of raw [0, 255] pixels (the model preprocesses)."""
    fb = start("exercise_1", folder_data=folder_data, train_ds=train_ds, val_ds=val_ds)
    if fb:
        return fb
    fb = Feedback("exercise_1", TITLES["exercise_1"])
    if not _check_folder_data(fb, folder_data):
        return fb.show()
    _check_raw_batches(fb, train_ds, folder_data.num_classes, "train_ds")
    _check_raw_batches(fb, val_ds, folder_data.num_classes, "val_ds")
    _check_split(fb, train_ds, folder_data, "train", "train_ds", 'folder_data.dataset("train", IMAGE_SIZE, shuffle=True)')
    labels = _labels_of(val_ds) if ins.first_batch(val_ds) is not None else None
    if labels is not None:
        same = len(labels) == len(folder_data.val_labels) and (labels == folder_data.val_labels).all()
        fb.check(same, f"`val_ds` streams the {len(labels)} validation images, in a fixed order.",
                 "`val_ds` is not the validation split in its fixed order (its labels differ).",
                 "Build it with `folder_data.dataset(\"validation\", ...)`, without shuffling.")
    return fb.show()


def _training_flag(fb: Feedback, model, base) -> None:
    found, value = ins.base_call(model, base)
    if value == "pinned":
        fb.ok("The base runs in inference mode, pinned by InferenceMode (training=False whatever fit does).")
    elif value is False:
        fb.ok("The base is called with training=False.")
    elif found:
        fb.info(f"The base is called with training={value}. With every layer of the base frozen this "
                "is harmless in Keras 3: a frozen BatchNormalization layer runs in inference mode. It "
                "matters once you unfreeze layers; write `base(x, training=False)` as " + NB03 + " does.")
    else:
        fb.info("Could not see how the base is called (not a functional model).")


@guarded("exercise_2")
def exercise_2(model: Any, history: Any, val_accuracy: Any, folder_data: Any) -> Feedback:
    """A frozen keras.applications base in a functional model, compiled, trained, and its
    validation accuracy (recomputed by the check)."""
    fb = start("exercise_2", model=model, history=history, val_accuracy=val_accuracy, folder_data=folder_data)
    if fb:
        return fb
    fb = Feedback("exercise_2", TITLES["exercise_2"])
    if not ins.check_model(fb, model):
        return fb.show()
    base = ins.find_base(model)
    if base is None:
        fb.fix("No pretrained base inside the model.",
               f"Build one with `keras.applications.<Model>(include_top=False, ...)` and call it on the "
               f"input ({NB03}).")
        return fb.show()
    fb.ok(f"The model reuses the base {base.name!r} ({base.count_params():,} parameters).")
    ev.check_pretrained(fb, base, untouched=True)
    runs.remember(base)  # Exercise 3 compares with these weights when the ImageNet file is absent
    ev.check_not_reused(fb, base, "exercise_2", "model")
    n_train = count(base.trainable_weights)
    fb.check(n_train == 0, "The base is frozen: none of its weights will change in training.",
             f"The base has {n_train:,} trainable parameters, so training would change the pretrained "
             "weights while the new head is still random.",
             f"Set `base.trainable = False` before compiling ({NB03}).")
    _training_flag(fb, model, base)
    pools = [type(layer).__name__ for layer in model.layers
             if type(layer).__name__ in ("GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten")]
    fb.check(bool(pools), f"The feature maps are pooled ({pools[0] if pools else ''}).",
             "Nothing turns the base's feature maps into one vector per image.",
             f"Add `layers.GlobalAveragePooling2D()` after the base ({NB03}).")
    folder_ok = runs.is_folder_data(fb, folder_data)
    if folder_ok:
        ins.check_reaches_base(fb, model, base, runs.validation_batch(folder_data, model)[0])
    ins.check_output(fb, model, folder_data.num_classes if folder_ok else None)
    opt = ins.check_compiled(fb, model)
    hist = runs.check_history(fb, history, model) if opt is not None else None
    claim = runs.as_accuracy(fb, val_accuracy, "val_accuracy")
    if folder_ok and hist is not None:
        ev.check_folder_run(fb, history, folder_data, "history")
    if folder_ok and hist is not None and claim is not None:
        measured = runs.check_claim(fb, claim, model, folder_data, "val_accuracy")
        ev.check_chance(fb, measured, len(folder_data.val_paths), folder_data.num_classes)
        runs.SEEN[model] = {"optimizer": opt, "lr": ins.learning_rate(opt), "val_accuracy": measured,
                            "history": history}
        runs.LAST["val_accuracy"] = measured
    total, trainable = model.count_params(), count(model.trainable_weights)
    fb.info(f"Parameters: {total:,} in all, {trainable:,} trainable ({100 * trainable / max(total, 1):.1f}%).")
    return fb.show()


@guarded("challenge")
def challenge(model: Any, folder_data: Any, shifted_val_ds: Any, original_accuracy: Any,
              shifted_accuracy: Any, explanation: Any) -> Feedback:
    """Both accuracies recomputed from the model; an explanation in your own words."""
    fb = start("challenge", model=model, folder_data=folder_data, shifted_val_ds=shifted_val_ds,
               original_accuracy=original_accuracy, shifted_accuracy=shifted_accuracy, explanation=explanation)
    if fb:
        return fb
    fb = Feedback("challenge", TITLES["challenge"])
    original = runs.as_accuracy(fb, original_accuracy, "original_accuracy")
    shifted = runs.as_accuracy(fb, shifted_accuracy, "shifted_accuracy")
    if ins.check_model(fb, model) and runs.is_folder_data(fb, folder_data):
        if original is not None:
            runs.check_claim(fb, original, model, folder_data, "original_accuracy", ())
        if shifted is not None and ins.first_batch(shifted_val_ds) is None:
            fb.fix(f"`shifted_val_ds` is {describe(shifted_val_ds)}, not a dataset.",
                   "Run the cell that builds `shifted_val_ds`.")
        elif shifted is not None and runs.endless(shifted_val_ds):
            fb.fix("`shifted_val_ds` repeats forever (`.repeat()`), so no accuracy can be measured on it.",
                   "Build it without `.repeat()`, as the cell above the challenge does.")
        elif shifted is not None:
            measured, n = runs.accuracy(model, shifted_val_ds)
            fb.check(abs(measured - shifted) <= runs.tolerance(n),
                     f"`shifted_accuracy` = {shifted:.3f} matches the check's measurement on the shifted images.",
                     f"`shifted_accuracy` = {shifted:.3f}, but the model scores {measured:.3f} on `shifted_val_ds`.",
                     "Evaluate the same model on `shifted_val_ds`.")
    text = explanation if isinstance(explanation, str) else ""
    words = re.findall(r"\w+", text.lower())          # any script: the check reads no word lists
    letters = sum(ch.isalpha() for ch in text)
    distinct = len(set(words))
    long_enough = (len(words) >= 15 and distinct >= 10) or (letters >= 60 and len(set(text)) >= 20)
    fb.check(long_enough, f"Your explanation is there: {len(words)} words ({distinct} different).",
             f"`explanation` should be a few sentences of your own; it has {len(words)} words, "
             f"{distinct} different." if text else f"`explanation` is {describe(explanation)}, not text.",
             "Explain in two or three sentences, in any language, what the shift removed and why the "
             "features suffer.")
    if long_enough:
        fb.info("The check cannot judge what your explanation says; compare it with the solution's.")
    if original is not None and shifted is not None:
        fb.info(f"You report {original:.3f} -> {shifted:.3f} under the shift ({shifted - original:+.3f}).")
    return fb.show()


def summary() -> Feedback:
    """One line per check run so far in this session (the latest result of each)."""
    fb = Feedback("summary", "Summary of your checks")
    for key, title in TITLES.items():
        result = RESULTS.get(key)
        if result is None:
            fb.todo(f"{title}: not checked yet.")
        elif not result.done:
            fb.todo(f"{title}: not done yet.")
        else:
            fb.check(result.passed, f"{title}: passed.", f"{title}: something to fix (see its check).", None)
    return fb.show(record=False)


def all_passed() -> bool:
    """True when every exercise's latest check passed."""
    return all(RESULTS.get(k) is not None and RESULTS[k].passed for k in TITLES)


__all__ = ["Feedback", "all_passed", "challenge", "exercise_1", "exercise_2", "exercise_2b", "exercise_3",
           "exercise_4", "exercise_5", "exercise_6", "exercise_7", "is_missing", "ready", "summary"]
