"""The backbone table as plain data: names, sizes, preprocessing, weights files.

The lowest layer of the package (with :mod:`tlhelpers.settings.config`): it imports neither Keras
nor TensorFlow, so settings can check ``TL_BACKBONE`` and ``TL_IMAGE_SIZE``, and the
command line can name weights files, without starting TensorFlow.
:mod:`tlhelpers.transfer.backbones` adds each entry's Keras constructor and ``preprocess_input``.

>>> from tlhelpers.settings.registry import get_entry
>>> get_entry("mobilenet_v2").native_size
224
>>> get_entry("mobilenet_025").weights_file(96)[0]
'mobilenet_2_5_224_tf_no_top.h5'
"""

from __future__ import annotations

import dataclasses
import numbers

_GCS = "https://storage.googleapis.com/tensorflow/keras-applications/"
_MOBILENET_SIZES = (128, 160, 192, 224)

#: The warning Keras gives when a MobileNet (v1, v2 or v3) is built with ImageNet weights at an
#: input size that has no weights file of its own (96 px for v1, say): it loads the 224-px file,
#: which is right, since convolution weights do not depend on the input size. Only this message
#: is filtered (by :mod:`tlhelpers.transfer.backbones`, and by :func:`tlhelpers.startup.notebook.start` for the
#: notebooks' plain Keras calls).
NATIVE_WEIGHTS_WARNING = (r"`input_shape` is undefined or non-square, or `rows` is not (in \[[0-9, ]+\]|[0-9]+)\. "
                          r"Weights for input shape \(224, 224\) will be loaded as the default\.")


@dataclasses.dataclass(frozen=True)
class BackboneEntry:
    """One backbone as data: ``application`` names its ``keras.applications`` constructor
    (``"MobileNetV2"``) and ``preprocessing`` the ``keras.applications`` module whose
    ``preprocess_input`` it needs (``"mobilenet_v2"``)."""

    name: str
    application: str
    preprocessing: str
    native_size: int
    description: str
    kwargs: tuple[tuple[str, object], ...] = ()
    min_size: int = 32
    #: input sizes with their own published weights; others load the native-size file
    weight_sizes: tuple[int, ...] = ()

    def weights_file(self, image_size: int) -> tuple[str, str]:
        """File name and URL of the no-top ImageNet weights Keras loads at this size.

        >>> get_entry("mobilenet_v2").weights_file(128)[0]
        'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_128_no_top.h5'
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


ENTRIES: dict[str, BackboneEntry] = {
    "mobilenet_v2": BackboneEntry(
        "mobilenet_v2", "MobileNetV2", "mobilenet_v2", 224,
        "MobileNetV2 (alpha 1.0): inverted residual blocks, 2.3 M parameters; pixels scaled to [-1, 1].",
        (("alpha", 1.0),), weight_sizes=(96, 128, 160, 192, 224)),
    **{
        f"mobilenet_{int(a * 100):03d}": BackboneEntry(
            f"mobilenet_{int(a * 100):03d}", "MobileNet", "mobilenet", 224,
            f"MobileNet v1 (alpha {a}): depthwise separable convolutions; pixels scaled to [-1, 1].",
            (("alpha", a),), weight_sizes=_MOBILENET_SIZES)
        for a in (0.25, 0.5, 0.75, 1.0)
    },
    "vgg16": BackboneEntry(
        "vgg16", "VGG16", "vgg16", 224,
        "VGG16: 13 plain 3x3 convolutions, 14.7 M parameters; BGR with ImageNet means subtracted."),
    "resnet50": BackboneEntry(
        "resnet50", "ResNet50", "resnet50", 224,
        "ResNet50: residual bottleneck blocks, 23.6 M parameters; BGR with ImageNet means subtracted."),
    "efficientnet_b0": BackboneEntry(
        "efficientnet_b0", "EfficientNetB0", "efficientnet", 224,
        "EfficientNetB0: compound-scaled MBConv blocks, 4.0 M parameters; takes raw [0, 255] pixels "
        "(rescaling is inside the model)."),
}


def get_entry(name: str) -> BackboneEntry:
    """Look up a backbone by name; an unknown name lists the known ones.

    >>> get_entry(" VGG16 ").name
    'vgg16'
    """
    key = str(name).strip().lower()
    if key not in ENTRIES:
        raise ValueError(
            f"Unknown backbone {name!r}. Known backbones: {', '.join(ENTRIES)}."
        )
    return ENTRIES[key]


def check_image_size(name: str, image_size: int) -> None:
    """Refuse an input size the backbone cannot take, saying what to use instead.

    >>> check_image_size("mobilenet_v2", 96)
    """
    spec = get_entry(name)
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
