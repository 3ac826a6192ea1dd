"""Prefetch the weights and data a profile needs: for workshops with weak Wi-Fi.

    python -m tlhelpers fetch --profile cpu            # into Keras's own cache
    python -m tlhelpers fetch --profile cpu --to USB   # a bundle to copy to other laptops
    python -m tlhelpers fetch --from USB               # install a bundle, no network
    python -m tlhelpers fetch --backbone vgg16 --image-size 224 --no-data   # one file again

Downloads resume where they stopped (HTTP range requests), and every file is checked:
against its published checksum where one is known, else as a readable HDF5 or gzip file.
A bundle has the layout of a Keras cache (``DIR/keras-cache/models``, ``.../datasets``);
``TL_ASSETS_DIR=DIR`` makes the course use it directly.

A file already on this machine (in the bundle named by ``TL_ASSETS_DIR``, or in the Keras
cache) is copied from there and checked, not downloaded. With ``TL_OFFLINE=1`` the network
is never tried: each file found nowhere locally is named on one line, and the exit code is 1
only when something needed is missing. CIFAR-10 in a folder tree (``data/cifar10-small``,
which the course reads directly) stands in for its pickled archive.

>>> [a.name for a in profile_assets("ci", include_data=False)]
['mobilenet_025 weights (96 px)']
"""

from __future__ import annotations

import dataclasses
import http.client
import os
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from tlhelpers.settings import config
from tlhelpers.storage import assets
from tlhelpers.datasets import data, flowers
from tlhelpers.settings.registry import get_entry
from tlhelpers.storage.cachefile import write_atomic
from tlhelpers.settings.config import get_profile

#: Published checksums: Keras's own (md5) where it has them, and sha256 we measured.
_MD5 = {
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5": "6d6bbae143d832006294945121d1f1fc",
    "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5": "4d473c1dd8becc155b73f8504c6f6626",
    "efficientnetb0_notop.h5": "50bc09e76180e00e4465e1a485ddc09d",
}
CIFAR10 = ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
           "datasets/cifar-10-batches-py-target_archive",
           "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce")
#: Notebook 07's photos, where ``flowers.flowers_folder()`` (Keras's ``get_file``) looks for them.
FLOWERS = (flowers.FLOWERS_URL, f"datasets/{flowers.FLOWERS_ARCHIVE}")


class FetchError(RuntimeError):
    """A download failed or a file did not pass its check."""


class MissingOfflineError(FetchError):
    """``TL_OFFLINE=1`` and the file is nowhere on this machine (the network is not tried)."""


@dataclasses.dataclass(frozen=True)
class Asset:
    """One file to fetch: where from, where to (relative to a Keras cache), how to check it."""

    name: str
    url: str
    relpath: str
    sha256: str | None = None
    md5: str | None = None

    @property
    def source(self) -> str:
        """The URL to use: ``TL_MIRROR_URL/relpath`` when a mirror is set (e.g. a
        workshop server started with ``python -m http.server`` in a bundle's keras-cache)."""
        mirror = config.settings().mirror_url
        return f"{mirror}/{self.relpath}" if mirror else self.url


def weights_asset(backbone: str, image_size: int) -> Asset:
    """The no-top ImageNet weights a backbone loads at this input size."""
    fname, url = get_entry(backbone).weights_file(image_size)
    return Asset(f"{backbone} weights ({image_size} px)", url, f"models/{fname}",
                 sha256=assets.KNOWN_SHA256.get(fname), md5=_MD5.get(fname))


def profile_assets(profile: str, backbones: list[str] | None = None,
                   include_data: bool = True, image_size: int | None = None) -> list[Asset]:
    """Everything a profile needs: its backbone's weights (plus any extra backbones) and data.

    With ``image_size``, only the weights of ``backbones`` (else the profile's) at that size:
    what ``assets.repair_command`` asks for to replace one damaged file.
    """
    prof = get_profile(profile, env={})
    names = [prof.backbone, *(backbones or [])]
    if image_size is not None:
        names = backbones or [prof.backbone]
    out = [weights_asset(b, image_size or prof.image_size) for b in dict.fromkeys(names)]
    if include_data:
        out.append(Asset("CIFAR-10 (163 MB)", CIFAR10[0], CIFAR10[1], sha256=CIFAR10[2]))
        if profile != "ci":
            out.append(Asset("TensorFlow flowers (218 MB)", *FLOWERS))
    return out


