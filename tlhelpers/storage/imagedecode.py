"""Decoding one learner's image file safely, for :mod:`tlhelpers.storage.imagefiles`.

- :func:`read_header`: format, mode and size from the file's header (Pillow's
  ``Image.open`` reads no pixels), refused when decoding it would take too much memory
  (:data:`MAX_PIXELS`): a 0.5 MB PNG can hold 144 megapixels, 2.8 GB once decoded.
- :func:`pipeline_decode_error`: the pipeline's own decoder as the judge. The streaming
  pipeline decodes with ``tf.io.decode_image(..., channels=3, expand_animations=False)``
  (``tlhelpers.transfer.pipeline._decode_file``); files that Pillow reads but TensorFlow does not (a
  PNG missing its last bytes, some damaged JPEGs) would otherwise stop training mid-epoch.
- :func:`to_rgb8`: any readable image as 8-bit RGB: transparency (alpha, palette or a
  tRNS colour) composited on white, 16-bit scaled by 65535, floats from 0-1 or 0-255.

>>> too_large("PNG", 12000, 12000)[:21]
'too large to decode: '
"""

from __future__ import annotations

import dataclasses
import os
import re
import warnings
from pathlib import Path

import numpy as np

from tlhelpers.settings.quiet import import_tensorflow, quiet_stderr

#: Formats decoded at full size: more pixels than this are refused before decoding (30 MP
#: of RGBA take 120 MB, and converting them about twice that).
MAX_PIXELS = 30_000_000
#: JPEGs are decoded at 1/2 to 1/8 scale (``draft``) when converted, so they may be larger;
#: this is just under Pillow's own decompression-bomb limit (2 x 89,478,485 pixels).
MAX_JPEG_PIXELS = 178_000_000
#: Pillow's names for JPEG files (MPO: a camera's JPEG with more pictures after the first).
JPEG_FORMATS = ("JPEG", "MPO")


class UnreadableImage(ValueError):
    """A file that cannot be used; the message is the short reason shown in the scan report.

    >>> str(UnreadableImage("file not found"))
    'file not found'
    """


@dataclasses.dataclass(frozen=True)
class Header:
    """What an image file's header says, read without decoding its pixels.

    >>> Header("PNG", "RGB", 4, 3).frames
    1
    """

    format: str
    mode: str
    width: int
    height: int
    frames: int = 1
    transparency: bool = False


def too_large(fmt: str | None, width: int, height: int) -> str | None:
    """The reason to refuse an image of this format and size before decoding it, or None.

    >>> too_large("JPEG", 8000, 6000) is None
    True
    """
    limit = MAX_JPEG_PIXELS if fmt in JPEG_FORMATS else MAX_PIXELS
    if width * height <= limit:
        return None
    return (f"too large to decode: {width}x{height} px = {width * height / 1e6:.0f} MP, over the "
            f"{limit // 10**6} MP limit for {fmt or 'these'} files; save a smaller copy "
            "(e.g. 4000 px on the longer side)")


def first_line(err: BaseException) -> str:
    """The first line of an error's message, at most 60 characters, for a scan report.

    >>> first_line(OSError("image file is truncated\\n(more)"))
    'image file is truncated'
    """
    return (str(err).splitlines() or [type(err).__name__])[0][:60]


