"""Loading CIFAR-10, online (``keras.datasets``) or from an offline folder tree.

Images are returned at their stored size as ``uint8`` arrays (5,000 CIFAR-10 images
take 15 MB); resizing and preprocessing happen on the fly in
:mod:`tlhelpers.transfer.pipeline`. Learners' own folders are read by :mod:`tlhelpers.transfer.folders`.

>>> from tlhelpers.datasets.data import load_cifar10
>>> data = load_cifar10(train_per_class=2, test_per_class=1)   # doctest: +SKIP
>>> data.x_train.shape, data.x_train.dtype                       # doctest: +SKIP
((20, 32, 32, 3), dtype('uint8'))
>>> CIFAR10_CLASSES[:3]
('airplane', 'automobile', 'bird')
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from tlhelpers.settings import config
from tlhelpers.storage import assets

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


@dataclasses.dataclass
class ImageData:
    """Train and test images (uint8, N x H x W x 3), integer labels and class names."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str

    def summary(self) -> str:
        """Shapes, dtype and source in one line each."""
        return (
            f"train: {self.x_train.shape} {self.x_train.dtype}, labels {self.y_train.shape}\n"
            f"test : {self.x_test.shape} {self.x_test.dtype}, labels {self.y_test.shape}\n"
            f"from : {self.source}"
        )


def cifar10_folder() -> Path | None:
    """The offline CIFAR-10 folder tree (``TL_CIFAR10_DIR`` or the bundle's), if any."""
    path = config.settings().cifar10_dir
    if path is not None:
        value = str(path)
        if not (path / "train").is_dir() or not (path / "test").is_dir():
            raise assets.AssetNotAvailableError(
                f"TL_CIFAR10_DIR={value!r} must contain train/ and test/ class folders."
            )
        return path
    bundle = assets.assets_dir()
    if bundle is not None and (bundle / "data" / "cifar10-small" / "train").is_dir():
        return bundle / "data" / "cifar10-small"
    return None


def require_cifar10_folder() -> Path:
    """:func:`cifar10_folder`, or an error that says how to provide one (never None).

    >>> require_cifar10_folder()   # doctest: +SKIP
    PosixPath('../shared/data/cifar10-small')
    """
    folder = cifar10_folder()
    if folder is None:
        bundle = str(config.settings().assets_dir or "")
        where = f"TL_ASSETS_DIR={bundle!r} has no data/cifar10-small/train" if bundle else "TL_ASSETS_DIR is not set"
        raise assets.AssetNotAvailableError(
            f"No CIFAR-10 folder tree found ({where}). Set TL_ASSETS_DIR to an offline bundle that has data/cifar10-small (e.g. ../shared), "
            "or TL_CIFAR10_DIR to a folder with train/ and test/ class folders, or set MY_FOLDER "
            "to your own images (one sub-folder per class).")
    return folder


