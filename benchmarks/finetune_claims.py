"""Notebook 04's experiments, repeated over seeds: the records behind its claims.

For one profile and several seeds, this runs what notebook 04 runs (same data, split,
head, recipes and grids) and appends one JSON line per seed to ``--out``:

- feature extraction (phase 1's head on the frozen base), the original lesson's
  fine-tuning (last 20 layers, constant 1e-4) and the course's recipe (the whole base,
  or the top ``RECIPE_UNFREEZE`` layers of MobileNetV2; cosine decay from 1e-4;
  flip + shift augmentation), each scored once on the same test images, with
  McNemar's counts against feature extraction;
- the BatchNormalization grid of section 6 (validation accuracy, frozen vs updating, in the
  lesson's last 20 layers, at two data sizes and two batch sizes, the same number of updates each);
- the high learning rate of section 7 (validation accuracy, classes predicted, last
  training loss).

    python benchmarks/finetune_claims.py --profile ci --seeds 0 1 2 --out docs/benchmarks/finetune-ci.jsonl
    TL_BACKBONE=mobilenet_025 python benchmarks/finetune_claims.py --profile cpu --seeds 0 1 2 \\
        --out docs/benchmarks/finetune-cpu-mobilenet_025.jsonl

Seeds already in ``--out`` are skipped, so an interrupted run resumes. ``tests/test_claims.py``
calls :func:`recipe_vs_feature_extraction` for the `ci` claim; ``benchmarks/results_page.py``
turns the records into ``docs/results.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: What notebook 04 sets in its cells (tests/test_claims.py checks that they agree).
FT_LR = 1e-4
HIGH_LR = 1e-2
UNFREEZE = 20
RECIPE_UNFREEZE = {"mobilenet_v2": 60}
EXP_STEPS = 40
BATCHES = (8, 32)


class Run:
    """Data, features and phase 1's head for one profile and seed (notebook 04, section 3)."""

    def __init__(self, profile, seed: int):
        import keras  # noqa: F401  (TensorFlow starts here)

        from tlhelpers.transfer import backbones, features, models, pipeline, training
        from tlhelpers.datasets import data

        self.profile, self.seed = profile, seed
        self.S = profile.image_size
        cifar = data.load_cifar10(profile.train_per_class, profile.test_per_class)
        self.x_tr, self.y_tr, self.x_val, self.y_val = data.train_val_split(
            cifar.x_train, cifar.y_train, val_fraction=0.2)
        self.x_te, self.y_te = cifar.x_test, cifar.y_test
        self.ds = lambda x, y, shuffle=False, batch=profile.batch_size: pipeline.make_dataset(
            x, y, self.S, profile.backbone, batch, shuffle=shuffle)
        self.base = backbones.load_backbone(profile.backbone, self.S)
        key = lambda split, n: features.profile_cache_key(profile, split, n)
        self.f_tr = training.extract_features(self.base, self.ds(self.x_tr, self.y_tr),
                                              key("train", len(self.y_tr)), verbose=False)[0]
        self.f_val = training.extract_features(self.base, self.ds(self.x_val, self.y_val),
                                               key("val", len(self.y_val)), verbose=False)[0]
        training.set_seed(seed)
        self.head = models.make_head(self.f_tr.shape[1], 10, **models.LESSON_HEADS["mobilenet_v2"])
        training.compile_model(self.head, 1e-3, verbose=False)
        training.fit(self.head, (self.f_tr, self.y_tr), (self.f_val, self.y_val), profile.head_epochs,
                     verbose=False, batch_size=profile.batch_size)
        self.head_weights = self.head.get_weights()

    def fresh(self, pin_inference: bool = True, augment: bool = False):
        """A fresh pretrained base with phase 1's head on it; returns (model, base)."""
        import keras

        from tlhelpers.transfer import backbones, models

        base = backbones.load_backbone(self.profile.backbone, self.S)
        head = models.make_head(base.output_shape[-1], 10, **models.LESSON_HEADS["mobilenet_v2"])
        head.set_weights(self.head_weights)
        inputs = keras.Input((self.S, self.S, 3))
        x = inputs
        if augment:
            x = keras.Sequential([keras.layers.RandomFlip("horizontal"),
                                  keras.layers.RandomTranslation(0.1, 0.1, fill_mode="reflect")])(x)
        x = models.InferenceMode(base)(x) if pin_inference else base(x)
        x = keras.layers.GlobalAveragePooling2D()(x)
        return keras.Model(inputs, head(x)), base

    def test_predictions(self, model):
        return model.predict(self.ds(self.x_te, self.y_te), verbose=0).argmax(1)

    def feature_extraction(self):
        from tlhelpers.transfer import models

        return self.test_predictions(models.transfer_classifier(self.base, head=self.head))

    def lesson(self):
        """Section 4: the last 20 layers, constant FT_LR, profile.epochs epochs, trained as the
        notebook trains them: on the stored activations of the frozen bottom (same layers)."""
        import keras

        from tlhelpers.transfer import models, training

        model, base = self.fresh()
        models.unfreeze(model, last_n=UNFREEZE)
        cut = base.layers[-UNFREEZE - 1].output
        bottom, top = keras.Model(base.input, cut), keras.Model(cut, base.output)
        a_tr, _ = training.predict_dataset(bottom, self.ds(self.x_tr, self.y_tr))
        inputs = keras.Input(shape=cut.shape[1:])
        x = keras.layers.GlobalAveragePooling2D()(models.InferenceMode(top)(inputs))
        ft_top = keras.Model(inputs, model.layers[-1](x))   # model.layers[-1]: phase 1's head, shared
        training.compile_model(ft_top, FT_LR, verbose=False)
        training.set_seed(self.seed)
        ft_top.fit(a_tr, self.y_tr, batch_size=self.profile.batch_size, epochs=self.profile.epochs, verbose=0)
        return self.test_predictions(model)   # the full model: it shares the trained layers

    def recipe(self):
        """Section 5: more of the base, cosine decay from FT_LR, augmentation inside the model."""
        import keras

        from tlhelpers.transfer import models, training

        model, base = self.fresh(augment=True)
        models.unfreeze(base, last_n=RECIPE_UNFREEZE.get(self.profile.backbone, len(base.layers)))
        train = self.ds(self.x_tr, self.y_tr, shuffle=True)
        steps = int(train.cardinality()) * self.profile.epochs
        model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(FT_LR, steps)),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        training.set_seed(self.seed)
        model.fit(train, epochs=self.profile.epochs, verbose=0)
        return self.test_predictions(model)

    def activations(self):
        """Section 6: the frozen bottom's output (what enters the last UNFREEZE layers), computed once.

        Returns the grid's training activations and labels (the first images of every class,
        as many as the larger grid size) and the validation activations.
        """
        if not hasattr(self, "_activations"):
            import keras

            from tlhelpers.transfer import training

            bottom = keras.Model(self.base.input, self.base.layers[-UNFREEZE - 1].output)
            grid = first_per_class(self.y_tr, self.grid_sizes()[-1])
            a_grid, y_grid = training.predict_dataset(bottom, self.ds(self.x_tr[grid], self.y_tr[grid]))
            a_val, _ = training.predict_dataset(bottom, self.ds(self.x_val, self.y_val))
            self._activations = a_grid, y_grid, a_val
        return self._activations

    def grid_sizes(self) -> tuple[int, int]:
        return 10, min(100, len(self.y_tr) // 10)

    def top_model(self, train_batchnorm: bool):
        """Section 6's ``top_model``: phase 1's head on the last UNFREEZE layers of a fresh base."""
        import keras

        from tlhelpers.transfer import backbones, models

        fresh = backbones.load_backbone(self.profile.backbone, self.S)
        top = keras.Model(fresh.layers[-UNFREEZE - 1].output, fresh.output)
        for layer in top.layers:
            layer.trainable = train_batchnorm or not isinstance(layer, keras.layers.BatchNormalization)
        inputs = keras.Input(shape=top.input.shape[1:])
        x = top(inputs) if train_batchnorm else models.InferenceMode(top)(inputs)
        head = models.make_head(fresh.output_shape[-1], 10, **models.LESSON_HEADS["mobilenet_v2"])
        head.set_weights(self.head_weights)
        return keras.Model(inputs, head(keras.layers.GlobalAveragePooling2D()(x)))

    def short_run(self, lr: float, per_class: int, batch: int, train_batchnorm: bool):
        """Sections 6 and 7: the last UNFREEZE layers, EXP_STEPS updates, trained on the stored
        activations of the frozen bottom (tests/test_split_base.py: the same computation as the
        whole model); validation class ids and the loss every 10 updates."""
        import numpy as np
        import tensorflow as tf

        from tlhelpers.transfer import training

        a_grid, y_grid, a_val = self.activations()
        keep = first_per_class(y_grid, per_class)
        a, y = a_grid[keep], y_grid[keep]
        model = self.top_model(train_batchnorm)
        training.compile_model(model, lr, verbose=False)
        training.set_seed(self.seed)
        train = tf.data.Dataset.from_tensor_slices((a, y)).shuffle(len(y), seed=0).batch(batch).repeat()
        losses = model.fit(train, epochs=EXP_STEPS // 10, steps_per_epoch=10, verbose=0).history["loss"]
        probs = model.predict(a_val, verbose=0)
        return np.asarray(probs).argmax(1), [float(v) for v in losses]

    def bn_grid(self) -> list[dict]:
        import numpy as np

        rows = []
        for per_class in self.grid_sizes():
            for batch in BATCHES:
                for bn in ("frozen", "updating"):
                    pred, _ = self.short_run(FT_LR, per_class, batch, bn == "updating")
                    rows.append({"per_class": per_class, "batch": batch, "bn": bn,
                                 "val_accuracy": float(np.mean(pred == self.y_val))})
        return rows

    def high_lr(self) -> dict:
        import numpy as np

        pred, losses = self.short_run(HIGH_LR, self.grid_sizes()[-1], 32, False)
        return {"val_accuracy": float(np.mean(pred == self.y_val)),
                "classes_predicted": int(len(np.unique(pred))), "last_loss": losses[-1]}


def first_per_class(y, n: int):
    """Positions of the first ``n`` images of every class, class after class (notebook 04, section 6)."""
    import numpy as np

    return np.concatenate([np.flatnonzero(y == c)[:n] for c in range(10)])


def counts(y, pred_a, pred_b) -> dict:
    """Accuracies and McNemar's disagreement counts of A against B."""
    from tlhelpers.analysis import stats

    p = stats.paired(y, pred_a, pred_b)
    return {"accuracy": p.acc_a, "vs": p.acc_b, "a_only": p.a_only, "b_only": p.b_only,
            "gap": round(p.gap, 4), "p_value": p.p_value}


def recipe_vs_feature_extraction(profile, seed: int) -> dict:
    """The test-set claim alone: the course's recipe against feature extraction."""
    run = Run(profile, seed)
    fe = run.feature_extraction()
    return counts(run.y_te, run.recipe(), fe)


def record(profile, seed: int) -> dict:
    start = time.perf_counter()
    run = Run(profile, seed)
    fe = run.feature_extraction()
    out = {"profile": profile.name, "backbone": profile.backbone, "image_size": profile.image_size,
           "train": int(len(run.y_tr)), "validation": int(len(run.y_val)), "test": int(len(run.y_te)),
           "epochs": profile.epochs, "seed": seed,
           "feature_extraction": float((fe == run.y_te).mean()),
           "recipe": counts(run.y_te, run.recipe(), fe),
           "lesson": counts(run.y_te, run.lesson(), fe),
           "bn": run.bn_grid(), "high_lr": run.high_lr()}
    out["wall_s"] = round(time.perf_counter() - start, 1)
    out["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="ci", choices=("ci", "cpu", "full"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--redo-short-runs", action="store_true",
                        help="rerun only sections 6 and 7 (BN grid, high rate) for the seeds already in --out")
    parser.add_argument("--redo-lesson", action="store_true",
                        help="rerun only section 4's lesson run for the seeds already in --out")
    args = parser.parse_args()

    from tlhelpers.settings.config import get_profile

    profile = get_profile(args.profile)
    if args.redo_short_runs or args.redo_lesson:
        rows = [json.loads(line) for line in args.out.read_text().splitlines() if line.strip()]
        for row in rows:
            run = Run(profile, row["seed"])
            if args.redo_lesson:
                row["lesson"] = counts(run.y_te, run.lesson(), run.feature_extraction())
            if args.redo_short_runs:
                row["bn"], row["high_lr"] = run.bn_grid(), run.high_lr()
            print(f"seed {row['seed']}: rerun (lesson {args.redo_lesson}, short runs {args.redo_short_runs})",
                  flush=True)
        part = args.out.with_name(args.out.name + ".part")   # replaced in one step: no half-written record
        part.write_text("".join(json.dumps(row) + "\n" for row in rows))
        os.replace(part, args.out)
        return
    done = set()
    if args.out.exists():
        done = {json.loads(line)["seed"] for line in args.out.read_text().splitlines() if line.strip()}
    for seed in args.seeds:
        if seed in done:
            print(f"seed {seed}: already recorded in {args.out}")
            continue
        row = record(profile, seed)
        with args.out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"seed {seed}: recipe {row['recipe']['accuracy']:.3f}, lesson {row['lesson']['accuracy']:.3f}, "
              f"feature extraction {row['feature_extraction']:.3f} ({row['wall_s']} s)", flush=True)


if __name__ == "__main__":
    main()
