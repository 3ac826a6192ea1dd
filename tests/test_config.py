import pytest

from tlhelpers.settings import config


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


# ---- issue 28, class 13: settings that used to pass unchecked or end in a traceback ----------

@pytest.mark.parametrize("value", ["-100", "0", "inf", "nan", "-inf", "lots"])
def test_memory_available_must_be_a_positive_finite_number(value):
    with pytest.raises(ValueError, match=r"TL_MEMORY_AVAILABLE_MB=.* set a positive, finite number"):
        config.settings(env={"TL_MEMORY_AVAILABLE_MB": value})
    assert config.settings(env={"TL_MEMORY_AVAILABLE_MB": "1500.5"}).memory_available_mb == 1500.5


def test_keras_home_that_is_a_file_is_explained(tmp_path):
    (tmp_path / "notes.txt").write_text("a file")
    with pytest.raises(ValueError, match=r"notes.txt' is a file, not a folder\. Point KERAS_HOME"):
        config.settings(env={"KERAS_HOME": str(tmp_path / "notes.txt")})
    assert config.settings(env={"KERAS_HOME": str(tmp_path / "new")}).keras_home == tmp_path / "new"
    # under a file, Keras falls back to /tmp/.keras and so does the course (tests/test_assets.py)
    under = tmp_path / "notes.txt" / "keras"
    assert config.settings(env={"KERAS_HOME": str(under)}).keras_home == under


@pytest.mark.parametrize("value", ["127.0.0.1:8000", "localhost:8000/keras-cache", "mirror.lan",
                                   "http:/no-host", "ftp://host/x"])
def test_mirror_url_without_a_scheme_is_explained(value):
    with pytest.raises(ValueError, match=r"TL_MIRROR_URL=.* is not a full address: start it with http://"):
        config.settings(env={"TL_MIRROR_URL": value})
    ok = config.settings(env={"TL_MIRROR_URL": "http://127.0.0.1:8000/"}).mirror_url
    assert ok == "http://127.0.0.1:8000"


def test_bad_settings_reach_the_fetch_command_as_one_line(tmp_path, monkeypatch, capsys):
    """The command a learner types: one `error:` line, no traceback."""
    from tlhelpers.datasets import fetch

    monkeypatch.setenv("TL_MIRROR_URL", "127.0.0.1:8000")
    monkeypatch.delenv("TL_OFFLINE", raising=False)
    monkeypatch.delenv("TL_ASSETS_DIR", raising=False)
    assert fetch.main(["--profile", "ci", "--no-data", "--to", str(tmp_path / "usb")]) == 1
    assert "error: TL_MIRROR_URL='127.0.0.1:8000' is not a full address" in capsys.readouterr().err


@pytest.mark.parametrize("value, shown", [("0", False), ("false", False), ("No", False), (" off ", False),
                                          ("", True), ("1", True), ("yes", True)])
def test_widgets_setting_reads_the_same_words_as_offline(value, shown):
    """Issue 29: TL_WIDGETS=false/no/off turn widgets off like 0 (TL_OFFLINE reads the same words)."""
    assert config.settings(env={"TL_WIDGETS": value}).widgets is shown


def test_a_setting_equal_to_the_profiles_own_is_not_called_overridden():
    """Issue 29: TL_BACKBONE=mobilenet_025 in ci (its own backbone) printed "(overridden: backbone)"."""
    same = config.get_profile("ci", env={"TL_BACKBONE": config.PROFILES["ci"].backbone})
    assert same.overrides == () and "overridden" not in same.describe()
    other = config.get_profile("ci", env={"TL_BACKBONE": "mobilenet_v2"})
    assert other.overrides == ("backbone",) and "(overridden: backbone)" in other.describe()
