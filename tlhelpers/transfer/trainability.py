"""A layer-by-layer table of what trains, with nested models expanded.

A layer inside a frozen base is frozen whatever its own ``trainable`` flag says; the
table shows the *effective* state, so "15 of 19 base layers frozen" cannot be misread.

>>> from tlhelpers.transfer.models import scratch_cnn
>>> table = trainability_table(scratch_cnn())
>>> table.totals["trainable_params"]
65930
"""

from __future__ import annotations

import dataclasses
import html

import keras

from tlhelpers.transfer.models import InferenceMode
from tlhelpers.transfer.walk import children
from tlhelpers.transfer.params import count_weights, param_counts


@dataclasses.dataclass
class TrainabilityTable:
    """Rows (one per leaf layer) and totals. Prints as text, renders as HTML in Jupyter."""

    rows: list[dict]
    totals: dict

    def filter(self, prefix: str) -> "TrainabilityTable":
        """Only the rows whose path starts with ``prefix`` (e.g. the base's name)."""
        return _with_totals([r for r in self.rows if r["path"].startswith(prefix)], self.totals)

    def tail(self, n: int) -> "TrainabilityTable":
        """The last ``n`` rows, with the totals of the whole model."""
        return TrainabilityTable(self.rows[-n:], self.totals)

    def summary(self) -> str:
        """The totals in two lines."""
        t = self.totals
        lines = [
            f"Layers: {t['layers_trainable']} trainable, {t['layers_frozen']} frozen "
            f"(of {t['layers_trainable'] + t['layers_frozen']}, nested models expanded).",
            f"Parameters: {t['trainable_params']:,} trainable, "
            f"{t['non_trainable_params']:,} non-trainable.",
        ]
        for name, (n_train, n_all) in t.get("per_model", {}).items():
            lines.append(f"  inside {name}: {n_train} of {n_all} layers trainable")
        return "\n".join(lines)

    def __str__(self) -> str:
        width = max([len(r["path"]) for r in self.rows] + [5])
        head = f"{'layer':<{width}}  {'type':<22} {'trainable':<9} {'params':>11}"
        body = [
            f"{r['path']:<{width}}  {r['type']:<22} {'yes' if r['trainable'] else 'no':<9} "
            f"{r['params']:>11,}"
            for r in self.rows
        ]
        return "\n".join([head, "-" * len(head), *body, "-" * len(head), self.summary()])

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr style='background:{'#e6f4ea' if r['trainable'] else '#fbe9e7'}'>"
            f"<td>{html.escape(r['path'])}</td><td>{r['type']}</td>"
            f"<td>{'yes' if r['trainable'] else 'no'}</td><td style='text-align:right'>"
            f"{r['params']:,}</td></tr>"
            for r in self.rows
        )
        summary = html.escape(self.summary()).replace("\n", "<br>")
        return (
            "<table><tr><th>layer</th><th>type</th><th>trainable</th><th>params</th></tr>"
            f"{cells}</table><p>{summary}</p>"
        )


def _leaf_rows(layer, prefix: str, parent_trainable: bool, rows: list, per_model: dict) -> None:
    effective = parent_trainable and layer.trainable
    if isinstance(layer, InferenceMode):  # a base pinned in inference mode: show the base
        layer = layer.base
        effective = effective and layer.trainable
    if isinstance(layer, keras.Model):
        start = len(rows)
        for sub in children(layer):
            _leaf_rows(sub, f"{prefix}{layer.name}/", effective, rows, per_model)
        mine = rows[start:]
        per_model[layer.name] = (sum(r["trainable"] for r in mine), len(mine))
        return
    params = count_weights(layer.weights)
    rows.append(dict(path=prefix + layer.name, type=type(layer).__name__,
                     trainable=effective, params=params))


def _with_totals(rows: list[dict], model_totals: dict) -> TrainabilityTable:
    totals = dict(model_totals)
    totals.update(
        layers_trainable=sum(r["trainable"] for r in rows),
        layers_frozen=sum(not r["trainable"] for r in rows),
    )
    return TrainabilityTable(rows, totals)


def trainability_table(model: keras.Model) -> TrainabilityTable:
    """Every leaf layer's path, type, effective trainability and parameter count."""
    rows: list[dict] = []
    per_model: dict = {}
    for layer in model.layers:
        _leaf_rows(layer, "", model.trainable, rows, per_model)
    counts = param_counts(model)
    totals = dict(trainable_params=counts.trainable, non_trainable_params=counts.non_trainable,
                  per_model=per_model)
    return _with_totals(rows, totals)
