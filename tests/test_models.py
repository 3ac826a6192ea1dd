import keras
import numpy as np
import pytest

from tlhelpers.transfer import backbones, models


@pytest.fixture(scope="module")
def vgg_model():
    base = backbones.load_backbone("vgg16", 224, weights=None)
    return base, models.transfer_classifier(base, 10, **models.LESSON_HEADS["vgg16"])


def _trainable(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def test_original_lesson_parameter_counts(vgg_model):
    base, model = vgg_model
    assert base.count_params() == 14_714_688
    assert model.count_params() == 14_848_586 and _trainable(model) == 133_898
    mnv2 = models.transfer_classifier(backbones.load_backbone("mobilenet_v2", 224, weights=None), 10,
                                    **models.LESSON_HEADS["mobilenet_v2"])
    assert mnv2.count_params() == 2_428_362 and _trainable(mnv2) == 167_818
    assert models.scratch_cnn(32).count_params() == 65_930
    assert models.scratch_cnn(96).count_params() == 65_930


def test_base_is_called_in_inference_mode():
    base = backbones.load_backbone("mobilenet_025", 32, weights=None)
    model = models.transfer_classifier(base, 3, units=(8,))
    assert isinstance(model.layers[1], models.InferenceMode)
    assert models.find_base(model) is base
    plain = models.transfer_classifier(base, 3, units=(8,), pin_inference=False)
    assert models.find_base(plain) is base and not isinstance(plain.layers[1], models.InferenceMode)


def test_unfreeze_last_layers_keeps_batchnorm_frozen():
    base = backbones.load_backbone("mobilenet_025", 32, weights=None)
    model = models.transfer_classifier(base, 3, units=(8,))
    report = models.unfreeze(model, last_n=20)
    top = base.layers[-20:]
    bns = [l for l in top if isinstance(l, keras.layers.BatchNormalization)]
    assert bns and not any(l.trainable for l in bns)
    assert all(l.trainable for l in top if not isinstance(l, keras.layers.BatchNormalization))
    assert not any(l.trainable for l in base.layers[:-20])
    assert report.batchnorm_kept_frozen == len(bns)
    assert report.trainable_params_after > report.trainable_params_before
    assert "Recompile" in str(report)
    models.unfreeze(model, last_n=20, train_batchnorm=True)
    assert all(l.trainable for l in bns)


def test_frozen_batchnorm_statistics_do_not_move_during_fine_tuning():
    base = backbones.load_backbone("mobilenet_025", 32, weights=None)
    model = models.transfer_classifier(base, 3, units=(8,))
    models.unfreeze(model, last_n=len(base.layers), train_batchnorm=True)
    bn = next(l for l in base.layers if isinstance(l, keras.layers.BatchNormalization))
    before = np.asarray(bn.moving_mean).copy()
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(8, 32, 32, 3)).astype("float32") * 3 + 1
    model.fit(x, np.zeros(8), epochs=1, verbose=0)
    assert np.allclose(before, np.asarray(bn.moving_mean))  # training=False: moving stats kept
    # Called plainly, Keras 3 passes fit's training=True down: the statistics move.
    plain = models.transfer_classifier(base, 3, units=(8,), pin_inference=False)
    models.unfreeze(plain, last_n=len(base.layers), train_batchnorm=True)
    plain.compile("adam", "sparse_categorical_crossentropy")
    plain.fit(x, np.zeros(8), epochs=1, verbose=0)
    assert not np.allclose(before, np.asarray(bn.moving_mean))


def test_unfreeze_arguments_are_checked(vgg_model):
    _, model = vgg_model
    with pytest.raises(ValueError, match="exactly one"):
        models.unfreeze(model)
    with pytest.raises(ValueError, match="between 0 and 19"):
        models.unfreeze(model, last_n=40)
    with pytest.raises(ValueError, match="no layer 'nope'"):
        models.unfreeze(model, from_layer="nope")
    report = models.unfreeze(model, from_layer="block5_conv1")
    assert report.layers_trainable == 4
    model.layers[1].trainable = False


def test_head_and_class_count_checks():
    base = backbones.load_backbone("mobilenet_025", 32, weights=None)
    head = models.make_head(256, 5)
    with pytest.raises(ValueError, match="predicts 5 classes but num_classes=10"):
        models.transfer_classifier(base, 10, head=head)
    with pytest.raises(ValueError, match="at least 2"):
        models.make_head(256, 1)
    with pytest.raises(ValueError, match="num_classes"):
        models.transfer_classifier(base)
