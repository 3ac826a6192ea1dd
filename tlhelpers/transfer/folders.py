"""Learners' own image folders: one sub-folder per class, streamed from disk.

A folder tree like ``flowers/daisy/*.jpg, flowers/roses/*.jpg, ...`` becomes lists of
file paths and integer labels (classes in sorted order), split into train,
validation and (optionally) test sets, stratified and seeded. The images are only
decoded as they are streamed by :func:`tlhelpers.transfer.pipeline.dataset_from_files`.

>>> from tlhelpers.transfer.folders import load_image_folder
>>> data = load_image_folder("my_photos", validation_split=0.2)   # doctest: +SKIP
>>> train_ds = data.dataset("train", 96, "mobilenet_025")         # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import numbers
import os
from pathlib import Path

import numpy as np

from tlhelpers.storage import assets
from tlhelpers.storage.cachefile import display_name, fingerprint_files, path_bytes
from tlhelpers.storage.imagefiles import IMAGE_EXTENSIONS, ScanReport, usable_files

SPLITS = ("train", "validation", "test")


def check_whole(name: str, value, minimum: int, example: int, none_ok: bool = False) -> None:
    """Refuse anything but a whole number >= ``minimum`` (or None when ``none_ok``), in one sentence.

    >>> check_whole("seed", 0, 0, 0)
    >>> check_whole("max_per_class", 2.5, 2, 100, none_ok=True)
    Traceback (most recent call last):
    ...
    TypeError: max_per_class must be a whole number such as 100 (or None); got 2.5 (float).
    """
    if none_ok and value is None:
        return
    also = " (or None)" if none_ok else ""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be a whole number such as {example}{also}; "
                        f"got {value!r} ({type(value).__name__}).")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}{also}, e.g. {example}; got {value!r}.")


def _check_fraction(name: str, value) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number in [0, 1), e.g. 0.2; got {value!r} ({type(value).__name__}).")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1), e.g. 0.2; got {value!r}.")


@dataclasses.dataclass
class FolderData:
    """File paths and int labels per split, plus the class names (sorted folder names)."""

    root: Path
    class_names: tuple[str, ...]
    train_paths: list[str]
    train_labels: np.ndarray
    val_paths: list[str]
    val_labels: np.ndarray
    test_paths: list[str] = dataclasses.field(default_factory=list)
    test_labels: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    #: what the scan converted, skipped or ignored (see :meth:`report`)
    scan: ScanReport = dataclasses.field(default_factory=ScanReport)

    @property
    def num_classes(self) -> int:
        """The number of classes (sub-folders)."""
        return len(self.class_names)

    def split(self, name: str) -> tuple[list[str], np.ndarray]:
        """(paths, labels) of ``"train"``, ``"validation"`` or ``"test"``."""
        table = {"train": (self.train_paths, self.train_labels),
                 "validation": (self.val_paths, self.val_labels),
                 "test": (self.test_paths, self.test_labels)}
        if name not in table:
            raise ValueError(f"Unknown split {name!r}; use one of {', '.join(SPLITS)}.")
        return table[name]

    def dataset(self, split: str, image_size: int, preprocess=None, batch_size: int = 32,
                shuffle: bool = False, seed: int = 0):
        """A streaming ``tf.data`` pipeline of one split (see ``pipeline.dataset_from_files``)."""
        from tlhelpers.transfer.pipeline import dataset_from_files   # here: it imports TensorFlow

        check_whole("image_size", image_size, 1, 96)
        check_whole("batch_size", batch_size, 1, 32)
        check_whole("seed", seed, 0, 0)
        paths, labels = self.split(split)
        if not paths:
            raise ValueError(f"The {split} split is empty: load the folder with a {split} fraction > 0.")
        return dataset_from_files(paths, labels, image_size, preprocess, batch_size, shuffle, seed)

    def tag(self) -> str:
        """A short fingerprint of the data for feature-cache keys: names, sizes, dates and
        sampled bytes of the files, and the labels. Other contents, other tag."""
        digest = hashlib.sha1()
        for name in SPLITS:
            paths, labels = self.split(name)
            digest.update(fingerprint_files(paths, np.asarray(labels, np.int64).tobytes()).encode())
        digest.update("\0".join(self.class_names).encode("utf-8", "surrogateescape"))
        return digest.hexdigest()[:10]

    def summary(self) -> str:
        """Class names and the size of every split, in a few lines."""
        lines = [f"folder : {display_name(self.root)}",
                 f"classes: {self.num_classes} ({', '.join(self.class_names)})"]
        for name in SPLITS:
            paths, labels = self.split(name)
            if paths:
                counts = np.bincount(labels, minlength=self.num_classes)
                lines.append(f"{name:<11}: {len(paths)} images ({counts.min()}-{counts.max()} per class)")
        return "\n".join(lines)

    def report(self) -> str:
        """Files converted (to 8-bit RGB), skipped (unreadable) or ignored by the scan."""
        return self.scan.summary()


def _visible_files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.rglob("*") if f.is_file()
                  and not any(part.startswith(".") for part in f.relative_to(folder).parts))


def scan_class_folders(path: str | os.PathLike, report: ScanReport | None = None) -> dict[str, list[Path]]:
    """Class name -> sorted image files, for every sub-folder of ``path`` (sorted by name).

    Extensions are matched case-insensitively; hidden files and folders are skipped;
    images in nested sub-folders belong to their top-level class folder. Files without
    an image extension (and nested files) are recorded in ``report`` when given.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(
            f"No folder at {display_name(root)}. Pass the path of a folder that holds one "
            "sub-folder per class (e.g. photos/cats/*.jpg and photos/dogs/*.jpg).")
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        found = ", ".join(display_name(p.name) for p in classes) or "none"
        raise ValueError(
            f"{display_name(root)} has {len(classes)} class sub-folder(s) ({found}); a classifier "
            "needs at least 2. Put each class's images in its own sub-folder of this folder.")
    out: dict[str, list[Path]] = {}
    for folder in classes:
        name = display_name(folder.name)   # printable even when not UTF-8
        if name in out:
            other = next(p for p in classes if display_name(p.name) == name)
            raise ValueError(
                f"The class folders {ascii(os.fsencode(other.name))} and {ascii(os.fsencode(folder.name))} "
                f"of {display_name(root)} print as the same name '{name}' (one is not UTF-8 text): "
                "rename one of them so that each class has a name of its own.")
        every = _visible_files(folder)
        files = [f for f in every if f.suffix.lower() in IMAGE_EXTENSIONS]
        if report is not None:
            report.ignored.extend(str(f) for f in every if f.suffix.lower() not in IMAGE_EXTENSIONS)
            report.nested += sum(f.parent != folder for f in files)
        if not files:
            raise ValueError(
                f"The class folder {display_name(folder)} has no images (looked for "
                f"{', '.join(IMAGE_EXTENSIONS)}, any case). Add images or remove the folder.")
        out[name] = files
    return out


