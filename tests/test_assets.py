import os
import shutil

import h5py
import numpy as np
import pytest

from tlhelpers.storage import assets
from tlhelpers.transfer import backbones


def test_prefetch_command_is_named():
    assert assets.PREFETCH_COMMAND.format(profile="cpu") == "python -m tlhelpers fetch --profile cpu"


def test_missing_weights_offline_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("TL_OFFLINE", "1")
    monkeypatch.delenv("TL_ASSETS_DIR", raising=False)
    monkeypatch.setattr(assets, "keras_cache_dir", lambda: tmp_path)
    with pytest.raises(assets.AssetNotAvailableError) as info:
        backbones.load_backbone("mobilenet_v2", 128)
    text = str(info.value)
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_128_no_top.h5" in text
    assert "https://storage.googleapis.com/" in text
    assert "python -m tlhelpers fetch" in text


def test_failed_download_is_explained_not_a_socket_traceback():
    with pytest.raises(assets.AssetNotAvailableError, match="download failed"):
        with assets.download_or_explain(assets.missing_message("vgg16", "x.h5", "https://example.invalid/x.h5")):
            raise Exception("URL fetch failure on https://example.invalid/x.h5: None -- [Errno -2]")


def test_other_errors_pass_through():
    with pytest.raises(KeyError):
        with assets.download_or_explain("x.h5"):
            raise KeyError("unrelated")


def test_bundle_weights_are_copied_into_the_keras_cache(shared_assets, monkeypatch, tmp_path):
    monkeypatch.setattr(assets, "keras_cache_dir", lambda: tmp_path)
    path = assets.ensure_weights("mobilenet_025", "mobilenet_2_5_224_tf_no_top.h5", "u")
    assert path == tmp_path / "models" / "mobilenet_2_5_224_tf_no_top.h5"
    assert assets.sha256_of(path) == assets.KNOWN_SHA256[path.name]


def test_corrupted_cached_weights_are_detected(shared_assets, monkeypatch, tmp_path):
    monkeypatch.setattr(assets, "keras_cache_dir", lambda: tmp_path)
    (tmp_path / "models").mkdir()
    src = shared_assets / "keras-cache" / "models" / "mobilenet_2_5_224_tf_no_top.h5"
    data = src.read_bytes()
    (tmp_path / "models" / src.name).write_bytes(data[: len(data) // 2])
    with pytest.raises(assets.AssetNotAvailableError, match="corrupted") as info:
        assets.ensure_weights("mobilenet_025", src.name, "u")
    # the command that fetches that very file (its backbone and size), not a profile's
    command = "python -m tlhelpers fetch --backbone mobilenet_025 --image-size 224 --no-data"
    assert f"'{command}'" in str(info.value)


def test_real_imagenet_weights_load_offline(shared_assets):
    pretrained = backbones.load_backbone("mobilenet_025", 96)
    again = backbones.load_backbone("mobilenet_025", 96)
    fresh = backbones.load_backbone("mobilenet_025", 96, weights=None)
    k1, k2, k0 = (np.asarray(m.get_layer("conv1").kernel) for m in (pretrained, again, fresh))
    assert np.array_equal(k1, k2)
    assert not np.allclose(k1, k0)


def test_course_cache_falls_back_when_not_writable(monkeypatch, tmp_path, capsys):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("TL_CACHE_DIR", str(blocked / "sub"))
    path = assets.course_cache_dir("features")
    assert path.is_dir() and "tlhelpers-cache" in str(path)
    if hasattr(os, "getuid"):   # one fallback per user: never a folder another user owns
        assert path.parent.name == f"tlhelpers-cache-{os.getuid()}"
    assert "cannot write" in capsys.readouterr().out


def test_bad_bundle_path_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("TL_ASSETS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(assets.AssetNotAvailableError, match="is not a folder"):
        assets.assets_dir()


def test_truncated_weights_without_a_known_checksum_are_detected(shared_assets, monkeypatch, tmp_path):
    """vgg16's checksum is not recorded: opening the HDF5 file detects the truncation."""
    monkeypatch.setattr(assets, "keras_cache_dir", lambda: tmp_path)
    (tmp_path / "models").mkdir()
    data = (shared_assets / "keras-cache" / "models" / "mobilenet_2_5_224_tf_no_top.h5").read_bytes()
    fname, url = backbones.get_spec("vgg16").weights_file(224)
    assert fname not in assets.KNOWN_SHA256
    (tmp_path / "models" / fname).write_bytes(data[: len(data) // 3])
    with pytest.raises(assets.AssetNotAvailableError, match=r"unreadable \(truncated file.*"
                       r"python -m tlhelpers fetch --backbone vgg16"):
        backbones.load_backbone("vgg16", 64)


def test_a_web_page_saved_as_weights_is_detected(monkeypatch, tmp_path):
    monkeypatch.setattr(assets, "keras_cache_dir", lambda: tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "resnet.h5").write_text("<html>Service unavailable</html>")
    with pytest.raises(assets.AssetNotAvailableError, match="file signature not found"):
        assets.ensure_weights("resnet50", "resnet.h5", "u")


def test_unwritable_keras_cache_falls_back_like_keras(shared_assets, monkeypatch, tmp_path, capsys):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("KERAS_HOME", str(blocked / "keras"))
    monkeypatch.setattr(assets, "_NOTICED", set())
    path = assets.keras_cache_dir()
    assert path.name == ".keras" and "cannot write to the Keras cache" in capsys.readouterr().out
    assert assets.keras_cache_dir() == path and capsys.readouterr().out == ""   # the notice once
    monkeypatch.setattr(assets, "keras_cache_dir", lambda: tmp_path / "fallback")
    got = assets.ensure_weights("mobilenet_025", "mobilenet_2_5_224_tf_no_top.h5", "u")
    assert got == tmp_path / "fallback" / "models" / "mobilenet_2_5_224_tf_no_top.h5"


def test_damaged_h5_header_is_one_clear_sentence(shared_assets, monkeypatch, tmp_path):
    """A damaged object header opens fine in h5py, then Keras fails with KeyError 'bad object
    header version number': every header is read first, and the error says what to do."""
    monkeypatch.setattr(assets, "keras_cache_dir", lambda: tmp_path)
    (tmp_path / "models").mkdir()
    src = shared_assets / "keras-cache" / "models" / "mobilenet_2_5_224_tf_no_top.h5"
    data = bytearray(src.read_bytes())
    with h5py.File(src, "r") as handle:   # the first dataset's object header
        name = next(n for n in _datasets(handle))
        address = h5py.h5o.get_info(handle[name].id).addr
    data[address] = 7   # an unknown header version
    fname, _ = backbones.get_spec("vgg16").weights_file(224)   # a file without a known checksum
    (tmp_path / "models" / fname).write_bytes(bytes(data))
    with pytest.raises(assets.AssetNotAvailableError) as info:
        backbones.load_backbone("vgg16", 64)
    text = str(info.value)
    assert str(tmp_path / "models" / fname) in text and "bad object header version number" in text
    assert "'python -m tlhelpers fetch --backbone vgg16 --image-size 224 --no-data'" in text


def _datasets(handle):
    found = []
    handle.visititems(lambda n, o: found.append(n) if isinstance(o, h5py.Dataset) else None)
    return found
