"""Small helpers for files the course writes and reads back: atomic writes, content
fingerprints and printable names.

- :func:`write_atomic` writes to a temporary name unique to this process (and call) in the
  target's folder, then ``os.replace``-s it into place: a reader, in this process or in
  another kernel, sees either the old complete file or the new complete one, never half;
  two writers never share a temporary file, and the last rename wins.
- :func:`fingerprint_files` hashes what files *contain* (size, modification time and
  sampled bytes), so swapping two folders' contents changes it, though names do not.
- :func:`fingerprint_arrays` hashes in-memory arrays (dtype, shape and every byte: about
  10 ms for CIFAR-10's 15 MB), so a cache key can name the data it was computed from.
- :func:`keep_aside` moves a damaged file out of the way under a dated name, for a look later.
- :func:`locked` holds a lock file (the maintained ``filelock`` library) around a
  read-modify-write, so two kernels saving into one file never lose each other's entries.
- :func:`display_name` turns a path whose name is not valid UTF-8 (zip archives made on
  Windows) into printable text instead of a ``UnicodeEncodeError``.

>>> display_name(os.fsdecode(b"caf\\xe9.jpg"))
'caf\\\\xe9.jpg'
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import uuid
from pathlib import Path
from typing import Callable, Iterable, Iterator

#: Bytes read from the start, the middle and the end of each file by :func:`fingerprint_files`.
SAMPLE_BYTES = 4096


def temp_name(path: str | os.PathLike) -> Path:
    """A hidden temporary name next to ``path``, unique to this process and this call."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp")


def write_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` to fill a temporary file, then move it to ``path`` atomically.

    The temporary file is removed if ``write`` fails (the error is raised again).

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "x.txt"
    >>> write_atomic(target, lambda tmp: tmp.write_text("hello")).read_text()
    'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def is_utf8(path: str | os.PathLike) -> bool:
    """False when ``path`` holds bytes that are not valid UTF-8 (kept as surrogates by Python).

    >>> is_utf8("été.jpg"), is_utf8(os.fsdecode(b"caf\\xe9.jpg"))
    (True, False)
    """
    try:
        os.fspath(path).encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def display_name(path: str | os.PathLike) -> str:
    """``path`` as printable text: bytes that are not UTF-8 shown as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def path_bytes(path: str | os.PathLike) -> bytes:
    """The path as the file system stores it (any name, UTF-8 or not), for hashing."""
    return os.fsencode(path)


def _sample(path: str | os.PathLike, size: int) -> bytes:
    with open(path, "rb") as handle:
        chunks = [handle.read(SAMPLE_BYTES)]
        for offset in (size // 2, max(0, size - SAMPLE_BYTES)):
            if offset > SAMPLE_BYTES:
                handle.seek(offset)
                chunks.append(handle.read(SAMPLE_BYTES))
    return b"".join(chunks)


def fingerprint_files(paths: Iterable[str | os.PathLike], extra: bytes = b"") -> str:
    """A hex digest of the files' names, sizes, modification times and sampled bytes.

    Cheap (three 4 KiB reads per file) yet sensitive to contents: the same names with
    other bytes give another digest. ``extra`` (e.g. the labels) is hashed too. A file
    that cannot be read counts as missing (its name only).
    """
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path_bytes(path) + b"\0")
        try:
            stat = os.stat(path)
            digest.update(f"{stat.st_size}|{stat.st_mtime_ns}|".encode())
            digest.update(_sample(path, stat.st_size))
        except OSError:
            digest.update(b"<missing>")
    digest.update(extra)
    return digest.hexdigest()


def fingerprint_arrays(*arrays, extra: bytes = b"") -> str:
    """A SHA-256 hex digest of arrays' dtypes, shapes and every byte (plus ``extra``).

    >>> import numpy as np
    >>> a = np.zeros((2, 3), np.uint8)
    >>> same, other = fingerprint_arrays(a.copy()), fingerprint_arrays(a + 1)
    >>> fingerprint_arrays(a) == same, fingerprint_arrays(a) == other
    (True, False)
    """
    import numpy as np   # here, so that the launcher can import this module before numpy is installed

    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}|".encode())
        digest.update(array.data)
    digest.update(extra)
    return digest.hexdigest()


def keep_aside(path: str | os.PathLike) -> Path | None:
    """Rename a damaged ``path`` to ``<name>.damaged-<date-time>`` next to it (kept for a
    look, never read again); None when it could not be moved (it is then left in place).

    >>> import tempfile
    >>> bad = Path(tempfile.mkdtemp()) / "results.json"
    >>> _ = bad.write_text("{broken")
    >>> keep_aside(bad).name.startswith("results.json.damaged-"), bad.exists()
    (True, False)
    """
    path = Path(path)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}-{uuid.uuid4().hex[:6]}")
    try:
        os.replace(path, target)
    except OSError:
        return None
    return target


#: Seconds :func:`locked` waits for another process before giving up with a clear error.
LOCK_TIMEOUT = 60.0


@contextlib.contextmanager
def locked(path: str | os.PathLike, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold ``<path>.lock`` (a ``filelock.FileLock``) while the block runs: one process at a time.

    >>> import tempfile
    >>> with locked(Path(tempfile.mkdtemp()) / "results.json"):
    ...     pass
    """
    import filelock

    lock = filelock.FileLock(f"{os.fspath(path)}.lock", timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise TimeoutError(
            f"Another process has held the lock on {display_name(path)} for {timeout:.0f} s; "
            f"wait until it has finished (or delete {display_name(lock.lock_file)} if no "
            "notebook is running) and try again.") from None
    try:
        yield
    finally:
        lock.release()