def read_header(path: str | os.PathLike) -> Header:
    """The file's :class:`Header` (checked with Pillow's ``verify``), or :class:`UnreadableImage`.

    >>> read_header("missing.png")
    Traceback (most recent call last):
    ...
    tlhelpers.storage.imagedecode.UnreadableImage: file not found
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                frames = getattr(img, "n_frames", 1) if img.format == "WEBP" else 1   # GIF: would decode
                header = Header(img.format, img.mode, img.width, img.height, frames,
                                "transparency" in img.info)
                reason = too_large(img.format, img.width, img.height)
                if reason:
                    raise UnreadableImage(reason)
                img.verify()
    except FileNotFoundError:
        raise UnreadableImage("file not found") from None
    except Image.UnidentifiedImageError:
        raise UnreadableImage("not an image (unknown format)") from None
    except Image.DecompressionBombError:
        raise UnreadableImage(f"too large to decode: over {MAX_JPEG_PIXELS // 10**6} MP; "
                              "save a smaller copy (e.g. 4000 px on the longer side)") from None
    except UnreadableImage:
        raise
    except (OSError, SyntaxError, ValueError) as err:
        raise UnreadableImage(f"corrupt or truncated ({first_line(err)})") from None
    return header


_TF_NOISE = re.compile(r"^\{\{function_node [^}]*\}\}\s*|\s*\[Op:\w+\]\s*$")


def pipeline_decode_error(path: str | os.PathLike) -> str | None:
    """None when the pipeline's decoder reads ``path``; else the reason, as the scan reports it.

    Decodes exactly as ``tlhelpers.transfer.pipeline._decode_file`` does while streaming:
    ``tf.io.decode_image(data, channels=3, expand_animations=False)``.

    >>> pipeline_decode_error("photo_missing_its_last_byte.png")   # doctest: +SKIP
    'corrupt or truncated (TensorFlow: Invalid PNG data, size 1527)'
    """
    tf = import_tensorflow()
    try:
        data = Path(path).read_bytes()
        with quiet_stderr():   # TensorFlow logs a line for each failed op
            tf.io.decode_image(data, channels=3, expand_animations=False)
    except OSError as err:
        return f"corrupt or truncated ({first_line(err)})"
    except (tf.errors.OpError, ValueError) as err:
        message = _TF_NOISE.sub("", getattr(err, "message", str(err)))
        return f"corrupt or truncated (TensorFlow: {first_line(ValueError(message))})"
    return None


def _to_uint8(img) -> np.ndarray:
    """The 8-bit pixels of a one-channel image of mode I;16*, I or F."""
    arr = np.asarray(img)
    if img.mode == "F":
        low, high = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
        if not (np.isfinite(low) and np.isfinite(high)) or low < 0 or high > 255:
            raise UnreadableImage(f"float pixels from {low:g} to {high:g}, neither 0-1 nor 0-255; "
                                  "save it as an 8-bit image")
        scaled = arr.astype(np.float32) * np.float32(255.0 if high <= 1.0 else 1.0)   # 0-1 floats: x 255
        scaled += 0.5
        return scaled.astype(np.uint8)
    # 16-bit files are scaled by the 16-bit range, not by their own maximum (a dark 16-bit
    # image stays dark); Pillow opens 16-bit PNGs as I;16 or (older) I.
    sixteen = img.mode.startswith("I;16") or (img.mode == "I" and img.format == "PNG")
    top = 65535 if sixteen or arr.max(initial=0) > 255 else 255
    if arr.dtype.kind == "i":
        arr = np.clip(arr, 0, top)
    out = arr.astype(np.uint32)   # integer arithmetic: 4 bytes a pixel, not 8 (float64)
    out *= 255
    out += top // 2
    out //= top
    return out.astype(np.uint8)


def to_rgb8(img) -> "Image.Image":
    """An 8-bit RGB copy of a Pillow image: transparency on white, 16-bit and float scaled.

    Raises :class:`UnreadableImage` for float pixels outside 0-1 and 0-255.

    >>> from PIL import Image
    >>> to_rgb8(Image.new("LA", (2, 2), (0, 0))).getpixel((0, 0))
    (255, 255, 255)
    """
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        gray = Image.fromarray(_to_uint8(img), "L")
        key = img.info.get("transparency")
        if isinstance(key, int) and img.mode != "F":   # a 16-bit tRNS grey level
            alpha = Image.fromarray(((np.asarray(img) != key) * 255).astype(np.uint8), "L")
            gray = Image.merge("LA", (gray, alpha))
        img = gray
    if "transparency" in img.info and img.mode in ("1", "L", "P", "RGB"):
        img = img.convert("RGBA")   # a palette's or a tRNS colour's transparency becomes alpha
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = img if img.mode == "RGBA" else img.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba)   # alpha-blended on white, without another full-size copy
        return white
    return img.convert("RGB")


def valid_png(path: str | os.PathLike) -> bool:
    """True when ``path`` is an 8-bit RGB PNG that the pipeline's decoder reads completely.

    >>> valid_png("missing.png")
    False
    """
    try:
        header = read_header(path)
    except UnreadableImage:
        return False
    return header.format == "PNG" and header.mode == "RGB" and pipeline_decode_error(path) is None
