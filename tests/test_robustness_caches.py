"""Issue 28, caches: keys that see the data (class 1), concurrent saves (class 2), damaged
results (class 6), non-finite heads (class 8) and a full disk under save_head (class 11).

Races use real processes: small scripts that import only what they need (no TensorFlow),
started together, a few seconds in all.
"""

import errno
import json
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from tlhelpers.storage import assets
from tlhelpers.transfer import backbones, features, heads, models, pipeline
from tlhelpers.analysis import results
from tlhelpers.settings.config import get_profile


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def base():
    return backbones.load_backbone("mobilenet_025", 32, weights=None)


def _same(a, b) -> bool:
    """Equal up to float noise (a base with random weights gives features near 1e-17)."""
    return np.allclose(a, b, rtol=1e-3, atol=0)


def _images(seed: int, n: int = 8) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (n, 32, 32, 3), dtype=np.uint8)


# ---- class 1: cache keys see the data -------------------------------------------------------

def test_other_images_under_the_same_key_get_their_own_features(cache, base):
    y = np.arange(8) % 2
    first, _ = features.extract_features(base, pipeline.make_dataset(_images(1), y, 32, "mobilenet_025"),
                                         "same-key", verbose=False)
    other_ds = pipeline.make_dataset(_images(2), y, 32, "mobilenet_025")   # same labels, other images
    again, _ = features.extract_features(base, other_ds, "same-key", verbose=False)
    fresh, _ = features.extract_features(base, other_ds, verbose=False)   # no cache at all
    assert not _same(again, first) and _same(again, fresh)


def test_other_files_under_the_same_names_get_their_own_features(cache, base, tmp_path):
    from PIL import Image

    paths, y = [tmp_path / f"img{i}.png" for i in range(4)], [0, 1, 0, 1]

    def write_folder(seed):   # the same file names, other pixels (another TL_CIFAR10_DIR)
        for path, image in zip(paths, _images(seed, 4)):
            Image.fromarray(image).save(path)
        return pipeline.dataset_from_files(paths, y, 32, "mobilenet_025")

    first, _ = features.extract_features(base, write_folder(1), "files", verbose=False)
    second_ds = write_folder(2)
    again, _ = features.extract_features(base, second_ds, "files", verbose=False)
    assert not _same(again, first)
    assert _same(again, features.extract_features(base, second_ds, verbose=False)[0])


def test_a_learners_own_pipeline_is_fingerprinted_by_reading_it(cache, base):
    y = np.arange(8) % 2
    own = [pipeline.make_dataset(_images(s), y, 32, "mobilenet_025").map(lambda a, b: (a, b))
           for s in (1, 2)]                                   # .map drops tl_fingerprint
    first, _ = features.extract_features(base, own[0], "own", verbose=False)
    again, _ = features.extract_features(base, own[1], "own", verbose=False)
    assert not _same(again, first)
    reused, _ = features.extract_features(base, own[0], "own", verbose=False)
    assert np.array_equal(reused, first)                      # the same inputs do hit the cache


def test_notebooks_03_and_04_still_share_features():
    """Notebook 03 passes the preprocessing function, 04 the backbone's name: one fingerprint."""
    import keras

    x, y = _images(1), np.arange(8) % 2
    by_function = pipeline.make_dataset(x, y, 32, keras.applications.mobilenet.preprocess_input)
    by_name = pipeline.make_dataset(x, y, 32, "mobilenet_025", batch_size=4)
    vgg = pipeline.make_dataset(x, y, 32, keras.applications.vgg16.preprocess_input)
    assert by_function.tl_fingerprint == by_name.tl_fingerprint != vgg.tl_fingerprint
    assert pipeline.make_dataset(x, y, 48, "mobilenet_025").tl_fingerprint != by_name.tl_fingerprint
    assert pipeline.make_dataset(x, 1 - y, 32, "mobilenet_025").tl_fingerprint != by_name.tl_fingerprint


# ---- class 2: concurrent saves and cache probes ------------------------------------------------

def _run_together(script: str, n: int, tmp_path) -> list[str]:
    """Run ``script`` in ``n`` processes that start their loops at the same moment."""
    start = time.time() + 2.0   # past their imports
    procs = [subprocess.Popen([sys.executable, "-c", script, str(i), str(start)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**__import__("os").environ, "TL_CACHE_DIR": str(tmp_path / "cache")})
             for i in range(n)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
        outs.append(out)
    return outs


def test_two_processes_saving_50_results_each_lose_none(tmp_path, monkeypatch):
    script = textwrap.dedent("""
        import sys, time
        from tlhelpers.analysis import results
        from tlhelpers.settings.config import get_profile
        profile = get_profile("ci", env={})
        while time.time() < float(sys.argv[2]):
            time.sleep(0.001)
        for i in range(50):
            results.save_result("05", f"p{sys.argv[1]}-{i}", i / 100, profile=profile)
    """)
    _run_together(script, 2, tmp_path)
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path / "cache"))
    saved = results.load_results("05", profile=get_profile("ci", env={}))
    assert len(saved) == 100, f"{100 - len(saved)} of 100 results lost"


