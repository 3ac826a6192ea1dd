import numpy as np
import pytest

from tlhelpers.storage import assets
from tlhelpers.datasets import data


def test_folder_tree_gives_balanced_uint8_with_correct_labels(class_tree, monkeypatch):
    monkeypatch.setenv("TL_CIFAR10_DIR", str(class_tree))
    d = data.load_cifar10(train_per_class=3, test_per_class=2)
    assert d.x_train.shape == (30, 32, 32, 3) and d.x_train.dtype == np.uint8
    assert d.y_train.dtype == np.int64 and d.x_test.shape == (20, 32, 32, 3)
    assert np.bincount(d.y_train).tolist() == [3] * 10
    # every image carries its folder's label (class i was painted 20 * i)
    assert np.array_equal(d.x_train[:, 0, 0, 0] // 20, d.y_train)
    assert np.array_equal(d.x_test[:, 0, 0, 0] // 20, d.y_test)
    assert d.class_names == data.CIFAR10_CLASSES


def test_keras_download_path_gives_the_same_format(monkeypatch):
    rng = np.random.default_rng(0)
    fake = ((rng.integers(0, 255, (50, 32, 32, 3), dtype=np.uint8), np.repeat(np.arange(10), 5)[:, None].astype(np.uint8)),
            (rng.integers(0, 255, (20, 32, 32, 3), dtype=np.uint8), np.repeat(np.arange(10), 2)[:, None].astype(np.uint8)))
    import keras

    monkeypatch.delenv("TL_CIFAR10_DIR", raising=False)
    monkeypatch.delenv("TL_ASSETS_DIR", raising=False)
    monkeypatch.delenv("TL_OFFLINE", raising=False)
    monkeypatch.setattr(keras.datasets.cifar10, "load_data", lambda: fake)
    d = data.load_cifar10(2, 1)
    assert d.x_train.shape == (20, 32, 32, 3) and d.x_train.dtype == np.uint8
    assert d.y_train.dtype == np.int64 and d.y_train.ndim == 1
    assert np.bincount(d.y_train).tolist() == [2] * 10 and d.source == "keras.datasets.cifar10"


def test_offline_without_data_is_explained(monkeypatch, tmp_path):
    monkeypatch.delenv("TL_CIFAR10_DIR", raising=False)
    monkeypatch.delenv("TL_ASSETS_DIR", raising=False)
    monkeypatch.setenv("TL_OFFLINE", "1")
    monkeypatch.setattr(assets, "keras_cache_dir", lambda: tmp_path)
    with pytest.raises(assets.AssetNotAvailableError, match="python -m tlhelpers fetch"):
        data.load_cifar10(2, 1)


def test_asking_for_too_many_images_is_explained(class_tree, monkeypatch):
    monkeypatch.setenv("TL_CIFAR10_DIR", str(class_tree))
    with pytest.raises(ValueError, match="Ask for at most 4"):
        data.load_cifar10(train_per_class=5, test_per_class=1)


def test_real_offline_subset(shared_assets, monkeypatch):
    monkeypatch.delenv("TL_CIFAR10_DIR", raising=False)
    d = data.load_cifar10(20, 5, seed=3)
    assert d.x_train.shape == (200, 32, 32, 3) and np.bincount(d.y_train).tolist() == [20] * 10
    again = data.load_cifar10(20, 5, seed=3)
    assert np.array_equal(d.x_train, again.x_train)  # same seed, same subset


def test_train_val_split_is_stratified():
    y = np.repeat(np.arange(10), 10)
    x = np.arange(100)
    xt, yt, xv, yv = data.train_val_split(x, y, 0.2, seed=1)
    assert len(xv) == 20 and np.bincount(yv).tolist() == [2] * 10
    assert not set(xt) & set(xv)
