"""Automatic feedback for the exercises: call ``check.exercise_N(...)`` after each one.

Every check looks at your own objects (datasets, models, histories, numbers) and says
what is right, what to fix and gives a hint, never the full answer. Placeholders
(``None`` or ``...``) are reported as "not done yet", so the notebook always runs.

>>> from tlhelpers import check
>>> fb = check.exercise_2(None)
Exercise 2 - a feature-extraction model
  [todo] Not done yet: `model` is still a placeholder. Build it, then run this check again.
>>> fb.passed
False
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tlhelpers import feedback, inspection
from tlhelpers.feedback import Feedback, is_missing, ready  # noqa: F401  (public API)

_TITLES = {
    "exercise_1": "Exercise 1 - load an image folder",
    "exercise_2": "Exercise 2 - a feature-extraction model",
    "exercise_3": "Exercise 3 - train the head and evaluate",
    "exercise_4": "Exercise 4 - fine-tune and compare",
    "exercise_5": "Exercise 5 - compare backbones",
    "exercise_6": "Exercise 6 - vary one hyperparameter",
    "challenge": "Challenge - domain shift",
}


def _start(key: str, **required: Any) -> Feedback | None:
    """A 'not done yet' Feedback when a required object is a placeholder, else None."""
    missing = [name for name, value in required.items() if is_missing(value)]
    if not missing:
        return None
    fb = Feedback(key, _TITLES[key])
    names = ", ".join(f"`{m}`" for m in missing)
    fb.todo(f"Not done yet: {names} {'is still a placeholder' if len(missing) == 1 else 'are still placeholders'}. "
            f"Build {'it' if len(missing) == 1 else 'them'}, then run this check again.")
    return fb.show()


def exercise_1(folder_data: Any, train_ds: Any = None, backbone: str | None = None) -> Feedback:
    """Check the loaded folder (splits, classes) and that ``train_ds`` is preprocessed for ``backbone``."""
    fb = _start("exercise_1", folder_data=folder_data, train_ds=train_ds, backbone=backbone)
    if fb:
        return fb
    fb = Feedback("exercise_1", _TITLES["exercise_1"])
    inspection.check_folder_data(fb, folder_data)
    inspection.check_batches(fb, train_ds, backbone, getattr(folder_data, "num_classes", None))
    return fb.show()


def exercise_2(model: Any, num_classes: int | None = None, train_ds: Any = None) -> Feedback:
    """Check a feature-extraction model: frozen base, inference mode, output layer, parameters.

    Pass ``train_ds`` as well to check that its value range suits this model's backbone.
    """
    fb = _start("exercise_2", model=model)
    if fb:
        return fb
    fb = Feedback("exercise_2", _TITLES["exercise_2"])
    base = inspection.check_model_and_base(fb, model)
    if base is None:
        return fb.show()
    n_train = feedback.count(base.trainable_weights)
    fb.check(n_train == 0, "The base is frozen: none of its weights will change in training.",
             f"The base has {n_train:,} trainable parameters, so training would change the "
             "pretrained weights.", "Freeze the base (its `trainable` flag) before building the model.")
    inspection.check_inference_mode(fb, model, base)
    inspection.check_output(fb, model, num_classes)
    total, trainable = model.count_params(), feedback.count(model.trainable_weights)
    fb.info(f"Parameters: {total:,} in all, {trainable:,} trainable, {total - trainable:,} frozen "
            f"({100 * trainable / max(total, 1):.1f}% of the model learns).")
    if not is_missing(train_ds):
        name = inspection.backbone_of(base)
        if name:
            inspection.check_batches(fb, train_ds, name, num_classes, shapes=False)
    return fb.show()


def exercise_3(model: Any, history: Any, val_accuracy: Any) -> Feedback:
    """Check the first training phase: a history with validation, a frozen base, a held-out score."""
    fb = _start("exercise_3", model=model, history=history, val_accuracy=val_accuracy)
    if fb:
        return fb
    fb = Feedback("exercise_3", _TITLES["exercise_3"])
    hist = feedback.as_history(history)
    if hist is None:
        fb.fix("`history` should be what training returned (a Keras History or a dict of lists).",
               "Keep the return value of `training.fit(...)` or `model.fit(...)`.")
    else:
        epochs = len(hist.get("loss", hist.get("accuracy", [])))
        fb.check(epochs >= 1, f"The history holds {epochs} epoch(s) of training.",
                 "The history is empty.", "Train for at least one epoch.")
        fb.check("val_accuracy" in hist or "val_loss" in hist,
                 "Training was monitored on a validation set.",
                 "The history has no validation metrics.",
                 "Pass the validation split to fit, so choices are made on it and not on the test set.")
    base = inspection.check_model_and_base(fb, model, quiet=True)
    if base is not None:
        fb.check(feedback.count(base.trainable_weights) == 0, "The base stayed frozen in this phase.",
                 "The base is already trainable in this first phase.",
                 "Train the new head first with the base frozen; unfreeze only in Exercise 4.")
    inspection.check_accuracy(fb, val_accuracy, "val_accuracy", inspection.num_outputs(model))
    return fb.show()


def exercise_4(model: Any, head_learning_rate: Any, fine_tune_accuracy: Any = None,
               val_accuracy: Any = None) -> Feedback:
    """Check fine-tuning: part of the base unfrozen, BatchNorm frozen, recompiled at a lower rate."""
    fb = _start("exercise_4", model=model, head_learning_rate=head_learning_rate,
                fine_tune_accuracy=fine_tune_accuracy)
    if fb:
        return fb
    fb = Feedback("exercise_4", _TITLES["exercise_4"])
    base = inspection.check_model_and_base(fb, model, quiet=True)
    if base is None:
        return fb.show()
    inspection.check_unfrozen(fb, base)
    inspection.check_inference_mode(fb, model, base)
    inspection.check_optimizer(fb, model, head_learning_rate)
    inspection.check_accuracy(fb, fine_tune_accuracy, "fine_tune_accuracy", inspection.num_outputs(model))
    if feedback.is_fraction(fine_tune_accuracy) and feedback.is_fraction(val_accuracy):
        diff = float(fine_tune_accuracy) - float(val_accuracy)
        verb = "improved" if diff > 0 else "did not improve"
        fb.info(f"Fine-tuning {verb} the validation accuracy: {float(val_accuracy):.3f} -> "
                f"{float(fine_tune_accuracy):.3f} ({diff:+.3f}). With few images or epochs a small "
                "or negative change is common; explain what you see.")
    return fb.show()


def exercise_5(results: Any) -> Feedback:
    """Check a backbone comparison table: columns backbone, weights, params, seconds, accuracy."""
    fb = _start("exercise_5", results=results)
    if fb:
        return fb
    fb = Feedback("exercise_5", _TITLES["exercise_5"])
    rows = feedback.as_rows(results)
    needed = ("backbone", "weights", "params", "seconds", "accuracy")
    if rows is None or not rows or any(k not in rows[0] for k in needed):
        fb.fix("`results` should be a table (DataFrame or list of dicts) with columns "
               + ", ".join(needed) + ".", "Collect one dict per backbone, then `pd.DataFrame(rows)`.")
        return fb.show()
    names = {str(r["backbone"]) for r in rows}
    fb.check(len(names) >= 3, f"{len(names)} backbones compared ({', '.join(sorted(names))}).",
             f"Only {len(names)} backbone(s) compared.", "Compare at least three backbones.")
    fb.check(all(feedback.positive(r["params"]) and feedback.positive(r["seconds"]) for r in rows),
             "Every row has a size (parameters) and a time.",
             "Some rows have no positive parameter count or time.",
             "Use `base.count_params()` and time the work with `time.perf_counter()`.")
    random_scored = [str(r["backbone"]) for r in rows
                     if feedback.is_random(r["weights"]) and not feedback.is_nan(r["accuracy"])]
    fb.check(not random_scored, "No accuracy is reported for randomly initialised weights.",
             f"An accuracy is reported for random weights ({', '.join(random_scored)}): that is not a "
             "transfer-learning result.", "Put NaN as the accuracy of a backbone built with weights=None "
             "and label it 'size and speed only'.")
    scored = [r for r in rows if not feedback.is_random(r["weights"]) and feedback.is_fraction(r["accuracy"])]
    fb.check(bool(scored), f"{len(scored)} pretrained backbone(s) have an accuracy between 0 and 1.",
             "No pretrained backbone has an accuracy between 0 and 1.",
             "Train a head on at least one backbone with ImageNet weights and record its validation accuracy.")
    return fb.show()


def exercise_6(values: Any, sweep_scores: Any, hyperparameter: Any = "learning_rate") -> Feedback:
    """Check a one-hyperparameter sweep: at least 3 distinct values, one score in [0, 1] each."""
    scores = sweep_scores
    fb = _start("exercise_6", values=values, sweep_scores=sweep_scores)
    if fb:
        return fb
    fb = Feedback("exercise_6", _TITLES["exercise_6"])
    fb.check(hyperparameter in ("learning_rate", "unfrozen_layers"),
             f"The hyperparameter is {hyperparameter!r}.", f"Unknown hyperparameter {hyperparameter!r}.",
             "Vary 'learning_rate' or 'unfrozen_layers'.")
    values, scores = list(values), [float(s) for s in scores]
    fb.check(len(set(values)) >= 3, f"{len(set(values))} different values tried.",
             f"Only {len(set(values))} different value(s) tried.", "Try at least three values.")
    if len(values) != len(scores):
        fb.fix(f"{len(values)} values but {len(scores)} scores.", "Record one score per value.")
        return fb.show()
    fb.check(all(0.0 <= s <= 1.0 for s in scores), "Every score is an accuracy between 0 and 1.",
             "Some scores are not accuracies between 0 and 1.", "Record the validation accuracy of each run.")
    if hyperparameter == "learning_rate":
        fb.check(all(feedback.positive(v) for v in values), "All learning rates are positive.",
                 "Some learning rates are not positive.", "Learning rates are numbers like 1e-4 or 1e-2.")
    if fb.passed:
        best = values[int(np.argmax(scores))]
        fb.info(f"Best value in your sweep: {best} (validation accuracy {max(scores):.3f}).")
    return fb.show()


def challenge(original_accuracy: Any, shifted_accuracy: Any, explanation: Any) -> Feedback:
    """Check the domain-shift challenge: two accuracies and an explanation in your own words."""
    fb = _start("challenge", original_accuracy=original_accuracy,
                shifted_accuracy=shifted_accuracy, explanation=explanation)
    if fb:
        return fb
    fb = Feedback("challenge", _TITLES["challenge"])
    for name, value in (("original_accuracy", original_accuracy), ("shifted_accuracy", shifted_accuracy)):
        fb.check(feedback.is_fraction(value), f"`{name}` is an accuracy ({float(value):.3f})."
                 if feedback.is_fraction(value) else "", f"`{name}` should be a number between 0 and 1.",
                 "Use the accuracy that `evaluate` returns.")
    words = len(str(explanation).split())
    fb.check(words >= 15, f"Your explanation has {words} words.", f"Your explanation has only {words} words.",
             "Explain in a few sentences which cues the ImageNet features rely on, and what the shift removed.")
    if feedback.is_fraction(original_accuracy) and feedback.is_fraction(shifted_accuracy):
        drop = float(original_accuracy) - float(shifted_accuracy)
        fb.info(f"Accuracy {'drops' if drop > 0 else 'rises' if drop < 0 else 'stays the same'} by {abs(drop):.3f} under the shift "
                f"({float(original_accuracy):.3f} -> {float(shifted_accuracy):.3f}).")
    return fb.show()


def summary() -> Feedback:
    """One line per check run so far in this session (the latest result of each)."""
    fb = Feedback("summary", "Summary of your checks")
    for key, title in _TITLES.items():
        result = feedback.RESULTS.get(key)
        if result is None:
            fb.todo(f"{title}: not checked yet.")
        elif not result.done:
            fb.todo(f"{title}: not done yet.")
        else:
            fb.check(result.passed, f"{title}: passed.", f"{title}: something to fix (see its check).", None)
    return fb.show(record=False)


def all_passed() -> bool:
    """True when every exercise's latest check passed."""
    return all(feedback.RESULTS.get(k) is not None and feedback.RESULTS[k].passed for k in _TITLES)


__all__ = ["Feedback", "all_passed", "challenge", "exercise_1", "exercise_2", "exercise_3",
           "exercise_4", "exercise_5", "exercise_6", "is_missing", "ready", "summary"]
