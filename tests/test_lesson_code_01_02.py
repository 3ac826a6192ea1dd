"""The Keras code that notebooks 01 and 02 teach, run from the notebooks' own cells.

Notebook 01 builds its transfer model in plain Keras (no ``InferenceMode``: notebook 04
introduces it); it must be the model ``lesson.transfer_classifier`` packages, with the base
called plainly. Notebook 02 writes the multi-output ``keras.Model`` that returns a layer's
activations; ``probing.activation_model`` / ``probing.activations_for`` are that cell,
packaged, and must give the same arrays. Each test executes the notebook's cell source
(found by its first line), so editing the notebook or the helper alone fails here.
"""

from __future__ import annotations

import json
import types
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from tlhelpers import lesson
from tlhelpers.transfer import models, trainability
from tlhelpers.analysis import probing
from tlhelpers.transfer.backbones import load_backbone
from tests.test_lesson_code_03_04 import cell, leaf_layers, signature  # noqa: F401  (shared helpers)
from tests.test_lesson_code_03_04 import run_cell as _run_cell

NB01 = "01_what_is_transfer_learning.ipynb"
NB02 = "02_feature_hierarchy.ipynb"


def run_cell(notebook: str, first_line: str, **namespace) -> dict:
    return _run_cell(notebook, first_line, **{"pd": pd, **namespace})


def leaf_signatures(model: keras.Model) -> list:
    return [signature(layer) for layer in leaf_layers(model)]


def test_notebook_01_builds_the_packaged_model_in_plain_keras(capsys):
    for backbone in ("mobilenet_025", "mobilenet_v2"):
        profile = types.SimpleNamespace(backbone=backbone, image_size=96)
        ns = run_cell(NB01, "S = profile.image_size", profile=profile, load_backbone=load_backbone)
        ns = run_cell(NB01, "base.trainable = False", **ns)
        plain = ns["model"]
        assert not any(isinstance(layer, lesson.InferenceMode) for layer in plain.layers)
        packaged = lesson.transfer_classifier(load_backbone(backbone, 96, weights=None), 10,
                                              units=(128,), dropout=0.5, pin_inference=False)
        assert leaf_signatures(plain) == leaf_signatures(packaged)
        counts = lambda m: {k: lesson.trainability_table(m).totals[k]
                            for k in ("trainable_params", "non_trainable_params")}
        assert counts(plain) == counts(packaged)
    assert "InferenceMode" not in capsys.readouterr().out   # the summary the learner reads


def test_notebook_02_activation_cell_equals_the_helper():
    base = load_backbone("mobilenet_025", 64, weights=None)
    three = lesson.pick_layers(base, n=3)
    batch = np.random.default_rng(0).uniform(-1, 1, (3, 64, 64, 3)).astype("float32")
    ns = run_cell(NB02, "extractor = keras.Model(", pretrained=base, three=three, batch=batch)
    packaged = probing.activations_for(base, three, batch)
    assert list(ns["acts"]) == list(packaged) == three
    for name in three:
        assert ns["acts"][name].shape == packaged[name].shape
        np.testing.assert_allclose(ns["acts"][name], packaged[name], rtol=1e-5, atol=1e-6)
    helper_model = probing.activation_model(base, three)
    assert [tuple(o.shape) for o in ns["extractor"].outputs] == [tuple(o.shape) for o in helper_model.outputs]
    assert ns["extractor"].count_params() == helper_model.count_params() == base.count_params()
