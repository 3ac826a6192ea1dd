"""Learners' folders and the files the course caches for them: content fingerprints,
validated converted copies, two processes at once, names that are not UTF-8, and the
small helpers of tlhelpers.storage.cachefile."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tlhelpers.storage import cachefile, imagefiles
from tlhelpers.transfer import folders

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path / "cache"))


def _tree(root: Path, values: dict[str, int], n: int = 3, ext: str = ".png") -> Path:
    for name, value in values.items():
        (root / name).mkdir(parents=True)
        for j in range(n):
            Image.fromarray(np.full((12, 12, 3), value, np.uint8)).save(root / name / f"{j}{ext}")
    return root


def test_write_atomic_replaces_and_cleans_up(tmp_path):
    target = tmp_path / "sub" / "x.bin"
    cachefile.write_atomic(target, lambda tmp: tmp.write_bytes(b"old"))
    cachefile.write_atomic(target, lambda tmp: tmp.write_bytes(b"new"))
    assert target.read_bytes() == b"new"

    def fails(tmp):
        tmp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        cachefile.write_atomic(target, fails)
    assert target.read_bytes() == b"new" and sorted(p.name for p in target.parent.iterdir()) == ["x.bin"]
    assert cachefile.temp_name(target) != cachefile.temp_name(target)   # unique per call


def test_tag_follows_contents_not_only_names(tmp_path):
    """Swapping two class folders keeps every path and size: only the bytes differ."""
    root = _tree(tmp_path / "d", {"a": 10, "b": 200})
    first = folders.load_image_folder(root, 0.0, verbose=False)
    tag = first.tag()   # read now: a tag describes the files as they are when it is asked for
    assert folders.load_image_folder(root, 0.0, verbose=False).tag() == tag
    (root / "a").rename(root / "tmp")
    (root / "b").rename(root / "a")
    (root / "tmp").rename(root / "b")
    swapped = folders.load_image_folder(root, 0.0, verbose=False)
    assert sorted(swapped.train_paths) == sorted(first.train_paths)
    assert swapped.tag() != tag
    tag = swapped.tag()
    # one photo replaced by another of the same size, with its modification time restored
    photo = root / "a" / "0.png"
    stat = photo.stat()
    Image.fromarray(np.full((12, 12, 3), 11, np.uint8)).save(photo)
    os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert folders.load_image_folder(root, 0.0, verbose=False).tag() != tag


def test_damaged_converted_copy_is_converted_again(tmp_path, capsys):
    root = _tree(tmp_path / "d", {"a": 10, "b": 200}, ext=".tif")
    data = folders.load_image_folder(root, 0.0, verbose=False)
    converted = sorted(data.scan.originals)
    good = Path(converted[0]).read_bytes()
    Path(converted[0]).write_bytes(good[: len(good) // 2])   # e.g. a full disk, an old crash
    Path(converted[1]).write_bytes(b"")
    again = folders.load_image_folder(root, 0.0, verbose=False)
    assert "is damaged; converting it again" in capsys.readouterr().out
    assert Path(converted[0]).read_bytes() == good and imagefiles.valid_png(converted[1])
    x, y = next(iter(again.dataset("train", 8, batch_size=64)))   # streams, no DecodeImage error
    assert len(y) == 6


_CONVERT = textwrap.dedent("""
    import os, sys, time
    from tlhelpers.transfer import folders
    root, cache, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
    time.sleep(max(0.0, start - time.time()))
    for round in range(3):   # a fresh cache each round: both processes convert every file
        os.environ["TL_CACHE_DIR"] = f"{cache}/{round}"
        data = folders.load_image_folder(root, 0.0, verbose=False)
        assert len(data.scan.originals) == 60, len(data.scan.originals)
    print("ok")
