import numpy as np
import pytest

from tlhelpers.transfer import backbones


def test_registry_covers_the_course_backbones():
    for name in ("mobilenet_v2", "mobilenet_025", "mobilenet_100", "vgg16", "resnet50",
                 "efficientnet_b0"):
        spec = backbones.get_spec(name)
        assert spec.native_size == 224 and spec.description


def test_unknown_backbone_lists_known_ones():
    with pytest.raises(ValueError, match="Known backbones: mobilenet_v2"):
        backbones.get_spec("alexnet")


def test_weights_file_names_match_keras():
    assert backbones.get_spec("mobilenet_025").weights_file(96)[0] == "mobilenet_2_5_224_tf_no_top.h5"
    assert backbones.get_spec("mobilenet_025").weights_file(128)[0] == "mobilenet_2_5_128_tf_no_top.h5"
    name, url = backbones.get_spec("mobilenet_v2").weights_file(128)
    assert name == "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_128_no_top.h5"
    assert url.endswith("/mobilenet_v2/" + name)
    assert backbones.get_spec("vgg16").weights_file(96)[0].startswith("vgg16_weights")


def test_too_small_image_is_refused():
    with pytest.raises(ValueError, match="at least 32 px"):
        backbones.check_image_size("mobilenet_v2", 16)


def test_random_backbone_shapes():
    base = backbones.load_backbone("mobilenet_025", 96, weights=None)
    assert base.output_shape == (None, 3, 3, 256)
    assert not base.trainable


@pytest.mark.parametrize("name, low, high", [
    ("mobilenet_v2", -1.0, 1.0),
    ("mobilenet_025", -1.0, 1.0),
    ("vgg16", -123.68, 255 - 103.939),   # BGR, ImageNet means subtracted
    ("resnet50", -123.68, 255 - 103.939),
    ("efficientnet_b0", 0.0, 255.0),     # rescaling is inside the model
])
def test_each_family_has_its_own_preprocessing(name, low, high):
    pixels = np.array([[[[0.0, 0.0, 0.0], [255.0, 255.0, 255.0]]]], np.float32)
    out = np.asarray(backbones.get_spec(name).preprocess(pixels.copy()))
    assert out.min() == pytest.approx(low, abs=1e-3)
    assert out.max() == pytest.approx(high, abs=1e-3)


def test_offline_other_size_uses_native_weights_with_a_notice(shared_assets, capsys):
    native = backbones.load_backbone("mobilenet_025", 96)       # the 224-px file
    other = backbones.load_backbone("mobilenet_025", 128)       # its 128-px file is not offline
    assert "using its 224-px weights" in capsys.readouterr().out
    assert np.array_equal(np.asarray(native.get_layer("conv1").kernel),
                          np.asarray(other.get_layer("conv1").kernel))
    assert other.input_shape == (None, 128, 128, 3)


def test_random_weights_override_for_timing(monkeypatch):
    monkeypatch.setenv("TL_WEIGHTS", "random")
    monkeypatch.setenv("TL_OFFLINE", "1")
    base = backbones.load_backbone("mobilenet_v2", 96)   # no weights file needed
    assert base.output_shape == (None, 3, 3, 1280)
    monkeypatch.setenv("TL_WEIGHTS", "noise")
    with pytest.raises(ValueError, match="use 'imagenet'"):
        backbones.load_backbone("mobilenet_v2", 96)


def test_non_square_and_non_integer_sizes_are_explained():
    with pytest.raises(ValueError, match=r"square images: pass one number.*not \(96, 128\)"):
        backbones.check_image_size("mobilenet_v2", (96, 128))
    with pytest.raises(ValueError, match="at least 32 px"):
        backbones.check_image_size("mobilenet_v2", 96.5)
    backbones.check_image_size("mobilenet_v2", np.int64(96))   # a NumPy integer is fine


def test_prepare_weights_lets_the_plain_keras_call_load_offline(shared_assets, tmp_path, monkeypatch):
    import keras

    from tlhelpers.storage import assets

    monkeypatch.setenv("TL_OFFLINE", "1")   # Keras fixed its home (KERAS_HOME) at import
    weights = backbones.prepare_weights("mobilenet_025", 96)
    assert weights == "imagenet"
    assert (assets.keras_cache_dir() / "models" / "mobilenet_2_5_224_tf_no_top.h5").is_file()
    base = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=weights,
                                        input_shape=(96, 96, 3))   # notebook 03's cell
    reference = backbones.load_backbone("mobilenet_025", 96)
    assert np.array_equal(np.asarray(base.get_layer("conv1").kernel),
                          np.asarray(reference.get_layer("conv1").kernel))


