"""Where weights, data and cached results live, online and offline.

Environment variables (all optional):

- ``TL_ASSETS_DIR``: an offline bundle laid out like ``../shared`` or the output of
  ``python -m tlhelpers fetch --to DIR``: ``keras-cache/models/*.h5`` and
  ``data/cifar10-small/{train,test}/<class>/*.jpg``.
- ``TL_OFFLINE=1``: never try the network; a missing file is an immediate, clear error.
- ``TL_CACHE_DIR``: where the course keeps cached features and trained heads
  (default ``~/.cache/tlhelpers``).
- ``KERAS_HOME``: Keras's own cache (default ``~/.keras``); weights go to ``models/``.

>>> from tlhelpers.storage.assets import PREFETCH_COMMAND
>>> PREFETCH_COMMAND.format(profile="cpu")
'python -m tlhelpers fetch --profile cpu'
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from tlhelpers.settings import config, registry
from tlhelpers.storage.cachefile import temp_name, write_atomic

#: The command that downloads everything a profile needs (see ``tlhelpers.__main__``).
PREFETCH_COMMAND = "python -m tlhelpers fetch --profile {profile}"

#: Known SHA-256 checksums of weights files (checked when the file is present).
KNOWN_SHA256 = {
    "mobilenet_2_5_224_tf_no_top.h5": "dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf",
}


class AssetNotAvailableError(RuntimeError):
    """A weights file or data set is needed but cannot be found or downloaded."""


def is_offline() -> bool:
    """True when ``TL_OFFLINE`` is set to 1/true/yes."""
    return config.settings().offline


def assets_dir() -> Path | None:
    """The offline bundle named by ``TL_ASSETS_DIR``, or None."""
    path = config.settings().assets_dir
    if path is None:
        return None
    if not path.is_dir():
        raise AssetNotAvailableError(
            f"TL_ASSETS_DIR={str(path)!r} is not a folder. Point it at a bundle made with "
            f"'python -m tlhelpers fetch --to DIR', or unset it."
        )
    return path


_NOTICED: set[str] = set()


def keras_cache_dir() -> Path:
    """Keras's cache folder (``$KERAS_HOME`` or ``~/.keras``), as Keras resolves it.

    Like ``keras.utils.get_file``, an unwritable folder is replaced by ``/tmp/.keras``
    (with a notice, once), so weights copied here are where Keras looks for them.
    """
    home = config.settings().keras_home
    if os.access(home, os.W_OK) or _writable(home):
        return home
    fallback = Path("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()) / ".keras"
    if str(home) not in _NOTICED:
        _NOTICED.add(str(home))
        print(f"Notice: cannot write to the Keras cache {home}; weights go to {fallback} instead.")
    return fallback


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        # a name of its own: two kernels probing at once never delete each other's probe
        probe = temp_name(path / ".write-test")
        probe.write_text("ok")
        probe.unlink()
        return True
    except OSError:
        return False


def course_cache_dir(sub: str = "") -> Path:
    """The course's own cache (features, trained heads), created if needed.

    Falls back to a temporary folder, with a notice, when the folder is not writable.

    >>> course_cache_dir("features").name
    'features'
    """
    base = config.settings().cache_dir
    if not _writable(base):
        fallback = Path(tempfile.gettempdir()) / f"tlhelpers-cache-{_user_tag()}"
        print(f"Notice: cannot write to {base}; using {fallback} for cached results instead.")
        base = fallback
    path = base / sub if sub else base
    path.mkdir(parents=True, exist_ok=True)
    return path


def _user_tag() -> str:
    """The user id (or name): one fallback cache per user, never another user's folder."""
    if hasattr(os, "getuid"):
        return str(os.getuid())
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user name at all
        return "user"


def repair_command(model: str, fname: str) -> str:
    """The command that downloads (again) exactly the weights file ``fname`` of ``model``.

    >>> repair_command("mobilenet_025", "mobilenet_2_5_224_tf_no_top.h5")
    'python -m tlhelpers fetch --backbone mobilenet_025 --image-size 224 --no-data'
    """
    spec = registry.get_entry(model)
    size = next((n for n in (*spec.weight_sizes, spec.native_size)
                 if spec.weights_file(n)[0] == fname), spec.native_size)
    return f"python -m tlhelpers fetch --backbone {model} --image-size {size} --no-data"


