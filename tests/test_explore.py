"""Tests of tlhelpers.figures.explore: the pure functions and the static fallbacks of the explorers."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from tlhelpers.transfer.walk import walk
from tlhelpers.figures import explore
from tlhelpers.transfer.backbones import load_backbone
from tlhelpers.transfer.models import transfer_classifier, find_base


@pytest.fixture(scope="module")
def model():
    return transfer_classifier(load_backbone("mobilenet_025", 64, weights=None), 3)


def _flags(m):
    return [layer.trainable for layer in walk(m)]


def test_freezing_summary_counts_and_restores(model):
    before, n_weights = _flags(model), len(model.trainable_weights)
    s0, s10, s_all = (explore.freezing_summary(model, n) for n in (0, 10, len(find_base(model).layers)))
    assert s0.trainable_params < s10.trainable_params < s_all.trainable_params
    assert s10.batchnorm_kept_frozen > 0 and "Unfreeze the last 10" in str(s10)
    assert s10.table.totals["trainable_params"] == s10.trainable_params
    assert _flags(model) == before and len(model.trainable_weights) == n_weights


def test_freezing_explorer_static_fallback(model, capsys, monkeypatch):
    monkeypatch.setenv("TL_WIDGETS", "0")
    explore.freezing_explorer(model, steps=[0, 5])
    out = capsys.readouterr().out
    assert "last 0 base layers" in out and "last 5 base layers" in out


def test_select_and_browse_predictions():
    y = np.array([0, 0, 0, 1])
    probs = np.array([[.9, .1], [.2, .8], [.4, .6], [.1, .9]])
    assert explore.select_predictions(y, probs, 0, "misses").tolist() == [1, 2]
    assert explore.select_predictions(y, probs, 0, "hits").tolist() == [0]
    images = np.zeros((4, 8, 8, 3), np.uint8)
    fig = explore.browse_predictions(images, y, probs, ["cat", "dog"], 0, "misses")
    assert isinstance(fig, Figure) and "2 misses" in fig._suptitle.get_text()
    empty = explore.browse_predictions(images, y, probs, ["cat", "dog"], 1, "misses")
    assert "No misses" in empty.axes[0].texts[0].get_text()
    with pytest.raises(ValueError, match="class_id"):
        explore.browse_predictions(images, y, probs, ["cat", "dog"], 5)
    with pytest.raises(ValueError, match="show"):
        explore.select_predictions(y, probs, 0, "errors")


def test_prediction_browser_static_fallback(monkeypatch, capsys):
    monkeypatch.setenv("TL_WIDGETS", "0")
    y = np.array([0, 1, 1])
    probs = np.array([[.9, .1], [.8, .2], [.3, .7]])
    explore.prediction_browser(np.zeros((3, 8, 8, 3), np.uint8), y, probs, ["cat", "dog"])
    assert not explore.widgets_available()


@pytest.fixture
def no_front_end_capture(monkeypatch):
    """Fail if an explorer routes output through the front end (``with out:``), which hung
    nbclient / nbconvert --execute (issue 16); pretend to be in a live kernel; collect displays."""
    w = pytest.importorskip("ipywidgets")
    import IPython.display

    def no_capture(*_):
        raise AssertionError("an explorer used `with out:` / out.clear_output()")

    monkeypatch.setattr(w.Output, "__enter__", no_capture)
    monkeypatch.setattr(w.Output, "clear_output", no_capture)
    monkeypatch.setattr(explore, "widgets_available", lambda: True)
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **_: shown.extend(objs))
    return shown


def test_replace_output_sets_text_figures_and_tables():
    w = pytest.importorskip("ipywidgets")
    import matplotlib.pyplot as plt

    class Table:
        def _repr_html_(self):
            return "<table></table>"

        def __str__(self):
            return "a table"

    out = w.Output()
    fig, _ = plt.subplots()
    explore.replace_output(out, "hello", fig, Table())
    kinds = [(o["output_type"], sorted(o.get("data", {}))) for o in out.outputs]
    assert kinds[0] == ("stream", []) and out.outputs[0]["text"] == "hello\n"
    assert kinds[1] == ("display_data", ["image/png", "text/plain"])
    assert out.outputs[2]["data"]["text/plain"] == "a table"
    assert not plt.fignum_exists(fig.number)  # a pyplot figure is closed once rendered
    explore.replace_output(out, "again")
    assert len(out.outputs) == 1
    static = explore._static_bundle(out.outputs)
    assert static == {"text/plain": "again"}


def test_freezing_explorer_widget_redraws(model, no_front_end_capture):
    explore.freezing_explorer(model, rows=5)
    (box,) = no_front_end_capture
    slider, out = box.children
    assert out.outputs[0]["text"].startswith(f"Unfreeze the last {slider.value} ")
    slider.value = 3
    assert out.outputs[0]["text"].startswith("Unfreeze the last 3 ") and len(out.outputs) == 2
    assert "Unfreeze the last 3 " in box._repr_mimebundle_()["text/plain"]


def test_prediction_browser_widget_redraws(no_front_end_capture):
    y = np.array([0, 1, 1])
    probs = np.array([[.9, .1], [.8, .2], [.3, .7]])
    explore.prediction_browser(np.zeros((3, 8, 8, 3), np.uint8), y, probs, ["cat", "dog"])
    (box,) = no_front_end_capture
    (pick, kind), out = box.children[0].children, box.children[1]
    assert pick.value == 1 and "image/png" in out.outputs[0]["data"]  # the worst class, its misses
    first = out.outputs[0]["data"]["image/png"]
    kind.value = "hits"
    assert out.outputs[0]["data"]["image/png"] != first
    assert "image/png" in box._repr_mimebundle_()
