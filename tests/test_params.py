import doctest

import keras
import numpy as np

from tlhelpers.transfer import models, params


def test_doctests():
    result = doctest.testmod(params)
    assert result.attempted > 0 and result.failed == 0


def test_batchnorm_statistics_are_never_trainable():
    head = models.make_head(256, 10, units=(128,), batchnorm=True)
    counts = params.param_counts(head)
    # 256 gamma + 256 beta train; 256 moving means + 256 variances do not
    assert counts == params.ParamCounts(512 + 256 * 128 + 128 + 128 * 10 + 10, 512)
    assert counts.total == head.count_params()


def test_a_frozen_model_counts_as_non_trainable():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.trainable = False
    assert params.param_counts(model) == params.ParamCounts(0, 15)
    assert params.count_weights([np.zeros(5)]) == 5
