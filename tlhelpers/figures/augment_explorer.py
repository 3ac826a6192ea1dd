"""The augmentation explorer of notebook 06: sliders for each random layer's strength that
redraw a grid of augmented copies of one image (a static figure where widgets cannot run).

The layers themselves are built by :func:`tlhelpers.transfer.augment.make_augmentation`, the
packaged form of notebook 06, section 2.

>>> from tlhelpers.figures.augment_explorer import SLIDER_RANGES
>>> sorted(SLIDER_RANGES)
['brightness', 'contrast', 'rotation', 'translation', 'zoom']
"""

from __future__ import annotations

import numpy as np

from tlhelpers.figures import plots
from tlhelpers.transfer.augment import DEFAULT_STRENGTHS, make_augmentation
from tlhelpers.figures.explore import explorer_box, replace_output
from tlhelpers.startup.notebook import widgets_available

#: Slider ranges (min, max, step) for the explorer.
SLIDER_RANGES = dict(rotation=(0.0, 0.5, 0.01), zoom=(0.0, 0.5, 0.05), translation=(0.0, 0.4, 0.05),
                     contrast=(0.0, 0.9, 0.05), brightness=(0.0, 0.6, 0.05))


def _draw(image: np.ndarray, strengths: dict, n: int, ncols: int, seed: int | None):
    aug = make_augmentation(**strengths, seed=seed)
    words = ", ".join(f"{k} {v:g}" if not isinstance(v, bool) else f"{k} {'on' if v else 'off'}"
                      for k, v in strengths.items())
    return plots.show_augmentations(image, aug, n=n, ncols=ncols, title=words)


def augmentation_explorer(image: np.ndarray, strengths: dict | None = None, n: int = 8, ncols: int = 4,
                          use_widgets: bool | None = None, seed: int | None = None):
    """Sliders for each augmentation's strength that redraw a grid of augmented ``image``.

    ``image`` is raw pixels (H, W, 3) in [0, 255]. Without ipywidgets (or with
    ``use_widgets=False`` or ``TL_WIDGETS=0``) it returns a static figure at the given
    strengths instead, so it never fails in a headless run. Returns the widget box or
    the figure; in a notebook, end the cell with it to display it.

    The grid is put into its ``Output`` widget from the kernel side
    (:func:`tlhelpers.figures.explore.replace_output`), not with ``with out: display(...)``,
    which made ``nbclient`` / ``jupyter nbconvert --execute`` wait forever now and then.
    The box's display data also carry the grid it shows as a PNG, for pages without widgets.
    """
    strengths = {**DEFAULT_STRENGTHS, **(strengths or {})}
    unknown = set(strengths) - set(DEFAULT_STRENGTHS)
    if unknown:
        raise ValueError(f"Unknown augmentation(s) {sorted(unknown)}; use {sorted(DEFAULT_STRENGTHS)}.")
    if use_widgets is None:
        use_widgets = widgets_available()
    if not use_widgets:
        return _draw(image, strengths, n, ncols, seed)

    import ipywidgets as w

    controls = {"flip": w.Checkbox(value=bool(strengths["flip"]), description="flip")}
    for name, (low, high, step) in SLIDER_RANGES.items():
        controls[name] = w.FloatSlider(value=float(strengths[name]), min=low, max=high, step=step,
                                       description=name, continuous_update=False)
    again = w.Button(description="new random draws")
    out = w.Output()

    def redraw(*_):
        try:
            replace_output(out, _draw(image, {k: c.value for k, c in controls.items()}, n, ncols, seed))
        except Exception as err:  # shown under the sliders, not only in the kernel log
            replace_output(out, f"{type(err).__name__}: {err}")

    for c in controls.values():
        c.observe(redraw, names="value")
    again.on_click(redraw)
    redraw()
    return explorer_box([w.HBox([w.VBox(list(controls.values())), again]), out], out)
