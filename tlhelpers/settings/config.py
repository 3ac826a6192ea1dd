"""Settings and profiles: the one module that reads the environment.

:func:`settings` reads every other ``TL_*`` variable (where assets and caches are, offline
or not, widgets, random weights, mirrors) and the platform variables the course needs
(``KERAS_HOME``, Colab's and TPUs'), checks them, and returns them as one object; every
other module asks it instead of reading ``os.environ``.

A profile says how big a run is (backbone, image size, data sizes, epochs).

Every notebook calls :func:`get_profile` once. The profile is chosen by the
``TL_PROFILE`` environment variable, else detected (a GPU means ``full``, otherwise
``cpu``). Individual settings can be overridden with ``TL_BACKBONE``,
``TL_IMAGE_SIZE``, ``TL_TRAIN_PER_CLASS``, ``TL_TEST_PER_CLASS``, ``TL_EPOCHS``, ``TL_HEAD_EPOCHS`` and
``TL_BATCH_SIZE``; ``TL_WEIGHTS=random`` gives backbones random weights (timing runs).

>>> from tlhelpers.settings.config import get_profile
>>> p = get_profile("ci")
>>> p.backbone, p.image_size
('mobilenet_025', 96)
"""

from __future__ import annotations

import dataclasses
import math
import os
import urllib.parse
from pathlib import Path
from typing import Mapping

from tlhelpers.settings import registry
from tlhelpers.settings.quiet import import_tensorflow

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
    "ci": Profile("ci", "mobilenet_025", 96, 100, 100, 15, head_epochs=10),
}

_INT_OVERRIDES = {
    "TL_IMAGE_SIZE": ("image_size", 32, 1024),
    "TL_TRAIN_PER_CLASS": ("train_per_class", 1, 5000),
    "TL_TEST_PER_CLASS": ("test_per_class", 1, 1000),
    "TL_EPOCHS": ("epochs", 1, 1000),
    "TL_HEAD_EPOCHS": ("head_epochs", 1, 1000),
    "TL_BATCH_SIZE": ("batch_size", 1, 4096),
}


_TRUE = ("1", "true", "yes", "on")
_FALSE = {"0", "false", "no", "off"}   # TL_WIDGETS: the same words as TL_OFFLINE, negated


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every environment setting the course reads besides the profile's, checked.

    Example: ``settings(env={"TL_OFFLINE": "1"}).offline`` is True.
    """

    #: TL_ASSETS_DIR: an offline bundle (``keras-cache/``, ``data/``), or None
    assets_dir: Path | None
    #: TL_OFFLINE=1: never use the network
    offline: bool
    #: KERAS_HOME, else ~/.keras: Keras's cache (``models/``, ``datasets/``)
    keras_home: Path
    #: TL_CACHE_DIR, else ~/.cache/tlhelpers: the course's features and trained heads
    cache_dir: Path
    #: TL_CIFAR10_DIR: a CIFAR-10 folder tree with train/ and test/, or None
    cifar10_dir: Path | None
    #: TL_FLOWERS_DIR: an unpacked flower_photos folder, or None
    flowers_dir: Path | None
    #: TL_FLOWERS_SHA256: the checksum Keras verifies the flowers archive with, or None
    flowers_sha256: str | None
    #: TL_MIRROR_URL: a server with a keras-cache layout to download from instead, or None
    mirror_url: str | None
    #: TL_MEMORY_AVAILABLE_MB: pretend this much memory is available (tests), or None
    memory_available_mb: float | None
    #: MEM_LIMIT: the container's memory limit in bytes, which Binder sets, or None
    mem_limit: int | None
    #: TL_WIDGETS=0 turns interactive widgets into static figures
    widgets: bool
    #: TL_WEIGHTS=random: backbones get random weights (timing runs only)
    random_weights: bool
    #: COLAB_RELEASE_TAG is set in Colab's runtimes
    colab: bool
    #: TPU_NAME / KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS / COLAB_TPU_ADDR / TPU_ACCELERATOR_TYPE
    tpu: dict[str, str]
    #: GITHUB_REPOSITORY ("owner/name"), set by GitHub Actions: the repository the launch links name
    github_repository: str | None = None


def _mem_limit(value: str) -> int | None:
    """Binder's ``MEM_LIMIT`` (bytes) as an int; None when unset or not a positive whole number
    (it only sharpens a warning, so a strange value is ignored rather than refused).

    >>> _mem_limit("2147483648"), _mem_limit(""), _mem_limit("2G")
    (2147483648, None, None)
    """
    try:
        limit = int(value.strip())
    except ValueError:
        return None
    return limit if limit > 0 else None


def _path(env: Mapping[str, str], var: str) -> Path | None:
    value = env.get(var, "").strip()
    return Path(value).expanduser() if value else None


def _keras_home(path: Path | None) -> Path | None:
    """``path`` unless it is a file. (A folder that cannot be created, e.g. under a file, is
    replaced by /tmp/.keras, as Keras does: see ``assets.keras_cache_dir``.)"""
    if path is not None and path.exists() and not path.is_dir():
        raise ValueError(f"KERAS_HOME={str(path)!r} is a file, not a folder. Point KERAS_HOME at "
                         "a folder (new or existing, e.g. ~/.keras) or unset it.")
    return path


def _mirror_url(url: str) -> str:
    """``url`` when it is empty or a full http://, https:// or file:// address."""
    parts = urllib.parse.urlsplit(url)
    if url and (parts.scheme.lower() not in ("http", "https", "file")
                or parts.scheme.lower() != "file" and not parts.netloc):
        raise ValueError(f"TL_MIRROR_URL={url!r} is not a full address: start it with http:// "
                         "(e.g. TL_MIRROR_URL=http://192.168.1.10:8000) or unset it.")
    return url


