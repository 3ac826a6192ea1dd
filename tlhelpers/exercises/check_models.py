"""Checks of notebook 07 on models that change: fine-tuning, augmentation, a CNN from scratch.

Re-exported by :mod:`tlhelpers.check` (call them as ``check.exercise_3(...)`` and so on).

>>> from tlhelpers.exercises import check_models
>>> check_models.exercise_5(None, None, None).done
Exercise 5 - a small CNN from scratch
  [todo] Not done yet: `scratch`, `scratch_history`, `folder_data` are still placeholders. Build them, then run this check again.
False
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tlhelpers.exercises import check_evidence as ev
from tlhelpers.exercises import check_runs as runs
from tlhelpers.exercises import inspection as ins
from tlhelpers.exercises.feedback import NB04, NB05, NB06, TITLES, Feedback, count, guarded, positive, start

KERAS_20285 = ("in Keras 3, fit's training=True reaches a base called with `base(x, training=False)` "
               "inside a functional model (keras-team/keras#20285)")


def _folder_batch(fb: Feedback, folder_data: Any, model) -> np.ndarray | None:
    return runs.validation_batch(folder_data, model)[0] if runs.is_folder_data(fb, folder_data) else None


def _layers_that_train(base) -> tuple[list, list]:
    """(layers of the base with weights, those with a trainable weight)."""
    trainable_ids = {id(v) for v in base.trainable_weights}
    with_weights = [layer for layer in ins.leaves(base) if layer.weights]
    return with_weights, [layer for layer in with_weights if any(id(v) in trainable_ids for v in layer.weights)]


def _check_unfrozen(fb: Feedback, model, base) -> None:
    with_weights, training = _layers_that_train(base)
    fb.check(bool(training), f"{len(training)} of the {len(with_weights)} base layers with weights are trainable.",
             "No layer of the base is trainable, so fine-tuning cannot change it.",
             f"Set `base.trainable = True`, then freeze all but `base.layers[-N:]` ({NB04}, the unfreezing loop).")
    if training and len(training) == len(with_weights):
        fb.info("The whole base is unfrozen; with little data, unfreezing only the top layers is safer.")
    elif training:
        above = [layer for layer in with_weights[with_weights.index(training[0]):]
                 if type(layer).__name__ != "BatchNormalization"]
        skipped = [layer.name for layer in above if layer not in training] or ["?"]
        fb.check(skipped == ["?"], f"The trainable layers are the top of the base (from {training[0].name!r} up).",
                 f"Trainable layers sit below frozen ones (e.g. {training[0].name!r} trains, {skipped[0]!r} "
                 "above it is frozen): fine-tuning adapts the top of the base, whose features are the most "
                 "specific to ImageNet.",
                 f"Unfreeze the last N layers: `for layer in base.layers[:-N]: layer.trainable = False` ({NB04}).")
    bn = [layer for layer in training if type(layer).__name__ == "BatchNormalization"]
    pinned = ins.base_call(model, base)[1] == "pinned"
    fb.check(not bn or pinned, "BatchNormalization layers stay frozen.",
             f"{len(bn)} BatchNormalization layers are trainable: {KERAS_20285}, so they would update "
             "their statistics on your small batches.",
             f"Keep them frozen: `if isinstance(layer, layers.BatchNormalization): layer.trainable = False` "
             f"({NB04}); tlhelpers.transfer.models.InferenceMode pins inference mode for real.")


def _check_changes(fb: Feedback, base) -> None:
    """Which layers of the base moved, measured against the ImageNet file (or exercise 2's copy)."""
    before = ev.pristine_weights(base)
    source = "the ImageNet file"
    if before is None:
        before, source = runs.snapshot_of(base), "Exercise 2's copy"
    if before is None:
        fb.info("Could not compare the base with its pretrained weights (the ImageNet file is not on this "
                "machine and Exercise 2's check did not see this base).")
        return
    moved = ev.moved_layers(base, before, atol=1e-7)
    kernels, stats = moved["kernels"], moved["statistics"]
    order = [layer.name for layer in ins.leaves(base) if layer.weights]
    _, training = _layers_that_train(base)
    allowed = {layer.name for layer in training}
    stray = [name for name in kernels if name not in allowed]
    fb.check(bool(kernels) and not stray,
             f"Training changed {len(kernels)} layers of the base, all among the unfrozen top "
             f"(e.g. {', '.join(kernels[-3:])}), compared with {source}.",
             (f"{len(stray)} frozen layers of the base differ from {source} (e.g. {', '.join(stray[:3])}): "
              "they were trained while unfrozen, or changed by hand." if stray else
              f"No layer of the base differs from {source}: the base was not trained."),
             f"Unfreeze only the top, recompile, then call fit again ({NB04}).")
    if kernels and not stray:
        first = min(order.index(name) for name in kernels if name in order)
        fb.info(f"The lowest layer that changed is {order[first]!r}, layer {first + 1} of {len(order)} with weights.")
    if stats:
        fb.fix(f"The moving statistics of {len(stats)} BatchNormalization layers changed: {KERAS_20285}.",
               f"Keep BatchNormalization frozen while fine-tuning ({NB04}); tlhelpers.transfer.models.InferenceMode "
               "pins inference mode for real.")


def _check_optimizer(fb: Feedback, model, base, head_learning_rate: Any) -> None:
    opt = ins.check_compiled(fb, model, hint_nb=NB04)
    if opt is None:
        return
    seen = runs.SEEN.get(model, {})
    lr, head_lr = ins.learning_rate(opt), head_learning_rate if head_learning_rate is not None else seen.get("lr")
    tracked = {id(v) for v in getattr(opt, "_trainable_variables", None) or []}
    stale = seen.get("optimizer") is opt or (tracked and not tracked & {id(v) for v in base.trainable_weights})
    fb.check(not stale, "The model was recompiled after unfreezing: the optimizer updates the base too.",
             "The optimizer is still the one compiled before unfreezing: it updates only the head.",
             f"Keras fixes what an optimizer trains when you compile: call `model.compile(...)` again after "
             f"changing `trainable` ({NB04}).")
    if lr is not None and not (np.isfinite(lr) and lr > 0):
        fb.fix(f"The fine-tuning learning rate is {lr:g}: a rate must be a small positive number (0 changes "
               "nothing; a negative rate climbs the loss instead of descending it).",
               f"Recompile with e.g. `keras.optimizers.Adam(1e-4)` ({NB04}).")
    elif lr is None:   # schedules are read (at their largest value); this is a rate nothing could read
        fb.info("The check could not read the learning rate, so it does not compare it with the head's.")
    if lr is not None and np.isfinite(lr) and lr > 0 and positive(head_lr):
        fb.check(lr < float(head_lr), f"Fine-tuning learning rate {lr:g}, lower than the head's {float(head_lr):g}.",
                 f"Fine-tuning learning rate {lr:g} is not lower than the head's {float(head_lr):g}: large "
                 "updates can wreck the pretrained features.",
                 f"Recompile with a rate 10 to 100 times lower, e.g. `keras.optimizers.Adam(1e-4)` ({NB04}).")


#: Keras's random augmentation layers whose names do not start with "Random"
_AUGMENTATIONS = ("RandAugment", "AugMix", "CutMix", "MixUp", "Solarization", "Pipeline")


def _is_augmentation(layer) -> bool:
    name = type(layer).__name__
    return name.startswith("Random") or name in _AUGMENTATIONS


def _frozen_params(model) -> int:
    """Parameters that would learn but are frozen: statistics (BatchNormalization's moving
    averages, Normalization's mean and variance) are never trained, so they do not count."""
    frozen = 0
    for layer in ins.leaves(model):
        if not layer.trainable and layer.weights and type(layer).__name__ not in ("Normalization",):
            frozen += count([w for w in layer.weights if "moving_" not in w.path.split("/")[-1]])
    return frozen


@guarded("exercise_3")
def exercise_3(model: Any, history_ft: Any, fine_tune_accuracy: Any, folder_data: Any,
               head_learning_rate: Any = None) -> Feedback:
    """Top layers unfrozen, BatchNorm frozen, recompiled lower, weights really changed, accuracy recomputed."""
    fb = start("exercise_3", model=model, history_ft=history_ft, fine_tune_accuracy=fine_tune_accuracy,
               folder_data=folder_data)
    if fb:
        return fb
    fb = Feedback("exercise_3", TITLES["exercise_3"])
    if not ins.check_model(fb, model, hint_nb=NB04):
        return fb.show()
    base = ins.find_base(model)
    if base is None:
        fb.fix("No pretrained base inside the model.", "Fine-tune the model of Exercise 2.")
        return fb.show()
    _check_unfrozen(fb, model, base)
    _check_changes(fb, base)
    _check_optimizer(fb, model, base, head_learning_rate)
    seen = runs.SEEN.get(model, {})
    if seen.get("history") is history_ft:
        fb.fix("`history_ft` is the History of Exercise 2.", "Keep what the fine-tuning `fit` returns.")
    elif runs.check_history(fb, history_ft, model, "history_ft", NB04) is not None:
        if _folder_batch(fb, folder_data, model) is not None:
            ev.check_folder_run(fb, history_ft, folder_data, "history_ft")
        first = history_ft.epoch[0] if history_ft.epoch else 0
        if first > 0:
            fb.ok(f"The epochs continue from epoch {first} (initial_epoch), so the curves join up.")
        else:
            fb.info("The fine-tuning epochs start again at 0; `fit(..., initial_epoch=...)` continues the count.")
    claim = runs.as_accuracy(fb, fine_tune_accuracy, "fine_tune_accuracy")
    if claim is not None and _folder_batch(fb, folder_data, model) is not None:
        measured = runs.check_claim(fb, claim, model, folder_data, "fine_tune_accuracy")
        ev.check_chance(fb, measured, len(folder_data.val_paths), folder_data.num_classes, "The fine-tuned model")
        if seen.get("val_accuracy") is not None:
            fb.info(f"Validation accuracy {seen['val_accuracy']:.3f} with the frozen base, {measured:.3f} after "
                    "fine-tuning. With few images and epochs a small or negative change is common.")
    return fb.show()


@guarded("exercise_4")
def exercise_4(aug_model: Any, aug_history: Any, folder_data: Any) -> Feedback:
    """Random augmentation layers inside the model, on raw pixels, active only in training."""
    fb = start("exercise_4", aug_model=aug_model, aug_history=aug_history, folder_data=folder_data)
    if fb:
        return fb
    fb = Feedback("exercise_4", TITLES["exercise_4"])
    if not ins.check_model(fb, aug_model, "aug_model", NB06):
        return fb.show()
    randoms = [layer for layer in ins.leaves(aug_model) if _is_augmentation(layer)]
    base = ins.find_base(aug_model)
    if base is None:
        fb.fix("No pretrained base inside the model.", "Build it as in Exercise 2, with the augmentation first.")
        return fb.show()
    ev.check_not_reused(fb, base, "exercise_4", "aug_model")
    n_train = count(base.trainable_weights)
    fb.check(n_train == 0, "The base is frozen.", f"The base has {n_train:,} trainable parameters.",
             "Set `base.trainable = False` before compiling: this exercise trains the head.")
    x = _folder_batch(fb, folder_data, aug_model)
    changes = None
    if x is not None:
        train, infer = ins.input_of(aug_model, base, x, True), ins.input_of(aug_model, base, x, False)
        changes = None if train is None or infer is None else not np.allclose(train, infer)
    named = ", ".join(type(r).__name__ for r in randoms)
    fb.check(bool(randoms) or bool(changes),
             f"Augmentation inside the model: {named or 'a layer that changes the images in training'}.",
             "No random augmentation layer inside the model.",
             f"Put `keras.Sequential([layers.RandomFlip(\"horizontal\"), ...])` right after `keras.Input` ({NB06}).")
    if x is not None and randoms:
        seen = ins.input_of(aug_model, randoms[0], x)
        if seen is not None:
            raw = ins.convention_of(float(seen.min()), float(seen.max())) == ins.RAW
            fb.check(raw, "The augmentation sees raw [0, 255] pixels, before preprocess_input.",
                     f"The augmentation sees values in [{seen.min():.3g}, {seen.max():.3g}]: it runs after "
                     "preprocess_input (RandomContrast and RandomBrightness assume [0, 255]).",
                     f"Apply the augmentation block first, then preprocess_input ({NB06}).")
    if changes is not None and randoms:
        fb.check(changes, "It changes the images in training and leaves them alone at inference (evaluate "
                 "and predict see the real images).",
                 "The augmentation changed nothing in training mode.", "Give the layers non-zero strengths.")
    if x is not None:
        ins.check_reaches_base(fb, aug_model, base, x)
    if ins.check_compiled(fb, aug_model, "aug_model", NB06) is not None:
        if runs.check_history(fb, aug_history, aug_model, "aug_history", NB06) is not None and x is not None:
            ev.check_folder_run(fb, aug_history, folder_data, "aug_history")
            measured, n = runs.accuracy(aug_model, folder_data, "validation")
            ev.check_chance(fb, measured, n, folder_data.num_classes, "The augmented model")
    return fb.show()


@guarded("exercise_5")
def exercise_5(scratch: Any, scratch_history: Any, folder_data: Any) -> Feedback:
    """A Sequential CNN that learns every weight: Conv2D and pooling, scaled inputs, trained."""
    fb = start("exercise_5", scratch=scratch, scratch_history=scratch_history, folder_data=folder_data)
    if fb:
        return fb
    fb = Feedback("exercise_5", TITLES["exercise_5"])
    if not ins.check_model(fb, scratch, "scratch", NB05):
        return fb.show()
    if ins.find_base(scratch) is not None:
        fb.fix("The model contains a pretrained base; a CNN from scratch learns every weight itself.",
               f"Stack `layers.Conv2D` and `layers.MaxPooling2D` yourself ({NB05}).")
        return fb.show()
    kinds = [type(layer).__name__ for layer in ins.leaves(scratch)]
    convs, pools = kinds.count("Conv2D"), sum(k.endswith("Pooling2D") and "Global" not in k for k in kinds)
    fb.check(convs >= 2 and pools >= 1, f"{convs} Conv2D and {pools} pooling layers.",
             f"{convs} Conv2D and {pools} pooling layers: not yet a small CNN.",
             f"Use two or three `Conv2D` + `MaxPooling2D` blocks ({NB05}).")
    frozen = _frozen_params(scratch)
    fb.check(frozen == 0, f"All {scratch.count_params():,} parameters train.", f"{frozen:,} parameters are frozen.",
             "From scratch, every layer learns: leave `trainable` as it is.")
    x = _folder_batch(fb, folder_data, scratch)
    first = next((layer for layer in ins.leaves(scratch) if type(layer).__name__ == "Conv2D"), None)
    seen = ins.input_of(scratch, first, x) if x is not None and first is not None else None
    if seen is not None:
        # scaled to [0, 1], or standardised (Normalization): either way far from 0..255
        fb.check(float(seen.max()) <= 10, f"The first Conv2D sees scaled values (up to {seen.max():.3g}).",
                 f"The first Conv2D sees raw pixels (up to {seen.max():.0f}): training from scratch is slow "
                 "and unstable on that scale.", f"Start with `layers.Rescaling(1./255)` ({NB05}).")
    if x is not None:
        ins.check_output(fb, scratch, folder_data.num_classes)
    if ins.check_compiled(fb, scratch, "scratch", NB05) is not None:
        if runs.check_history(fb, scratch_history, scratch, "scratch_history", NB05) is not None and x is not None:
            ev.check_folder_run(fb, scratch_history, folder_data, "scratch_history")
            # From scratch on a few hundred images, a correct CNN can stay near chance on the
            # validation split in a short run (notebook 05 shows it): learning is judged on the
            # images it trained on, where a model that learns nothing (wrong labels, input
            # ignored, rate 0) stays at chance too; the validation score is information.
            fitted, n_fit = runs.accuracy(scratch, folder_data, "train")
            ev.check_chance(fb, fitted, n_fit, folder_data.num_classes, "The CNN from scratch", "training")
            measured, n = runs.accuracy(scratch, folder_data, "validation")
            if ev.can_tell_from_chance(n, folder_data.num_classes):
                p = ev.chance_p(measured, n, folder_data.num_classes)
                fb.info(f"On the validation images it scores {measured:.3f}, " + (
                    f"beyond guessing (binomial p = {p:.2g})." if p < 0.05 else
                    f"within the noise of guessing (a guesser would do this well {p:.0%} of the time): from "
                    f"scratch, {n_fit} training images teach little that carries over ({NB05})."))
            ref = runs.LAST.get("val_accuracy")
            fb.info(f"From scratch: {measured:.3f} on the {n} validation images"
                    + (f"; the transfer model of Exercise 2: {ref:.3f}." if ref is not None else "."))
    return fb.show()


__all__ = ["exercise_3", "exercise_4", "exercise_5"]
