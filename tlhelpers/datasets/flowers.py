"""The TensorFlow flowers photos of notebook 07: found offline, or downloaded once.

>>> from tlhelpers.datasets.flowers import FLOWERS_CLASSES
>>> FLOWERS_CLASSES[0]
'daisy'
"""

from __future__ import annotations

from pathlib import Path

from tlhelpers.storage import assets
from tlhelpers.settings import config
from tlhelpers.storage.imagefiles import IMAGE_EXTENSIONS

FLOWERS_URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
FLOWERS_CLASSES = ("daisy", "dandelion", "roses", "sunflowers", "tulips")
#: The archive holds 3,670 photos; a complete extraction is checked against this count.
FLOWERS_IMAGES = 3670
#: SHA-256 of flower_photos.tgz, checked by Keras when set (``TL_FLOWERS_SHA256`` overrides).
FLOWERS_SHA256: str | None = None
FLOWERS_PREFETCH = "python -c \"from tlhelpers.datasets.flowers import flowers_folder; flowers_folder()\""
#: Where Keras keeps the downloaded archive (``get_file("flower_photos", extract=True)``), under
#: ``datasets/`` of its cache or of a bundle's ``keras-cache/``: ``tlhelpers fetch`` writes it there.
FLOWERS_ARCHIVE = "flower_photos_archive"


def _find_class_root(folder: Path) -> Path | None:
    """The folder (``folder`` or one level below) whose sub-folders are the flower classes."""
    for candidate in (folder, *sorted(p for p in folder.glob("*") if p.is_dir())):
        if all((candidate / c).is_dir() for c in FLOWERS_CLASSES):
            return candidate
    return None


def _flowers_candidates() -> list[Path]:
    places = []
    if config.settings().flowers_dir is not None:
        places.append(config.settings().flowers_dir)
    bundle = assets.assets_dir()
    if bundle is not None:
        places.append(bundle / "data" / "flower_photos")
        places.append(bundle / "keras-cache" / "datasets" / "flower_photos")
    places.append(assets.keras_cache_dir() / "datasets" / "flower_photos")
    return places


def _flowers_archive() -> Path | None:
    """The downloaded archive in the Keras cache (copied there from the bundle if need be)."""
    return assets.cached_file(f"datasets/{FLOWERS_ARCHIVE}")


def _count_images(root: Path) -> int:
    return sum(1 for c in FLOWERS_CLASSES for f in (root / c).iterdir()
               if f.suffix.lower() in IMAGE_EXTENSIONS)


def flowers_folder() -> Path:
    """The TensorFlow flowers photos (5 classes, 3,670 images), downloading them once (218 MB).

    Looks in ``TL_FLOWERS_DIR``, the offline bundle and the Keras cache first; an archive
    prefetched by ``python -m tlhelpers fetch --profile cpu`` (in the Keras cache or the
    bundle's ``keras-cache/datasets``) is extracted without any network. Offline and not
    cached: :class:`~tlhelpers.storage.assets.AssetNotAvailableError` with the prefetch command.
    """
    for place in _flowers_candidates():
        root = _find_class_root(place) if place.is_dir() else None
        if root is not None:
            return root
    archive = _flowers_archive()   # a prefetched archive needs no network
    if assets.is_offline() and archive is None:
        raise assets.AssetNotAvailableError(
            "The flowers photos are not available offline (looked in "
            + ", ".join(str(p) for p in _flowers_candidates())
            + f" and for {FLOWERS_ARCHIVE}). With internet access run once: "
            f"{assets.PREFETCH_COMMAND.format(profile='cpu')} (everything), or {FLOWERS_PREFETCH} "
            f"(only the flowers, 218 MB from {FLOWERS_URL}); "
            "or set TL_FLOWERS_DIR to an extracted copy, or load your own folder instead.")
    import keras

    sha = config.settings().flowers_sha256 or FLOWERS_SHA256
    with assets.download_or_explain(
            f"Could not download the flowers photos. Check the connection and run {FLOWERS_PREFETCH} "
            "again, or set TL_FLOWERS_DIR."):
        got = keras.utils.get_file("flower_photos", FLOWERS_URL, extract=True, file_hash=sha)
    root = _find_class_root(Path(got))
    if root is None or _count_images(root) != FLOWERS_IMAGES:
        raise assets.AssetNotAvailableError(
            f"The flowers archive in {got} looks incomplete (expected {FLOWERS_IMAGES} images in "
            f"{', '.join(FLOWERS_CLASSES)}). Delete that folder and run {FLOWERS_PREFETCH} again.")
    return root