def settings(env: Mapping[str, str] | None = None) -> Settings:
    """The environment's settings, read now (so a change made in a notebook counts).

    >>> settings(env={"TL_WIDGETS": "0", "TL_CACHE_DIR": "/tmp/c"}).widgets
    False
    >>> settings(env={"TL_MEMORY_AVAILABLE_MB": "lots"})
    Traceback (most recent call last):
    ...
    ValueError: TL_MEMORY_AVAILABLE_MB='lots' is not a number of megabytes (e.g. 1500): set a positive, finite number or unset it.
    """
    env = os.environ if env is None else env
    weights = env.get("TL_WEIGHTS", "").strip().lower()
    if weights not in ("", "imagenet", "random"):
        raise ValueError(f"TL_WEIGHTS={weights!r}: use 'imagenet' (the default) or 'random'.")
    memory = env.get("TL_MEMORY_AVAILABLE_MB", "").strip()
    try:
        memory_mb = float(memory) if memory else None
    except ValueError:
        memory_mb = math.nan
    if memory_mb is not None and not (0 < memory_mb < math.inf):
        raise ValueError(f"TL_MEMORY_AVAILABLE_MB={memory!r} is not a number of megabytes "
                         "(e.g. 1500): set a positive, finite number or unset it.")
    home = Path.home()
    return Settings(
        assets_dir=_path(env, "TL_ASSETS_DIR"),
        offline=env.get("TL_OFFLINE", "").strip().lower() in _TRUE,
        keras_home=_keras_home(_path(env, "KERAS_HOME")) or home / ".keras",
        cache_dir=_path(env, "TL_CACHE_DIR") or home / ".cache" / "tlhelpers",
        cifar10_dir=_path(env, "TL_CIFAR10_DIR"),
        flowers_dir=_path(env, "TL_FLOWERS_DIR"),
        flowers_sha256=env.get("TL_FLOWERS_SHA256", "").strip() or None,
        mirror_url=_mirror_url(env.get("TL_MIRROR_URL", "").strip().rstrip("/")) or None,
        memory_available_mb=memory_mb,
        mem_limit=_mem_limit(env.get("MEM_LIMIT", "")),
        widgets=env.get("TL_WIDGETS", "").strip().lower() not in _FALSE,
        random_weights=weights == "random",
        colab="COLAB_RELEASE_TAG" in env,
        tpu={k: env[k] for k in ("TPU_NAME", "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS", "COLAB_TPU_ADDR",
                                 "TPU_ACCELERATOR_TYPE") if env.get(k)},
        github_repository=env.get("GITHUB_REPOSITORY", "").strip() or None,
    )


def _gpu_available() -> bool:
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
        registry.get_entry(backbone)  # raises a clear error that lists the known names
        changes["backbone"] = backbone
    profile = PROFILES[chosen]
    if settings(env).random_weights:
        profile = dataclasses.replace(profile, weights=None)
    if changes:
        really = tuple(sorted(k for k, v in changes.items() if getattr(profile, k) != v))   # not the same value
        profile = dataclasses.replace(profile, overrides=really, **changes)
        if "image_size" in changes:
            registry.check_image_size(profile.backbone, profile.image_size)
    return profile
