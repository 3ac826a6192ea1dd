"""The prefetch command, end to end against a local server serving the real weights
file from ../shared (real bytes, real checksum)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from asset_server import AssetServer
from tlhelpers import assets, fetch

WEIGHTS = "mobilenet_2_5_224_tf_no_top.h5"


@pytest.fixture
def weights_bytes(shared_assets) -> bytes:
    return (shared_assets / "keras-cache" / "models" / WEIGHTS).read_bytes()


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
