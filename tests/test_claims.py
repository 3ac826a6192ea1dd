"""The course's central claims, checked in the `ci` profile on the real offline data.

These are helper-level runs of the experiments that notebooks 02-05 show, with the `ci`
profile's sizes (100 images per class, 96 px, MobileNet 0.25 with its ImageNet weights,
10 epochs for heads, 15 for fine-tuning). The margins were chosen from runs with seeds
0, 1 and 2 (November 2026, TF 2.21 on 2 CPU cores); the values seen are noted next to
each assertion, and every margin is well inside the worst seed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest

from test_measured import load as _benchmark   # loads a script of benchmarks/ as a module

from tlhelpers import course, lesson
from tlhelpers.transfer import backbones, models, pipeline, training
from tlhelpers.datasets import data
from tlhelpers.analysis import evaluation, probing
from tlhelpers.settings.config import get_profile

SEED = 42   # the notebooks' seed
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ci(shared_assets):
    profile = get_profile("ci", env={})
    cifar = course.load_cifar10(profile.train_per_class, profile.test_per_class)
    x_tr, y_tr, x_val, y_val = course.train_val_split(cifar.x_train, cifar.y_train, val_fraction=0.2)
    return profile, cifar, (x_tr, y_tr, x_val, y_val)


def _head(profile, features, labels, val, seed=SEED):
    lesson.set_seed(seed)
    head = lesson.make_head(features.shape[1], 10, **lesson.LESSON_HEADS["mobilenet_v2"])
    lesson.compile_model(head, 1e-3, verbose=False)
    history = lesson.fit(head, (features, labels), val, profile.head_epochs, verbose=False)
    return head, history


def test_feature_extraction_preprocessing_fine_tuning_and_scratch(ci):
    profile, cifar, (x_tr, y_tr, x_val, y_val) = ci
    S, own = profile.image_size, lesson.get_spec(profile.backbone).preprocess
    ds = lambda x, y, pre=own, size=S, shuffle=False: lesson.make_dataset(
        x, y, size, pre, profile.batch_size, shuffle=shuffle)
    base = lesson.load_backbone(profile.backbone, S)
    feats = {name: lesson.extract_features(base, ds(x, y, pre), verbose=False)[0]
             for name, x, y, pre in [("tr", x_tr, y_tr, own), ("val", x_val, y_val, own),
                                     ("test", cifar.x_test, cifar.y_test, own),
                                     ("w_tr", x_tr, y_tr, "vgg16"), ("w_val", x_val, y_val, "vgg16")]}
    head, right = _head(profile, feats["tr"], y_tr, (feats["val"], y_val))
    _, wrong = _head(profile, feats["w_tr"], y_tr, (feats["w_val"], y_val))
    # notebook 03: the backbone's own preprocessing beats VGG16's (seen: +0.22 to +0.30)
    assert right["val_accuracy"][-1] - wrong["val_accuracy"][-1] >= 0.10

    fe_test = evaluation.accuracy(cifar.y_test, head.predict(feats["test"], verbose=0))
    lesson.set_seed(SEED)
    cnn = lesson.scratch_cnn(32)
    lesson.compile_model(cnn, 1e-3, verbose=False)
    lesson.fit(cnn, ds(x_tr, y_tr, None, 32, True), ds(x_val, y_val, None, 32), profile.head_epochs,
                 verbose=False)
    scratch_test = lesson.evaluate(cnn, ds(cifar.x_test, cifar.y_test, None, 32), cifar.class_names).accuracy
    # notebook 05: feature extraction is far ahead of the scratch CNN (seen: 0.61 vs 0.27-0.30)
    assert fe_test >= 0.45 and fe_test - scratch_test >= 0.15



@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_fine_tuning_recipe_beats_feature_extraction_on_the_test_images(shared_assets, seed):
    # notebook 04, section 8: the course's recipe against phase 1's head on the same 1,000 test
    # images. Seen (November 2026, 2 cores): +0.048, +0.038, +0.048 for seeds 0, 1, 2, each with
    # McNemar p < 0.01; the issue asks for at least 0.03 beyond the paired test's noise.
    claims = _benchmark("finetune_claims")
    result = claims.recipe_vs_feature_extraction(get_profile("ci", env={}), seed)
    assert result["gap"] >= 0.03 and result["p_value"] < 0.05, result


def test_a_high_fine_tuning_rate_collapses_training(ci):
    # notebook 04, section 7: at 1e-2 the run diverges (seen: 1 class predicted, loss near ln 10)
    profile = ci[0]
    run = _benchmark("finetune_claims").Run(profile, SEED)
    high = run.high_lr()
    assert high["classes_predicted"] <= 2 and high["val_accuracy"] <= 0.2, high


def test_notebook_04_sets_what_the_benchmark_runs():
    source = "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                        for c in json.loads((ROOT / "notebooks" / "04_fine_tuning.ipynb").read_text())["cells"]
                        if c["cell_type"] == "code")
    claims = _benchmark("finetune_claims")
    for name in ("FT_LR", "HIGH_LR", "UNFREEZE", "EXP_STEPS"):
        found = re.search(rf"^{name} = ([0-9.e-]+)", source, re.M)
        assert found and float(found.group(1)) == getattr(claims, name), name
    recipe = re.search(r"^RECIPE_UNFREEZE = (\{[^}]*\})\.get\(profile\.backbone\)", source, re.M)
    assert recipe and eval(recipe.group(1)) == claims.RECIPE_UNFREEZE
    for line in ("CosineDecay(FT_LR, decay_steps=steps)",
                 'layers.RandomTranslation(0.1, 0.1, fill_mode="reflect")', "for batch_size in (8, 32):",
                 "phase2 = ft_top.fit(a_train, y_train", "cut = ft_base.layers[-UNFREEZE - 1].output"):
        assert line in source, line
    bench = Path(claims.__file__).read_text()
    # section 4's lesson run trains on the bottom's activations in both; every run is traced in both
    assert "ft_top.fit(a_tr, self.y_tr" in bench and "run_eagerly" not in bench
    assert ".run_eagerly = " not in source and "EAGER" not in source


def test_pretrained_features_beat_random_ones_beyond_the_first_probed_layer(ci):
    profile, cifar, _ = ci
    S = profile.image_size
    ds = lambda x, y: lesson.make_dataset(x, y, S, profile.backbone, profile.batch_size)
    lesson.set_seed(SEED)
    nets = {"pretrained": lesson.load_backbone(profile.backbone, S),
            "random": lesson.load_backbone(profile.backbone, S, weights=None)}
    layers = lesson.pick_layers(nets["pretrained"], n=6)
    acc = {}
    for name, net in nets.items():
        train_feats, y_train = lesson.pooled_features_at(net, layers, ds(cifar.x_train, cifar.y_train), verbose=False)
        test_feats, y_test = lesson.pooled_features_at(net, layers, ds(cifar.x_test, cifar.y_test), verbose=False)
        acc[name] = [lesson.linear_probe(train_feats[n], y_train, test_feats[n], y_test) for n in layers]
    # notebook 02. Seen (pretrained 0.24, 0.39, 0.48, 0.54, 0.56, 0.62 from the first probed
    # layer to the last; random weights with seeds 0, 1, 2, 42): tied at the first layer;
    # ahead at the second by 0.04-0.09, which with seed 42 is just inside the noise
    # (2 x 0.022); clearly ahead at every deeper layer, by 0.17 to 0.47.
    rows = list(zip(layers, acc["pretrained"], acc["random"]))
    assert rows[1][1] > rows[1][2], rows[1]
    for layer, pre, rand in rows[2:]:
        assert lesson.gap_is_clear(pre, rand, len(y_test)), (layer, pre, rand)
