"""The course's recommended CPU recipe, trained and scored once on a held-out test folder.

Trains on the offline training set (all 5,000 images) with the choices that the
ablations of ``benchmarks/ablations.py`` made on a validation split of it (recorded in
docs/performance.md), then evaluates once on a class-folder test set:

    python benchmarks/recipe.py                              # offline test folder
    python benchmarks/recipe.py --test-dir ~/cifar10-test    # any folder, one subfolder per class
    python benchmarks/recipe.py --val --set ft_layers=40     # an ablation: score on validation

Progress goes to stderr; the last line of stdout is one JSON object with ``accuracy``,
``wall_s`` (the whole process, import to exit) and ``peak_mb`` (peak resident memory).
"""

from __future__ import annotations

import time

START = time.perf_counter()

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@dataclasses.dataclass
class Recipe:
    """Every choice of the recipe. The defaults are the recommended recipe: the ablations'
    best on validation ("lr 3e-4 cosine, whole base", with flip TTA; docs/performance.md).
    The ablations' baseline (notebook 04, section 4) is ``ablations.BASELINE``."""

    image_size: int = 128
    head_epochs: int = 5          # head trained on cached features, Adam 1e-3
    ft_layers: int = -1           # last base layers unfrozen; 0 = head only, -1 = whole base
    ft_epochs: int = 5
    ft_lr: float = 3e-4
    schedule: str = "cosine"      # constant | cosine | warmup (one epoch, then cosine)
    augment: str = "none"         # none | flip | flip_translate | crop
    label_smoothing: float = 0.0
    train_bn: bool = False        # unfreeze BatchNormalization too
    batch: int = 32
    tta: bool = True              # average predictions on the image and its mirror
    second_size: int = 0          # head only: concatenate features from a second input size
    seed: int = 0


def log(message: str) -> None:
    print(f"[{time.perf_counter() - START:6.1f} s] {message}", file=sys.stderr, flush=True)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_overrides(pairs: list[str]) -> Recipe:
    recipe, fields = Recipe(), {f.name: f for f in dataclasses.fields(Recipe)}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in fields or not value:
            raise SystemExit(f"--set takes key=value with key one of {', '.join(fields)}; got {pair!r}.")
        kind = type(getattr(recipe, key))
        cast = (lambda v: v.lower() in ("1", "true", "yes")) if kind is bool else kind
        setattr(recipe, key, cast(value))
    return recipe


def augmentation(kind: str):
    import keras

    layers = {"none": [], "flip": [keras.layers.RandomFlip("horizontal")],
              "flip_translate": [keras.layers.RandomFlip("horizontal"),
                                 keras.layers.RandomTranslation(0.1, 0.1, fill_mode="reflect")],
              "crop": [keras.layers.RandomFlip("horizontal"),
                       keras.layers.RandomZoom((-0.2, 0.0), fill_mode="reflect")]}
    if kind not in layers:
        raise SystemExit(f"augment must be one of {', '.join(layers)}; got {kind!r}.")
    return keras.Sequential(layers[kind], name="augmentation") if layers[kind] else None


def schedule(r: Recipe, steps_per_epoch: int):
    import keras

    total = steps_per_epoch * r.ft_epochs
    if r.schedule == "constant":
        return r.ft_lr
    if r.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(r.ft_lr, total)
    if r.schedule == "warmup":
        return keras.optimizers.schedules.CosineDecay(
            0.0, total - steps_per_epoch, warmup_target=r.ft_lr, warmup_steps=steps_per_epoch)
    raise SystemExit(f"schedule must be constant, cosine or warmup; got {r.schedule!r}.")