def check_file(path: Path, sha256: str | None = None, md5: str | None = None) -> str | None:
    """None when the file is good, else a sentence saying what is wrong: checksums (given,
    or known for its name), then the format (every HDF5 header read; gzip signature)."""
    sha256 = sha256 or assets.KNOWN_SHA256.get(path.name)
    md5 = md5 or _MD5.get(path.name)
    if sha256 and assets.file_digest(path, "sha256") != sha256:
        return f"sha256 of {path.name} does not match the published {sha256[:12]}…"
    if md5 and assets.file_digest(path, "md5") != md5:
        return f"md5 of {path.name} does not match the published {md5}"
    head = path.read_bytes()[:8] if path.stat().st_size else b""
    if path.suffix == ".h5" and head != b"\x89HDF\r\n\x1a\n":
        return f"{path.name} is not an HDF5 weights file"
    if path.suffix == ".h5" and not sha256 and not md5 and (problem := assets.check_h5(path)):
        return f"{path.name} is damaged ({problem})"
    if path.name.endswith("_archive") and head[:2] != b"\x1f\x8b":
        return f"{path.name} is not a gzip archive"
    return None


def verify(path: Path, asset: Asset) -> str | None:
    """None when the file is good, else a sentence saying what is wrong."""
    return check_file(path, asset.sha256, asset.md5)


