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

    from tlhelpers.datasets.data import CIFAR10_CLASSES

    for split, n in (("train", 4), ("test", 2)):
        for i, name in enumerate(CIFAR10_CLASSES):
            folder = tmp_path / split / name
            folder.mkdir(parents=True)
            for j in range(n):
                Image.fromarray(np.full((32, 32, 3), 20 * i, np.uint8)).save(folder / f"{j:04d}.png")
    return tmp_path


@pytest.fixture(autouse=True)
def _chance_judged_only_where_tested(request, monkeypatch):
    """The tiny models of the check tests (random convolutions at 32 px, 18 training images)
    land near chance on 6 validation images, so the checks' test against guessing would mask
    what each test is about. It runs for real in tests marked ``chance`` (and in the solutions
    notebook, on real data); elsewhere it only records that it was asked."""
    if request.node.get_closest_marker("chance") or "check" not in request.node.module.__name__:
        return
    from tlhelpers.exercises import check_evidence

    monkeypatch.setattr(check_evidence, "check_chance", lambda fb, *a, **k: True)
