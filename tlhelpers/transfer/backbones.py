"""The pretrained backbones the course uses, each with its own preprocessing.

Every family of ``keras.applications`` models was trained on ImageNet with its own
input convention (pixel range, channel order, mean subtraction), so each entry here
keeps its ``preprocess_input`` next to its constructor.

>>> from tlhelpers.transfer.backbones import get_spec
>>> get_spec("mobilenet_v2").native_size
224
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Callable

import keras

from tlhelpers.storage import assets
from tlhelpers.settings import config
from tlhelpers.datasets import fetch
from tlhelpers.settings.registry import (  # re-exported: the course imports them from here
    ENTRIES, NATIVE_WEIGHTS_WARNING, BackboneEntry, check_image_size, get_entry)


@dataclasses.dataclass(frozen=True)
class BackboneSpec(BackboneEntry):
    """What the course needs to know about one ``keras.applications`` backbone: its
    :class:`~tlhelpers.settings.registry.BackboneEntry` (sizes, weights files), plus the Keras
    ``constructor`` and ``preprocess`` function that the entry names.

    >>> get_spec("mobilenet_025").weights_file(96)[0]
    'mobilenet_2_5_224_tf_no_top.h5'
    """

    constructor: Callable[..., keras.Model] | None = None
    preprocess: Callable | None = None


_apps = keras.applications


def _spec(entry: BackboneEntry) -> BackboneSpec:
    fields = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)}
    return BackboneSpec(**fields, constructor=getattr(_apps, entry.application),
                        preprocess=getattr(_apps, entry.preprocessing).preprocess_input)


#: Every backbone of :data:`tlhelpers.settings.registry.ENTRIES`, with its constructor and preprocessing.
BACKBONES: dict[str, BackboneSpec] = {name: _spec(entry) for name, entry in ENTRIES.items()}


def get_spec(name: str) -> BackboneSpec:
    """Look up a backbone by name; an unknown name lists the known ones.

    >>> get_spec("vgg16").name
    'vgg16'
    """
    return BACKBONES[get_entry(name).name]


def random_weights_requested() -> bool:
    """True when ``TL_WEIGHTS=random``: every backbone gets random weights, so a notebook
    can be *timed* with a backbone whose ImageNet file is not available (accuracies are
    then meaningless, and :func:`tlhelpers.startup.notebook.start` says so)."""
    return config.settings().random_weights


def load_backbone(
    name: str, image_size: int, weights: str | None = "imagenet", trainable: bool = False
) -> keras.Model:
    """Build a backbone without its classifier top, ready to be reused.

    With ``weights="imagenet"`` the weights come through Keras's own cache; offline,
    a missing file raises :class:`tlhelpers.storage.assets.AssetNotAvailableError` that says
    how to prefetch it. ``weights=None`` gives random weights (for shapes and counts).

    >>> base = load_backbone("mobilenet_025", 96, weights=None)
    >>> base.output_shape
    (None, 3, 3, 256)
    """
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
    - online and missing: downloaded with ``tlhelpers.datasets.fetch`` (resumable, checked), so a
      weak connection does not leave Keras with half a file; returns ``"imagenet"``;
    - offline, when only the native-size file is there (say MobileNet's 224-px file for a
      128-px model): returns that file's path, with a notice (convolution weights fit any
      input size; Keras loads a path given as ``weights=``);
    - offline and missing: :class:`tlhelpers.storage.assets.AssetNotAvailableError`, naming the
      command that prefetches it;
    - ``TL_WEIGHTS=random`` (timing runs): returns None (random weights).

    >>> prepare_weights("vgg16", 224)   # doctest: +SKIP
    'imagenet'
    """
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
        try:
            fetch.fetch_one(fetch.weights_asset(spec.name, image_size), assets.keras_cache_dir())
        except fetch.FetchError as err:
            raise assets.AssetNotAvailableError(f"{err} ({spec.name} ImageNet weights).") from None
    return "imagenet"


def _build(spec: BackboneSpec, image_size: int, weights: str | None) -> keras.Model:
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