def check_h5(path: Path) -> str | None:
    """None when the HDF5 file opens and every object header reads, else the reason.

    Opening alone misses damage inside the file (e.g. "bad object header version
    number", which Keras reports as a bare ``KeyError``): every group and dataset is
    visited, which reads all headers but not the weights themselves (fast).
    """
    import h5py

    def touch(_name, obj):
        if isinstance(obj, h5py.Dataset):
            obj.shape, obj.dtype   # noqa: B018 - reads the dataset's header

    try:
        with h5py.File(path, "r") as handle:
            handle.visititems(touch)
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as err:
        text = str(err)
        return (text[text.find("(") + 1:].rstrip(")") if "(" in text else text) or "not an HDF5 file"
    return None


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file (``sha256``, ``md5``...), read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    return file_digest(path, "sha256")


def _check_integrity(model: str, path: Path) -> None:
    """Checksum when known; otherwise read every HDF5 header, which detects truncation and
    damage. The error names the file and the command that fetches that very file again."""
    expected = KNOWN_SHA256.get(path.name)
    if expected:
        problem = "checksum mismatch" if sha256_of(path) != expected else None
    else:
        problem = check_h5(path) if path.suffix == ".h5" else None
    if problem:
        raise AssetNotAvailableError(
            f"The cached weights of {model} at {path} are unreadable ({problem}): the file is "
            "truncated or corrupted, e.g. by an interrupted download. Delete that file and run "
            f"'{repair_command(model, path.name)}' with internet access (or "
            "'python -m tlhelpers fetch --from BUNDLE' from an offline bundle) to fetch it again."
        )


def missing_message(model: str, fname: str, url: str) -> str:
    """What to say when a backbone's weights file is missing: where it was looked for, where
    it comes from, and the command that prefetches it."""
    return (
        f"The ImageNet weights of {model} are not available offline: {fname} is not in "
        f"{keras_cache_dir() / 'models'}" + (
            f" nor in the bundle {assets_dir()}" if assets_dir() else "")
        + f". They come from {url}. With internet access, run "
        f"'{PREFETCH_COMMAND.format(profile='cpu')}' (or 'python -m tlhelpers fetch "
        f"--backbone {model}') once to prefetch them, or point TL_ASSETS_DIR at an "
        "offline bundle that has them."
    )


def cached_file(relpath: str) -> Path | None:
    """``relpath`` (e.g. ``"models/x.h5"``) in the Keras cache, copied there first from the
    offline bundle's ``keras-cache/`` or a read-only Keras home when only they have it;
    None when it is nowhere on this machine.
    """
    target = keras_cache_dir() / relpath
    if target.is_file():
        return target
    for source in local_copies(relpath):
        if source != target:
            return write_atomic(target, lambda tmp: shutil.copyfile(source, tmp))
    return None


def local_copies(relpath: str) -> list[Path]:
    """Every copy of ``relpath`` on this machine, in the order to use them: the offline
    bundle's ``keras-cache/``, the Keras cache, a read-only Keras home."""
    bundle = assets_dir()
    candidates = ([bundle / "keras-cache" / relpath] if bundle is not None else []) + [
        keras_cache_dir() / relpath, config.settings().keras_home / relpath]
    return [path for i, path in enumerate(candidates)
            if path.is_file() and path not in candidates[:i]]


def ensure_weights(model: str, fname: str, url: str) -> Path | None:
    """Make sure Keras will find ``fname`` in its cache; return its path when present.

    The file is taken from the Keras cache, else copied from the offline bundle. If it
    is in neither, offline mode raises a clear error and online mode returns None
    (Keras then downloads it itself).
    """
    target = cached_file(f"models/{fname}")
    if target is not None:
        _check_integrity(model, target)
        return target
    if is_offline():
        raise AssetNotAvailableError(missing_message(model, fname, url))
    return None


@contextlib.contextmanager
def download_or_explain(message: str) -> Iterator[None]:
    """Run a Keras download; if it fails, raise one :class:`AssetNotAvailableError` with
    ``message`` (what was needed, and what to do) and the first line of the failure.

    The one "download or explain" path of the course (weights, CIFAR-10, the flowers).
    Keras reports a failed URL with a bare ``Exception`` and a damaged file with a
    ``ValueError``; any other error is a bug and passes through unchanged.

    >>> with download_or_explain("Could not get x.h5. Run the prefetch command."):
    ...     raise Exception("URL fetch failure on https://example.invalid/x.h5")
    Traceback (most recent call last):
    ...
    tlhelpers.storage.assets.AssetNotAvailableError: Could not get x.h5. Run the prefetch command. (download failed: URL fetch failure on https://example.invalid/x.h5)
    """
    try:
        yield
    except AssetNotAvailableError:
        raise
    except Exception as err:
        if not (type(err) is Exception or isinstance(err, (OSError, ValueError))):
            raise
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise AssetNotAvailableError(f"{message} (download failed: {first})") from None
