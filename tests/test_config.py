import pytest

from tlhelpers import config


def test_named_profiles_have_the_documented_sizes():
    full, cpu, ci = (config.get_profile(n, env={}) for n in ("full", "cpu", "ci"))
    assert (full.backbone, full.image_size, full.train_size, full.test_size, full.epochs) == (
        "mobilenet_v2", 224, 5000, 1000, 5)
    assert (cpu.backbone, cpu.train_size, cpu.test_size) == ("mobilenet_v2", 5000, 1000)
    assert 96 <= cpu.image_size <= 160
    assert (ci.backbone, ci.image_size) == ("mobilenet_025", 96)
    assert ci.train_size <= 1000 and ci.epochs == 15 and ci.head_epochs == 10
    assert (cpu.head_epochs, full.head_epochs) == (5, 5)   # the original lesson's 5 epochs


def test_environment_chooses_and_overrides():
    p = config.get_profile(env={"TL_PROFILE": "ci", "TL_EPOCHS": "1", "TL_BACKBONE": "vgg16",
                                "TL_IMAGE_SIZE": "64", "TL_TRAIN_PER_CLASS": "7"})
    assert (p.name, p.epochs, p.backbone, p.image_size, p.train_per_class) == (
        "ci", 1, "vgg16", 64, 7)
    assert set(p.overrides) == {"epochs", "backbone", "image_size", "train_per_class"}
    assert "overridden" in p.describe()


def test_auto_detection(monkeypatch):
    monkeypatch.setattr(config, "_gpu_available", lambda: True)
    assert config.get_profile(env={}).name == "full"
    monkeypatch.setattr(config, "_gpu_available", lambda: False)
    assert config.get_profile(env={}).name == "cpu"


@pytest.mark.parametrize("env, message", [
    ({"TL_PROFILE": "huge"}, "Choose one of full, cpu, ci"),
    ({"TL_EPOCHS": "five"}, "not a whole number"),
    ({"TL_IMAGE_SIZE": "8"}, "out of range"),
    ({"TL_BACKBONE": "alexnet"}, "Known backbones"),
])
def test_bad_settings_are_explained(env, message):
    with pytest.raises(ValueError, match=message):
        config.get_profile(env={"TL_PROFILE": "ci", **env} if "TL_PROFILE" not in env else env)


def test_describe_names_everything():
    text = config.get_profile("ci", env={}).describe()
    for word in ("profile", "backbone", "96x96", "train", "test", "epochs"):
        assert word in text


def test_weights_setting_is_part_of_the_profile():
    assert config.get_profile("ci", env={}).weights == "imagenet"
    timing = config.get_profile("cpu", env={"TL_WEIGHTS": "random"})
    assert timing.weights is None and "TL_WEIGHTS=random" in timing.describe()
    with pytest.raises(ValueError, match="use 'imagenet'"):
        config.get_profile("ci", env={"TL_WEIGHTS": "noise"})


def test_head_epochs_can_be_overridden():
    assert config.get_profile("cpu", env={"TL_HEAD_EPOCHS": "12"}).head_epochs == 12
    with pytest.raises(ValueError, match="TL_HEAD_EPOCHS"):
        config.get_profile("cpu", env={"TL_HEAD_EPOCHS": "many"})
