"""Tests for tlhelpers.transfer.augment and its explorer, tlhelpers.figures.augment_explorer (random weights, tiny images)."""

import numpy as np
import pytest

from tlhelpers.transfer import augment
from tlhelpers.figures import augment_explorer


def test_make_augmentation_leaves_out_zero_strengths():
    aug = augment.make_augmentation(flip=False, rotation=0.0, zoom=0.2, contrast=0.3)
    assert [layer.name for layer in aug.layers] == ["zoom", "contrast"]
    assert len(augment.make_augmentation(**augment.DEFAULT_STRENGTHS).layers) == 6


@pytest.mark.parametrize("kwargs, match", [(dict(rotation=2.0), "rotation strength"),
                                            (dict(contrast=-0.1), "contrast strength"),
                                            (dict(flip="diagonal"), "flip must be")])
def test_make_augmentation_rejects_bad_strengths(kwargs, match):
    with pytest.raises(ValueError, match=match):
        augment.make_augmentation(**kwargs)


def test_augmentation_keeps_range_and_is_identity_at_inference():
    x = np.random.default_rng(0).uniform(0, 255, (4, 24, 24, 3)).astype("float32")
    aug = augment.make_augmentation(**augment.DEFAULT_STRENGTHS, seed=1)
    out = np.asarray(aug(x, training=True))
    assert out.shape == x.shape
    assert out.min() >= 0.0 and out.max() <= 255.0 + 1e-3
    assert not np.allclose(out, x)
    np.testing.assert_allclose(np.asarray(aug(x, training=False)), x)


def test_backbone_preprocess_matches_preprocess_input():
    from tlhelpers.transfer.backbones import get_spec

    x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    layer = augment.BackbonePreprocess("mobilenet_v2")
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(get_spec("mobilenet_v2").preprocess(x.copy())),
                               rtol=1e-6)
    assert layer.get_config()["backbone"] == "mobilenet_v2"


def test_augmented_model_order_and_shapes():
    from tlhelpers.transfer.backbones import load_backbone

    base = load_backbone("mobilenet_025", 32, weights=None)
    model = augment.augmented_model(base, "mobilenet_025", 10, augment.make_augmentation(rotation=0.1),
                                    units=(8,), dropout=0.0)
    from tlhelpers.transfer.models import find_base

    names = [layer.name for layer in model.layers]
    assert names.index("rotation") < names.index("preprocess") < names.index(f"{base.name}_inference")
    assert names[-1] == "head" and not base.trainable
    assert find_base(model) is base  # unfreeze() can still find the pretrained base
    assert model.predict(np.zeros((2, 32, 32, 3), "float32"), verbose=0).shape == (2, 10)
    plain = augment.augmented_model(base, "mobilenet_025", 10, None, units=(8,), dropout=0.0)
    assert "rotation" not in [layer.name for layer in plain.layers]


def test_explorer_static_fallback_returns_figure(monkeypatch):
    from matplotlib.figure import Figure

    monkeypatch.setenv("TL_WIDGETS", "0")
    assert not augment_explorer.widgets_available()
    image = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    fig = augment_explorer.augmentation_explorer(image, {"rotation": 0.2}, n=4)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    with pytest.raises(ValueError, match="Unknown augmentation"):
        augment_explorer.augmentation_explorer(image, {"blur": 0.1}, use_widgets=False)


def test_explorer_with_widgets_builds_sliders(monkeypatch):
    w = pytest.importorskip("ipywidgets")

    def no_capture(*_):  # the explorer must not route output through the front end (issue 16)
        raise AssertionError("the explorer used `with out:` / out.clear_output()")

    monkeypatch.setattr(w.Output, "__enter__", no_capture)
    monkeypatch.setattr(w.Output, "clear_output", no_capture)
    image = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    box = augment_explorer.augmentation_explorer(image, n=2, use_widgets=True)
    controls = box.children[0].children[0].children
    assert {c.description for c in controls} == set(augment.DEFAULT_STRENGTHS)
    out = box.children[-1]
    assert [o["output_type"] for o in out.outputs] == ["display_data"]
    first = out.outputs[0]["data"]["image/png"]
    controls[1].value = 0.3  # moving a slider replaces the grid
    assert len(out.outputs) == 1 and out.outputs[0]["data"]["image/png"] != first
    bundle = box._repr_mimebundle_()  # the live widget, plus the grid for pages without widgets
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/png"] == out.outputs[0]["data"]["image/png"]


def test_explorer_shows_a_redraw_error_under_the_sliders(monkeypatch):
    pytest.importorskip("ipywidgets")
    image = np.zeros((8, 8, 3), np.uint8)
    box = augment_explorer.augmentation_explorer(image, n=2, use_widgets=True)

    def broken(*_args, **_kwargs):
        raise RuntimeError("cannot draw")

    monkeypatch.setattr(augment_explorer, "_draw", broken)
    box.children[0].children[0].children[2].value = 0.2
    assert box.children[-1].outputs[0]["text"] == "RuntimeError: cannot draw\n"