def load_image_folder(path: str | os.PathLike, validation_split: float = 0.2, seed: int = 0,
                      test_split: float = 0.0, max_per_class: int | None = None,
                      verbose: bool = True) -> FolderData:
    """Scan a class-per-folder tree, check every image, and split it, stratified and seeded.

    Each file used is fully decoded once (see :mod:`tlhelpers.storage.imagefiles`), by the decoder
    that will read it while training: files it cannot read, and files too large to decode
    safely (judged from their header), are skipped; unusual modes (RGBA, CMYK, 16-bit, ...)
    are converted once to 8-bit RGB PNGs in the course cache; ``verbose`` prints what was
    done (also ``.report()``). Arguments of the wrong type or range raise a ``TypeError``
    or ``ValueError`` that says what to pass.

    Each class keeps at most ``max_per_class`` images (a seeded random sample, to keep
    a run small), then ``test_split`` and ``validation_split`` of them (at least one
    each when the fraction is > 0) go to the test and validation sets.

    >>> data = load_image_folder("flower_photos", 0.2, test_split=0.2)   # doctest: +SKIP
    >>> data.class_names                                                # doctest: +SKIP
    ('daisy', 'dandelion', 'roses', 'sunflowers', 'tulips')
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be the folder's path, a str or pathlib.Path such as "
                        f"'my_photos'; got {path!r} ({type(path).__name__}).")
    _check_fraction("validation_split", validation_split)
    _check_fraction("test_split", test_split)
    if validation_split + test_split >= 1.0:
        raise ValueError("validation_split + test_split must leave some images for training (sum < 1).")
    check_whole("seed", seed, 0, 0)
    check_whole("max_per_class", max_per_class, 2, 100, none_ok=True)
    report = ScanReport()
    folders = scan_class_folders(path, report)
    cache = assets.course_cache_dir("converted") / hashlib.sha1(
        path_bytes(Path(path).expanduser().resolve())).hexdigest()[:10]
    rng = np.random.default_rng(seed)
    parts: dict[str, tuple[list, list]] = {s: ([], []) for s in SPLITS}
    for label, (name, files) in enumerate(folders.items()):
        before = len(report.skipped)
        usable = usable_files(files, rng.permutation(len(files)), max_per_class or len(files), cache / name, report)
        n = len(usable)
        n_test = max(1, round(n * test_split)) if test_split > 0 else 0
        n_val = max(1, round(n * validation_split)) if validation_split > 0 else 0
        if n - n_test - n_val < 1:
            raise ValueError(
                f"Class {name!r} has only {n} usable image(s)" + report.skipped_note(before)
                + f": too few for a train split plus {n_val} validation and {n_test} test image(s). "
                f"Add images to {display_name(Path(path).expanduser())}/{name} (at least "
                f"{n_test + n_val + 1}), lower the split fractions, or remove the folder.")
        for split, chunk in (("test", usable[:n_test]), ("validation", usable[n_test:n_test + n_val]),
                             ("train", usable[n_test + n_val:])):
            parts[split][0].extend(chunk)
            parts[split][1].extend([label] * len(chunk))
    shuffled = {}
    for split, (paths, labels) in parts.items():
        perm = rng.permutation(len(paths))
        shuffled[split] = ([paths[i] for i in perm], np.asarray(labels, np.int64)[perm])
    if verbose and report:
        print(f"Checked the images of {Path(path).expanduser()}:\n{report.summary()}")
    return FolderData(Path(path).expanduser(), tuple(folders), *shuffled["train"],
                      *shuffled["validation"], *shuffled["test"], scan=report)


def read_images(paths, size: int = 96) -> np.ndarray:
    """Decode image files into one uint8 array (N, size, size, 3), for display only.

    >>> read_images([]).shape
    (0, 96, 96, 3)
    """
    from PIL import Image

    out = np.zeros((len(paths), size, size, 3), np.uint8)
    for i, p in enumerate(paths):
        with Image.open(p) as img:
            out[i] = np.asarray(img.convert("RGB").resize((size, size)), np.uint8)
    return out
