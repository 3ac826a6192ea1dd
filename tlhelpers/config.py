"""Profiles: how big a run is (backbone, image size, data sizes, epochs).

Every notebook calls :func:`get_profile` once. The profile is chosen by the
``TL_PROFILE`` environment variable, else detected (a GPU means ``full``, otherwise
``cpu``). Individual settings can be overridden with ``TL_BACKBONE``,
``TL_IMAGE_SIZE``, ``TL_TRAIN_PER_CLASS``, ``TL_TEST_PER_CLASS``, ``TL_EPOCHS``, ``TL_HEAD_EPOCHS`` and
``TL_BATCH_SIZE``; ``TL_WEIGHTS=random`` gives backbones random weights (timing runs).

>>> from tlhelpers.config import get_profile
>>> p = get_profile("ci")
>>> p.backbone, p.image_size
('mobilenet_025', 96)
"""

from __future__ import annotations

import dataclasses
import os
from typing import Mapping

PROFILE_NAMES = ("full", "cpu", "ci")


@dataclasses.dataclass(frozen=True)
class Profile:
    """The size of a run. All notebooks read these fields and nothing else.

    Example: ``Profile("ci", "mobilenet_025", 96, 100, 100, 2).train_size == 1000``.
    """

    name: str
    backbone: str
    image_size: int
    train_per_class: int
    test_per_class: int
    epochs: int
    batch_size: int = 32
    #: epochs of the cheap runs: a head on cached features, the 32-px scratch CNN. ``epochs``
    #: is for runs that push every image through the backbone (fine-tuning, augmentation).
    head_epochs: int = 5
    overrides: tuple[str, ...] = ()
    #: what ``keras.applications`` gets as ``weights=``: "imagenet", or None in timing runs
    #: (``TL_WEIGHTS=random``), whose accuracies mean nothing.
    weights: str | None = "imagenet"

    @property
    def train_size(self) -> int:
        """Number of training images (10 CIFAR-10 classes)."""
        return 10 * self.train_per_class

    @property
    def test_size(self) -> int:
        """Number of test images (10 CIFAR-10 classes)."""
        return 10 * self.test_per_class

    def describe(self) -> str:
        """One readable line per setting, for the first cell of a notebook."""
        extra = f" (overridden: {', '.join(self.overrides)})" if self.overrides else ""
        return (
            f"profile        : {self.name}{extra}\n"
            f"backbone       : {self.backbone} at {self.image_size}x{self.image_size} px\n"
            f"data (CIFAR-10): {self.train_size} train ({self.train_per_class}/class), "
            f"{self.test_size} test ({self.test_per_class}/class)\n"
            f"training       : {self.head_epochs} epochs for heads on cached features and the scratch CNN, "
            f"{self.epochs} for end-to-end runs, batch size {self.batch_size}"
            + ("" if self.weights else "\nweights        : random (TL_WEIGHTS=random, for timing only)")
        )


PROFILES: dict[str, Profile] = {
    # The scale of the original lesson (needs a GPU to be pleasant).
    "full": Profile("full", "mobilenet_v2", 224, 500, 100, 5),
    # Same data and backbone, at a smaller input size; features are cached.
    "cpu": Profile("cpu", "mobilenet_v2", 128, 500, 100, 5),
    # Offline tests: the real weights that ../shared provides, a few hundred images.
    # 100 images per class and 10 cheap epochs: enough for every comparison of the course to
    # show its effect beyond noise (measured over 3 seeds; see docs/profiles.md), in budget.
    "ci": Profile("ci", "mobilenet_025", 96, 100, 100, 2, head_epochs=10),
}

_INT_OVERRIDES = {
    "TL_IMAGE_SIZE": ("image_size", 32, 1024),
    "TL_TRAIN_PER_CLASS": ("train_per_class", 1, 5000),
    "TL_TEST_PER_CLASS": ("test_per_class", 1, 1000),
    "TL_EPOCHS": ("epochs", 1, 1000),
    "TL_HEAD_EPOCHS": ("head_epochs", 1, 1000),
    "TL_BATCH_SIZE": ("batch_size", 1, 4096),
}


def _gpu_available() -> bool:
    from tlhelpers.quiet import import_tensorflow

    return bool(import_tensorflow().config.list_physical_devices("GPU"))


def _parse_int(var: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(
            f"{var}={text!r} is not a whole number. Set it to an integer between "
            f"{low} and {high}, e.g. {var}={low if low > 1 else 2}, or unset it."
        ) from None
    if not low <= value <= high:
        raise ValueError(f"{var}={value} is out of range: use a value between {low} and {high}.")
    return value


def get_profile(name: str | None = None, env: Mapping[str, str] | None = None) -> Profile:
    """Return the active profile, with environment overrides applied.

    ``name`` wins over ``TL_PROFILE``; with neither, ``full`` is chosen when
    TensorFlow sees a GPU and ``cpu`` otherwise.

    >>> get_profile("ci", env={"TL_EPOCHS": "1"}).epochs
    1
    """
    env = os.environ if env is None else env
    chosen = name or env.get("TL_PROFILE", "").strip().lower()
    if not chosen:
        chosen = "full" if _gpu_available() else "cpu"
    if chosen not in PROFILES:
        raise ValueError(
            f"Unknown profile {chosen!r}. Choose one of {', '.join(PROFILES)} "
            "(set TL_PROFILE, or pass the name)."
        )
    changes: dict[str, object] = {}
    for var, (field, low, high) in _INT_OVERRIDES.items():
        if env.get(var, "").strip():
            changes[field] = _parse_int(var, env[var], low, high)
    backbone = env.get("TL_BACKBONE", "").strip()
    if backbone:
        from tlhelpers.backbones import get_spec

        get_spec(backbone)  # raises a clear error that lists the known names
        changes["backbone"] = backbone
    weights = env.get("TL_WEIGHTS", "").strip().lower()
    if weights not in ("", "imagenet", "random"):
        raise ValueError(f"TL_WEIGHTS={weights!r}: use 'imagenet' (the default) or 'random'.")
    profile = PROFILES[chosen]
    if weights == "random":
        profile = dataclasses.replace(profile, weights=None)
    if changes:
        profile = dataclasses.replace(profile, overrides=tuple(sorted(changes)), **changes)
        if "image_size" in changes:
            from tlhelpers.backbones import check_image_size

            check_image_size(profile.backbone, profile.image_size)
    return profile