def test_concurrent_cache_dir_calls_never_fall_back(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        from tlhelpers.storage import assets
        while time.time() < float(sys.argv[2]):
            time.sleep(0.001)
        for i in range(500):
            assets.course_cache_dir()
    """)
    outs = _run_together(script, 3, tmp_path)
    notices = sum(out.count("cannot write") for out in outs)
    assert notices == 0, f"{notices} false 'cannot write' notices in 1,500 calls"
    assert not list((tmp_path / "cache").glob("*write-test*"))   # every probe removed


# ---- class 6: results.json damaged -----------------------------------------------------------

def test_an_invalid_utf8_byte_blocks_nothing(cache, capsys):
    ci = get_profile("ci", env={})
    results.save_result("03", "feature extraction", 0.55, profile=ci)
    results.save_result("05", "scratch", 0.31, profile=ci)
    path = results.results_path()
    path.write_bytes(path.read_bytes().replace(b"scratch", b"scr\xffch", 1))   # inside one entry
    assert results.load_results(profile=ci) == {"feature extraction": 0.55}     # no UnicodeDecodeError
    out = capsys.readouterr().out
    assert "unreadable" in out and "kept aside" in out
    assert len(list(cache.glob("results.json.damaged-*"))) == 1
    results.save_result("05", "scratch", 0.32, profile=ci)                      # later saves work
    assert results.load_results(profile=ci) == {"feature extraction": 0.55, "scratch": 0.32}


def test_a_flipped_digit_is_not_read_as_a_result(cache, capsys):
    ci = get_profile("ci", env={})
    results.save_result("03", "feature extraction", 0.55, profile=ci)
    path = results.results_path()
    path.write_text(path.read_text().replace("0.55", "0.45"))
    assert results.load_results(profile=ci).get("feature extraction") != 0.45
    assert "failed their checksum" in capsys.readouterr().out
    assert list(cache.glob("results.json.damaged-*"))


def test_a_file_from_before_checksums_is_accepted_once_and_rewritten(cache):
    ci = get_profile("ci", env={})
    cache.mkdir(parents=True)
    old = {results.run_tag(ci): {"05/scratch": dict(notebook="05", name="scratch", value=0.3,
                                                    metric="test accuracy", saved="2025-01-01T00:00:00")}}
    (cache / "results.json").write_text(json.dumps(old))
    assert results.load_results(profile=ci) == {"scratch": 0.3}
    entry = json.loads((cache / "results.json").read_text())[results.run_tag(ci)]["05/scratch"]
    assert "check" in entry


# ---- classes 8 and 11: saved heads ----------------------------------------------------------

def _nan_head():
    head = models.make_head(4, 2, units=(3,))
    weights = head.get_weights()
    weights[0][0, 0] = np.nan
    head.set_weights(weights)
    return head


def test_a_saved_head_with_nan_weights_is_refused_and_kept_aside(cache, capsys):
    head = models.make_head(4, 2, units=(3,))
    path = heads.save_head(head, "nan")
    weights = head.get_weights()
    weights[-1][0] = np.inf
    np.savez(path, *weights)                           # a file damaged on disk
    fresh = models.make_head(4, 2, units=(3,))
    assert not heads.load_head(fresh, "nan")
    assert all(np.isfinite(w).all() for w in fresh.get_weights())
    assert "NaN or infinite" in capsys.readouterr().out
    assert not path.exists() and list(path.parent.glob("nan.npz.damaged-*"))


def test_save_head_refuses_non_finite_weights(cache):
    with pytest.raises(ValueError, match="NaN or infinite.*not saved"):
        heads.save_head(_nan_head(), "diverged")
    assert not (assets.course_cache_dir("heads") / "diverged.npz").exists()


def test_save_head_on_a_full_disk_is_a_notice_not_a_crash(cache, monkeypatch, capsys):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    assert heads.save_head(models.make_head(4, 2, units=(3,)), "full") is None
    assert "No space left on device" in capsys.readouterr().out
    assert not list(assets.course_cache_dir("heads").iterdir())   # no temporary file left


def test_save_result_on_a_full_disk_is_a_notice_not_a_crash(cache, monkeypatch, capsys):
    """Class 11 for results: the write fails with ENOSPC; the notebook gets a notice, the value
    is not reported as saved, and later saves work once there is room again."""
    profile = get_profile("ci", env={})
    results.save_result("03", "kept", 0.5, profile=profile)
    real = results._write

    def full(everything):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(results, "_write", full)
    assert results.save_results("04", {"fine-tuning": 0.7}, profile=profile) == {}
    assert "No space left on device" in capsys.readouterr().out
    monkeypatch.setattr(results, "_write", real)
    results.save_result("04", "fine-tuning", 0.7, profile=profile)
    assert results.load_results(profile=profile) == {"kept": 0.5, "fine-tuning": 0.7}
