"""Shared fixtures. Tests that need the real offline assets (../shared in CI) skip
with a reason when TL_ASSETS_DIR is not set."""

import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")


@pytest.fixture
def shared_assets() -> Path:
    """The offline bundle (real CIFAR-10 images and MobileNet 0.25 weights)."""
    value = os.environ.get("TL_ASSETS_DIR", "")
    path = Path(value) if value else None
    if path is None or not (path / "keras-cache" / "models").is_dir():
        pytest.skip("needs the offline assets: set TL_ASSETS_DIR to ../shared (CI does)")
    return path


@pytest.fixture
def class_tree(tmp_path) -> Path:
    """A tiny CIFAR-like folder tree: class i's images all have pixel value 20 * i."""
    from PIL import Image

    from tlhelpers.data import CIFAR10_CLASSES

    for split, n in (("train", 4), ("test", 2)):
        for i, name in enumerate(CIFAR10_CLASSES):
            folder = tmp_path / split / name
            folder.mkdir(parents=True)
            for j in range(n):
                Image.fromarray(np.full((32, 32, 3), 20 * i, np.uint8)).save(folder / f"{j:04d}.png")
    return tmp_path
