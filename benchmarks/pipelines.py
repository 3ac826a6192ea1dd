"""Benchmark: the original lesson's input pipeline against the course's.

(a) original: every image resized to the input size into one float32 array, the frozen
    base inside a Sequential model, end-to-end ``fit`` (the base runs on every image in
    every epoch);
(b) course: a streamed ``tf.data`` pipeline, features extracted once, the same head
    trained on them.

Each run is a separate process, so peak resident memory is its own. Same backbone, data,
head, epochs and seed. Runs offline on the ../shared assets (TL_ASSETS_DIR).

    python benchmarks/pipelines.py                         # 5,000 images, 224 px
    python benchmarks/pipelines.py --sizes 1000 2000 5000  # scaling run
    python benchmarks/pipelines.py --repeat 3 --out docs/benchmarks.json
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

START = time.perf_counter()


def _head(num_features: int):
    from tlhelpers.transfer.models import LESSON_HEADS, make_head

    return make_head(num_features, 10, **LESSON_HEADS["mobilenet_v2"])


def run_original(args) -> float:
    """As the lesson wrote it: materialised arrays, Sequential, end-to-end fit."""
    import keras
    import numpy as np
    import tensorflow as tf

    from tlhelpers.transfer import backbones
    from tlhelpers.datasets import data

    keras.utils.set_random_seed(args.seed)
    d = data.load_cifar10(args.train // 10, args.test // 10, seed=args.seed)
    pre = backbones.get_spec(args.backbone).preprocess
    size = args.image_size
    x_train = pre(tf.image.resize(d.x_train.astype("float32"), (size, size)).numpy())
    x_test = pre(tf.image.resize(d.x_test.astype("float32"), (size, size)).numpy())
    base = backbones.load_backbone(args.backbone, size)
    head = _head(base.output_shape[-1])
    model = keras.Sequential([keras.Input((size, size, 3)), base,
                              keras.layers.GlobalAveragePooling2D(), head])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, d.y_train, epochs=args.epochs, batch_size=32, verbose=0)
    probs = model.predict(x_test, batch_size=32, verbose=0)
    return float(np.mean(probs.argmax(1) == d.y_test))


def run_course(args) -> float:
    """The course: streamed tf.data, features extracted once, head trained on them."""
    import keras
    import numpy as np

    from tlhelpers.transfer import backbones, pipeline, training
    from tlhelpers.datasets import data

    keras.utils.set_random_seed(args.seed)
    d = data.load_cifar10(args.train // 10, args.test // 10, seed=args.seed)
    base = backbones.load_backbone(args.backbone, args.image_size)
    feats = {}
    for split, x, y in (("train", d.x_train, d.y_train), ("test", d.x_test, d.y_test)):
        ds = pipeline.make_dataset(x, y, args.image_size, args.backbone, batch_size=args.batch)
        feats[split] = training.extract_features(base, ds, verbose=False)
    head = _head(base.output_shape[-1])
    training.compile_model(head, 1e-3, verbose=False)
    head.fit(*feats["train"], epochs=args.epochs, batch_size=32, verbose=0)
    probs = head.predict(feats["test"][0], batch_size=256, verbose=0)
    return float(np.mean(probs.argmax(1) == feats["test"][1]))


def child(args) -> None:
    accuracy = (run_original if args.child == "original" else run_course)(args)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"pipeline": args.child, "train": args.train, "accuracy": accuracy,
                      "seconds": time.perf_counter() - START, "peak_mb": peak_mb}))


def measure(args, which: str, train: int, image_size: int) -> dict:
    cmd = [sys.executable, __file__, "--child", which, "--train", str(train),
           "--test", str(args.test), "--backbone", args.backbone, "--image-size",
           str(image_size), "--epochs", str(args.epochs), "--seed", str(args.seed),
           "--batch", str(args.batch)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{which} run failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - start
    result["image_size"] = image_size
    if image_size != args.image_size:
        result["pipeline"] = f"{which}@{image_size}"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", choices=["original", "course"], help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000], help="training images")
    parser.add_argument("--train", type=int, default=5000, help=argparse.SUPPRESS)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--backbone", default="mobilenet_025")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--course-image-size", type=int,
                        help="also run the course pipeline at this size (e.g. the cpu profile's 128)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch", type=int, default=64, help="batch size for feature extraction")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write all runs as JSON here")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    rows = []
    runs = [("original", args.image_size), ("course", args.image_size)]
    if args.course_image_size:
        runs.append(("course", args.course_image_size))
    print(f"{'images':>7} {'pipeline':>11} {'wall s':>7} {'peak MB':>8} {'accuracy':>8}")
    for train in args.sizes:
        for _ in range(args.repeat):
            for which, size in runs:
                r = measure(args, which, train, size)
                rows.append(r)
                print(f"{train:>7} {r['pipeline']:>11} {r['wall_s']:7.1f} {r['peak_mb']:8.0f} "
                      f"{r['accuracy']:8.3f}", flush=True)
    names = sorted({r["pipeline"] for r in rows} - {"original"})
    for train in args.sizes:
        med = {w: {k: statistics.median(r[k] for r in rows if r["train"] == train and r["pipeline"] == w)
                   for k in ("wall_s", "peak_mb", "accuracy")} for w in ["original", *names]}
        o = med["original"]
        for name in names:
            c = med[name]
            print(f"{train} images, medians of {args.repeat}, {name} vs original: time x"
                  f"{o['wall_s'] / c['wall_s']:.1f} less, memory x{o['peak_mb'] / c['peak_mb']:.1f} less, "
                  f"accuracy {c['accuracy'] - o['accuracy']:+.3f}")
    if args.out:
        meta = {"machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
                "python": platform.python_version(), "date": time.strftime("%Y-%m-%d"),
                "args": {k: v for k, v in vars(args).items() if k not in ("child", "out")}}
        args.out.write_text(json.dumps({"meta": meta, "runs": rows}, indent=1, default=str))


if __name__ == "__main__":
    main()
