"""Ablations of the CPU recipe, scored on a validation split of the training set.

Each run is ``benchmarks/recipe.py --val`` in its own process (so its peak memory is its
own), one line of JSON per run appended to ``--out``; runs already there are skipped, so
an interrupted sweep resumes. The summary gives the mean and the standard error over
seeds for each variant, and its difference from the baseline.

    python benchmarks/ablations.py --out docs/benchmarks/ablations.jsonl
    python benchmarks/ablations.py --out docs/benchmarks/ablations.jsonl --only image_size
    python benchmarks/ablations.py --out docs/benchmarks/ablations.jsonl --summary
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

RECIPE = Path(__file__).with_name("recipe.py")
#: The ablations' baseline: notebook 04's section 4 recipe (recipe.py's defaults are the
#: recommended recipe, which came out of these ablations).
BASELINE = ["ft_layers=20", "ft_lr=1e-4", "schedule=constant", "tta=false"]

#: (group, variant label, overrides of the baseline recipe)
ABLATIONS: list[tuple[str, str, list[str]]] = [
    ("baseline", "baseline", []),
    ("image_size", "96 px", ["image_size=96"]),
    ("image_size", "160 px", ["image_size=160"]),
    ("image_size", "192 px", ["image_size=192"]),
    ("head_epochs", "head 10 epochs", ["head_epochs=10"]),
    ("head_epochs", "head 20 epochs", ["head_epochs=20"]),
    ("depth", "head only", ["ft_layers=0"]),
    ("depth", "last 10 layers", ["ft_layers=10"]),
    ("depth", "last 40 layers", ["ft_layers=40"]),
    ("depth", "whole base", ["ft_layers=-1"]),
    ("ft_epochs", "3 epochs", ["ft_epochs=3"]),
    ("ft_epochs", "10 epochs", ["ft_epochs=10"]),
    ("schedule", "cosine", ["schedule=cosine"]),
    ("schedule", "warm-up + cosine", ["schedule=warmup"]),
    ("schedule", "lr 3e-4 cosine", ["ft_lr=3e-4", "schedule=cosine"]),
    ("augment", "flip", ["augment=flip"]),
    ("augment", "flip + translate", ["augment=flip_translate"]),
    ("augment", "flip + crop", ["augment=crop"]),
    ("label_smoothing", "smoothing 0.1", ["label_smoothing=0.1"]),
    ("features", "96 + 128 px features, head only", ["ft_layers=0", "second_size=96"]),
    ("features", "128 + 160 px features, head only", ["ft_layers=0", "second_size=160"]),
    ("batch", "batch 16", ["batch=16"]),
    ("batch", "batch 64", ["batch=64"]),
    ("batchnorm", "BatchNormalization trained", ["train_bn=true"]),
    # Round 2: the winners of round 1 together (lr 3e-4 with cosine decay first).
    ("combined", "lr 1e-3 cosine", ["ft_lr=1e-3", "schedule=cosine"]),
    ("combined", "lr 3e-4 cosine, whole base", ["ft_lr=3e-4", "schedule=cosine", "ft_layers=-1"]),
    ("combined", "lr 3e-4 cosine, 10 epochs", ["ft_lr=3e-4", "schedule=cosine", "ft_epochs=10"]),
    ("combined", "lr 3e-4 cosine, 10 epochs, flip", ["ft_lr=3e-4", "schedule=cosine", "ft_epochs=10",
                                                     "augment=flip"]),
    ("combined", "lr 3e-4 cosine, 160 px", ["ft_lr=3e-4", "schedule=cosine", "image_size=160"]),
    ("combined", "lr 3e-4 cosine, batch 64", ["ft_lr=3e-4", "schedule=cosine", "batch=64"]),
    ("combined", "lr 3e-4 cosine, whole base, 10 epochs", ["ft_lr=3e-4", "schedule=cosine", "ft_layers=-1",
                                                           "ft_epochs=10"]),
]


def key(label: str, seed: int) -> str:
    return f"{label}|{seed}"


def run(label: str, overrides: list[str], seed: int, backbone: str) -> dict:
    cmd = [sys.executable, str(RECIPE), "--val", "--backbone", backbone,
           "--set", *BASELINE, *overrides, f"seed={seed}"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{label} (seed {seed}) failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _stat(runs: list[dict], field: str) -> tuple[float, float]:
    vals = [r[field] for r in runs if field in r]
    if not vals:
        return float("nan"), float("nan")
    se = statistics.stdev(vals) / len(vals) ** 0.5 if len(vals) > 1 else float("nan")
    return statistics.mean(vals), se


def _r(value: float) -> float | None:
    """Rounded to 4 places; None where nothing was measured (no TTA without fine-tuning)."""
    return None if value != value else round(value, 4)


def summary_rows(rows: list[dict]) -> list[tuple]:
    """(group, variant, seeds, accuracy, standard error, flip-TTA accuracy, head-only accuracy,
    wall s, peak MB) per variant, means over seeds, rounded as published."""
    by: dict[str, list[dict]] = {}
    for row in rows:
        by.setdefault(row["label"], []).append(row)
    out = []
    for group, label, _ in ABLATIONS:
        runs = by.get(label)
        if not runs:
            continue
        acc, se = _stat(runs, "accuracy")
        tta, head = _stat(runs, "tta_accuracy")[0], _stat(runs, "head_accuracy")[0]
        out.append((group, label, len(runs), _r(acc), _r(se), _r(tta), _r(head),
                    round(_stat(runs, "wall_s")[0]), round(_stat(runs, "peak_mb")[0])))
    return out


def summary(rows: list[dict]) -> str:
    """The summary as a markdown table, for docs/performance.md."""
    table = summary_rows(rows)
    base = next((r[3] for r in table if r[1] == "baseline"), float("nan"))
    lines = ["| variant | seeds | val accuracy | vs baseline | with flip TTA | head only | wall s | peak MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for _, label, n, acc, se, tta, head, wall, peak in table:
        tta_text = "–" if tta is None else f"{tta:.3f}"
        lines.append(f"| {label} | {n} | {acc:.3f} ± {se:.3f} | {acc - base:+.3f} | {tta_text} | "
                     f"{head:.3f} | {wall:.0f} | {peak:,.0f} |")
    return "\n".join(lines)


def module_text(rows: list[dict], source: str) -> str:
    """The source of tlhelpers/analysis/measured.py: the summary as data, for notebook 04."""
    meta = rows[0] if rows else {}
    body = ",\n".join(f"    {row!r}" for row in summary_rows(rows))
    return MODULE.format(source=source, backbone=meta.get("backbone", "?"),
                         train=meta.get("train_images", "?"), scored=meta.get("scored_images", "?"),
                         rows=body)


MODULE = '''"""What the benchmarks measured: ablations of the CPU fine-tuning recipe (a generated file).

