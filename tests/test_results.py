"""tlhelpers.analysis.results: the one store of numbers that notebooks pass to later notebooks."""

import json

import pytest

from tlhelpers.analysis import results
from tlhelpers.settings.config import get_profile


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_run_tag_depends_on_profile():
    ci, cpu = get_profile("ci", env={}), get_profile("cpu", env={})
    assert results.run_tag(ci) != results.run_tag(cpu)
    assert results.run_tag(ci).startswith("ci-mobilenet_025-96px")


def test_save_and_load_results_round_trip(cache):
    ci, cpu = get_profile("ci", env={}), get_profile("cpu", env={})
    assert results.load_results(profile=ci) == {}
    results.save_result("03", "feature extraction", 0.5, profile=ci)
    results.save_result("05", "scratch", 0.3, profile=ci)
    results.save_result("05", "scratch", 0.35, profile=ci)  # replaces
    results.save_result("03", "feature extraction", 0.7, profile=cpu)
    assert results.load_results(profile=ci) == {"feature extraction": 0.5, "scratch": 0.35}
    assert results.load_results("05", profile=ci) == {"scratch": 0.35}
    assert results.load_results(profile=cpu) == {"feature extraction": 0.7}
    saved = json.loads((cache / "results.json").read_text())
    assert saved[results.run_tag(ci)]["05/scratch"]["metric"] == "test accuracy"


def test_save_result_rejects_non_finite_and_survives_a_corrupt_file(cache, capsys):
    with pytest.raises(ValueError, match="finite"):
        results.save_result("03", "x", float("nan"), profile=get_profile("ci", env={}))
    (cache / "results.json").write_text("{not json")
    assert results.load_results(profile=get_profile("ci", env={})) == {}
    assert "unreadable" in capsys.readouterr().out


def test_find_result_prefers_exact_name():
    assert results.find_result({"scratch (32 px)": 0.4, "scratch": 0.5}, "scratch") == 0.5
    assert results.find_result({"CNN from scratch": 0.4}, "scratch") == 0.4
    assert results.find_result({}, "scratch") is None



def test_save_results_keeps_the_numbers_of_a_dict(cache):
    profile = get_profile("ci", env={})
    saved = results.save_results("05", {"scratch": 0.25, "feature_extraction": 0.5, "profile": "ci"},
                                 profile=profile)
    assert saved == {"scratch": 0.25, "feature extraction": 0.5}
    assert results.load_results("05", profile=profile) == saved


def test_a_profile_is_required():
    with pytest.raises(TypeError, match="course.start"):
        results.run_tag(None)
