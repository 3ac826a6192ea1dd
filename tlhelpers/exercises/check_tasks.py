"""Checks of notebook 07 for the original lesson's own tasks: cats vs dogs, and optimizers.

Re-exported by :mod:`tlhelpers.check` (call them as ``check.exercise_6(...)``).

>>> from tlhelpers.exercises import check_tasks
>>> check_tasks.exercise_7(None, None).done
Exercise 7 - optimizers at the fine-tuning stage
  [todo] Not done yet: `optimizers`, `opt_histories` are still placeholders. Build them, then run this check again.
False
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tlhelpers.exercises import check_evidence as ev
from tlhelpers.exercises import check_runs as runs
from tlhelpers.exercises import inspection as ins
from tlhelpers.exercises.feedback import NB03, NB04, TITLES, Feedback, count, describe, guarded, start
from tlhelpers.analysis.stats import chance_p_value


@guarded("exercise_6")
def exercise_6(cd_model: Any, cd_history: Any, cd_accuracy: Any, val_data: Any) -> Feedback:
    """A frozen pretrained base with a two-class head, trained on cats and dogs; accuracy recomputed."""
    fb = start("exercise_6", cd_model=cd_model, cd_history=cd_history, cd_accuracy=cd_accuracy, val_data=val_data)
    if fb:
        return fb
    fb = Feedback("exercise_6", TITLES["exercise_6"])
    if not ins.check_model(fb, cd_model, "cd_model"):
        return fb.show()
    batch = ins.first_batch(val_data) if isinstance(val_data, (tuple, list)) else None
    if batch is None:
        fb.fix(f"`val_data` is {describe(val_data)}, not the pair (x_cd_val, y_cd_val) of images and labels.",
               "Pass the validation images and labels as a tuple: `(x_cd_val, y_cd_val)`.")
        return fb.show()
    labels = set(np.unique(np.asarray(val_data[1])).tolist())
    fb.check(labels <= {0, 1}, "Labels are 0 (cat) and 1 (dog).", f"The labels are {sorted(labels)[:5]}, not 0 and 1.",
             "Map cat to 0 and dog to 1, as the data cell does.")
    base = ins.find_base(cd_model)
    if base is None:
        fb.fix("No pretrained base inside the model.", f"Reuse a keras.applications base, as in Exercise 2 ({NB03}).")
        return fb.show()
    n_train = count(base.trainable_weights)
    fb.check(n_train == 0, f"A frozen base {base.name!r} with a new two-class head.",
             f"The base has {n_train:,} trainable parameters.", "Set `base.trainable = False` before compiling.")
    ev.check_pretrained(fb, base, untouched=True)
    runs.remember(base)  # Exercise 7 fine-tunes this base
    ev.check_not_reused(fb, base, "exercise_6", "cd_model")
    try:
        ins.check_reaches_base(fb, cd_model, base, batch[0])
    except ValueError:
        fb.fix(f"The model takes inputs of shape {cd_model.input_shape[1:]}, but the images are "
               f"{batch[0].shape[1:]}.", "Start with `keras.Input(shape=(32, 32, 3))` and resize inside the model.")
        return fb.show()
    ins.check_output(fb, cd_model, 2)
    if ins.check_compiled(fb, cd_model, "cd_model") is None:
        return fb.show()
    hist = runs.check_history(fb, cd_history, cd_model, "cd_history")
    if hist is not None:   # fit(x, y) batches by 32 unless told otherwise; the training split is 4x the validation
        n_val = len(np.asarray(val_data[1]))
        ev.check_trained_on(fb, cd_history, 4 * n_val, {"validation": n_val}, "cd_history", (32,))
    claim = runs.as_accuracy(fb, cd_accuracy, "cd_accuracy")
    if hist is not None and claim is not None:
        measured, n = runs.accuracy(cd_model, val_data)
        fb.check(abs(measured - claim) <= runs.tolerance(n),
                 f"`cd_accuracy` = {claim:.3f} matches the check's measurement on the {n} validation images.",
                 f"`cd_accuracy` = {claim:.3f}, but the model scores {measured:.3f} on the {n} validation images.",
                 "Evaluate the trained model on the validation pair: `cd_model.evaluate(x_cd_val, y_cd_val)[1]`.")
        import weakref

        START[0] = (weakref.ref(cd_model), ev.fingerprint(cd_model))   # exercise 7's runs start from here
        p_chance = chance_p_value(measured, n, 0.5)
        fb.check(p_chance < 0.05,
                 f"The model scores {measured:.3f} on {n} images, beyond chance (0.5; binomial p = {p_chance:.3g}).",
                 f"The model scores {measured:.3f} on {n} images: guessing would do as well that often "
                 f"(binomial p = {p_chance:.2f}), so it has not learned to tell cats from dogs.",
                 "Check that the inputs reach the base as it expects (Resizing, then preprocess_input), "
                 "and train for more epochs or at a higher learning rate for the new head.")
    return fb.show()


_KINDS = {"SGD": "SGD with momentum", "Adam": "Adam", "RMSprop": "RMSprop"}
#: the fingerprint of cd_model's weights when exercise 6's check measured it
START: list = [None]


def _run_problems(name: str, opt, history) -> list[tuple[str, str]]:
    """(what is wrong, hint) for one optimizer and its History."""
    import keras

    if not isinstance(history, keras.callbacks.History) or not (history.history or {}).get("loss"):
        return [(f"`opt_histories[{name!r}]` is {describe(history)}, not the History of a finished fit.",
                 "Keep what `model.fit(...)` returns for each optimizer.")]
    out = []
    steps, used = (history.params or {}).get("steps"), int(np.asarray(opt.iterations))
    if used == 0:
        out.append((f"The optimizer {name!r} never made an update.", "Compile the model with it before fit."))
    elif steps and used != steps * len(history.epoch):
        out.append((f"The optimizer {name!r} made {used} updates, but its History has {steps * len(history.epoch)}.",
                    "Create a fresh optimizer for every run and compile with it: a reused one carries state."))
    base = ins.find_base(history.model) if history.model is not None else None
    tracked = {id(v) for v in getattr(opt, "_trainable_variables", None) or []}
    if base is None or not tracked & {id(v) for v in base.weights}:
        out.append((f"The optimizer {name!r} trained the head only, not the top of the base.",
                    f"Unfreeze the top layers (BatchNormalization frozen) before compiling ({NB04})."))
    if runs.val_accuracy_key(history.history, history.model) is None:
        out.append((f"The run with {name!r} has no validation accuracy.", "Pass `validation_data` to fit."))
    lr = ins.learning_rate(opt)
    if lr is not None and not (np.isfinite(lr) and lr > 0):
        out.append((f"The optimizer {name!r} has learning rate {lr:g}.", "Use a small positive rate, e.g. 1e-4."))
    if base is not None:
        out.extend(_bn_problems(name, history.model, base))
    return out


def _bn_problems(name: str, model, base) -> list[tuple[str, str]]:
    """BatchNormalization must stay frozen (or pinned in inference mode) and its statistics unchanged."""
    bns = [layer for layer in ins.leaves(base) if type(layer).__name__ == "BatchNormalization"]
    pinned = ins.base_call(model, base)[1] == "pinned"
    trainable = [layer.name for layer in bns if layer.trainable]
    out = []
    if trainable and not pinned:
        out.append((f"In the run with {name!r}, {len(trainable)} BatchNormalization layers of the base are "
                    "trainable, so their statistics follow the small batches of cats and dogs.",
                    f"Freeze them again after unfreezing the top: `if isinstance(layer, "
                    f"layers.BatchNormalization): layer.trainable = False` ({NB04})."))
    reference = ev.pristine_weights(base) or runs.snapshot_of(base)
    if reference is not None and not out:
        stats = ev.moved_layers(base, reference, atol=1e-6)["statistics"]
        if stats:
            out.append((f"The moving statistics of {len(stats)} BatchNormalization layers changed during the "
                        "runs: BatchNormalization was not kept frozen in every run.",
                        f"Keep BatchNormalization frozen in every run ({NB04})."))
    return out


def _start_problems(optimizers: dict, opt_histories: dict) -> list[tuple[str, str]]:
    """Every run must start from the same weights: those exercise 6 trained (when its check saw them)."""
    starts = {name: getattr(opt_histories[name], "tl_start", None) for name in optimizers}
    if not starts or any(v is None for v in starts.values()):
        return []
    checked = START[0]
    same_model = checked is not None and all(opt_histories[name].model is checked[0]() for name in optimizers)
    reference = checked[1] if same_model else None   # a model exercise 6's check never saw: compare the runs
    hint = ("Keep `start = cd_model.get_weights()` before the loop and call `cd_model.set_weights(start)` "
            "at the top of every turn, before compile and fit.")
    if reference is not None:
        off = [name for name, fp in starts.items() if not ev.same_weights(fp, reference)]
        if off:
            return [(f"The run(s) with {', '.join(map(repr, off))} did not start from the weights that "
                     "Exercise 6 trained (the check compares the weights at the start of each fit): a "
                     "fair comparison starts every optimizer from the same point.", hint)]
        return []
    first = next(iter(starts.values()))
    if not all(ev.same_weights(fp, first) for fp in starts.values()):
        return [("The runs did not all start from the same weights (the check compares the weights at "
                 "the start of each fit): a fair comparison starts every optimizer from the same point.", hint)]
    return []


@guarded("exercise_7")
def exercise_7(optimizers: Any, opt_histories: Any) -> Feedback:
    """SGD with momentum, Adam and RMSprop, each a real fine-tuning run: read from the optimizers
    (their update counts) and the History objects, never from typed numbers."""
    fb = start("exercise_7", optimizers=optimizers, opt_histories=opt_histories)
    if fb:
        return fb
    fb = Feedback("exercise_7", TITLES["exercise_7"])
    import keras

    if not isinstance(optimizers, dict) or not all(isinstance(o, keras.optimizers.Optimizer) for o in optimizers.values()):
        fb.fix(f"`optimizers` is {describe(optimizers)}; it should map a name to a keras optimizer.",
               "E.g. `{\"sgd\": keras.optimizers.SGD(1e-4, momentum=0.9), \"adam\": ..., \"rmsprop\": ...}`.")
        return fb.show()
    kinds = {type(o).__name__ for o in optimizers.values()}
    momentum = [o for o in optimizers.values() if type(o).__name__ == "SGD" and float(getattr(o, "momentum", 0)) > 0]
    missing = [label for kind, label in _KINDS.items() if kind not in kinds or (kind == "SGD" and not momentum)]
    fb.check(not missing, "SGD with momentum, Adam and RMSprop are compared.", f"Missing: {', '.join(missing)}.",
             "Compare `keras.optimizers.SGD(..., momentum=0.9)`, `Adam(...)` and `RMSprop(...)`.")
    if not isinstance(opt_histories, dict) or set(opt_histories) != set(optimizers):
        fb.fix(f"`opt_histories` is {describe(opt_histories)}; it needs one History per name of `optimizers`.",
               "Store `opt_histories[name] = model.fit(...)` inside the loop over the optimizers.")
        return fb.show()
    problems = [p for name, opt in optimizers.items() for p in _run_problems(name, opt, opt_histories[name])]
    problems = problems or _start_problems(optimizers, opt_histories)
    for text, hint in problems:
        fb.fix(text, hint)
    if problems:
        return fb.show()
    hists = [opt_histories[name] for name in optimizers]
    fb.check(len({id(h) for h in hists}) == len(hists) and len({id(o) for o in optimizers.values()}) == len(hists),
             "Each optimizer has its own run.", "Two names share one optimizer or one History.",
             "Create a new optimizer and keep a new History in every turn of the loop.")
    epochs = {len(h.epoch) for h in hists}
    fb.check(len(epochs) == 1, f"Every run has the same budget ({epochs.pop() if len(epochs) == 1 else ''} epochs).",
             f"The runs have different numbers of epochs ({sorted(epochs)}).", "Compare under the same budget.")
    finals = {name: (opt_histories[name].history[runs.val_accuracy_key(opt_histories[name].history, opt_histories[name].model)][-1],
                     ins.learning_rate(o)) for name, o in optimizers.items()}
    if all(getattr(opt_histories[name], "tl_start", None) is not None for name in optimizers):
        fb.ok("Every run started from the same weights.")
    else:
        fb.info("Could not see where the runs started (run the cells of notebook 07 in order, after importing check).")
    fb.ok("Every run trained the top of the base, with BatchNormalization frozen, from its own optimizer: " + "; ".join(
        f"{name} (lr {'?' if lr is None else f'{lr:g}'}): val_accuracy {acc:.3f}" for name, (acc, lr) in finals.items()) + ".")
    return fb.show()