def test_prepare_weights_offline_falls_back_to_the_native_file(shared_assets, monkeypatch, capsys):
    import keras

    monkeypatch.setenv("TL_OFFLINE", "1")
    weights = backbones.prepare_weights("mobilenet_025", 128)   # only the 224-px file is offline
    assert weights.endswith("mobilenet_2_5_224_tf_no_top.h5")
    assert "using its 224-px weights" in capsys.readouterr().out
    base = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=weights,
                                        input_shape=(128, 128, 3))
    reference = backbones.load_backbone("mobilenet_025", 96)
    assert np.array_equal(np.asarray(base.get_layer("conv1").kernel),
                          np.asarray(reference.get_layer("conv1").kernel))


def test_prepare_weights_offline_and_missing_names_the_prefetch(tmp_path, monkeypatch):
    from tlhelpers.storage.assets import AssetNotAvailableError

    monkeypatch.setenv("TL_OFFLINE", "1")
    monkeypatch.delenv("TL_ASSETS_DIR", raising=False)
    with pytest.raises(AssetNotAvailableError, match="tlhelpers fetch"):
        backbones.prepare_weights("vgg16", 224)
    monkeypatch.setenv("TL_WEIGHTS", "random")
    assert backbones.prepare_weights("vgg16", 224) is None   # timing runs need no file


def test_prepare_weights_online_downloads_through_fetch(tmp_path, monkeypatch):
    from asset_server import AssetServer

    fname = backbones.get_spec("mobilenet_050").weights_file(128)[0]   # no published checksum
    import h5py

    with h5py.File(tmp_path / "small.h5", "w") as f:   # a real, tiny HDF5 file to serve
        f.create_dataset("w", data=np.arange(10.0))
    body = (tmp_path / "small.h5").read_bytes()
    from tlhelpers.storage import assets

    target = assets.keras_cache_dir() / "models" / fname
    if target.exists():
        pytest.skip(f"{target} is already cached here")
    monkeypatch.delenv("TL_OFFLINE", raising=False)
    monkeypatch.delenv("TL_ASSETS_DIR", raising=False)
    try:
        with AssetServer({f"/models/{fname}": body}) as server:
            monkeypatch.setenv("TL_MIRROR_URL", server.url)
            weights = backbones.prepare_weights("mobilenet_050", 128)
        assert weights == "imagenet" and target.read_bytes() == body
    finally:
        target.unlink(missing_ok=True)   # a fake file must not stay where Keras looks


#: Keras's text of the same warning for MobileNetV2 and MobileNetV3 (keras/src/applications).
_V2_V3_MESSAGES = (
    "`input_shape` is undefined or non-square, or `rows` is not in [96, 128, 160, 192, 224]. "
    "Weights for input shape (224, 224) will be loaded as the default.",
    "`input_shape` is undefined or non-square, or `rows` is not 224. "
    "Weights for input shape (224, 224) will be loaded as the default.",
)


def test_native_weights_warning_pattern_matches_what_keras_says(shared_assets, monkeypatch):
    import re
    import warnings

    import keras

    monkeypatch.setenv("TL_OFFLINE", "1")
    weights = backbones.prepare_weights("mobilenet_025", 96)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        keras.applications.MobileNet(alpha=0.25, include_top=False, weights=weights,
                                     input_shape=(96, 96, 3))   # notebook 03's plain call
    said = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert any(re.match(backbones.NATIVE_WEIGHTS_WARNING, m, re.I) for m in said), said
    assert all(re.match(backbones.NATIVE_WEIGHTS_WARNING, m, re.I) for m in _V2_V3_MESSAGES)
    assert not re.match(backbones.NATIVE_WEIGHTS_WARNING, "Weights for input shape (224, 224) are odd")


def test_backbone_is_named_for_its_input_size_without_a_warning(shared_assets, monkeypatch):
    import warnings

    monkeypatch.setenv("TL_OFFLINE", "1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        base = backbones.load_backbone("mobilenet_025", 96)   # loads the 224-px file
    assert base.name == "mobilenet_0.25_96"                   # Keras alone says mobilenet_0.25_224
    assert [str(w.message) for w in caught if "224" in str(w.message)] == []
    assert backbones.load_backbone("mobilenet_v2", 100, weights=None).name == "mobilenetv2_1.00_100"
    assert backbones.load_backbone("mobilenet_100", 160, weights=None).name == "mobilenet_1.00_160"