""")


def test_two_processes_converting_one_folder_never_crash(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (tmp_path / "d" / name).mkdir(parents=True)
        for j in range(30):   # TIFFs: every file is converted
            noise = rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)
            Image.fromarray(noise).save(tmp_path / "d" / name / f"{j}.tif")
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = str(time.time() + 3.0)   # both start converting at the same moment
    procs = [subprocess.Popen([sys.executable, "-c", _CONVERT, str(tmp_path / "d"),
                               str(tmp_path / "shared-cache"), start], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and "ok" in out, err[-2000:]
    left = list((tmp_path / "shared-cache").rglob("*.tmp*"))
    assert not left, left   # no temporary file left behind
    assert all(imagefiles.valid_png(p) for p in (tmp_path / "shared-cache").rglob("*.png"))


def _non_utf8(folder: Path, stem: bytes) -> Path:
    """A file name with a Latin-1 byte (as in zip archives made on Windows), or skip."""
    name = os.fsencode(folder) + b"/" + stem + b".png"
    try:
        Image.fromarray(np.full((12, 12, 3), 10, np.uint8)).save(os.fsdecode(name), format="PNG")
    except (OSError, UnicodeError):
        pytest.skip("this file system does not accept names that are not UTF-8")
    return Path(os.fsdecode(name))


def test_names_that_are_not_utf8_are_loaded_and_reported(tmp_path):
    root = _tree(tmp_path / "d", {"a": 10, "b": 200})
    odd = _non_utf8(root / "a", b"caf\xe9")
    (root / "b" / os.fsdecode(b"r\xe9sum\xe9.png")).write_bytes(b"not an image")
    data = folders.load_image_folder(root, 0.0, verbose=False)
    assert str(odd) in list(data.scan.originals.values())   # loaded (a copy, safe name)
    report = data.report()
    report.encode("utf-8")   # printable: no surrogates left
    assert "1 file name not UTF-8" in report
    assert "r\\xe9sum\\xe9.png [not an image" in report
    assert len(data.tag()) == 10
    x, y = next(iter(data.dataset("train", 8, batch_size=64)))
    assert len(y) == 7
    # a class folder whose own name is not UTF-8
    odd_class = Path(os.fsdecode(os.fsencode(root) + b"/\xe9t\xe9"))
    odd_class.mkdir()
    _non_utf8(odd_class, b"x")
    _non_utf8(odd_class, b"y")
    data = folders.load_image_folder(root, 0.0, verbose=False)
    assert data.class_names[-1] == "\\xe9t\\xe9" and "\\xe9t\\xe9" in data.summary()


def test_fingerprint_reads_samples_not_whole_files(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(1_000_000))
    before = cachefile.fingerprint_files([big])
    with open(big, "r+b") as handle:
        handle.seek(500_000)
        handle.write(b"x")   # inside the middle sample
    assert cachefile.fingerprint_files([big]) != before
    assert cachefile.fingerprint_files([tmp_path / "missing"]) != cachefile.fingerprint_files([])


# VmHWM (this process's own peak, reset by exec), not ru_maxrss, which Linux carries over from
# the parent across fork and exec (a large pytest process would be measured instead).
_PEAK = textwrap.dedent("""
    import sys
    from tlhelpers.transfer import folders
    data = folders.load_image_folder(sys.argv[1], 0.0, verbose=False)
    for x, y in data.dataset("train", 96, batch_size=8):
        assert x.shape[1:] == (96, 96, 3)
    status = open("/proc/self/status").read()
    print("peak_MB", int(status.split("VmHWM:")[1].split()[0]) // 1024)
""")


def _photos(root: Path, size: tuple[int, int]) -> Path:
    """Eight smooth photos (JPEG, 4 per class) of ``size`` pixels."""
    for c, name in enumerate(("a", "b")):
        (root / name).mkdir(parents=True)
        for j in range(4):
            small = np.random.default_rng(4 * c + j).integers(0, 255, (6, 8, 3), dtype=np.uint8)
            Image.fromarray(small).resize(size, Image.Resampling.BILINEAR).save(root / name / f"{j}.jpg")
    return root


def _peak_mb(folder: Path, cache: Path) -> int:
    env = {**os.environ, "TL_CACHE_DIR": str(cache),
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", _PEAK, str(folder)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split("peak_MB")[-1])


def test_large_photos_stay_near_small_image_memory(tmp_path):
    """Eight 48-megapixel photos at 96 px: decoded at reduced size once (JPEG draft), then
    streamed from 1024-px copies. Before: 2.2 GB peak against 0.8 GB for small photos."""
    large = _photos(tmp_path / "large", (8000, 6000))
    small = _photos(tmp_path / "small", (800, 600))
    with Image.open(large / "a" / "0.jpg") as img:
        assert img.size == (8000, 6000)
    base, peak = _peak_mb(small, tmp_path / "c1"), _peak_mb(large, tmp_path / "c2")
    assert peak < base + 200, (base, peak)
    data = folders.load_image_folder(large, 0.0, verbose=False)   # converted once, 1024 px
    assert "8 large photo, over 16 MP" in data.report()
    with Image.open(data.train_paths[0]) as img:
        assert max(img.size) == imagefiles.MAX_SIDE
