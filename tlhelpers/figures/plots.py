"""Figures for the course notebooks: image grids, predictions, augmentations, evaluation.

Every function returns a :class:`matplotlib.figure.Figure` and never calls
``plt.show()``; in a notebook the returned figure is displayed automatically.
Images are the ORIGINAL pixels: uint8 in [0, 255], float in [0, 1] or float in [0, 255].

The model and training plots live in :mod:`tlhelpers.figures.plots_models` and are
re-exported here, so ``from tlhelpers.figures import plots`` gives access to everything.

>>> from tlhelpers.figures import plots
>>> fig = plots.plot_history({"accuracy": [0.5, 0.7], "loss": [1.0, 0.6]})
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .plots_models import _new_figure
from .plots_models import (
    PHASE_LABEL,
    _grid,
    compare_histories,
    plot_history,
    plot_lines,
    plot_results,
    plot_scatter,
    show_activations,
    show_filters,
)

__all__ = [
    "PHASE_LABEL",
    "compare_histories",
    "plot_confusion_matrix",
    "plot_history",
    "plot_lines",
    "plot_results",
    "plot_scatter",
    "show_activations",
    "show_augmentations",
    "show_filters",
    "show_images",
    "show_predictions",
]


def _to_displayable(img: Any) -> np.ndarray:
    """Convert an image (or a batch of images) to float32 in [0, 1] for ``imshow``.

    Integer arrays (uint8) are divided by 255; float arrays whose max is above 1.0 are
    taken to be in [0, 255] and divided by 255; the result is clipped to [0, 1].
    """
    a = np.asarray(img)
    if a.dtype == bool:
        a = a.astype(np.float32)
    elif np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.float32) / 255.0
    else:
        a = a.astype(np.float32)
        if a.size and np.nanmax(a) > 1.0:
            a = a / 255.0
    return np.clip(a, 0.0, 1.0)


def _imshow(ax: Axes, img: np.ndarray) -> None:
    """Show one displayable image (H, W), (H, W, 1) or (H, W, 3|4); grayscale uses cmap gray."""
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        ax.imshow(img, cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(img)
    ax.axis("off")


def _as_batch(images: Any) -> np.ndarray:
    x = np.asarray(images)
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] not in (1, 3, 4)):
        raise ValueError(f"images must have shape (N, H, W), (N, H, W, 1) or (N, H, W, 3), got {x.shape}")
    if x.ndim == 3 and x.shape[-1] in (3, 4):
        raise ValueError(f"images has shape {x.shape}, which looks like ONE image (H, W, C); "
                         "expected a batch (N, H, W, C): use images[None]")
    return x


def _as_class_ids(y: Any, name: str, num_classes: int) -> np.ndarray:
    """Integer class ids from ids (N,) or one-hot / probabilities (N, C); checks the range."""
    y = np.asarray(y)
    if y.ndim == 2:
        y = y.argmax(axis=1)
    y = y.ravel()
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{name} contains class id {int(y.min() if y.min() < 0 else y.max())}, "
                         f"but class_names has {num_classes} entries (valid ids: 0..{num_classes - 1})")
    return y.astype(int)


def _check_lengths(n_images: int, **others: Sequence) -> None:
    for name, values in others.items():
        if len(values) != n_images:
            raise ValueError(f"got {n_images} images but {len(values)} {name}; expected one per image")


def show_images(images: Any, labels: Any, class_names: Sequence[str], n: int = 16, ncols: int = 8,
                title: str | None = None) -> Figure:
    """Grid of the first ``n`` images with their class names as titles.

    ``labels`` are class ids (N,) or one-hot (N, C).

    >>> imgs = np.random.randint(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    >>> fig = show_images(imgs, [0, 1] * 4, ["cat", "dog"], n=8, ncols=4)
    """
    x = _as_batch(images)
    labels = np.asarray(labels)
    _check_lengths(len(x), labels=labels)
    labels = _as_class_ids(labels, "labels", len(class_names))
    count = min(n, len(x))
    fig, axes = _grid(count, ncols, title=title)
    shown = _to_displayable(x[:count])
    for ax, img, label in zip(axes, shown, labels):
        _imshow(ax, img)
        ax.set_title(str(class_names[label]), fontsize=9)
    return fig


def show_predictions(images: Any, y_true: Any, probs: Any, class_names: Sequence[str], n: int = 16,
                     ncols: int = 8, title: str | None = None) -> Figure:
    """Grid of images titled "prediction (confidence%)" and the true class: a green tick when the
    prediction is right, a red cross when it is wrong (the mark reads without colour too).

    ``probs`` holds the predicted probabilities, shape (N, num_classes).

    >>> imgs = np.random.randint(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    >>> probs = np.array([[.9, .1], [.2, .8], [.6, .4], [.3, .7]])
    >>> fig = show_predictions(imgs, [0, 1, 1, 1], probs, ["cat", "dog"], n=4, ncols=4)
    """
    x = _as_batch(images)
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 2 or probs.shape[1] != len(class_names):
        raise ValueError(f"probs must have shape (N, {len(class_names)}) (one column per class name), "
                         f"got {probs.shape}")
    y_true = np.asarray(y_true)
    _check_lengths(len(x), y_true=y_true, probs=probs)
    y_true = _as_class_ids(y_true, "y_true", len(class_names))
    count = min(n, len(x))
    fig, axes = _grid(count, ncols, cell=1.9, title=title)
    shown = _to_displayable(x[:count])
    for ax, img, t, p in zip(axes, shown, y_true, probs):
        pred = int(p.argmax())
        _imshow(ax, img)
        right = pred == t
        ax.set_title(f"{'✓' if right else '✗'} {class_names[pred]} ({100 * p[pred]:.0f}%)\ntrue: {class_names[t]}",
                     fontsize=9, color="green" if right else "red")
    return fig


def show_augmentations(image: Any, augment: Callable[..., Any], n: int = 8, ncols: int = 4,
                       title: str | None = None) -> Figure:
    """The original image followed by ``n - 1`` random augmentations of it.

    ``augment`` gets a float32 batch (1, H, W, C) in [0, 255] (called with
    ``training=True`` when it accepts that, e.g. a ``keras.Sequential`` of
    preprocessing layers) and returns a batch.

    >>> aug = keras.Sequential([keras.layers.RandomFlip("horizontal")])  # doctest: +SKIP
    >>> fig = show_augmentations(image, aug, n=8)  # doctest: +SKIP
    """
    img = np.asarray(image)
    if img.ndim == 4 and img.shape[0] == 1:
        img = img[0]
    if img.ndim == 2:
        img = img[..., None]
    if img.ndim != 3:
        raise ValueError(f"image must have shape (H, W, C) or (1, H, W, C), got {np.asarray(image).shape}")
    if not callable(augment):
        raise ValueError(f"augment must be a callable taking a batch, got {type(augment).__name__}")
    batch = (_to_displayable(img) * 255.0)[None].astype(np.float32)
    fig, axes = _grid(n, ncols, cell=2.2, title=title)
    _imshow(axes[0], batch[0] / 255.0)
    axes[0].set_title("original")
    for i, ax in enumerate(axes[1:], start=1):
        try:
            out = augment(batch, training=True)
        except TypeError:
            out = augment(batch)
        out = np.clip(np.asarray(out, dtype=np.float32), 0.0, 255.0)
        if out.ndim == 4:
            out = out[0]
        _imshow(ax, out / 255.0)
        ax.set_title(f"augmented {i}")
    return fig


def plot_confusion_matrix(y_true: Any, y_pred: Any, class_names: Sequence[str], normalize: bool = True,
                          title: str | None = None) -> Figure:
    """Confusion matrix heatmap (left) and per-class accuracy bars (right).

    ``y_true`` / ``y_pred`` are class ids (N,) or one-hot / probabilities (N, C).
    Rows are normalised when ``normalize``; cells are annotated for at most 20 classes
    (and tick labels thinned out above 40). A class with no true samples gets accuracy
    nan (an empty row, "n/a").

    >>> fig = plot_confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], ["a", "b", "c"])
    """
    import seaborn as sns
    from sklearn.metrics import confusion_matrix

    k = len(class_names)
    if k < 1:
        raise ValueError("class_names is empty")
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} entries but y_pred has {len(y_pred)}; expected the same")
    if len(y_true) == 0:
        raise ValueError("y_true and y_pred are empty")
    y_true = _as_class_ids(y_true, "y_true", k)
    y_pred = _as_class_ids(y_pred, "y_pred", k)
    cm = confusion_matrix(y_true, y_pred, labels=list(range(k)))
    support = cm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.where(support > 0, np.diag(cm) / support, np.nan)
        shown = cm / support[:, None] if normalize else cm
    overall = float(np.trace(cm) / cm.sum())

    side = min(max(4.5, 0.45 * k + 2.0), 12.0)
    names = list(class_names) if k <= 40 else "auto"  # seaborn thins out long label lists
    fig, (ax_cm, ax_bar) = _new_figure(1, 2, figsize=(2 * side + 1.5, side),
                                        gridspec_kw={"width_ratios": [1.35, 1]}, layout="constrained")
    sns.heatmap(shown, ax=ax_cm, cmap="Blues", annot=k <= 20, fmt=".2f" if normalize else "d",
                vmin=0, vmax=1 if normalize else None, square=True, cbar=True,
                xticklabels=names, yticklabels=names)
    ax_cm.set(xlabel="Predicted", ylabel="True",
              title="Confusion matrix (row-normalised)" if normalize else "Confusion matrix (counts)")
    ax_cm.tick_params(axis="x", labelrotation=45 if k > 3 else 0)
    ax_cm.tick_params(axis="y", labelrotation=0)

    ypos = np.arange(k)
    ax_bar.barh(ypos, np.nan_to_num(per_class), color="C0")
    for y, acc in zip(ypos, per_class):
        if k > 40 and np.isfinite(acc):
            continue  # too many bars to label each one
        ax_bar.text(min(acc, 1.0) + 0.01 if np.isfinite(acc) else 0.01, y,
                    f"{acc:.2f}" if np.isfinite(acc) else "n/a", va="center", fontsize=8)
    ax_bar.axvline(overall, color="C3", linestyle="--", label=f"overall accuracy ({overall:.3f})")
    ax_bar.set_yticks(ypos, list(class_names), fontsize=None if k <= 40 else 5)
    ax_bar.set_ylim(k - 0.5, -0.5)  # class 0 on top, like the heatmap
    ax_bar.set(xlim=(0, 1.12), xlabel="accuracy (recall)", title="Per-class accuracy")
    ax_bar.grid(axis="x", alpha=0.3)
    ax_bar.legend(loc="best", fontsize="small")
    if title:
        fig.suptitle(title)
    return fig