def download(url: str, dest: Path, progress: bool = True, chunk: int = 1 << 16,
             check: Callable[[Path], str | None] | None = None) -> Path:
    """Download ``url`` to ``dest``, resuming a ``dest.part`` left by an interrupted run. On a
    416 (nothing after those bytes), a ``.part`` of the size in ``Content-Range: bytes */N`` (or,
    without it, one ``check`` accepts) is the file; any other is fetched again from zero, once."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    start = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            resumed = start and response.status == 206
            total = int(response.headers.get("Content-Length", 0)) + (start if resumed else 0)
            done = start if resumed else 0
            with open(part, "ab" if resumed else "wb") as out:
                while block := response.read(chunk):
                    out.write(block)
                    done += len(block)
                    if progress and total:
                        print(f"\r  {dest.name}: {done / 2**20:6.1f} / {total / 2**20:.1f} MB",
                              end="", flush=True)
    except urllib.error.HTTPError as err:
        if err.code != 416 or not start:   # a 416 to a request from zero: no .part to blame
            raise FetchError(f"Could not download {url} (HTTP {err.code}: {err.reason}). Check the "
                             "address (TL_MIRROR_URL, if set) and try again later.") from None
        size = (err.headers.get("Content-Range") or "").rpartition("/")[2].strip()
        part.replace(dest)
        if (int(size) == start) if size.isdigit() else (check and check(dest) is None):
            return dest
        dest.unlink()   # not the server's file: from zero, once (a second 416 is an error above)
        return download(url, dest, progress, chunk, check)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
        raise FetchError(f"Could not download {url} ({err}). Check the network and run the "
                         "same command again: it resumes where it stopped.") from None
    if progress:
        print()
    if total and part.stat().st_size != total:
        raise FetchError(f"{url} stopped after {part.stat().st_size:,} of {total:,} bytes. "
                         "Run the same command again to resume.")
    part.replace(dest)
    return dest


def local_sources(asset: Asset, dest: Path) -> list[Path]:
    """Copies of ``asset`` already on this machine, other than ``dest``: the offline bundle's
    ``keras-cache/`` (``TL_ASSETS_DIR``), then the Keras cache (a read-only one too)."""
    return [path for path in assets.local_copies(asset.relpath) if not _same_file(path, dest)]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _missing_offline(asset: Asset, dest: Path) -> MissingOfflineError:
    bundle = config.settings().assets_dir
    where = f"the bundle {bundle}/keras-cache" if bundle else "a bundle (TL_ASSETS_DIR is not set)"
    return MissingOfflineError(
        f"{asset.name}: {asset.relpath} is not in {where} nor in the Keras cache "
        f"{assets.keras_cache_dir()}, and TL_OFFLINE=1 forbids downloading it. Run the same "
        "command with internet access, or point TL_ASSETS_DIR at a bundle that has "
        f"keras-cache/{asset.relpath}.")


def fetch_one(asset: Asset, cache: Path, progress: bool = True) -> Path:
    """Make ``cache/asset.relpath`` present and valid: copied from a local copy (bundle or
    Keras cache) when there is a good one, else downloaded (never with ``TL_OFFLINE=1``:
    then :class:`MissingOfflineError`); a corrupted download is fetched again once."""
    dest = cache / asset.relpath
    if dest.is_file() and verify(dest, asset) is None:
        print(f"ok      {asset.name}: {dest}")
        return dest
    if dest.is_file():
        print(f"corrupt {asset.name}: {verify(dest, asset)}; replacing it")
        dest.unlink()
    for source in local_sources(asset, dest):
        if (problem := verify(source, asset)) is not None:
            print(f"skipped {source}: {problem}")
            continue
        write_atomic(dest, lambda tmp, src=source: shutil.copyfile(src, tmp))
        if verify(dest, asset) is None:
            print(f"copied  {asset.name} from {source}")
            return dest
        dest.unlink()
    if assets.is_offline():
        raise _missing_offline(asset, dest)
    for _ in (1, 2):
        print(f"fetch   {asset.name} from {asset.source}")
        download(asset.source, dest, progress, check=lambda path: verify(path, asset))
        if (problem := verify(dest, asset)) is None:
            return dest
        dest.unlink()
    raise FetchError(f"{problem}. The download is damaged twice: try another network.")


def _cifar10_tree_instead(asset: Asset, to: Path | None) -> bool:
    """When the pickled CIFAR-10 archive is missing offline but the course's folder tree is
    there, say so (and copy the tree into a ``--to`` bundle): True when it stands in."""
    if asset.relpath != CIFAR10[1]:
        return False
    folder = data.cifar10_folder()
    if folder is None:
        return False
    print(f"note    {asset.name}: the offline bundle provides CIFAR-10 as a folder tree "
          f"({folder}), which the course reads directly; the pickled archive is not needed.")
    if to is not None:
        copy = to / "data" / "cifar10-small"
        if not _same_file(folder, copy):
            shutil.copytree(folder, copy, dirs_exist_ok=True)
            print(f"copied  CIFAR-10 folder tree to {copy}")
    return True


def install_bundle(bundle: Path, cache: Path) -> list[Path]:
    """Copy a bundle's files into the Keras cache (no network). A file already there is
    checked and replaced when damaged; a damaged file in the bundle is not copied."""
    source = bundle / "keras-cache"
    if not source.is_dir():
        raise FetchError(f"{bundle} is not a bundle: it has no keras-cache/ folder. Make one with "
                         "'python -m tlhelpers fetch --profile cpu --to DIR'.")
    copied = []
    for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.name.endswith(".part")):
        target = cache / path.relative_to(source)
        damage = check_file(target) if target.is_file() else None
        if target.is_file() and damage is None:
            continue
        if (bad_source := check_file(path)) is not None:
            print(f"skipped {path}: {bad_source}; fetch it again with internet access.")
            continue
        if damage:
            print(f"replace {target}: {damage}")
        write_atomic(target, lambda tmp, src=path: shutil.copyfile(src, tmp))
        copied.append(target)
    return copied


def _folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot be created or written (a file on the way), else None."""
    for part in (folder, *folder.parents):
        if part.exists():
            if not part.is_dir():
                return (f"--to {folder}: {part} is a file, not a folder. Pass the path of a "
                        "folder (new or existing), e.g. --to ~/tl-bundle.")
            return None if os.access(part, os.W_OK) else (
                f"--to {folder}: cannot write in {part}. Choose a folder you can write to.")
    return None


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``python -m tlhelpers fetch --help``)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tlhelpers fetch",
                                     description="Prefetch weights and data for a profile.")
    parser.add_argument("--profile", default="cpu", help="ci, cpu or full (default: cpu)")
    parser.add_argument("--backbone", action="append", default=[], help="add this backbone's weights (repeatable)")
    parser.add_argument("--to", type=Path, help="write a bundle to this folder instead")
    parser.add_argument("--from", dest="source", type=Path, help="install a bundle (no network)")
    parser.add_argument("--no-data", action="store_true", help="weights only")
    parser.add_argument("--image-size", type=int, help="only the --backbone weights for this "
                        "input size (to replace one damaged file)")
    args = parser.parse_args(argv)
    if args.to and (problem := _folder_problem(args.to.expanduser())):
        print(f"error: {problem}", file=sys.stderr)
        return 1
    try:
        cache = assets.keras_cache_dir()   # reads the settings: a bad one is an error line
        if args.source:
            copied = install_bundle(args.source, cache)
            print(f"Installed {len(copied)} file(s) from {args.source} into {cache}.")
            return 0
        to = args.to.expanduser() if args.to else None
        target = to / "keras-cache" if to else cache
        wanted = profile_assets(args.profile, args.backbone, not args.no_data, args.image_size)
        missing = []
        for asset in wanted:
            try:
                fetch_one(asset, target)
            except MissingOfflineError as err:
                if not _cifar10_tree_instead(asset, to):
                    print(f"missing {err}", file=sys.stderr)
                    missing.append(asset)
    except (FetchError, ValueError, OSError, assets.AssetNotAvailableError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if missing:
        print(f"Incomplete: {len(missing)} of {len(wanted)} asset(s) missing "
              f"({', '.join(a.name for a in missing)}); the others are in {target}.",
              file=sys.stderr)
        return 1
    print(f"Done: {len(wanted)} asset(s) in {target}.")
    if args.to:
        print(f"Use it with TL_ASSETS_DIR={args.to} or 'python -m tlhelpers fetch --from {args.to}'.")
    return 0


if __name__ == "__main__":   # python -m tlhelpers.datasets.fetch, the same as python -m tlhelpers fetch
    sys.exit(main())
