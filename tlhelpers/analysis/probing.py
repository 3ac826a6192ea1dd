"""Looking inside a backbone: first-layer filters, activation maps and linear probes.

A *linear probe* trains a linear classifier on the (frozen) features of one layer; its
accuracy measures how much of the task the layer already makes linearly readable.

>>> from tlhelpers.transfer.backbones import load_backbone
>>> from tlhelpers.analysis.probing import pick_layers
>>> base = load_backbone("mobilenet_025", 96, weights=None)
>>> pick_layers(base, n=3)
['conv1_relu', 'conv_dw_7_relu', 'conv_pw_13_relu']
"""

from __future__ import annotations

from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from tlhelpers.analysis.zoo import is_weight_layer

#: Backbones whose preprocess_input flips RGB to BGR (Caffe convention).
_BGR_BACKBONES = ("vgg16", "resnet50")


def _is_nonlinearity(layer) -> bool:
    """A layer whose output is a non-linear feature map: ReLU/Activation, or conv + activation."""
    if isinstance(layer, (keras.layers.ReLU, keras.layers.Activation)):
        return True
    activation = getattr(layer, "activation", None)
    return (is_weight_layer(layer) and activation is not None
            and activation is not keras.activations.linear)


def candidate_layers(base: keras.Model) -> list[str]:
    """Names of the layers that output 4-D feature maps after a non-linearity, in order."""
    names = []
    for layer in base.layers:
        output = getattr(layer, "output", None)
        if output is None or len(output.shape) != 4:
            continue
        if _is_nonlinearity(layer) and "_se_" not in layer.name:  # skip squeeze-excitation
            names.append(layer.name)
    return names


def pick_layers(base: keras.Model, n: int = 6) -> list[str]:
    """``n`` feature-map layers at evenly spaced depths, always the first and the last.

    >>> pick_layers(load_backbone("vgg16", 64, weights=None), n=2)   # doctest: +SKIP
    ['block1_conv1', 'block5_conv3']
    """
    names = candidate_layers(base)
    if not names:
        raise ValueError(f"{base.name} has no ReLU/activation layers with 4-D outputs to pick from.")
    if not 1 <= n <= len(names):
        raise ValueError(f"n must be between 1 and {len(names)} for {base.name}; got {n}.")
    if n == 1:
        return [names[-1]]
    idx = np.unique(np.round(np.linspace(0, len(names) - 1, n)).astype(int))
    return [names[i] for i in idx]


def conv_depth(base: keras.Model, layer_name: str) -> int:
    """How many layers with a kernel (convolutions) lie at or below ``layer_name``.

    >>> from tlhelpers.transfer.backbones import load_backbone
    >>> conv_depth(load_backbone("mobilenet_025", 96, weights=None), "conv_pw_1_relu")
    3
    """
    count = 0
    for layer in base.layers:
        count += int(is_weight_layer(layer))
        if layer.name == layer_name:
            return count
    raise ValueError(f"{base.name} has no layer {layer_name!r}; see pick_layers(base).")


def first_conv_kernel(base: keras.Model, backbone: str | None = None) -> np.ndarray:
    """The kernel (kh, kw, 3, filters) of the first convolution, input channels in RGB order.

    Pass the backbone name so a BGR model (vgg16, resnet50) has its channels flipped
    back to RGB before the filters are drawn as colour images.
    """
    for layer in base.layers:
        if is_weight_layer(layer):
            kernel = np.asarray(layer.kernel)
            if kernel.ndim != 4 or kernel.shape[2] != 3:
                break
            return kernel[:, :, ::-1, :] if backbone in _BGR_BACKBONES else kernel
    raise ValueError(f"The first weight layer of {base.name} is not a convolution on RGB input.")


