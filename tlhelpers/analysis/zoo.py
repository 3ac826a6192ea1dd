"""Choosing a backbone and a strategy: a model table computed live, and a decision guide.

The table is measured from ``keras.applications`` with ``weights=None`` (nothing is
downloaded): each backbone is built once at its native size, counted, then deleted.

>>> from tlhelpers.analysis.zoo import recommend_strategy
>>> recommend_strategy(20, "high")[0]
'feature extraction'
"""

from __future__ import annotations

import gc
import hashlib
from typing import Iterable

import numpy as np

from tlhelpers.storage import assets
from tlhelpers.settings import registry

#: Strategies the guide can recommend.
FEATURE_EXTRACTION = "feature extraction"
FEATURE_EXTRACTION_EARLY = "feature extraction from an earlier layer"
HYBRID = "hybrid: train the head, then fine-tune the top blocks"
HYBRID_DEEP = "hybrid, unfreezing more blocks"
FINE_TUNE_ALL = "fine-tune the whole network"
FINE_TUNE_OR_SCRATCH = "fine-tune the whole network, or train from scratch and compare"

#: Upper bounds (exclusive) of the dataset-size bands, in labelled images per class.
SIZE_BANDS: tuple[tuple[int, str], ...] = ((100, "small"), (1000, "medium"))
SIMILARITIES = ("high", "medium", "low")

_GUIDE = {
    ("small", "high"): (FEATURE_EXTRACTION,
                        "too few images to update a whole backbone without overfitting, and "
                        "the ImageNet features already describe images like these"),
    ("small", "medium"): (FEATURE_EXTRACTION,
                          "too few images to fine-tune safely; a frozen base plus data "
                          "augmentation is the safe start"),
    ("small", "low"): (FEATURE_EXTRACTION_EARLY,
                       "the top layers are specific to ImageNet, the lower ones are generic; "
                       "with so few images, keep them frozen and cut the network lower"),
    ("medium", "high"): (HYBRID,
                         "enough images to adapt the most task-specific layers, at a low "
                         "learning rate, once the new head has been trained"),
    ("medium", "medium"): (HYBRID,
                           "enough images to adapt the top blocks; the lower, generic "
                           "layers can stay frozen"),
    ("medium", "low"): (HYBRID_DEEP,
                        "the images differ from ImageNet, so more of the network must change; "
                        "watch the validation loss for overfitting"),
    ("large", "high"): (FINE_TUNE_ALL,
                        "plenty of data to adapt every layer; pretrained weights still make "
                        "training converge faster"),
    ("large", "medium"): (FINE_TUNE_ALL,
                          "plenty of data to adapt every layer to the new images"),
    ("large", "low"): (FINE_TUNE_OR_SCRATCH,
                       "with this much data a network trained from scratch can catch up; "
                       "pretrained weights remain a good starting point, so try both"),
}


def size_band(n_per_class: int) -> str:
    """The dataset-size band ("small", "medium", "large") of ``n_per_class`` images per class.

    >>> size_band(99), size_band(100), size_band(5000)
    ('small', 'medium', 'large')
    """
    if isinstance(n_per_class, bool) or not isinstance(n_per_class, (int, np.integer)) \
            or n_per_class < 1:
        raise ValueError(
            f"n_per_class must be a positive whole number of labelled images per class, "
            f"got {n_per_class!r}; e.g. recommend_strategy(50, 'high')."
        )
    for bound, name in SIZE_BANDS:
        if n_per_class < bound:
            return name
    return "large"


def recommend_strategy(n_per_class: int, similarity: str) -> tuple[str, str]:
    """A starting strategy and the reason for it, from data size and similarity to ImageNet.

    ``similarity`` is "high" (photos of everyday objects), "medium" or "low" (e.g.
    X-rays, spectrograms, microscopy). This is a rule of thumb to start from, not a
    guarantee: validate the choice on a validation split.

    >>> recommend_strategy(5000, "low")[0]
    'fine-tune the whole network, or train from scratch and compare'
    """
    key = str(similarity).strip().lower()
    if key not in SIMILARITIES:
        raise ValueError(
            f"similarity must be one of {', '.join(SIMILARITIES)}; got {similarity!r}."
        )
    return _GUIDE[(size_band(n_per_class), key)]


def _band_label(name: str) -> str:
    low = 1
    for bound, band in SIZE_BANDS:
        if band == name:
            return f"{name} ({low}–{bound - 1} per class)"
        low = bound
    return f"{name} ({low}+ per class)"


