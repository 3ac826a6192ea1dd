"""The prefetch command, end to end against a local server serving the real weights
file from ../shared (real bytes, real checksum), and offline from a bundle."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import asset_server
from asset_server import AssetServer
from tlhelpers.storage import assets
from tlhelpers.datasets import fetch

WEIGHTS = "mobilenet_2_5_224_tf_no_top.h5"
#: ../shared, read before the fixture below clears TL_ASSETS_DIR for each test.
SHARED = os.environ.get("TL_ASSETS_DIR", "")


@pytest.fixture(autouse=True)
def online_empty_cache(tmp_path, monkeypatch):
    """Online, no bundle, an empty Keras cache: the download tests reach their server
    (the CI environment sets TL_OFFLINE=1 and TL_ASSETS_DIR; offline tests set them again)."""
    import keras.src.backend.config as keras_config

    for var in ("TL_OFFLINE", "TL_ASSETS_DIR", "TL_CIFAR10_DIR", "TL_MIRROR_URL"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "keras-home"
    home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(home))
    return home


@pytest.fixture
def weights_bytes() -> bytes:
    path = Path(SHARED) / "keras-cache" / "models" / WEIGHTS if SHARED else None
    if path is None or not path.is_file():
        pytest.skip("needs the offline assets: set TL_ASSETS_DIR to ../shared (CI does)")
    return path.read_bytes()


@pytest.fixture
def asset():
    return fetch.weights_asset("mobilenet_025", 96)


def test_profile_assets_name_weights_and_data():
    names = [a.relpath for a in fetch.profile_assets("cpu")]
    assert names[0] == "models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_128_no_top.h5"
    assert "datasets/cifar-10-batches-py-target_archive" in names
    assert fetch.profile_assets("ci")[0].sha256 == assets.KNOWN_SHA256[WEIGHTS]


def test_mirror_rewrites_urls(monkeypatch, asset):
    assert asset.source.startswith("https://storage.googleapis.com/")
    monkeypatch.setenv("TL_MIRROR_URL", "http://127.0.0.1:9/")
    assert asset.source == f"http://127.0.0.1:9/models/{WEIGHTS}"


def test_fetch_downloads_and_verifies(weights_bytes, asset, tmp_path, monkeypatch):
    with AssetServer({f"/models/{WEIGHTS}": weights_bytes}) as server:
        monkeypatch.setenv("TL_MIRROR_URL", server.url)
        path = fetch.fetch_one(asset, tmp_path, progress=False)
        assert path.read_bytes() == weights_bytes
        fetch.fetch_one(asset, tmp_path, progress=False)  # present and valid: no request
        assert len(server.httpd.requests) == 1


def test_interrupted_download_resumes(weights_bytes, asset, tmp_path, monkeypatch):
    with AssetServer({f"/models/{WEIGHTS}": weights_bytes}) as server:
        monkeypatch.setenv("TL_MIRROR_URL", server.url)
        server.httpd.cut_after[f"/models/{WEIGHTS}"] = 500_000
        with pytest.raises(fetch.FetchError, match="again"):
            fetch.fetch_one(asset, tmp_path, progress=False)
        part = tmp_path / "models" / (WEIGHTS + ".part")
        assert part.stat().st_size == 500_000
        path = fetch.fetch_one(asset, tmp_path, progress=False)
        assert path.read_bytes() == weights_bytes and not part.exists()
        assert server.httpd.requests[-1][1] == "bytes=500000-"


def test_server_without_ranges_restarts_cleanly(weights_bytes, asset, tmp_path, monkeypatch):
    with AssetServer({f"/models/{WEIGHTS}": weights_bytes}, ranges=False) as server:
        monkeypatch.setenv("TL_MIRROR_URL", server.url)
        part = tmp_path / "models" / (WEIGHTS + ".part")
        part.parent.mkdir(parents=True)
        part.write_bytes(b"x" * 1000)
        assert fetch.fetch_one(asset, tmp_path, progress=False).read_bytes() == weights_bytes


def test_corrupted_file_is_detected_and_replaced(weights_bytes, asset, tmp_path, monkeypatch, capsys):
    dest = tmp_path / "models" / WEIGHTS
    dest.parent.mkdir(parents=True)
    dest.write_bytes(weights_bytes[:-10] + b"0123456789")
    with AssetServer({f"/models/{WEIGHTS}": weights_bytes}) as server:
        monkeypatch.setenv("TL_MIRROR_URL", server.url)
        fetch.fetch_one(asset, tmp_path, progress=False)
    assert dest.read_bytes() == weights_bytes
    assert "corrupt" in capsys.readouterr().out


def test_corrupted_source_is_refused(weights_bytes, asset, tmp_path, monkeypatch):
    bad = bytearray(weights_bytes)
    bad[1000] ^= 0xFF
    with AssetServer({f"/models/{WEIGHTS}": bytes(bad)}) as server:
        monkeypatch.setenv("TL_MIRROR_URL", server.url)
        with pytest.raises(fetch.FetchError, match="sha256"):
            fetch.fetch_one(asset, tmp_path, progress=False)
    assert not (tmp_path / "models" / WEIGHTS).exists()


def test_unreachable_server_is_explained(asset, tmp_path, monkeypatch):
    monkeypatch.setenv("TL_MIRROR_URL", "http://127.0.0.1:9")
    with pytest.raises(fetch.FetchError, match="Check the network"):
        fetch.fetch_one(asset, tmp_path, progress=False)


def test_command_line_bundle_round_trip(weights_bytes, tmp_path):
    """`fetch --to DIR` writes a bundle; TL_ASSETS_DIR=DIR then loads the real weights offline."""
    with AssetServer({f"/models/{WEIGHTS}": weights_bytes}) as server:
        env = {**os.environ, "TL_MIRROR_URL": server.url, "KERAS_HOME": str(tmp_path / "k1")}
        done = subprocess.run([sys.executable, "-m", "tlhelpers", "fetch", "--profile", "ci",
                               "--no-data", "--to", str(tmp_path / "bundle")],
                              env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "bundle" / "keras-cache" / "models" / WEIGHTS).read_bytes() == weights_bytes
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "k2"), "TL_OFFLINE": "1"}
    env.pop("TL_ASSETS_DIR", None)
    done = subprocess.run([sys.executable, "-m", "tlhelpers", "fetch", "--from",
                           str(tmp_path / "bundle")], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "Installed 1 file" in done.stdout
    assert (tmp_path / "k2" / "models" / WEIGHTS).is_file()


def test_not_a_bundle_is_explained(tmp_path):
    with pytest.raises(fetch.FetchError, match="not a bundle"):
        fetch.install_bundle(tmp_path, tmp_path / "cache")


def test_from_bundle_replaces_a_damaged_file(weights_bytes, tmp_path, capsys):
    """`fetch --from` checks what is already installed: a damaged copy is replaced."""
    bundle = tmp_path / "bundle" / "keras-cache" / "models"
    bundle.mkdir(parents=True)
    (bundle / WEIGHTS).write_bytes(weights_bytes)
    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    (cache / "models" / WEIGHTS).write_bytes(weights_bytes[: len(weights_bytes) // 2])
    assert fetch.install_bundle(tmp_path / "bundle", cache) == [cache / "models" / WEIGHTS]
    assert (cache / "models" / WEIGHTS).read_bytes() == weights_bytes
    assert "replace" in capsys.readouterr().out
    assert fetch.install_bundle(tmp_path / "bundle", cache) == []   # good now: left alone
    # a damaged file in the bundle is not copied over anything
    (bundle / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5").write_bytes(b"<html>")
    assert fetch.install_bundle(tmp_path / "bundle", cache) == []
    assert "skipped" in capsys.readouterr().out


def test_repair_command_fetches_exactly_that_file(weights_bytes, tmp_path, monkeypatch, capsys):
    """The command in a checksum error replaces that very file, and only it."""
    models = tmp_path / "models"
    models.mkdir()
    (models / WEIGHTS).write_bytes(weights_bytes[:-10] + b"0123456789")
    monkeypatch.setattr(assets, "keras_cache_dir", lambda: tmp_path)
    with pytest.raises(assets.AssetNotAvailableError) as info:
        assets.ensure_weights("mobilenet_025", WEIGHTS, "u")
    command = assets.repair_command("mobilenet_025", WEIGHTS)
    assert f"'{command}'" in str(info.value)
    assert command == "python -m tlhelpers fetch --backbone mobilenet_025 --image-size 224 --no-data"
    with AssetServer({f"/models/{WEIGHTS}": weights_bytes}) as server:
        monkeypatch.setenv("TL_MIRROR_URL", server.url)
        assert fetch.main(command.split()[4:]) == 0
        assert [r[0] for r in server.httpd.requests] == [f"/models/{WEIGHTS}"]
    assert (models / WEIGHTS).read_bytes() == weights_bytes
    assert "corrupt" in capsys.readouterr().out


def test_fetch_to_a_path_inside_a_file_is_explained(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("a file")
    assert fetch.main(["--profile", "ci", "--no-data", "--to", str(tmp_path / "notes.txt" / "b")]) == 1
    err = capsys.readouterr().err
    assert "notes.txt is a file, not a folder" in err and "Traceback" not in err


def test_damaged_h5_without_checksum_is_not_taken_as_valid(weights_bytes, tmp_path):
    path = tmp_path / "mobilenet_5_0_224_tf_no_top.h5"   # no checksum known: HDF5 read
    path.write_bytes(weights_bytes[: len(weights_bytes) // 3])
    assert "is damaged (truncated file" in fetch.check_file(path)
    path.write_bytes(weights_bytes)
    assert fetch.check_file(path) is None


def _offline_bundle(tmp_path, monkeypatch, weights: bytes | None, cifar_tree: bool) -> Path:
    """A bundle laid out like ../shared in tmp_path; offline, with a mirror that refuses
    connections (any download attempt would fail loudly)."""
    bundle = tmp_path / "bundle"
    (bundle / "keras-cache" / "models").mkdir(parents=True)
    if weights is not None:
        (bundle / "keras-cache" / "models" / WEIGHTS).write_bytes(weights)
    if cifar_tree:
        for split in ("train", "test"):
            folder = bundle / "data" / "cifar10-small" / split / "airplane"
            folder.mkdir(parents=True)
            (folder / "0000.jpg").write_bytes(b"jpeg")
    monkeypatch.setenv("TL_ASSETS_DIR", str(bundle))
    monkeypatch.setenv("TL_OFFLINE", "1")
    monkeypatch.setenv("TL_MIRROR_URL", "http://127.0.0.1:9")
    return bundle


def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("fetch tried the network while offline")
    monkeypatch.setattr(fetch.urllib.request, "urlopen", refuse)


def test_offline_fetch_to_copies_from_the_bundle(weights_bytes, tmp_path, monkeypatch, capsys):
    """Offline `fetch --profile ci --to DIR`: weights copied from TL_ASSETS_DIR and checked,
    CIFAR-10 provided by the bundle's folder tree (also copied), no network, exit code 0."""
    bundle = _offline_bundle(tmp_path, monkeypatch, weights_bytes, cifar_tree=True)
    _no_network(monkeypatch)
    out_dir = tmp_path / "usb"
    assert fetch.main(["--profile", "ci", "--to", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert (out_dir / "keras-cache" / "models" / WEIGHTS).read_bytes() == weights_bytes
    assert f"copied  mobilenet_025 weights (96 px) from {bundle}" in out
    assert "provides CIFAR-10 as a folder tree" in out and "reads directly" in out
    assert (out_dir / "data" / "cifar10-small" / "train" / "airplane" / "0000.jpg").is_file()
    assert "Done: 2 asset(s)" in out
    assert fetch.main(["--profile", "ci", "--to", str(out_dir)]) == 0   # again: already there
    assert "ok      mobilenet_025" in capsys.readouterr().out


def test_offline_fetch_subprocess_never_touches_the_network(weights_bytes, tmp_path, monkeypatch):
    """The command as a learner types it, against a refusing mirror: the file comes from
    the bundle, byte for byte."""
    _offline_bundle(tmp_path, monkeypatch, weights_bytes, cifar_tree=False)
    done = subprocess.run([sys.executable, "-m", "tlhelpers", "fetch", "--profile", "ci",
                           "--no-data", "--to", str(tmp_path / "usb")], env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "127.0.0.1:9" not in done.stdout + done.stderr
    assert (tmp_path / "usb" / "keras-cache" / "models" / WEIGHTS).read_bytes() == weights_bytes


def test_offline_fetch_takes_a_file_from_the_keras_cache(weights_bytes, tmp_path, monkeypatch,
                                                          online_empty_cache):
    """No bundle at all: a file already in the Keras cache is copied into the --to bundle."""
    _offline_bundle(tmp_path, monkeypatch, None, cifar_tree=False)
    monkeypatch.delenv("TL_ASSETS_DIR")
    _no_network(monkeypatch)
    (online_empty_cache / "models").mkdir()
    (online_empty_cache / "models" / WEIGHTS).write_bytes(weights_bytes)
    assert fetch.main(["--profile", "ci", "--no-data", "--to", str(tmp_path / "usb")]) == 0
    assert (tmp_path / "usb" / "keras-cache" / "models" / WEIGHTS).read_bytes() == weights_bytes


def test_offline_fetch_names_what_is_missing(tmp_path, monkeypatch, capsys):
    """Found nowhere locally: one line per file, saying what to do; exit code 1; no network."""
    _offline_bundle(tmp_path, monkeypatch, None, cifar_tree=False)
    _no_network(monkeypatch)
    assert fetch.main(["--profile", "ci", "--to", str(tmp_path / "usb")]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("missing ")]
    assert len(lines) == 2, err   # the weights, and CIFAR-10 (no archive, no folder tree)
    assert f"models/{WEIGHTS} is not in the bundle" in lines[0]
    assert "Run the same command with internet access, or point TL_ASSETS_DIR at a bundle" in lines[0]
    assert "cifar-10-batches-py-target_archive" in lines[1]
    assert "Incomplete: 2 of 2 asset(s) missing" in err and "Traceback" not in err


def test_offline_damaged_bundle_file_is_not_copied(weights_bytes, tmp_path, monkeypatch, capsys):
    _offline_bundle(tmp_path, monkeypatch, weights_bytes[:-10] + b"0123456789", cifar_tree=True)
    _no_network(monkeypatch)
    assert fetch.main(["--profile", "ci", "--to", str(tmp_path / "usb")]) == 1
    captured = capsys.readouterr()
    assert "skipped" in captured.out and "sha256" in captured.out
    assert "missing mobilenet_025 weights" in captured.err
    assert not (tmp_path / "usb" / "keras-cache" / "models" / WEIGHTS).exists()


def test_online_fetch_prefers_the_bundle(weights_bytes, tmp_path, monkeypatch):
    """Online with a bundle: the bundle's good copy is used, the server is not asked."""
    _offline_bundle(tmp_path, monkeypatch, weights_bytes, cifar_tree=False)
    monkeypatch.delenv("TL_OFFLINE")
    with AssetServer({f"/models/{WEIGHTS}": weights_bytes}) as server:
        monkeypatch.setenv("TL_MIRROR_URL", server.url)
        path = fetch.fetch_one(fetch.weights_asset("mobilenet_025", 96), tmp_path / "c", False)
        assert server.httpd.requests == []
    assert path.read_bytes() == weights_bytes


# ---- issue 28, class 10: a complete .part and a server that answers 416 ----------------------

DATA = bytes(range(256)) * 40   # a small file with a known checksum: no offline assets needed


class _Handler416(asset_server._Handler):
    """As the asset server, but a Range from the end of the file or past it gets 416, as real
    servers answer, with ``Content-Range: bytes */N`` unless ``server.content_range`` is False."""

    def do_GET(self):
        data, wanted = self.server.files.get(self.path), self.headers.get("Range")
        if data is None or not wanted or int(wanted.split("=")[1].split("-")[0]) < len(data):
            return super().do_GET()
        self.server.requests.append((self.path, wanted))
        self.send_response(416)
        if self.server.content_range:
            self.send_header("Content-Range", f"bytes */{len(data)}")
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.mark.parametrize("content_range", [True, False], ids=["content-range", "no-header"])
@pytest.mark.parametrize("left, fresh", [(DATA, False),                    # complete: finished
                                         (DATA[:-1] + b"!", True),         # same size, damaged
                                         (DATA + b"more", True)],          # longer than the file
                         ids=["complete", "damaged", "too-long"])
def test_a_part_answered_with_416_is_finished_or_fetched_again_once(left, fresh, content_range,
                                                                    tmp_path, monkeypatch):
    import hashlib

    part = tmp_path / "models" / "test.bin.part"
    part.parent.mkdir()
    part.write_bytes(left)
    asset = fetch.Asset("test file", "http://unused.invalid/", "models/test.bin",
                        sha256=hashlib.sha256(DATA).hexdigest())
    server = AssetServer({"/models/test.bin": DATA})
    server.httpd.RequestHandlerClass = _Handler416
    server.httpd.content_range = content_range
    with server:
        monkeypatch.setenv("TL_MIRROR_URL", server.url)
        path = fetch.fetch_one(asset, tmp_path, progress=False)   # the old code: "run again"
        ranges = [r[1] for r in server.httpd.requests]
    assert path.read_bytes() == DATA and not part.exists()
    assert ranges == [f"bytes={len(left)}-"] + ([None] if fresh else [])
