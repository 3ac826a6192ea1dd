"""Interactive explorers (ipywidgets) with a plain, testable function behind each one.

- :func:`freezing_summary` / :func:`freezing_explorer`: unfreeze the top *n* layers of
  the base and see the trainable parameters change (the model is restored afterwards).
- :func:`browse_predictions` / :func:`prediction_browser`: pick a class and see the
  model's hits and misses on it, with their confidences.

Without ipywidgets, or outside a live Jupyter kernel, the explorers print or draw a
static overview instead.

Every explorer here (and :func:`tlhelpers.figures.augment_explorer.augmentation_explorer`) redraws through
:func:`replace_output`, never through ``with out: display(...)`` or ``interactive_output``:
see that function for why (a headless run would otherwise hang now and then).

>>> from tlhelpers.transfer.models import scratch_cnn
>>> freezing_summary(scratch_cnn(), 0).trainable_params     # no nested base: all trains
65930
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
from typing import Any, Sequence

import keras
import numpy as np
from matplotlib.figure import Figure

from tlhelpers.figures import plots
from tlhelpers.transfer.models import find_base, unfreeze
from tlhelpers.transfer.trainability import TrainabilityTable, trainability_table
from tlhelpers.startup.notebook import widgets_available  # noqa: F401  (explore.widgets_available)
from tlhelpers.transfer.walk import walk


def _output_entry(obj: Any) -> dict:
    """One nbformat output (a dict) for ``obj``: a string is printed text, a Matplotlib
    figure a PNG, anything else what IPython's display would show for it."""
    if isinstance(obj, str):
        return {"output_type": "stream", "name": "stdout", "text": obj if obj.endswith("\n") else obj + "\n"}
    if isinstance(obj, Figure):
        buffer = io.BytesIO()
        obj.savefig(buffer, format="png", bbox_inches="tight")
        if getattr(obj.canvas, "manager", None) is not None:  # made with pyplot: close it
            import matplotlib.pyplot as plt

            plt.close(obj)
        data = {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": repr(obj)}
        return {"output_type": "display_data", "data": data, "metadata": {}}
    data, metadata = {"text/plain": str(obj)}, {}
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        get_ipython = lambda: None  # noqa: E731
    shell = get_ipython()
    if shell is not None:
        data, metadata = shell.display_formatter.format(obj)
        data = {k: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v for k, v in data.items()}
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def replace_output(out, *objects: Any) -> None:
    """Make the ``ipywidgets.Output`` ``out`` show ``objects`` (strings, figures, tables), and nothing else.

    The new content is set from the kernel side, in one state update: ``out.outputs``.
    The usual ``with out: out.clear_output(wait=True); display(...)`` (which
    ``interactive_output`` and ``interact`` use) does not put anything into the widget
    itself: it tags the display messages with the Output's ``msg_id`` and relies on a
    front end to file them into the widget. A headless client (``nbclient``, hence
    ``jupyter nbconvert --execute``) plays that front end by sending a ``comm_msg`` back
    to the kernel on the shell channel for every captured output, while it waits for the
    cell's ``execute_reply`` on that same channel; now and then it then never notices the
    reply, which sits unread in its socket, and waits forever on an idle kernel
    (jupyter/nbclient#312, jupyter/nbconvert#2029). Setting ``outputs`` needs
    nothing back from the front end: JupyterLab redraws the widget from the new state,
    and a headless client just records it.
    """
    out.outputs = tuple(_output_entry(obj) for obj in objects)


def _static_bundle(outputs: Sequence[dict]) -> dict:
    """Plain MIME data (text, HTML or PNG) of an Output widget's ``outputs``, for a page without widgets."""
    plain, parts, png, rich = [], [], None, False
    for o in outputs:
        if o.get("output_type") == "stream":
            plain.append(o["text"].rstrip("\n"))
            parts.append(f"<pre>{html.escape(o['text'])}</pre>")
            continue
        data = o.get("data", {})
        plain.append(str(data.get("text/plain", "")))
        if "text/html" in data:
            rich = True
            parts.append(data["text/html"])
        elif "image/png" in data:
            png = png or data["image/png"]
            parts.append(f"<img src='data:image/png;base64,{data['image/png']}'/>")
    text = "\n".join(p for p in plain if p)
    bundle = {"text/plain": text} if text else {}
    if rich:
        bundle["text/html"] = "\n".join(parts)
    elif png is not None:
        bundle["image/png"] = png
    return bundle


_BOX_CLASS = None


def explorer_box(children: Sequence[Any], out):
    """An ``ipywidgets.VBox`` of ``children`` that also carries what ``out`` shows as plain data.

    JupyterLab draws the live widget (it prefers the widget view); a page without
    widgets (GitHub, ``nbconvert --to html``, a notebook run headless) shows the grid
    or table as it was when the cell ran, instead of only ``VBox(children=...)``.
    """
    global _BOX_CLASS
    if _BOX_CLASS is None:
        import ipywidgets as widgets

        class ExplorerBox(widgets.VBox):
            """A VBox whose display data include a static copy of its live Output."""

            def _repr_mimebundle_(self, **kwargs):
                bundle = super()._repr_mimebundle_(**kwargs)
                if bundle is None:
                    return None
                return {**bundle, **_static_bundle(self.live_output.outputs)}

        _BOX_CLASS = ExplorerBox
    box = _BOX_CLASS(list(children))
    box.live_output = out
    return box


@dataclasses.dataclass
class FreezingSummary:
    """What unfreezing the last ``n`` base layers would make trainable."""

    n: int
    layers_total: int
    layers_trainable: int
    batchnorm_kept_frozen: int
    trainable_params: int
    non_trainable_params: int
    table: TrainabilityTable

    def __str__(self) -> str:
        share = 100 * self.trainable_params / max(1, self.trainable_params + self.non_trainable_params)
        return (f"Unfreeze the last {self.n} base layers: {self.layers_trainable} of {self.layers_total} "
                f"base layers train ({self.batchnorm_kept_frozen} BatchNorm kept frozen); "
                f"{self.trainable_params:,} trainable parameters ({share:.1f}% of the model).")


def freezing_summary(model: keras.Model, n: int, train_batchnorm: bool = False) -> FreezingSummary:
    """Unfreeze the last ``n`` base layers, measure, then restore every ``trainable`` flag.

    >>> from tlhelpers.transfer.backbones import load_backbone
    >>> from tlhelpers.transfer.models import transfer_classifier
    >>> model = transfer_classifier(load_backbone("mobilenet_025", 96, weights=None), 5)
    >>> freezing_summary(model, 10).trainable_params > freezing_summary(model, 0).trainable_params
    True
    """
    saved = [(layer, layer.trainable) for layer in walk(model)]
    try:
        base = find_base(model)
        if base is model:  # nothing nested: the whole model is the "base"
            table = trainability_table(model)
            return FreezingSummary(n, len(model.layers), table.totals["layers_trainable"], 0,
                                   table.totals["trainable_params"], table.totals["non_trainable_params"], table)
        report = unfreeze(model, last_n=int(n), train_batchnorm=train_batchnorm)
        table = trainability_table(model)
        return FreezingSummary(int(n), report.layers_total, report.layers_trainable,
                               report.batchnorm_kept_frozen, table.totals["trainable_params"],
                               table.totals["non_trainable_params"], table)
    finally:
        for layer, flag in saved:  # parents first, so a child's own flag wins afterwards
            layer.trainable = flag


def freezing_explorer(model: keras.Model, rows: int = 12, steps: Sequence[int] | None = None):
    """A slider over how many top base layers to unfreeze, with the live trainability table.

    Static fallback: one summary line for each of ``steps`` (default: 0, a quarter, half, all).
    """
    n_layers = len(find_base(model).layers)
    if not widgets_available():
        for n in steps or sorted({0, n_layers // 4, n_layers // 2, n_layers}):
            print(freezing_summary(model, n))
        return None
    import ipywidgets as widgets
    from IPython.display import display

    slider = widgets.IntSlider(value=min(20, n_layers), min=0, max=n_layers, description="unfreeze",
                               continuous_update=False)
    out = widgets.Output()

    def show(*_):
        try:
            summary = freezing_summary(model, slider.value)
            replace_output(out, str(summary), summary.table.tail(rows))
        except Exception as err:  # shown where the learner looks, not only in the kernel log
            replace_output(out, f"{type(err).__name__}: {err}")

    slider.observe(show, names="value")
    show()
    display(explorer_box([slider, out], out))


def _message_figure(text: str) -> Figure:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 1.2), layout="constrained")
    ax.text(0.5, 0.5, text, ha="center", va="center")
    ax.axis("off")
    return fig


def select_predictions(y_true: Any, probs: Any, class_id: int, show: str = "misses") -> np.ndarray:
    """Indices of the images of ``class_id`` that the model got right ("hits"), wrong ("misses")
    or both ("all"), most confident first.

    >>> select_predictions([0, 0, 1], [[.9, .1], [.3, .7], [.2, .8]], 0, "misses").tolist()
    [1]
    """
    y_true, probs = np.asarray(y_true).reshape(-1), np.asarray(probs, dtype=float)
    if show not in ("hits", "misses", "all"):
        raise ValueError(f"show must be 'hits', 'misses' or 'all'; got {show!r}.")
    if len(y_true) != len(probs):
        raise ValueError(f"{len(y_true)} labels but {len(probs)} rows of probabilities: they must match.")
    pred = probs.argmax(axis=1)
    mask = y_true == class_id
    if show == "hits":
        mask &= pred == y_true
    elif show == "misses":
        mask &= pred != y_true
    idx = np.flatnonzero(mask)
    return idx[np.argsort(-probs[idx, pred[idx]], kind="stable")]


def browse_predictions(images: Any, y_true: Any, probs: Any, class_names: Sequence[str],
                       class_id: int, show: str = "misses", n: int = 12, ncols: int = 6) -> Figure:
    """A grid of the model's hits or misses on one class, titled with prediction and confidence.

    Misses are sorted with the most confident mistakes first (the most instructive ones).
    """
    if not 0 <= int(class_id) < len(class_names):
        raise ValueError(f"class_id must be between 0 and {len(class_names) - 1}; got {class_id}.")
    idx = select_predictions(y_true, probs, int(class_id), show)
    name = class_names[int(class_id)]
    total = int(np.sum(np.asarray(y_true).reshape(-1) == int(class_id)))
    if len(idx) == 0:
        return _message_figure(f"No {show} for class '{name}' ({total} test images of it).")
    title = f"{name}: {len(idx)} {show} of {total} images" + (" (most confident first)" if show != "all" else "")
    images = np.asarray(images)
    return plots.show_predictions(images[idx[:n]], np.asarray(y_true).reshape(-1)[idx[:n]],
                                  np.asarray(probs)[idx[:n]], class_names, n=n, ncols=ncols, title=title)


def prediction_browser(images: Any, y_true: Any, probs: Any, class_names: Sequence[str], n: int = 12):
    """Pick a class and hits/misses; see the images. Static fallback: the misses of the worst class."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    y = np.asarray(y_true).reshape(-1)
    correct = np.asarray(probs).argmax(axis=1) == y
    recall = [correct[y == c].mean() if np.any(y == c) else 1.0 for c in range(len(class_names))]
    worst = int(np.argmin(recall))
    if not widgets_available():
        fig = browse_predictions(images, y, probs, class_names, worst, "misses", n)
        display(fig)
        plt.close(fig)
        return None
    import ipywidgets as widgets

    pick = widgets.Dropdown(options=[(f"{c} (recall {r:.2f})", i) for i, (c, r) in
                                     enumerate(zip(class_names, recall))], value=worst, description="class")
    kind = widgets.ToggleButtons(options=["misses", "hits", "all"], value="misses", description="show")

    out = widgets.Output()

    def show(*_):
        try:
            replace_output(out, browse_predictions(images, y, probs, class_names, pick.value, kind.value, n))
        except Exception as err:  # shown where the learner looks, not only in the kernel log
            replace_output(out, f"{type(err).__name__}: {err}")

    pick.observe(show, names="value")
    kind.observe(show, names="value")
    show()
    display(explorer_box([widgets.HBox([pick, kind]), out], out))
