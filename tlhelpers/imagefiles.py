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

from tlhelpers.cachefile import display_name, is_utf8, path_bytes, write_atomic

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
            fmt, mode, (width, height) = img.format, img.mode, img.size
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
    if width * height > LARGE_PIXELS:
        return FileCheck(path, "convert", f"large photo, over {LARGE_PIXELS // 10**6} MP")
    if fmt not in TF_FORMATS:
        return FileCheck(path, "convert", f"{fmt} format")
    if mode not in DIRECT_MODES:
        return FileCheck(path, "convert", f"mode {mode}")
    if not is_utf8(path):   # TensorFlow takes file names as UTF-8 text: copy under a safe name
        return FileCheck(path, "convert", "file name not UTF-8")
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
        # 16-bit files are scaled by the 16-bit range, not by their own maximum (a dark
        # 16-bit image stays dark); Pillow opens 16-bit PNGs as I;16 or (older) I.
        sixteen = img.mode.startswith("I;16") or (img.mode == "I" and img.format == "PNG")
        top = 65535.0 if sixteen or arr.max(initial=0) > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def valid_png(path: str | os.PathLike) -> bool:
    """True when ``path`` is a complete 8-bit RGB PNG (fully decoded to check)."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            if img.format != "PNG" or img.mode != "RGB":
                return False
            img.load()
        return True
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


def convert_image(path: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """Write an 8-bit RGB PNG of ``path`` into ``folder`` once; return its path.

    Photos over ``LARGE_PIXELS`` are shrunk to ``MAX_SIDE`` px on their longer side.
    The name comes from the source's path, size and modification time, so an edited
    source is converted again and an unchanged one is reused. A converted file found
    in the cache is decoded first: a damaged one (a truncated copy, a full disk) is
    converted again, with a notice, instead of failing later inside TensorFlow. Files
    are written under a name unique to the process, then renamed: two processes
    converting the same folder never read or remove each other's half-written files.
    """
    from PIL import Image

    src = Path(path).resolve()
    stat = src.stat()
    key = hashlib.sha1(path_bytes(src) + f"|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    out = Path(folder) / f"{key}.png"
    if out.is_file():
        if valid_png(out):
            return out
        print(f"Notice: the converted copy {out} of {display_name(src)} is damaged; converting it again.")
    with Image.open(src) as img:
        img.seek(0)
        large = img.width * img.height > LARGE_PIXELS
        if large and img.format == "JPEG":
            img.draft(img.mode, (MAX_SIDE, MAX_SIDE))   # decoded at 1/2 to 1/8 scale
        rgb = to_rgb8(img)
    if large:
        rgb.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    write_atomic(out, lambda tmp: rgb.save(tmp, format="PNG"))
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
