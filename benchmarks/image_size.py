"""Choose the `cpu` profile's input size by measurement: accuracy per second.

For each size: the time to extract features of the profile's data with MobileNetV2
(random weights: the time does not depend on the weights) and the test accuracy of the
lesson's head trained on features of the pretrained MobileNet v1 alpha 0.25 from
../shared (the only ImageNet weights available offline), 5 epochs.

    python benchmarks/image_size.py --sizes 96 128 160 224
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np

from tlhelpers.transfer import backbones, models, pipeline, training
from tlhelpers.datasets import data


def features(base, x, y, size, name, batch):
    ds = pipeline.make_dataset(x, y, size, name, batch_size=batch)
    return training.extract_features(base, ds, verbose=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[96, 128, 160, 224])
    parser.add_argument("--train-per-class", type=int, default=500)
    parser.add_argument("--test-per-class", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    d = data.load_cifar10(args.train_per_class, args.test_per_class, seed=0)
    n = len(d.y_train) + len(d.y_test)
    print(f"{'size':>5} {'mnv2 extract s':>15} {'img/s':>7} {'mnv1-0.25 test acc':>19}")
    for size in args.sizes:
        keras.utils.set_random_seed(0)
        mnv2 = backbones.load_backbone("mobilenet_v2", size, weights=None)
        start = time.perf_counter()
        features(mnv2, d.x_train, d.y_train, size, "mobilenet_v2", args.batch)
        features(mnv2, d.x_test, d.y_test, size, "mobilenet_v2", args.batch)
        took = time.perf_counter() - start
        base = backbones.load_backbone("mobilenet_025", size)
        ftr = features(base, d.x_train, d.y_train, size, "mobilenet_025", args.batch)
        fte = features(base, d.x_test, d.y_test, size, "mobilenet_025", args.batch)
        keras.utils.set_random_seed(0)
        head = models.make_head(ftr[0].shape[1], 10, **models.LESSON_HEADS["mobilenet_v2"])
        training.compile_model(head, 1e-3, verbose=False)
        head.fit(*ftr, epochs=5, batch_size=32, verbose=0)
        acc = float(np.mean(head.predict(fte[0], verbose=0).argmax(1) == fte[1]))
        print(f"{size:>5} {took:15.1f} {n / took:7.0f} {acc:19.3f}", flush=True)
        keras.backend.clear_session()


if __name__ == "__main__":
    main()
