"""The pretrained backbones the course uses, each with its own preprocessing.

Every family of ``keras.applications`` models was trained on ImageNet with its own
input convention (pixel range, channel order, mean subtraction), so each entry here
keeps its ``preprocess_input`` next to its constructor.

>>> from tlhelpers.backbones import get_spec
>>> get_spec("mobilenet_v2").native_size
224
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from pathlib import Path
from typing import Callable

import keras

from tlhelpers import config

_GCS = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclasses.dataclass(frozen=True)
class BackboneSpec:
    """What the course needs to know about one ``keras.applications`` backbone."""

    name: str
    constructor: Callable[..., keras.Model]
    preprocess: Callable
    native_size: int
    description: str
    kwargs: tuple[tuple[str, object], ...] = ()
    min_size: int = 32
    #: input sizes with their own published weights; others load the native-size file
    weight_sizes: tuple[int, ...] = ()

    def weights_file(self, image_size: int) -> tuple[str, str]:
        """File name and URL of the no-top ImageNet weights Keras loads at this size.

        >>> get_spec("mobilenet_025").weights_file(96)[0]
        'mobilenet_2_5_224_tf_no_top.h5'
        """
        rows = image_size if image_size in self.weight_sizes else self.native_size
        kw = dict(self.kwargs)
        if self.name.startswith("mobilenet_v2"):
            fname = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(kw['alpha'])}_{rows}_no_top.h5"
            return fname, _GCS + "mobilenet_v2/" + fname
        if self.name.startswith("mobilenet"):
            alpha_text = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}[kw["alpha"]]
            fname = f"mobilenet_{alpha_text}_{rows}_tf_no_top.h5"
            return fname, _GCS + "mobilenet/" + fname
        if self.name == "vgg16":
            fname = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
            return fname, _GCS + "vgg16/" + fname
        if self.name == "resnet50":
            fname = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
            return fname, _GCS + "resnet/" + fname
        if self.name == "efficientnet_b0":
            fname = "efficientnetb0_notop.h5"
            return fname, "https://storage.googleapis.com/keras-applications/" + fname
        raise KeyError(self.name)  # pragma: no cover - every registered name is handled above


_apps = keras.applications
_MOBILENET_SIZES = (128, 160, 192, 224)

#: The warning Keras gives when a MobileNet (v1, v2 or v3) is built with ImageNet weights at an
#: input size that has no weights file of its own (96 px for v1, say): it loads the 224-px file,
#: which is right, since convolution weights do not depend on the input size. Only this message
#: is filtered (here, and by :func:`tlhelpers.notebook.start` for the notebooks' plain Keras calls).
NATIVE_WEIGHTS_WARNING = (r"`input_shape` is undefined or non-square, or `rows` is not (in \[[0-9, ]+\]|[0-9]+)\. "
                          r"Weights for input shape \(224, 224\) will be loaded as the default\.")

BACKBONES: dict[str, BackboneSpec] = {
    "mobilenet_v2": BackboneSpec(
        "mobilenet_v2", _apps.MobileNetV2, _apps.mobilenet_v2.preprocess_input, 224,
        "MobileNetV2 (alpha 1.0): inverted residual blocks, 2.3 M parameters; pixels scaled to [-1, 1].",
        (("alpha", 1.0),), weight_sizes=(96, 128, 160, 192, 224)),
    **{
        f"mobilenet_{int(a * 100):03d}": BackboneSpec(
            f"mobilenet_{int(a * 100):03d}", _apps.MobileNet, _apps.mobilenet.preprocess_input, 224,
            f"MobileNet v1 (alpha {a}): depthwise separable convolutions; pixels scaled to [-1, 1].",
            (("alpha", a),), weight_sizes=_MOBILENET_SIZES)
        for a in (0.25, 0.5, 0.75, 1.0)
    },
    "vgg16": BackboneSpec(
        "vgg16", _apps.VGG16, _apps.vgg16.preprocess_input, 224,
        "VGG16: 13 plain 3x3 convolutions, 14.7 M parameters; BGR with ImageNet means subtracted."),
    "resnet50": BackboneSpec(
        "resnet50", _apps.ResNet50, _apps.resnet50.preprocess_input, 224,
        "ResNet50: residual bottleneck blocks, 23.6 M parameters; BGR with ImageNet means subtracted."),
    "efficientnet_b0": BackboneSpec(
        "efficientnet_b0", _apps.EfficientNetB0, _apps.efficientnet.preprocess_input, 224,
        "EfficientNetB0: compound-scaled MBConv blocks, 4.0 M parameters; takes raw [0, 255] pixels "
        "(rescaling is inside the model)."),
}


def get_spec(name: str) -> BackboneSpec:
    """Look up a backbone by name; an unknown name lists the known ones.

    >>> get_spec("vgg16").name
    'vgg16'
    """
    key = str(name).strip().lower()
    if key not in BACKBONES:
        raise ValueError(
            f"Unknown backbone {name!r}. Known backbones: {', '.join(BACKBONES)}."
        )
    return BACKBONES[key]


def check_image_size(name: str, image_size: int) -> None:
    """Refuse an input size the backbone cannot take, saying what to use instead.

    >>> check_image_size("mobilenet_v2", 96)
    """
    spec = get_spec(name)
    if isinstance(image_size, (tuple, list)):
        raise ValueError(
            f"The course builds {spec.name} for square images: pass one number as image_size "
            f"(e.g. {spec.native_size}), not {image_size!r}. The pipelines resize every image "
            "to a square, so non-square photos need no cropping.")
    if not isinstance(image_size, numbers.Integral) or isinstance(image_size, bool) or image_size < spec.min_size:
        raise ValueError(
            f"{spec.name} needs square images of at least {spec.min_size} px; got "
            f"{image_size!r}. Use an image size between {spec.min_size} and "
            f"{spec.native_size} (its native size)."
        )


def random_weights_requested() -> bool:
    """True when ``TL_WEIGHTS=random``: every backbone gets random weights, so a notebook
    can be *timed* with a backbone whose ImageNet file is not available (accuracies are
    then meaningless, and :func:`tlhelpers.notebook.start` says so)."""
    return config.settings().random_weights


def load_backbone(
    name: str, image_size: int, weights: str | None = "imagenet", trainable: bool = False
) -> keras.Model:
    """Build a backbone without its classifier top, ready to be reused.

    With ``weights="imagenet"`` the weights come through Keras's own cache; offline,
    a missing file raises :class:`tlhelpers.assets.AssetNotAvailableError` that says
    how to prefetch it. ``weights=None`` gives random weights (for shapes and counts).

    >>> base = load_backbone("mobilenet_025", 96, weights=None)
    >>> base.output_shape
    (None, 3, 3, 256)
    """
    from tlhelpers import assets

    spec = get_spec(name)
    check_image_size(spec.name, image_size)
    if weights == "imagenet" and random_weights_requested():
        weights = None  # TL_WEIGHTS=random: for timing runs only
    if weights not in ("imagenet", None):
        raise ValueError(f"weights must be 'imagenet' or None, got {weights!r}.")
    fname, url = spec.weights_file(image_size)
    if weights == "imagenet":
        try:
            assets.ensure_weights(spec.name, fname, url)
        except assets.AssetNotAvailableError:
            native = _native_file_offline(spec, image_size)
            if native is None:
                raise
            weights = str(native)   # Keras loads a file path given as weights=
    base = _build(spec, image_size, weights)
    base.trainable = trainable
    return base


def prepare_weights(name: str, image_size: int) -> str | None:
    """Get a backbone's ImageNet file where ``keras.applications`` looks, before the plain
    Keras call that notebook 03 (section 3) teaches, and return what to pass as ``weights=``.

    - already in Keras's cache (``$KERAS_HOME/models``) or in an offline bundle
      (``TL_ASSETS_DIR``, copied into the cache): returns ``"imagenet"``;
    - online and missing: downloaded with ``tlhelpers.fetch`` (resumable, checked), so a
      weak connection does not leave Keras with half a file; returns ``"imagenet"``;
    - offline, when only the native-size file is there (say MobileNet's 224-px file for a
      128-px model): returns that file's path, with a notice (convolution weights fit any
      input size; Keras loads a path given as ``weights=``);
    - offline and missing: :class:`tlhelpers.assets.AssetNotAvailableError`, naming the
      command that prefetches it;
    - ``TL_WEIGHTS=random`` (timing runs): returns None (random weights).

    >>> prepare_weights("vgg16", 224)   # doctest: +SKIP
    'imagenet'
    """
    from tlhelpers import assets

    spec = get_spec(name)
    check_image_size(spec.name, image_size)
    if random_weights_requested():
        return None
    fname, url = spec.weights_file(image_size)
    try:
        path = assets.ensure_weights(spec.name, fname, url)
    except assets.AssetNotAvailableError:
        native = _native_file_offline(spec, image_size)
        if native is None:
            raise
        return str(native)
    if path is None:   # online, not cached yet: a resumable, checked download
        from tlhelpers import fetch

        try:
            fetch.fetch_one(fetch.weights_asset(spec.name, image_size), assets.keras_cache_dir())
        except fetch.FetchError as err:
            raise assets.AssetNotAvailableError(f"{err} ({spec.name} ImageNet weights).") from None
    return "imagenet"


def _build(spec: BackboneSpec, image_size: int, weights: str | None) -> keras.Model:
    from tlhelpers import assets

    fname, url = spec.weights_file(image_size)
    kwargs = dict(spec.kwargs)
    if spec.constructor in (_apps.MobileNet, _apps.MobileNetV2):
        # Keras names a MobileNet after the size of its weights file ("mobilenet_0.25_224" at
        # 96 px); name it after the size it is built for, in Keras's own pattern.
        family = "mobilenetv2" if spec.constructor is _apps.MobileNetV2 else "mobilenet"
        kwargs["name"] = f"{family}_{kwargs['alpha']:0.2f}_{image_size}"
    with warnings.catch_warnings():
        # Keras warns when it loads the native-size weights for another input size;
        # that is intended here (convolution weights do not depend on input size).
        warnings.filterwarnings("ignore", message=NATIVE_WEIGHTS_WARNING, category=UserWarning)
        with assets.download_or_explain(assets.missing_message(spec.name, fname, url)):
            return spec.constructor(
                include_top=False, weights=weights,
                input_shape=(image_size, image_size, 3), **kwargs,
            )


def _native_file_offline(spec: BackboneSpec, image_size: int) -> Path | None:
    """Offline (only then is a file missing here), when the weights published for this size
    are absent but the native-size ones are present: that file, with a notice (convolution
    weights fit any input size), else None."""
    from tlhelpers import assets

    native_file, native_url = spec.weights_file(spec.native_size)
    if native_file == spec.weights_file(image_size)[0]:
        return None
    try:
        native = assets.ensure_weights(spec.name, native_file, native_url)
    except assets.AssetNotAvailableError:
        return None
    if native is not None:
        print(f"Notice: no {image_size}-px ImageNet weights of {spec.name} offline; using its "
              f"{spec.native_size}-px weights ({native_file}) at {image_size} px.")
    return native
