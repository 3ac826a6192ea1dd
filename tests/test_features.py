import doctest
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tlhelpers.storage import assets
from tlhelpers.transfer import backbones, features, pipeline


def test_doctests():
    result = doctest.testmod(features)
    assert result.attempted > 0 and result.failed == 0


@pytest.fixture
def small(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path))
    base = backbones.load_backbone("mobilenet_025", 32, weights=None)
    x = np.random.default_rng(0).integers(0, 255, (12, 32, 32, 3), dtype=np.uint8)
    y = np.arange(12) % 3
    return base, x, y


def test_a_damaged_cache_file_is_recomputed_not_trusted(small, capsys):
    base, x, y = small
    ds = pipeline.make_dataset(x, y, 32, "mobilenet_025", 4)
    good, _ = features.extract_features(base, ds, "k", verbose=False)
    path = features.cache_file("k", ds.tl_fingerprint)
    assert not list(path.parent.glob(".*.tmp"))                     # written atomically
    for damage in (b"", path.read_bytes()[:100], b"PK\x03\x04 not a zip"):
        path.write_bytes(damage)
        again, _ = features.extract_features(base, ds, "k", verbose=False)
        assert np.allclose(again, good) and "could not be read" in capsys.readouterr().out
    np.savez(path, features=good, labels=(y + 1) % 3)                # another data set's labels
    again, labels = features.extract_features(base, ds, "k", verbose=False)
    assert np.array_equal(labels, y) and "labels differ" in capsys.readouterr().out
    np.savez(path, features=good[:5], labels=y)                      # a wrong shape
    features.extract_features(base, ds, "k", verbose=False)
    assert "do not fit together" in capsys.readouterr().out


def test_one_traced_function_per_base(small):
    base, x, y = small
    assert features._pooled_features(base) is features._pooled_features(base)


def test_two_kernels_sharing_the_cache_never_crash(tmp_path):
    # Two processes write the same key while a third keeps reading it.
    script = textwrap.dedent(f"""
        import os, sys, numpy as np
        os.environ["TL_CACHE_DIR"] = {str(tmp_path)!r}
        from tlhelpers.transfer import features
        path = features.assets.course_cache_dir("features") / "shared.npz"
        y = np.arange(2000) % 10
        for i in range(30):
            if sys.argv[1] == "write":
                features._write_features(path, np.full((2000, 64), float(i)), y)
            elif path.is_file():
                got = features._read_features(path, y)
                assert got is not None and got[0].shape == (2000, 64), "half-written file seen"
        print("ok")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, role], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for role in ("write", "write", "read")]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and "ok" in out, err[-2000:]


def test_a_bit_flip_is_caught_by_the_zip_checksum(small, capsys):
    base, x, y = small
    ds = pipeline.make_dataset(x, y, 32, "mobilenet_025", 4)
    good, _ = features.extract_features(base, ds, "flip", verbose=False)
    path = features.cache_file("flip", ds.tl_fingerprint)
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF                                      # one flipped byte in the arrays
    path.write_bytes(bytes(data))
    again, _ = features.extract_features(base, ds, "flip", verbose=False)
    assert np.allclose(again, good) and "Notice" in capsys.readouterr().out


def test_a_writer_killed_mid_save_leaves_no_half_file(tmp_path):
    import os
    import signal
    import time

    script = textwrap.dedent(f"""
        import os, numpy as np
        os.environ["TL_CACHE_DIR"] = {str(tmp_path)!r}
        from tlhelpers.transfer import features
        path = features.assets.course_cache_dir("features") / "killed.npz"
        print("ready", flush=True)
        features._write_features(path, np.ones((4000, 4000)), np.zeros(4000, dtype=int))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    folder, deadline = tmp_path / "features", time.monotonic() + 60
    while not list(folder.glob(".killed.npz.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.002)                             # wait until the 128 MB write has begun
    assert list(folder.glob(".killed.npz.*.tmp")), "the writer never started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    final = tmp_path / "features" / "killed.npz"
    # either nothing under the final name, or a complete file: never half of one
    assert not final.exists() or features._read_features(final, None) is not None
