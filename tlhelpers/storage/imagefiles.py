"""Checking learners' image files before training: use, convert once, or skip.

``tf.io.decode_image`` reads 8-bit RGB and grayscale JPEG, PNG, BMP, GIF and WebP
files well, but a corrupt or truncated file stops training mid-epoch with an error
from deep inside TensorFlow, a TIFF cannot be read at all, transparent pixels come
out with whatever colour is stored under them, and 16-bit or CMYK files depend on
details of each decoder. So every file is checked once, up front
(:mod:`tlhelpers.storage.imagedecode`): its header is read first (files too large to decode
safely are refused before any pixel is decoded), then

- ``use``: an 8-bit RGB or grayscale file that TensorFlow itself, the decoder of the
  pipeline, has decoded completely;
- ``convert``: readable but in another mode (RGBA, LA, P, CMYK, 16-bit, float, ...),
  with a transparent colour, animated (WebP), or in another format (TIFF, ...):
  decoded by Pillow and written once as an 8-bit RGB PNG in the course cache
  (transparency composited on white, 16-bit scaled to 8-bit);
- ``skip``: not an image, too large, or corrupt/truncated for the decoder that would
  read it: left out, and listed.

>>> from tlhelpers.storage.imagefiles import ScanReport
>>> ScanReport().summary()
'all files used as they are'
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

from tlhelpers.storage.cachefile import display_name, is_utf8, path_bytes, write_atomic
from tlhelpers.storage.imagedecode import (JPEG_FORMATS, UnreadableImage, first_line,
                                   pipeline_decode_error, read_header, to_rgb8, valid_png)

__all__ = ["FileCheck", "ScanReport", "check_image", "convert_image", "to_rgb8", "usable_files",
           "valid_png", "CacheWriteError", "UnreadableImage"]

#: Pillow modes that TensorFlow decodes to correct 8-bit RGB as they are.
DIRECT_MODES = ("RGB", "L")
#: Formats that ``tf.io.decode_image`` can read.
TF_FORMATS = ("JPEG", "PNG", "BMP", "GIF", "WEBP")
#: Photos with more pixels than this (48-megapixel phone photos) are converted once to a copy
#: at most ``MAX_SIDE`` px on their longer side, decoded at reduced size (JPEG ``draft``):
#: TensorFlow would decode each at full size (600 MB as float32) while streaming.
LARGE_PIXELS = 16_000_000
MAX_SIDE = 1024
#: File name endings taken as images (any case).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


#: The start of the reason recorded for a file whose converted copy could not be written.
NOT_CONVERTED = "not converted"


class CacheWriteError(OSError):
    """A converted copy could not be written to the course cache (a full disk, no permission).

    >>> isinstance(CacheWriteError(28, "could not write x.png (No space left on device)"), OSError)
    True
    """


@dataclasses.dataclass(frozen=True)
class FileCheck:
    """The decision for one file: ``action`` is "use", "convert" or "skip"."""

    path: Path
    action: str
    reason: str = ""


def check_image(path: str | os.PathLike) -> FileCheck:
    """Read the header, then decide; a file to ``use`` is decoded by TensorFlow, as in the
    pipeline (files to ``convert`` are decoded by Pillow when converted).

    >>> check_image("missing.jpg").action
    'skip'
    """
    path = Path(path)
    try:
        head = read_header(path)
    except UnreadableImage as err:
        return FileCheck(path, "skip", str(err))
    if head.width * head.height > LARGE_PIXELS:
        return FileCheck(path, "convert", f"large photo, over {LARGE_PIXELS // 10**6} MP")
    if head.format not in TF_FORMATS:
        return FileCheck(path, "convert", f"{head.format} format")
    if head.frames > 1:   # TensorFlow reads no animated WebP (GIFs: the first frame)
        return FileCheck(path, "convert", f"animated {head.format}")
    if head.mode not in DIRECT_MODES:
        return FileCheck(path, "convert", f"mode {head.mode}")
    if head.transparency:   # a tRNS colour: TensorFlow would show the colour stored under it
        return FileCheck(path, "convert", "transparent colour")
    if not is_utf8(path):   # TensorFlow takes file names as UTF-8 text: copy under a safe name
        return FileCheck(path, "convert", "file name not UTF-8")
    problem = pipeline_decode_error(path)
    if problem:
        return FileCheck(path, "skip", problem)
    return FileCheck(path, "use")


def _content_key(src: Path) -> str:
    """A hash of the whole file (and its path): other bytes, other key, whatever the dates say."""
    try:
        with open(src, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256")
    except OSError as err:
        raise UnreadableImage(f"could not be read ({first_line(err)})") from None
    digest.update(b"\0" + path_bytes(src))
    return digest.hexdigest()[:20]


def _decode_rgb8(src: Path):
    from PIL import Image

    try:
        with Image.open(src) as img:
            img.seek(0)
            large = img.width * img.height > LARGE_PIXELS
            if large and img.format in JPEG_FORMATS:
                img.draft(img.mode, (MAX_SIDE, MAX_SIDE))   # decoded at 1/2 to 1/8 scale
            rgb = to_rgb8(img)
    except UnreadableImage:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as err:
        raise UnreadableImage(f"corrupt or truncated ({first_line(err)})") from None
    if large:
        rgb.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return rgb


def convert_image(path: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """Write an 8-bit RGB PNG of ``path`` into ``folder`` once; return its path.

    Photos over ``LARGE_PIXELS`` are shrunk to ``MAX_SIDE`` px on their longer side.
    The name comes from a hash of the source's whole contents (and its path), so an
    edited or swapped source is converted again, even with the same size and date, and
    an unchanged one is reused. A converted file found in the cache is decoded first,
    by the pipeline's decoder: a damaged one (a truncated copy, a full disk) is
    converted again, with a notice, instead of failing later inside TensorFlow. Files
    are written under a name unique to the process, then renamed: two processes
    converting the same folder never read or remove each other's half-written files.

    Raises :class:`UnreadableImage` when Pillow cannot decode the source, and
    :class:`CacheWriteError` (an ``OSError``) when the copy cannot be written.
    """
    src = Path(path).resolve()
    out = Path(folder) / f"{_content_key(src)}.png"
    if out.is_file():
        if valid_png(out):
            return out
        print(f"Notice: the converted copy {out} of {display_name(src)} is damaged; converting it again.")
    rgb = _decode_rgb8(src)
    try:
        write_atomic(out, lambda tmp: rgb.save(tmp, format="PNG"))
    except OSError as err:
        raise CacheWriteError(err.errno, f"could not write {out} ({err.strerror or err})") from err
    return out


@dataclasses.dataclass
class ScanReport:
    """What a folder scan did: files converted, skipped, ignored, found in sub-folders."""

    converted: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    ignored: list[str] = dataclasses.field(default_factory=list)
    nested: int = 0
    #: converted file -> original file
    originals: dict[str, str] = dataclasses.field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.converted or self.skipped or self.ignored or self.nested)

    def summary(self, show: int = 5) -> str:
        """A few lines: counts, with the first ``show`` file names of each kind."""
        if not self:
            return "all files used as they are"

        def names(items: list[str]) -> str:
            more = f", ... (+{len(items) - show})" if len(items) > show else ""
            return ", ".join(items[:show]) + more

        lines = []
        if self.converted:
            kinds: dict[str, int] = {}
            for _, why in self.converted:
                kinds[why] = kinds.get(why, 0) + 1
            detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
            lines.append(f"converted to 8-bit RGB: {len(self.converted)} files ({detail})")
        if self.skipped:
            lines.append(f"skipped (unreadable): {len(self.skipped)} files: "
                         + names([f"{display_name(p)} [{why}]" for p, why in self.skipped]))
        if self.ignored:
            lines.append(f"ignored (no image extension): {len(self.ignored)} files: "
                         + names([display_name(p) for p in self.ignored]))
        if self.nested:
            lines.append(f"found in nested sub-folders (labelled by their class folder): {self.nested} files")
        return "\n".join(lines)

    def skipped_note(self, start: int = 0, show: int = 5) -> str:
        """" (4 unreadable, skipped: a.jpg [not an image], ...)" for the files skipped since
        ``skipped[start]`` (one class), for a refusal message; "" when none."""
        skipped = self.skipped[start:]
        if not skipped:
            return ""
        names = ", ".join(f"{Path(display_name(p)).name} [{why}]" for p, why in skipped[:show])
        more = f", ... (+{len(skipped) - show})" if len(skipped) > show else ""
        return f" ({len(skipped)} unreadable, skipped: {names}{more})"


def usable_files(files: list[Path], order, limit: int, cache: Path, report: ScanReport) -> list[str]:
    """Walk ``files`` in ``order``; return the first ``limit`` readable ones, converting into
    ``cache`` the files that need it and recording every decision in ``report``.

    A converted copy that cannot be written (a full disk) leaves its file out, listed as
    skipped, with one notice for the scan, like the feature cache's notice.

    >>> usable_files([], [], 5, Path("unused"), ScanReport())
    []
    """
    out: list[str] = []
    for i in order:
        if len(out) == limit:
            break
        check = check_image(files[i])
        if check.action == "skip":
            report.skipped.append((str(files[i]), check.reason))
        elif check.action == "convert":
            try:
                converted = str(convert_image(files[i], cache))
            except UnreadableImage as err:
                report.skipped.append((str(files[i]), str(err)))
                continue
            except CacheWriteError as err:
                if not any(why.startswith(NOT_CONVERTED) for _, why in report.skipped):
                    print(f"Notice: {err.strerror}: files that need converting are left out (listed "
                          "as skipped). Free some disk space, or set TL_CACHE_DIR to a folder with "
                          "room, and load the folder again.")
                why = os.strerror(err.errno) if err.errno else "the cache could not be written"
                report.skipped.append((str(files[i]), f"{NOT_CONVERTED}: {why}"))
                continue
            report.converted.append((str(files[i]), check.reason))
            report.originals[converted] = str(files[i])
            out.append(converted)
        else:
            out.append(str(files[i]))
    return out
