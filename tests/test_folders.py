"""Tests of tlhelpers.transfer.folders: scanning, splitting, streaming and the flowers download guard."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tlhelpers.storage import assets
from tlhelpers.datasets import flowers
from tlhelpers.transfer import folders, shifts


def _tree(root: Path, counts: dict[str, int], ext: str = ".png") -> Path:
    for i, (name, n) in enumerate(counts.items()):
        (root / name).mkdir(parents=True)
        for j in range(n):
            Image.fromarray(np.full((20, 24, 3), 30 * i, np.uint8)).save(root / name / f"{j:03d}{ext}")
    return root


def test_scan_sorted_classes_and_case_insensitive_extensions(tmp_path):
    root = _tree(tmp_path / "d", {"zebra": 3, "apple": 2})
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(root / "apple" / "UPPER.JPG")
    (root / "apple" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    found = folders.scan_class_folders(root)
    assert list(found) == ["apple", "zebra"]
    assert len(found["apple"]) == 3


def test_load_splits_are_stratified_disjoint_and_seeded(tmp_path):
    root = _tree(tmp_path / "d", {"a": 10, "b": 10, "c": 10})
    data = folders.load_image_folder(root, validation_split=0.2, seed=1, test_split=0.2)
    assert data.class_names == ("a", "b", "c")
    assert np.bincount(data.val_labels).tolist() == [2, 2, 2]
    assert np.bincount(data.test_labels).tolist() == [2, 2, 2]
    assert len(data.train_paths) == 18
    assert not set(data.train_paths) & set(data.val_paths) | set(data.test_paths) & set(data.val_paths)
    again = folders.load_image_folder(root, validation_split=0.2, seed=1, test_split=0.2)
    assert again.val_paths == data.val_paths and again.tag() == data.tag()
    small = folders.load_image_folder(root, 0.5, max_per_class=4)
    assert len(small.train_paths) + len(small.val_paths) == 12


def test_labels_match_folders(tmp_path):
    root = _tree(tmp_path / "d", {"a": 4, "b": 4})
    data = folders.load_image_folder(root, 0.25)
    for path, label in zip(data.train_paths, data.train_labels):
        assert Path(path).parent.name == data.class_names[label]


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No folder"):
        folders.load_image_folder(tmp_path / "missing")
    one = _tree(tmp_path / "one", {"only": 3})
    with pytest.raises(ValueError, match="at least 2"):
        folders.load_image_folder(one)
    empty = _tree(tmp_path / "empty", {"a": 3, "b": 0})
    with pytest.raises(ValueError, match="has no images"):
        folders.load_image_folder(empty)
    with pytest.raises(ValueError, match="fraction"):
        folders.load_image_folder(one, validation_split=1.5)


def test_dataset_streams_preprocessed_batches(tmp_path):
    root = _tree(tmp_path / "d", {"a": 5, "b": 5})
    data = folders.load_image_folder(root, 0.2)
    x, y = next(iter(data.dataset("train", 32, "mobilenet_v2", batch_size=4)))
    assert x.shape == (4, 32, 32, 3) and float(x.numpy().max()) <= 1.0
    with pytest.raises(ValueError, match="empty"):
        data.dataset("test", 32)
    assert folders.read_images(data.val_paths, size=16).shape == (2, 16, 16, 3)
    assert "classes: 2" in data.summary()


def test_domain_shifts():
    img = np.zeros((1, 8, 8, 3), np.float32)
    img[..., 0] = 255.0
    gray = shifts.domain_shift("grayscale")(img).numpy()
    assert np.allclose(gray[..., 0], gray[..., 1])
    assert shifts.domain_shift("invert")(img).numpy()[0, 0, 0, 1] == 255.0
    assert shifts.domain_shift("low_resolution", "mobilenet_v2")(img).numpy().max() <= 1.0
    with pytest.raises(ValueError, match="grayscale"):
        shifts.domain_shift("sepia")


def test_flowers_offline_raises_with_prefetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.delenv("TL_FLOWERS_DIR", raising=False)
    monkeypatch.delenv("TL_ASSETS_DIR", raising=False)
    with pytest.raises(assets.AssetNotAvailableError, match="flowers_folder"):
        flowers.flowers_folder()


def test_flowers_found_when_prefetched(tmp_path, monkeypatch):
    root = _tree(tmp_path / "flower_photos" / "flower_photos", {c: 1 for c in flowers.FLOWERS_CLASSES})
    monkeypatch.setenv("TL_OFFLINE", "1")
    monkeypatch.setenv("TL_FLOWERS_DIR", str(tmp_path / "flower_photos"))
    assert flowers.flowers_folder() == root
