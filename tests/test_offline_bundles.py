"""Data sets from a prefetched bundle (``fetch --to DIR``), with no network: notebook 07's
flowers archive and the CIFAR-10 archive, where Keras itself looks for them.

The flowers archive here is a tiny one built by the test (5 classes, 2 images each) with
the real archive's layout; the real 218 MB file cannot be downloaded offline.
"""

import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tlhelpers.storage import assets
from tlhelpers.datasets import data, fetch, flowers

CIFAR_ARCHIVE = "cifar-10-batches-py-target_archive"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A fresh, empty Keras cache; no bundle, no flowers folder, offline."""
    import keras.src.backend.config as keras_config

    # Keras reads KERAS_HOME once, at import: point both it and its copy at a fresh folder.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path / "keras"))
    (tmp_path / "keras").mkdir()   # as Keras does at import (else get_file uses /tmp/.keras)
    for var in ("TL_ASSETS_DIR", "TL_FLOWERS_DIR", "TL_CIFAR10_DIR", "TL_FLOWERS_SHA256"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TL_OFFLINE", "1")
    monkeypatch.setattr(flowers, "FLOWERS_IMAGES", 2 * len(flowers.FLOWERS_CLASSES))
    return tmp_path


@pytest.fixture
def flowers_tgz(tmp_path) -> Path:
    """A small .tgz laid out like flower_photos.tgz: flower_photos/<class>/*.jpg."""
    src = tmp_path / "src" / "flower_photos"
    for name in flowers.FLOWERS_CLASSES:
        (src / name).mkdir(parents=True)
        for j in range(2):
            Image.fromarray(np.full((8, 8, 3), 40 * j, np.uint8)).save(src / name / f"{j}.jpg")
    archive = tmp_path / "flower_photos.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname="flower_photos")
    return archive


def _bundle_with(tmp_path: Path, relpath: str, source: Path | bytes) -> Path:
    bundle = tmp_path / "bundle"
    target = bundle / "keras-cache" / relpath
    target.parent.mkdir(parents=True)
    target.write_bytes(source.read_bytes() if isinstance(source, Path) else source)
    return bundle


def test_fetch_puts_flowers_where_keras_and_folders_look():
    relpaths = {a.relpath for a in fetch.profile_assets("cpu")}
    assert f"datasets/{flowers.FLOWERS_ARCHIVE}" in relpaths
    assert f"datasets/{CIFAR_ARCHIVE}" in relpaths
    assert fetch.FLOWERS[0] == flowers.FLOWERS_URL
    assert not any("flower" in r for r in {a.relpath for a in fetch.profile_assets("ci")})


def test_keras_download_lands_at_the_fetch_path(env, flowers_tgz, monkeypatch):
    """Keras's own get_file (online, here from a file:// URL) uses the path fetch writes."""
    monkeypatch.delenv("TL_OFFLINE")
    monkeypatch.setattr(flowers, "FLOWERS_URL", flowers_tgz.as_uri())
    root = flowers.flowers_folder()
    assert (assets.keras_cache_dir() / fetch.FLOWERS[1]).read_bytes() == flowers_tgz.read_bytes()
    assert sorted(p.name for p in root.iterdir()) == sorted(flowers.FLOWERS_CLASSES)


def test_flowers_from_a_bundle_archive_offline(env, flowers_tgz, monkeypatch):
    bundle = _bundle_with(env, fetch.FLOWERS[1], flowers_tgz)
    monkeypatch.setenv("TL_ASSETS_DIR", str(bundle))
    root = flowers.flowers_folder()
    assert flowers._count_images(root) == 10
    assert (assets.keras_cache_dir() / "datasets" / flowers.FLOWERS_ARCHIVE).is_file()
    assert flowers.flowers_folder() == root  # second call: the extracted copy, at once
    assert str(root).startswith(str(env))     # inside this test's own Keras cache


def test_flowers_after_fetch_from_offline(env, flowers_tgz):
    bundle = _bundle_with(env, fetch.FLOWERS[1], flowers_tgz)
    fetch.install_bundle(bundle, assets.keras_cache_dir())
    assert flowers._count_images(flowers.flowers_folder()) == 10


def test_flowers_missing_offline_names_the_prefetch_command(env):
    with pytest.raises(assets.AssetNotAvailableError, match="tlhelpers fetch --profile cpu"):
        flowers.flowers_folder()


def test_cifar_archive_is_taken_from_the_bundle(env, monkeypatch):
    """No folder tree in the bundle: its Keras archive is copied into the Keras cache, then
    keras.datasets.cifar10 reads it (replaced here: the real archive is 163 MB)."""
    bundle = _bundle_with(env, f"datasets/{CIFAR_ARCHIVE}", b"\x1f\x8b stand-in")
    monkeypatch.setenv("TL_ASSETS_DIR", str(bundle))
    import keras

    def fake_load():
        assert (assets.keras_cache_dir() / "datasets" / CIFAR_ARCHIVE).is_file()
        y = np.repeat(np.arange(10), 3).reshape(-1, 1)
        return (np.zeros((30, 32, 32, 3), np.uint8), y), (np.zeros((30, 32, 32, 3), np.uint8), y)

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", fake_load)
    got = data.load_cifar10(2, 1)
    assert got.x_train.shape == (20, 32, 32, 3) and got.source == "keras.datasets.cifar10"


def test_cifar_missing_offline_names_the_prefetch_command(env):
    with pytest.raises(assets.AssetNotAvailableError, match="tlhelpers fetch --profile cpu"):
        data.load_cifar10(2, 1)


def test_notebook_07_without_its_data_is_explained(env):
    """Notebook 07's CI branch: no CIFAR-10 folder is one clear error, not a TypeError
    from ``None / "train"``."""
    with pytest.raises(assets.AssetNotAvailableError, match="TL_ASSETS_DIR is not set.*MY_FOLDER"):
        data.require_cifar10_folder() / "train"
