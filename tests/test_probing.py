"""Tests for tlhelpers.analysis.probing (random weights and tiny data: accuracy does not matter)."""

import os

import numpy as np
import pytest

from tlhelpers.analysis import probing
from tlhelpers.transfer.backbones import load_backbone
from tlhelpers.transfer.pipeline import make_dataset


@pytest.fixture(scope="module")
def base():
    return load_backbone("mobilenet_025", 64, weights=None)


def test_pick_layers_spans_the_network(base):
    names = probing.pick_layers(base, n=4)
    assert len(names) == 4
    assert names[0] == "conv1_relu" and names[-1] == "conv_pw_13_relu"
    depths = [probing.conv_depth(base, n) for n in names]
    assert depths == sorted(depths) and depths[-1] == 27


def test_pick_layers_bad_n(base):
    with pytest.raises(ValueError, match="n must be between 1 and"):
        probing.pick_layers(base, n=1000)


def test_pick_layers_vgg_uses_conv_with_relu():
    vgg = load_backbone("vgg16", 32, weights=None)
    names = probing.pick_layers(vgg, n=2)
    assert names == ["block1_conv1", "block5_conv3"]


def test_first_conv_kernel_rgb(base):
    assert probing.first_conv_kernel(base, "mobilenet_025").shape == (3, 3, 3, 8)


def test_activations_shrink_and_grow(base):
    names = probing.pick_layers(base, n=3)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)).astype("float32")
    acts = probing.activations_for(base, names, x)
    shapes = [acts[n].shape for n in names]
    assert shapes[0][0] == 2
    assert shapes[0][1] > shapes[-1][1] and shapes[0][3] < shapes[-1][3]


def test_activation_model_unknown_layer(base):
    with pytest.raises(ValueError, match="no layer"):
        probing.activation_model(base, ["nope"])


def test_pooled_features_streams(base, capsys):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 32, 32, 3), dtype=np.uint8)
    ds = make_dataset(images, np.arange(10) % 2, 64, "mobilenet_025", batch_size=4)
    names = probing.pick_layers(base, n=2)
    feats, labels = probing.pooled_features_at(base, names, ds)
    assert feats[names[0]].shape == (10, 8) and feats[names[1]].shape == (10, 256)
    np.testing.assert_array_equal(labels, np.arange(10) % 2)
    assert "3/3" in capsys.readouterr().out          # a progress bar over the 3 batches
    probing.pooled_features_at(base, names, ds, verbose=False)
    assert "3/3" not in capsys.readouterr().out


def test_linear_probe_separable_and_checks():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    x = rng.normal(size=(90, 5)) + 4 * np.eye(5)[y]
    assert probing.linear_probe(x, y, x, y) > 0.95
    with pytest.raises(ValueError, match="same width"):
        probing.linear_probe(x, y, x[:, :3], y)


def test_neighbour_correlation_smooth_vs_random():
    rng = np.random.default_rng(0)
    smooth = np.tile(np.linspace(-1, 1, 7)[None, :, None, None], (7, 1, 3, 16))
    assert probing.neighbour_correlation(smooth) > 0.9
    assert abs(probing.neighbour_correlation(rng.normal(size=(7, 7, 3, 64)))) < 0.1
    with pytest.raises(ValueError, match="kernel must have shape"):
        probing.neighbour_correlation(np.zeros((3, 3)))