Written by ``python benchmarks/ablations.py --out {source} --write-module
tlhelpers/analysis/measured.py`` from the runs recorded in ``{source}``
(tests/test_measured.py checks that they agree). Notebook 04, section 9, shows the table.

>>> int(ablation_table().loc["baseline", "seeds"])
3
"""

from __future__ import annotations

#: The conditions of every run (docs/performance.md has the machine and the commands).
MEASURED_ON = ("{backbone} with its ImageNet weights, CIFAR-10: {train} training images, "
               "scored on {scored} validation images split off the training set; 2 CPU cores; "
               "means over seeds")

#: (group, variant, seeds, validation accuracy, its standard error over seeds, with flip TTA,
#: head alone, wall seconds, peak MB): every variant changes one choice of the baseline.
ABLATIONS = [
{rows},
]


def ablation_table():
    """The ablations as a DataFrame indexed by variant, with the gain over the baseline.

    >>> float(ablation_table().loc["baseline", "vs baseline"])
    0.0
    """
    import pandas as pd

    columns = ["group", "variant", "seeds", "accuracy", "standard error", "with flip TTA",
               "head alone", "wall s", "peak MB"]
    table = pd.DataFrame(ABLATIONS, columns=columns).set_index("variant")
    table.insert(4, "vs baseline", (table["accuracy"] - table.loc["baseline", "accuracy"]).round(4))
    return table
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON lines, appended to")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="*", help="groups to run (default: all)")
    parser.add_argument("--backbone", default="mobilenet_025")
    parser.add_argument("--summary", action="store_true", help="only print the table")
    parser.add_argument("--write-module", type=Path, help="write the summary as a Python module here")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.out.read_text().splitlines()] if args.out.exists() else []
    done = {key(r["label"], r["recipe"]["seed"]) for r in rows}
    if not args.summary:
        for group, label, overrides in ABLATIONS:
            if args.only and group not in args.only:
                continue
            for seed in args.seeds:
                if key(label, seed) in done:
                    continue
                row = run(label, overrides, seed, args.backbone)
                row.update(label=label, group=group)
                rows.append(row)
                with args.out.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(f"{label:40s} seed {seed}: {row['accuracy']:.3f} "
                      f"({row['wall_s']:.0f} s, {row['peak_mb']:,} MB)", flush=True)
    print(summary(rows))
    if args.write_module:
        args.write_module.write_text(module_text(rows, args.out.as_posix()))
        print(f"wrote {args.write_module}")


if __name__ == "__main__":
    main()
