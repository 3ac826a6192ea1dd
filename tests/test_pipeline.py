import numpy as np
import pytest
from PIL import Image

from tlhelpers.transfer import pipeline


def _images(n=6, size=32):
    return np.random.default_rng(0).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


@pytest.mark.parametrize("backbone, low, high", [
    ("mobilenet_025", -1.0, 1.0), ("mobilenet_v2", -1.0, 1.0),
    ("vgg16", -124.0, 152.0), ("efficientnet_b0", 0.0, 255.0)])
def test_batches_are_resized_and_preprocessed_for_the_backbone(backbone, low, high):
    ds = pipeline.make_dataset(_images(), np.arange(6), 64, backbone, batch_size=4)
    x, y = next(iter(ds))
    assert tuple(x.shape) == (4, 64, 64, 3) and x.dtype.name == "float32"
    lo, hi = pipeline.value_range(ds)
    assert low - 1e-3 <= lo < hi <= high + 1e-3


def test_raw_pixels_when_no_preprocessing():
    lo, hi = pipeline.value_range(pipeline.make_dataset(_images(), np.arange(6), None))
    assert 0 <= lo and hi <= 255 and hi > 1


def test_shuffle_is_seeded_and_keeps_pairs():
    imgs = np.zeros((10, 8, 8, 3), np.uint8) + np.arange(10, dtype=np.uint8)[:, None, None, None]
    ds = pipeline.make_dataset(imgs, np.arange(10), None, shuffle=True, seed=1, batch_size=10)
    x, y = next(iter(ds))
    assert np.array_equal(np.asarray(x)[:, 0, 0, 0], np.asarray(y))


def test_bad_shapes_are_explained():
    with pytest.raises(ValueError, match="must match"):
        pipeline.make_dataset(_images(), np.arange(5), 32)
    with pytest.raises(ValueError, match="grayscale"):
        pipeline.make_dataset(np.zeros((2, 8, 8)), np.arange(2), 32)
    with pytest.raises(TypeError, match="backbone name"):
        pipeline.get_preprocess(3)


def test_dataset_from_files_streams_and_resizes(tmp_path):
    paths = []
    for i in range(3):
        path = tmp_path / f"img {i}.jpg"
        Image.fromarray(_images(1, 40 + i)[0]).save(path)
        paths.append(path)
    ds = pipeline.dataset_from_files(paths, [0, 1, 2], 48, "mobilenet_v2", batch_size=3)
    x, y = next(iter(ds))
    assert tuple(x.shape) == (3, 48, 48, 3) and list(np.asarray(y)) == [0, 1, 2]


def test_memory_estimate_of_the_original_lesson():
    assert pipeline.estimate_bytes(5000, 224) == 5000 * 224 * 224 * 3 * 4


def test_to_array_materialises_small_sets(monkeypatch):
    monkeypatch.delenv("TL_MEMORY_AVAILABLE_MB", raising=False)
    x, y = pipeline.to_array(_images(3), [0, 1, 2], 16, "mobilenet_v2", batch_size=2)
    assert x.shape == (3, 16, 16, 3) and x.dtype == np.float32 and list(y) == [0, 1, 2]
    assert -1.0 <= x.min() and x.max() <= 1.0


def test_to_array_refuses_beyond_half_the_available_memory(monkeypatch):
    monkeypatch.setenv("TL_MEMORY_AVAILABLE_MB", "2000")   # pretend a 2 GB machine
    assert pipeline.available_memory() == 2000 * 2**20
    # the original lesson's 5,000 images at 224 px: 2.8 GB of float32
    with pytest.raises(MemoryError, match=r"would take 2,871 MB.*make_dataset"):
        pipeline.to_array(np.zeros((5000, 1, 1, 3), np.uint8), np.zeros(5000), 224)
    monkeypatch.setenv("TL_MEMORY_AVAILABLE_MB", "lots")
    with pytest.raises(ValueError, match="not a number of megabytes"):
        pipeline.available_memory()


def test_available_memory_is_read_from_the_system(monkeypatch):
    monkeypatch.delenv("TL_MEMORY_AVAILABLE_MB", raising=False)
    assert 2**26 < pipeline.available_memory() < 2**50
