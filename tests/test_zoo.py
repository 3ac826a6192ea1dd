"""Tests for tlhelpers.analysis.zoo: the decision guide and the live model table."""

import json
from pathlib import Path

import pytest

from tlhelpers.analysis import zoo

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_what_is_transfer_learning.ipynb"


@pytest.mark.parametrize("n, band", [(1, "small"), (99, "small"), (100, "medium"),
                                     (999, "medium"), (1000, "large"), (50000, "large")])
def test_size_band_edges(n, band):
    assert zoo.size_band(n) == band


def test_recommend_strategy_corners():
    assert zoo.recommend_strategy(20, "high")[0] == zoo.FEATURE_EXTRACTION
    assert zoo.recommend_strategy(20, "low")[0] == zoo.FEATURE_EXTRACTION_EARLY
    assert zoo.recommend_strategy(500, "high")[0] == zoo.HYBRID
    assert zoo.recommend_strategy(5000, "high")[0] == zoo.FINE_TUNE_ALL
    assert zoo.recommend_strategy(5000, " LOW ")[0] == zoo.FINE_TUNE_OR_SCRATCH


def test_every_cell_has_a_reason():
    for n in (10, 300, 3000):
        for s in zoo.SIMILARITIES:
            strategy, reason = zoo.recommend_strategy(n, s)
            assert strategy and len(reason) > 20


@pytest.mark.parametrize("bad", [0, -5, 2.5, "100", True])
def test_bad_size_is_explained(bad):
    with pytest.raises(ValueError, match="n_per_class"):
        zoo.recommend_strategy(bad, "high")


def test_bad_similarity_is_explained():
    with pytest.raises(ValueError, match="high, medium, low"):
        zoo.recommend_strategy(100, "similar")


def test_guide_markdown_shape():
    lines = zoo.guide_markdown().splitlines()
    assert len(lines) == 2 + 3
    assert all(line.count("|") == 5 for line in lines)


def test_notebook_static_table_matches_the_function():
    if not NOTEBOOK.is_file():
        pytest.skip("notebook 01 not present")
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert zoo.guide_markdown() in text, "re-paste zoo.guide_markdown() into notebook 01"


def test_widget_updates_on_change():
    pytest.importorskip("ipywidgets")
    box = zoo.decision_widget()
    (size, sim), out = box.children[0].children, box.children[1]
    assert zoo.FEATURE_EXTRACTION in out.value or zoo.HYBRID in out.value
    size.value, sim.value = 10000, "low"
    assert zoo.FINE_TUNE_OR_SCRATCH in out.value


def test_describe_backbone_small():
    row = zoo.describe_backbone("mobilenet_025")
    assert row["parameters"] == 218544
    assert row["depth"] == 27          # conv1 + 13 depthwise + 13 pointwise
    assert row["native_size"] == 224 and row["feature_dim"] == 256
    assert row["input_range"] == "[-1, 1]"


def test_zoo_table_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path))
    first = zoo.zoo_table(["mobilenet_025"], verbose=False)
    assert list(first.index) == ["mobilenet_025"]
    assert len(list((tmp_path / "zoo").glob("*.csv"))) == 1
    second = zoo.zoo_table(["mobilenet_025"], verbose=False)
    assert int(second.loc["mobilenet_025", "parameters"]) == 218544
    assert "weights_here" in second.columns


def test_zoo_table_rejects_unknown():
    with pytest.raises(ValueError, match="Known backbones"):
        zoo.zoo_table(["alexnet"], use_cache=False)