def load_test(test_dir: Path, size: int, classes: tuple[str, ...], preprocess, batch: int):
    """A class-folder test set, streamed, resized and preprocessed like the training images."""
    import keras

    if not test_dir.is_dir():
        raise SystemExit(f"--test-dir {test_dir} is not a folder; pass a folder with one "
                         f"subfolder per class ({', '.join(classes)}).")
    found = sorted(p.name for p in test_dir.iterdir() if p.is_dir())
    if found != sorted(classes):
        raise SystemExit(f"--test-dir {test_dir} has class folders {found}; the model was trained "
                         f"on {list(classes)}. Pass a folder with exactly those subfolders.")
    ds = keras.utils.image_dataset_from_directory(
        test_dir, class_names=list(classes), image_size=(size, size), batch_size=batch,
        shuffle=False, verbose=False)
    return ds.map(lambda x, y: (preprocess(x), y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--test-dir", type=Path, help="class folders to score (default: the offline test folder)")
    parser.add_argument("--backbone", default=None, help="default: the cpu profile's backbone")
    parser.add_argument("--image-size", type=int, help="input size in pixels (default: the recipe's)")
    parser.add_argument("--val", action="store_true",
                        help="train on 80%% of the training set and score its other 20%% (for ablations)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override a recipe choice")
    args = parser.parse_args()
    r = parse_overrides(args.set)
    if args.image_size:
        r.image_size = args.image_size

    import keras
    import numpy as np
    import tensorflow as tf

    from tlhelpers.transfer import backbones, features, models, pipeline
    from tlhelpers.settings import config
    from tlhelpers.datasets import data

    name = args.backbone or config.get_profile("cpu").backbone
    preprocess = backbones.get_spec(name).preprocess
    keras.utils.set_random_seed(r.seed)
    stages = {}
    d = data.load_cifar10(500, 100)
    x_tr, y_tr = d.x_train, d.y_train
    if args.val:
        x_tr, y_tr, x_ev, y_ev = data.train_val_split(x_tr, y_tr, 0.2, seed=0)
        evaluate_on = f"validation split ({len(y_ev)} of the training images)"
    else:
        test_dir = args.test_dir or (data.require_cifar10_folder() / "test")
        evaluate_on = f"test folder {test_dir}"
    stages["data"] = peak_mb()
    log(f"{name} at {r.image_size} px, {len(y_tr)} training images; scoring on the {evaluate_on}")

    def eval_ds(size: int):
        if args.val:
            return pipeline.make_dataset(x_ev, y_ev, size, preprocess, batch_size=64)
        return load_test(test_dir, size, d.class_names, preprocess, 64)

    def base_at(size: int):
        return backbones.load_backbone(name, size)   # the plain Keras is in notebook 03

    base = base_at(r.image_size)
    base.trainable = False
    sizes = [r.image_size] + ([r.second_size] if r.second_size else [])
    f_tr, f_ev = [], []
    for size in sizes:
        b = base if size == r.image_size else base_at(size)
        f_tr.append(features.extract_features(
            b, pipeline.make_dataset(x_tr, y_tr, size, preprocess, batch_size=64), verbose=False)[0])
        fe, y_eval = features.extract_features(b, eval_ds(size), verbose=False)
        f_ev.append(fe)
    f_tr, f_ev = np.concatenate(f_tr, axis=1), np.concatenate(f_ev, axis=1)
    stages["features"] = peak_mb()
    log(f"features {f_tr.shape} extracted")

    loss = keras.losses.CategoricalCrossentropy(label_smoothing=r.label_smoothing)
    head = models.make_head(f_tr.shape[1], 10, **models.LESSON_HEADS["mobilenet_v2"])
    head.compile(keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
    head.fit(f_tr, keras.utils.to_categorical(y_tr, 10), epochs=r.head_epochs,
             batch_size=32, verbose=0)
    head_acc = float(np.mean(head.predict(f_ev, verbose=0).argmax(1) == y_eval))
    stages["head"] = peak_mb()
    log(f"head trained: accuracy {head_acc:.3f}")
    result = {"head_accuracy": head_acc, "accuracy": head_acc}

    if r.ft_layers and not r.second_size:
        inputs = keras.Input((r.image_size, r.image_size, 3))
        augment = augmentation(r.augment)
        x = augment(inputs) if augment is not None else inputs
        x = base(x, training=False)
        x = keras.layers.GlobalAveragePooling2D()(x)
        model = keras.Model(inputs, head(x))
        base.trainable = True
        keep = len(base.layers) if r.ft_layers < 0 else r.ft_layers
        for layer in base.layers[:-keep] if keep < len(base.layers) else []:
            layer.trainable = False
        if not r.train_bn:
            for layer in base.layers:
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.trainable = False
        train = pipeline.make_dataset(x_tr, y_tr, r.image_size, preprocess, batch_size=r.batch,
                                      shuffle=True, seed=r.seed)
        train = train.map(lambda x, y: (x, tf.one_hot(y, 10)))
        steps = int(np.ceil(len(y_tr) / r.batch))
        model.compile(keras.optimizers.Adam(schedule(r, steps)), loss=loss, metrics=["accuracy"])
        model.fit(train, epochs=r.ft_epochs, verbose=0, shuffle=False,  # the pipeline shuffles
                  callbacks=[keras.callbacks.LambdaCallback(
                      on_epoch_end=lambda e, logs: log(f"fine-tuning epoch {e + 1}/{r.ft_epochs}: "
                                                       f"loss {logs['loss']:.3f}"))])
        stages["fine_tune"] = peak_mb()
        run = tf.function(lambda x: model(x, training=False))
        probs, flipped, labels = [], [], []
        for x, y in eval_ds(r.image_size):
            probs.append(run(x).numpy())
            flipped.append(run(tf.image.flip_left_right(x)).numpy())
            labels.append(y.numpy())
        probs, flipped, labels = map(np.concatenate, (probs, flipped, labels))
        result["accuracy"] = float(np.mean(probs.argmax(1) == labels))
        result["tta_accuracy"] = float(np.mean((probs + flipped).argmax(1) == labels))
        result["one_view_accuracy"] = result["accuracy"]
        if r.tta:
            result["accuracy"] = result["tta_accuracy"]
    result.update(recipe=dataclasses.asdict(r), backbone=name, scored_on=evaluate_on,
                  train_images=int(len(y_tr)), scored_images=int(len(y_eval)),
                  peak_mb_by_stage={k: round(v) for k, v in stages.items()},
                  peak_mb=round(peak_mb()), wall_s=round(time.perf_counter() - START, 1))
    log(f"accuracy {result['accuracy']:.3f} in {result['wall_s']} s, peak {result['peak_mb']} MB")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