def balanced_indices(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` examples of every class, chosen at random, then shuffled.

    >>> balanced_indices(np.array([0, 0, 1, 1, 1]), 1, seed=0).shape
    (2,)
    """
    labels = np.asarray(labels).reshape(-1)
    rng = np.random.default_rng(seed)
    chosen = []
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        if per_class > len(idx):
            raise ValueError(
                f"Asked for {per_class} images per class but class {cls} has only "
                f"{len(idx)}. Ask for at most {len(idx)} (e.g. TL_TRAIN_PER_CLASS)."
            )
        chosen.append(rng.choice(idx, size=per_class, replace=False))
    out = np.concatenate(chosen)
    rng.shuffle(out)
    return out


#: The size of every CIFAR-10 image (height, width).
CIFAR10_SIZE = (32, 32)


def _class_files(root: Path) -> list[list[Path]]:
    """Each class's image files under ``root`` (one split), or an error naming missing classes."""
    missing = [name for name in CIFAR10_CLASSES if not (root / name).is_dir()]
    if missing:
        raise assets.AssetNotAvailableError(
            f"The CIFAR-10 folder {root} has no sub-folder for {', '.join(missing)}: it needs one "
            f"per class ({', '.join(CIFAR10_CLASSES)}); restore the missing folder(s) or point "
            "TL_CIFAR10_DIR at a complete copy.")
    return [sorted(p for p in (root / name).iterdir() if p.suffix.lower() in _IMAGE_EXTENSIONS)
            for name in CIFAR10_CLASSES]


def _read_image(path: Path) -> np.ndarray:
    """One 32x32 image as uint8 RGB, or an error that names the file and what to do."""
    from PIL import Image

    fix = "replace it with a good 32x32 copy or delete it, then load again."
    try:
        with Image.open(path) as img:
            if img.size != CIFAR10_SIZE[::-1]:   # read from the header, before decoding
                raise assets.AssetNotAvailableError(
                    f"The CIFAR-10 image {path} is {img.width}x{img.height} px, not "
                    f"{CIFAR10_SIZE[1]}x{CIFAR10_SIZE[0]}: {fix}")
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        reason = (str(err).splitlines() or [type(err).__name__])[0][:80]
        raise assets.AssetNotAvailableError(
            f"The CIFAR-10 image {path} could not be read ({reason}): {fix}") from None


def _read_split(root: Path, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label, files in enumerate(_class_files(root)):
        if per_class > len(files):
            raise ValueError(
                f"Asked for {per_class} images per class but {root / CIFAR10_CLASSES[label]} has only "
                f"{len(files)}. Ask for at most {len(files)} per class with this folder."
            )
        for i in sorted(rng.choice(len(files), size=per_class, replace=False)):
            images.append(_read_image(files[i]))
            labels.append(label)
    x, y = np.stack(images), np.asarray(labels, dtype=np.int64)
    order = rng.permutation(len(y))
    return x[order], y[order]


def load_cifar10(train_per_class: int, test_per_class: int, seed: int = 0) -> ImageData:
    """A balanced CIFAR-10 subset: ``train_per_class`` and ``test_per_class`` per class.

    Reads the offline folder tree when one is configured, else ``keras.datasets.cifar10``
    (which downloads 163 MB once). Either way: uint8 images of 32x32x3, int64 labels
    0-9 in the standard CIFAR-10 order.
    """
    for n, what in ((train_per_class, "train_per_class"), (test_per_class, "test_per_class")):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{what} must be a positive integer, got {n!r}.")
    folder = cifar10_folder()
    if folder is not None:
        x_tr, y_tr = _read_split(folder / "train", train_per_class, seed)
        x_te, y_te = _read_split(folder / "test", test_per_class, seed + 1)
        source = f"offline folder {folder}"
    else:
        import keras

        datasets = assets.keras_cache_dir() / "datasets"
        archive = assets.cached_file("datasets/cifar-10-batches-py-target_archive")
        if assets.is_offline() and archive is None:
            raise assets.AssetNotAvailableError(
                "CIFAR-10 is not available offline: no folder tree (TL_CIFAR10_DIR or "
                f"TL_ASSETS_DIR) and no Keras copy in {datasets}. With internet access run "
                f"'{assets.PREFETCH_COMMAND.format(profile='cpu')}' once."
            )
        with assets.download_or_explain(
                "Could not download CIFAR-10. Connect to the internet and run "
                f"'{assets.PREFETCH_COMMAND.format(profile='cpu')}', or point TL_ASSETS_DIR at an "
                "offline bundle."):
            (x_all, y_all), (xt_all, yt_all) = keras.datasets.cifar10.load_data()
        y_all, yt_all = y_all.reshape(-1).astype(np.int64), yt_all.reshape(-1).astype(np.int64)
        i_tr = balanced_indices(y_all, train_per_class, seed)
        i_te = balanced_indices(yt_all, test_per_class, seed + 1)
        x_tr, y_tr, x_te, y_te = x_all[i_tr], y_all[i_tr], xt_all[i_te], yt_all[i_te]
        source = "keras.datasets.cifar10"
    return ImageData(x_tr, y_tr, x_te, y_te, CIFAR10_CLASSES, source)


def train_val_split(
    x: np.ndarray, y: np.ndarray, val_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split off a stratified validation set, so the test set is never used for choices.

    >>> x, y = np.zeros((10, 2, 2, 3)), np.array([0, 1] * 5)
    >>> [a.shape[0] for a in train_val_split(x, y, 0.2)]
    [8, 8, 2, 2]
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}.")
    rng = np.random.default_rng(seed)
    val_idx = []
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        val_idx.extend(idx[: max(1, int(round(len(idx) * val_fraction)))])
    mask = np.zeros(len(y), dtype=bool)
    mask[val_idx] = True
    return x[~mask], y[~mask], x[mask], y[mask]
