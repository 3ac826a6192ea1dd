import numpy as np
import keras
import pytest

from tlhelpers.transfer import backbones, devices, heads, models, pipeline, training


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path))
    training.set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)
    y = np.arange(24) % 3
    base = backbones.load_backbone("mobilenet_025", 32, weights=None)
    ds = pipeline.make_dataset(x, y, 32, "mobilenet_025", batch_size=8)
    return base, ds, y


def test_features_are_cached_and_reloaded(tiny, capsys):
    base, ds, y = tiny
    key = training.feature_cache_key("mobilenet_025", None, 32, "train", 24)
    f1, l1 = training.extract_features(base, ds, cache_key=key, verbose=False)
    assert f1.shape == (24, 256) and np.array_equal(l1, y)
    f2, _ = training.extract_features(base, ds, cache_key=key)
    assert "Loaded cached features" in capsys.readouterr().out
    assert np.array_equal(f1, f2)


def test_head_trained_on_features_stacks_on_the_base(tiny):
    base, ds, y = tiny
    feats, labels = training.extract_features(base, ds, verbose=False)
    head = models.make_head(feats.shape[1], 3, units=(8,))
    training.compile_model(head, 1e-2, verbose=False)
    training.fit(head, (feats, labels), epochs=1, verbose=False)
    model = models.transfer_classifier(base, head=head)
    probs, truth = training.predict_dataset(model, ds)
    assert np.array_equal(truth, y)
    np.testing.assert_allclose(probs, head.predict(feats, verbose=0), rtol=1e-4, atol=1e-5)


def test_two_phase_history_records_the_boundary(tiny, capsys):
    base, ds, y = tiny
    feats, labels = training.extract_features(base, ds, verbose=False)
    model = models.transfer_classifier(base, 3, units=(8,))
    history = training.fit_two_phase(model, ds, ds, head_epochs=2, fine_tune_epochs=1,
                                     unfreeze_last=5, cached_features=(feats, labels, feats, labels))
    assert history["fine_tune_start"] == 2 and len(history["accuracy"]) == 3
    assert len(history["val_accuracy"]) == 3
    out = capsys.readouterr().out
    assert "learning rate 0.001" in out and "learning rate 0.0001" in out
    assert "epoch   3" in out


def test_end_to_end_two_phase_without_cache(tiny):
    base, ds, _ = tiny
    model = models.transfer_classifier(base, 3, units=(8,))
    history = training.fit_two_phase(model, ds, None, 1, 1, fine_tune_learning_rate=1e-5,
                                     unfreeze_last=3, verbose=False)
    assert history["fine_tune_start"] == 1 and len(history["loss"]) == 2


def test_seed_makes_training_repeatable(tiny):
    base, ds, y = tiny
    feats, labels = training.extract_features(base, ds, verbose=False)
    losses = []
    for _ in range(2):
        training.set_seed(7)
        head = models.make_head(feats.shape[1], 3, units=(8,))
        training.compile_model(head, verbose=False)
        losses.append(training.fit(head, (feats, labels), epochs=2, verbose=False)["loss"])
    assert losses[0] == losses[1]


def test_strategy_on_this_machine_is_the_default():
    import tensorflow as tf

    assert devices.strategy().num_replicas_in_sync == 1
    assert isinstance(devices.strategy(), tf.distribute.Strategy)


def test_cache_key_names_everything():
    key = training.feature_cache_key("vgg16", "imagenet", 128, "test", 1000, 1, preprocess="mobilenet_v2")
    assert key == "vgg16-imagenet-128px-test-1000-seed1-pre_mobilenet_v2"


def test_saved_head_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path))
    head = models.make_head(4, 2, units=(3,))
    heads.save_head(head, "demo")
    other = models.make_head(4, 2, units=(3,))
    assert heads.load_head(other, "demo")
    for a, b in zip(head.get_weights(), other.get_weights()):
        assert np.array_equal(a, b)
    assert not heads.load_head(other, "missing")


def test_labels_are_checked_against_the_number_of_classes(capsys):
    training.check_labels(np.array([[0], [1], [2]]), 3)            # (N, 1) is accepted
    training.check_labels(np.array([0.0, 1.0, 2.0]), 3)            # whole floats too
    with pytest.raises(ValueError, match=r"run from 0 to 9, but the model predicts 5 classes.*\(10 if"):
        training.check_labels(np.arange(10), 5, "training labels")
    with pytest.raises(ValueError, match="argmax"):
        training.check_labels(np.eye(3), 3)                         # one-hot
    with pytest.raises(ValueError, match="whole class indices"):
        training.check_labels(np.array([0.5, 1.0]), 3)
    with pytest.raises(ValueError, match="run from -1"):
        training.check_labels(np.array([-1, 0]), 3)
    training.check_labels(np.array([0, 1]), 3, "training labels")
    assert "use only 2 of the model's 3 classes" in capsys.readouterr().out


def test_fit_refuses_labels_the_model_cannot_predict(tiny):
    base, ds, y = tiny
    feats, labels = training.extract_features(base, ds, verbose=False)
    head = models.make_head(feats.shape[1], 2, units=(4,))           # 2 classes, data has 3
    training.compile_model(head, verbose=False)
    with pytest.raises(ValueError, match="model predicts 2 classes"):
        training.fit(head, (feats, labels), epochs=1, verbose=False)
    model = models.transfer_classifier(base, 2)
    training.compile_model(model, verbose=False)
    with pytest.raises(ValueError, match="training labels run from 0 to 2"):   # a pipeline dataset
        training.fit(model, ds, epochs=1, verbose=False)
    unlabelled = ds.map(lambda x, y: (x, y))                             # labels not attached
    with pytest.raises(ValueError, match="does not fit the model's 2 classes"):
        training.fit(model, unlabelled, epochs=1, verbose=False)


def test_saved_head_survives_damage_and_other_shapes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path))
    head = models.make_head(4, 2, units=(3,))
    path = heads.save_head(head, "demo")
    assert not list(path.parent.glob("*.tmp"))          # written atomically: no leftovers
    path.write_bytes(path.read_bytes()[:40])            # a truncated file
    assert not heads.load_head(models.make_head(4, 2, units=(3,)), "demo")
    assert "could not be read" in capsys.readouterr().out
    heads.save_head(models.make_head(4, 2, units=(5,)), "demo")
    assert not heads.load_head(models.make_head(4, 2, units=(3,)), "demo")
    assert "other shapes" in capsys.readouterr().out


def test_a_plain_sequential_head_loads_the_packaged_heads_weights(tmp_path, monkeypatch):
    # notebook 03 writes the head as keras.Sequential; notebook 04 may rebuild it with make_head
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path))
    plain = keras.Sequential([keras.Input(shape=(8,)), keras.layers.BatchNormalization(),
                              keras.layers.Dense(4, activation="relu"), keras.layers.Dropout(0.5),
                              keras.layers.Dense(3, activation="softmax")])
    heads.save_head(plain, "plain")
    packaged = models.make_head(8, 3, units=(4,), batchnorm=True)
    assert heads.load_head(packaged, "plain")
    for a, b in zip(plain.get_weights(), packaged.get_weights()):
        assert np.array_equal(a, b)