def guide_markdown() -> str:
    """The whole guide as a Markdown table (rows: data size; columns: similarity).

    >>> guide_markdown().splitlines()[0]
    '| images per class | high similarity | medium similarity | low similarity |'
    """
    bands = [name for _, name in SIZE_BANDS] + ["large"]
    lines = ["| images per class | " + " | ".join(f"{s} similarity" for s in SIMILARITIES) + " |",
             "|---" * (len(SIMILARITIES) + 1) + "|"]
    for band in bands:
        cells = [_GUIDE[(band, s)][0] for s in SIMILARITIES]
        lines.append(f"| {_band_label(band)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def decision_widget(n_options: Iterable[int] = (10, 30, 100, 300, 1000, 3000, 10000)):
    """Slider (images per class) + dropdown (similarity) that print the recommendation.

    Returns an ``ipywidgets.VBox``; its recommendation is filled in at once, so it
    also reads when the notebook runs headless. Needs ``ipywidgets``.
    """
    try:
        import ipywidgets as widgets
    except ImportError as err:  # pragma: no cover - ipywidgets is a course dependency
        raise ImportError("decision_widget needs ipywidgets: pip install ipywidgets, or read "
                          "the static table instead (tlhelpers.analysis.zoo.guide_markdown()).") from err
    options = list(n_options)
    size = widgets.SelectionSlider(options=options, value=100 if 100 in options else options[0],
                                   description="images/class", continuous_update=False,
                                   style={"description_width": "initial"})
    sim = widgets.Dropdown(options=list(SIMILARITIES), value="high",
                           description="similarity")
    out = widgets.HTML()

    def update(_change=None) -> None:
        strategy, reason = recommend_strategy(int(size.value), sim.value)
        out.value = f"<b>{strategy}</b>: {reason}."

    size.observe(update, names="value")
    sim.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([size, sim]), out])


def is_weight_layer(layer) -> bool:
    """True for a layer with a kernel (convolution, depthwise convolution, dense)."""
    try:
        return getattr(layer, "kernel", None) is not None
    except (AttributeError, ValueError):  # pragma: no cover - unbuilt or exotic layers
        return False


_TABLE_VERSION = 1  # bump when describe_backbone's columns change


def _input_range(preprocess) -> tuple[float, float]:
    """Smallest and largest value ``preprocess`` gives for pixels in [0, 255]."""
    pixels = np.array([[[[0, 0, 0], [255, 255, 255], [0, 128, 255]]]], dtype=np.float32)
    out = np.asarray(preprocess(pixels.copy()))
    return float(out.min()), float(out.max())


def describe_backbone(name: str) -> dict:
    """Build one backbone with ``weights=None`` at its native size and measure it.

    >>> describe_backbone("mobilenet_025")["parameters"]
    218544
    """
    import keras

    from tlhelpers.transfer.backbones import get_spec   # here: it imports Keras

    spec = get_spec(name)
    size = spec.native_size
    base = spec.constructor(include_top=False, weights=None, input_shape=(size, size, 3),
                            **dict(spec.kwargs))
    low, high = _input_range(spec.preprocess)
    row = dict(
        backbone=spec.name,
        parameters=int(base.count_params()),
        depth=int(sum(is_weight_layer(layer) for layer in base.layers)),
        keras_layers=len(base.layers),
        native_size=size,
        output_shape="x".join(str(d) for d in base.output_shape[1:]),
        feature_dim=int(base.output_shape[-1]),
        input_range=f"[{low:g}, {high:g}]",
    )
    del base
    keras.backend.clear_session()
    gc.collect()
    return row


def _weights_available(name: str) -> bool:
    spec = registry.get_entry(name)
    fname = spec.weights_file(spec.native_size)[0]
    places = [assets.keras_cache_dir() / "models" / fname]
    try:
        bundle = assets.assets_dir()
    except assets.AssetNotAvailableError:
        bundle = None
    if bundle is not None:
        places.append(bundle / "keras-cache" / "models" / fname)
    return any(p.is_file() for p in places)


def zoo_table(names: Iterable[str] | None = None, use_cache: bool = True, verbose: bool = True):
    """A pandas DataFrame with one measured row per backbone (default: all of ``BACKBONES``).

    Columns: parameters, depth (layers with a kernel), keras_layers, native_size,
    output_shape, feature_dim, input_range (after its ``preprocess_input``) and
    weights_here (ImageNet weights present on this machine). The measured part is
    cached in the course cache, keyed by the Keras version and the names.
    """
    import keras
    import pandas as pd

    from tlhelpers.transfer.backbones import BACKBONES, get_spec   # here: Keras loads only when a table is measured

    names = [get_spec(n).name for n in (BACKBONES if names is None else names)]
    if not names:
        raise ValueError("names is empty: pass backbone names, or None for all of them.")
    # the key changes with the Keras version, the names and the columns measured
    digest = hashlib.sha1((",".join(names) + f"|v{_TABLE_VERSION}").encode()).hexdigest()[:8]
    path = assets.course_cache_dir("zoo") / f"zoo-keras{keras.__version__}-{digest}.csv"
    if use_cache and path.is_file():
        table = pd.read_csv(path)
        if verbose:
            print(f"Loaded the measured table from the cache ({path.name}).")
    else:
        rows = []
        for name in names:
            if verbose:
                print(f"building {name} (weights=None) ...", flush=True)
            rows.append(describe_backbone(name))
        table = pd.DataFrame(rows)
        if use_cache:
            table.to_csv(path, index=False)
    table["weights_here"] = [_weights_available(n) for n in table["backbone"]]
    return table.set_index("backbone")
