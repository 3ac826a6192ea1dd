"""Plots about models and training runs: histories, filters, activations, results.

Every function returns a :class:`matplotlib.figure.Figure` and never calls
``plt.show()``; in a notebook the returned figure is displayed automatically.
Import these from :mod:`tlhelpers.figures.plots`, which re-exports them.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

PHASE_LABEL = "fine-tuning starts"


def _ensure_png_display() -> None:
    """In IPython/Jupyter, make a returned Figure display as a PNG.

    Figures made without pyplot do not activate the inline backend, which is what
    normally registers that display; without it a cell shows only "<Figure size ...>".
    An existing registration (inline backend, ipympl, %config) is left untouched.
    """
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import print_figure
    except ImportError:  # pragma: no cover - IPython is not required outside notebooks
        return
    ip = get_ipython()
    if ip is None:
        return
    png = ip.display_formatter.formatters["image/png"]
    if Figure in png.type_printers:
        return
    png.for_type(Figure, lambda fig: print_figure(fig, "png", bbox_inches="tight"))


def _new_figure(*grid: int, figsize: tuple[float, float], **kwargs: Any) -> tuple[Figure, Any]:
    """A figure and its axes, made without pyplot: nothing is left open in pyplot's
    registry, so Jupyter draws only the figure the notebook returns (once)."""
    _ensure_png_display()
    layout = kwargs.pop("layout", None)
    fig = Figure(figsize=figsize, layout=layout)
    return fig, fig.subplots(*grid, **kwargs)


def _grid(n: int, ncols: int, cell: float = 1.7, title: str | None = None) -> tuple[Figure, list[Axes]]:
    """A figure with exactly ``n`` axes laid out in rows of ``ncols`` (unused slots removed)."""
    if n < 1:
        raise ValueError(f"nothing to show: n must be >= 1, got {n}")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = _new_figure(nrows, ncols, figsize=(cell * ncols, cell * nrows + 0.4 * bool(title)),
                             squeeze=False, layout="constrained")
    flat = list(axes.ravel())
    for ax in flat[n:]:
        fig.delaxes(ax)
    if title:
        fig.suptitle(title)
    return fig, flat[:n]


def _fine_tune_start(history: Mapping[str, Any], n_epochs: int, name: str = "history") -> int | None:
    k = history.get("fine_tune_start")
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"{name}['fine_tune_start'] must be an int (epochs in the first phase), got {k!r}")
    if not 0 <= k <= n_epochs:
        raise ValueError(f"{name}['fine_tune_start']={k} is outside 0..{n_epochs} (the number of epochs)")
    return int(k)


def _series(history: Mapping[str, Any], key: str, name: str = "history") -> np.ndarray:
    if key not in history:
        keys = sorted(k for k in history if k != "fine_tune_start")
        raise ValueError(f"{name} has no {key!r}; available keys: {keys}")
    return np.asarray(history[key], dtype=float).ravel()


def _pretty(metric: str) -> str:
    if metric.startswith("val_"):
        return "Validation " + metric[4:].replace("_", " ")
    return "Training " + metric.replace("_", " ")


def plot_history(history: dict, title: str | None = None) -> Figure:
    """Accuracy and loss per epoch, training vs validation.

    ``history`` is ``model.fit(...).history`` (a Keras ``History`` object is also
    accepted). If ``history["fine_tune_start"] = k`` (epochs of the first phase), a
    dashed line between epochs k and k+1 marks where fine-tuning starts.

    >>> fig = plot_history({"accuracy": [.5, .7], "loss": [1., .6], "val_accuracy": [.6, .65]})
    """
    history = getattr(history, "history", history)
    fig, axes = _new_figure(1, 2, figsize=(11, 4), layout="constrained")
    n_epochs = None
    for ax, key, name in zip(axes, ("accuracy", "loss"), ("Accuracy", "Loss")):
        train = _series(history, key)
        n_epochs = len(train)
        epochs = np.arange(1, n_epochs + 1)
        ax.plot(epochs, train, marker="o", ms=3, label="train")
        if f"val_{key}" in history:
            val = _series(history, f"val_{key}")
            if len(val) != n_epochs:
                raise ValueError(f"history['val_{key}'] has {len(val)} values but history['{key}'] has "
                                 f"{n_epochs}; expected one value per epoch in both")
            ax.plot(epochs, val, marker="o", ms=3, label="validation")
        k = _fine_tune_start(history, n_epochs)
        if k is not None:
            ax.axvline(k + 0.5, color="gray", linestyle="--", label=PHASE_LABEL)
        ax.set(title=name, xlabel="epoch", ylabel=key)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def compare_histories(histories: dict[str, dict], metric: str = "val_accuracy",
                      title: str | None = None) -> Figure:
    """Compare several training runs: ``metric`` on the left, the matching loss on the right.

    The loss is ``val_loss`` when ``metric`` starts with ``"val_"``, else ``loss``.
    Runs with ``fine_tune_start`` get a dashed marker in their own colour.

    >>> fig = compare_histories({"frozen": {"val_accuracy": [.6, .7], "val_loss": [1., .8]},
    ...                          "scratch": {"val_accuracy": [.3, .4], "val_loss": [2., 1.7]}})
    """
    if not histories:
        raise ValueError("histories is empty; expected a dict {run name: history dict}")
    loss_key = "val_loss" if metric.startswith("val_") else "loss"
    fig, axes = _new_figure(1, 2, figsize=(12, 4.5), layout="constrained")
    for i, (run, hist) in enumerate(histories.items()):
        hist = getattr(hist, "history", hist)
        color = f"C{i % 10}"
        for ax, key in zip(axes, (metric, loss_key)):
            values = _series(hist, key, name=f"histories[{run!r}]")
            ax.plot(np.arange(1, len(values) + 1), values, marker="o", ms=3, color=color, label=run)
            k = _fine_tune_start(hist, len(values), name=f"histories[{run!r}]")
            if k is not None:
                ax.axvline(k + 0.5, color=color, linestyle="--", alpha=0.7, label=f"{run}: {PHASE_LABEL}")
    for ax, key in zip(axes, (metric, loss_key)):
        ax.set(title=_pretty(key), xlabel="epoch", ylabel=key)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def show_filters(kernel: Any, n: int = 32, ncols: int = 8, title: str | None = None) -> Figure:
    """Show the first ``n`` filters of a conv kernel of shape (kh, kw, in_ch, out_ch).

    With 3 input channels each filter is drawn as an RGB image (normalised per
    filter to [0, 1]); otherwise input channel 0 is drawn in gray.

    >>> fig = show_filters(model.get_layer("block1_conv1").kernel)  # doctest: +SKIP
    """
    k = np.asarray(kernel, dtype=np.float32)
    if k.ndim != 4:
        raise ValueError(f"kernel must have shape (kh, kw, in_ch, out_ch), got shape {k.shape}")
    count = min(n, k.shape[3])
    fig, axes = _grid(count, ncols, cell=1.3, title=title)
    for i, ax in enumerate(axes):
        w = k[:, :, :, i] if k.shape[2] == 3 else k[:, :, 0, i]
        w = (w - w.min()) / (w.max() - w.min() + 1e-8)
        ax.imshow(w, cmap=None if w.ndim == 3 else "gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"filter {i}", fontsize=9)
        ax.axis("off")
    return fig


def show_activations(activations: dict[str, np.ndarray], n_channels: int = 8,
                     title: str | None = None) -> Figure:
    """Feature maps of one image: one row per layer, its first ``n_channels`` channels.

    ``activations`` maps layer name -> array (H, W, C) or (1, H, W, C).

    >>> fig = show_activations({"conv1": np.random.rand(16, 16, 8)}, n_channels=4)
    """
    if not activations:
        raise ValueError("activations is empty; expected a dict {layer name: array (H, W, C)}")
    if n_channels < 1:
        raise ValueError(f"n_channels must be >= 1, got {n_channels}")
    maps = {}
    for name, a in activations.items():
        a = np.asarray(a, dtype=np.float32)
        if a.ndim == 4 and a.shape[0] == 1:
            a = a[0]
        if a.ndim != 3:
            raise ValueError(f"activations[{name!r}] has shape {a.shape}; expected (H, W, C) or (1, H, W, C)")
        maps[name] = a
    ncols = min(n_channels, max(a.shape[2] for a in maps.values()))
    size = (1.6 * ncols + 0.8, 1.7 * len(maps) + 0.4 * bool(title))
    fig, axes = _new_figure(len(maps), ncols, figsize=size, squeeze=False, layout="constrained")
    for row, (name, a) in zip(axes, maps.items()):
        for j, ax in enumerate(row):
            if j >= a.shape[2]:
                fig.delaxes(ax)
                continue
            ax.imshow(a[:, :, j], cmap="viridis")
            ax.set_title(f"channel {j}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
        row[0].set_ylabel(f"{name}\n{a.shape[0]}x{a.shape[1]}x{a.shape[2]}", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def plot_results(results: dict[str, float], title: str | None = None, ylabel: str = "test accuracy",
                 reference: dict[str, float] | None = None) -> Figure:
    """Bar chart comparing runs, each bar annotated with its value.

    ``reference`` (e.g. numbers reported by the original lesson) adds a second,
    hatched bar group next to this run's bars.

    >>> fig = plot_results({"scratch": 0.55, "transfer": 0.91}, reference={"transfer": 0.93})
    """
    if not results:
        raise ValueError("results is empty; expected a dict {run name: value}")
    names = list(results) + [k for k in (reference or {}) if k not in results]
    x = np.arange(len(names))
    fig, ax = _new_figure(figsize=(max(6.0, 1.3 * len(names) + 2), 4.5), layout="constrained")
    groups = [("this run", results, {})]
    if reference is not None:
        groups.append(("reported by the original lesson", reference,
                       {"hatch": "//", "facecolor": "white", "edgecolor": "C1"}))
    width = 0.8 / len(groups)
    for g, (label, values, style) in enumerate(groups):
        v = np.array([values.get(k, np.nan) for k in names], dtype=float)
        xs = x - 0.4 + width * (g + 0.5)
        ax.bar(xs, v, width, label=label, **style)
        for xi, vi in zip(xs, v):
            if np.isfinite(vi):
                ax.annotate(f"{vi:.3f}", (xi, vi), xytext=(0, 3), textcoords="offset points",
                            ha="center", va="bottom", fontsize=9)
    top = np.nanmax([*results.values(), *(reference or {}).values()])
    headroom = 1.3 if reference is not None else 1.15  # room for the labels (and the legend)
    ax.set_ylim(0, top * headroom if top > 0 else 1)
    ax.set_xticks(x, [textwrap.fill(str(k), 14) for k in names])
    ax.set(ylabel=ylabel, title=title or ylabel.capitalize())
    ax.grid(axis="y", alpha=0.3)
    if reference is not None:
        ax.legend(loc="upper left", ncols=2, fontsize="small")
    return fig


def _check_same_length(**arrays: Sequence) -> None:
    (first, a), *rest = arrays.items()
    for name, b in rest:
        if len(b) != len(a):
            raise ValueError(f"{name} has {len(b)} values but {first} has {len(a)}; expected the same length")


def plot_lines(x: Sequence[float], series: dict[str, list[float]], xlabel: str, ylabel: str,
               title: str | None = None, logx: bool = False, annotate: bool = False) -> Figure:
    """One line with markers per series, all against the same ``x``.

    >>> fig = plot_lines([100, 1000], {"frozen": [.6, .8]}, "training images", "accuracy", logx=True)
    """
    if not series:
        raise ValueError("series is empty; expected a dict {name: values}")
    fig, ax = _new_figure(figsize=(7, 4.5), layout="constrained")
    for name, values in series.items():
        _check_same_length(x=x, **{f"series[{name!r}]": values})
        ax.plot(x, values, marker="o", label=name)
        if annotate:
            for xi, vi in zip(x, values):
                if vi is not None and np.isfinite(vi):
                    ax.annotate(f"{vi:.3f}", (xi, vi), xytext=(0, 6), textcoords="offset points",
                                ha="center", fontsize=8)
    if logx:
        ax.set_xscale("log")
    if len(x) <= 12:
        ax.set_xticks(list(x), [f"{v:g}" if isinstance(v, (int, float, np.number)) else str(v)
                                for v in x])
        ax.minorticks_off()
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or f"{ylabel} vs {xlabel}")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def plot_scatter(x: Sequence[float], y: Sequence[float], labels: Sequence[str], xlabel: str, ylabel: str,
                 title: str | None = None, logx: bool = False, logy: bool = False) -> Figure:
    """Scatter plot with each point labelled by its text (e.g. model name).

    >>> fig = plot_scatter([16, 50], [138e6, 25.6e6], ["VGG16", "ResNet50"], "depth", "parameters")
    """
    _check_same_length(x=x, y=y, labels=labels)
    for name, values, log in (("x", x, logx), ("y", y, logy)):
        if log and np.any(np.asarray(values, dtype=float) <= 0):
            raise ValueError(f"log scale needs positive {name} values, got min {np.min(values)}")
    fig, ax = _new_figure(figsize=(7.5, 5), layout="constrained")
    ax.scatter(x, y, s=30, zorder=3)
    for xi, yi, text in zip(x, y, labels):
        ax.annotate(str(text), (xi, yi), xytext=(4, 4), textcoords="offset points", fontsize=8)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or f"{ylabel} vs {xlabel}")
    ax.grid(alpha=0.3)
    return fig