def neighbour_correlation(kernel: np.ndarray) -> float:
    """Correlation between horizontally and vertically adjacent weights of conv filters.

    Smooth, structured filters (edges, blobs, colour patches) score near 1; independent
    random weights score near 0. Each filter's mean is removed first.

    >>> k = np.tile(np.linspace(-1, 1, 5)[None, :, None, None], (5, 1, 3, 4))
    >>> round(neighbour_correlation(k), 2)
    0.93
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 4 or min(k.shape[:2]) < 2:
        raise ValueError(f"kernel must have shape (kh, kw, in_ch, out_ch) with kh, kw >= 2; got {k.shape}.")
    k = k - k.mean(axis=(0, 1, 2), keepdims=True)
    a = np.concatenate([k[:, :-1].ravel(), k[:-1].ravel()])
    b = np.concatenate([k[:, 1:].ravel(), k[1:].ravel()])
    return float(np.corrcoef(a, b)[0, 1])


def activation_model(base: keras.Model, layer_names: Sequence[str]) -> keras.Model:
    """A model from the base's input to the outputs of ``layer_names`` (a list, in order)."""
    if not layer_names:
        raise ValueError("layer_names is empty: pass names from pick_layers(base).")
    known = {layer.name for layer in base.layers}
    missing = [n for n in layer_names if n not in known]
    if missing:
        raise ValueError(f"{base.name} has no layer(s) {missing}; use pick_layers(base) to list some.")
    outputs = [base.get_layer(n).output for n in layer_names]
    return keras.Model(base.input, outputs, name=f"{base.name}_activations")


def activations_for(base: keras.Model, layer_names: Sequence[str], images: tf.Tensor) -> dict:
    """Feature maps {layer name: array (N, H, W, C)} of a preprocessed batch, inference mode."""
    outs = activation_model(base, layer_names)(images, training=False)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return {name: np.asarray(o) for name, o in zip(layer_names, outs)}


def pooled_features_at(
    base: keras.Model, layer_names: Sequence[str], dataset: tf.data.Dataset, verbose: bool = True
) -> tuple[dict, np.ndarray]:
    """Global-average-pooled features of each layer, streamed over ``dataset`` batch by batch.

    Returns ({layer name: array (N, channels)}, labels). Only the pooled vectors are
    kept, so memory stays small whatever the image size. A progress bar counts batches
    (``verbose=False`` hides it): in the `cpu` profile this runs for minutes.
    """
    model = activation_model(base, layer_names)

    spec = tf.TensorSpec((None, *base.input_shape[1:]), tf.float32)

    @tf.function(input_signature=[spec])  # one trace per call, whatever the batch size
    def run(x):
        outs = model(x, training=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        return [tf.reduce_mean(o, axis=(1, 2)) for o in outs]

    feats: dict[str, list] = {n: [] for n in layer_names}
    labels = []
    steps = int(dataset.cardinality()) if int(dataset.cardinality()) > 0 else None
    bar = keras.utils.Progbar(steps, unit_name="batch", verbose=1 if verbose else 0)
    for x, y in dataset:
        for name, f in zip(layer_names, run(x)):
            feats[name].append(f.numpy())
        labels.append(np.asarray(y))
        bar.add(1)
    if not labels:
        raise ValueError("dataset is empty: nothing to extract features from.")
    return {n: np.concatenate(v) for n, v in feats.items()}, np.concatenate(labels)


def linear_probe(
    train_feats: np.ndarray, y_train: np.ndarray, test_feats: np.ndarray, y_test: np.ndarray,
    C: float = 1.0, max_iter: int = 2000,
) -> float:
    """Accuracy on (test_feats, y_test) of a logistic regression fitted on the training features.

    Features are standardised (statistics from the training set only). ``C`` is fixed
    in advance; tune it on a validation split, never on the test set.

    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(40, 3)), np.repeat([0, 1], 20)
    >>> linear_probe(x + y[:, None] * 3, y, x + y[:, None] * 3, y)
    1.0
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train_feats, test_feats = np.asarray(train_feats), np.asarray(test_feats)
    if train_feats.ndim != 2 or test_feats.ndim != 2 or train_feats.shape[1] != test_feats.shape[1]:
        raise ValueError(f"features must be 2-D with the same width; got {train_feats.shape} and "
                         f"{test_feats.shape}. Pool feature maps first (pooled_features_at).")
    if len(train_feats) != len(y_train) or len(test_feats) != len(y_test):
        raise ValueError("each feature array needs one label per row.")
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter))
    probe.fit(train_feats, y_train)
    return float(probe.score(test_feats, y_test))
