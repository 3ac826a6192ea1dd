"""Checking learners' image files before training: use, convert once, or skip.

``tf.io.decode_image`` reads 8-bit RGB and grayscale JPEG, PNG, BMP, GIF and WebP
files well, but a corrupt or truncated file stops training mid-epoch with an error
from deep inside TensorFlow, a TIFF cannot be read at all, transparent pixels come
out with whatever colour is stored under them, and 16-bit or CMYK files depend on
details of each decoder. So every file is checked once, up front, with Pillow:

- ``use``: an 8-bit RGB or grayscale file that TensorFlow decodes correctly;
- ``convert``: readable but in another mode (RGBA, LA, P, CMYK, 16-bit, ...) or
  format (TIFF, ...): converted once to an 8-bit RGB PNG in the course cache
  (transparency composited on white, 16-bit scaled to 8-bit);
- ``skip``: not an image, or corrupt/truncated: left out, and listed.

>>> from tlhelpers.imagefiles import ScanReport
>>> ScanReport().summary()
'all files used as they are'
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import numpy as np

#: Pillow modes that TensorFlow decodes to correct 8-bit RGB as they are.
DIRECT_MODES = ("RGB", "L")
#: Formats that ``tf.io.decode_image`` can read.
TF_FORMATS = ("JPEG", "PNG", "BMP", "GIF", "WEBP")
#: File name endings taken as images (any case).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


@dataclasses.dataclass(frozen=True)
class FileCheck:
    """The decision for one file: ``action`` is "use", "convert" or "skip"."""

    path: Path
    action: str
    reason: str = ""


def check_image(path: str | os.PathLike) -> FileCheck:
    """Open and fully decode one file (JPEGs at reduced scale, which is fast) and decide.

    >>> check_image("missing.jpg").action
    'skip'
    """
    from PIL import Image

    path = Path(path)
    try:
        with Image.open(path) as img:
            fmt, mode = img.format, img.mode
            img.verify()
        with Image.open(path) as img:
            if fmt == "JPEG":
                img.draft(mode, (64, 64))   # decode at 1/8 scale: still reads every byte
            img.load()
    except FileNotFoundError:
        return FileCheck(path, "skip", "file not found")
    except Image.UnidentifiedImageError:
        return FileCheck(path, "skip", "not an image (unknown format)")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        return FileCheck(path, "skip", f"corrupt or truncated ({str(err).splitlines()[0][:60]})")
    if fmt not in TF_FORMATS:
        return FileCheck(path, "convert", f"{fmt} format")
    if mode not in DIRECT_MODES:
        return FileCheck(path, "convert", f"mode {mode}")
    return FileCheck(path, "use")


def to_rgb8(img) -> "Image.Image":
    """An 8-bit RGB copy of a Pillow image: alpha on white, 16-bit and float scaled.

    >>> from PIL import Image
    >>> to_rgb8(Image.new("LA", (2, 2), (0, 0))).getpixel((0, 0))
    (255, 255, 255)
    """
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def convert_image(path: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """Write an 8-bit RGB PNG of ``path`` into ``folder`` once; return its path.

    The name comes from the source's path, size and modification time, so an edited
    source is converted again and an unchanged one is reused.
    """
    from PIL import Image

    src = Path(path).resolve()
    stat = src.stat()
    key = hashlib.sha1(f"{src}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    out = Path(folder) / f"{key}.png"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(src) as img:
            img.seek(0)
            rgb = to_rgb8(img)
        tmp = out.with_suffix(".tmp.png")
        rgb.save(tmp)
        tmp.replace(out)   # atomic: an interrupted run never leaves a half-written file
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
                         + names([f"{p} [{why}]" for p, why in self.skipped]))
        if self.ignored:
            lines.append(f"ignored (no image extension): {len(self.ignored)} files: {names(self.ignored)}")
        if self.nested:
            lines.append(f"found in nested sub-folders (labelled by their class folder): {self.nested} files")
        return "\n".join(lines)


def usable_files(files: list[Path], order, limit: int, cache: Path, report: ScanReport) -> list[str]:
    """Walk ``files`` in ``order``; return the first ``limit`` readable ones, converting into
    ``cache`` the files that need it and recording every decision in ``report``.

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
            converted = str(convert_image(files[i], cache))
            report.converted.append((str(files[i]), check.reason))
            report.originals[converted] = str(files[i])
            out.append(converted)
        else:
            out.append(str(files[i]))
    return out
