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
]


def key(label: str, seed: int) -> str:
    return f"{label}|{seed}"


def run(label: str, overrides: list[str], seed: int, backbone: str) -> dict:
    cmd = [sys.executable, str(RECIPE), "--val", "--backbone", backbone,
           "--set", *overrides, f"seed={seed}"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{label} (seed {seed}) failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(rows: list[dict]) -> str:
    by: dict[str, list[dict]] = {}
    for row in rows:
        by.setdefault(row["label"], []).append(row)

    def stat(runs, field):
        vals = [r[field] for r in runs if field in r]
        if not vals:
            return float("nan"), float("nan")
        se = statistics.stdev(vals) / len(vals) ** 0.5 if len(vals) > 1 else float("nan")
        return statistics.mean(vals), se

    base = stat(by.get("baseline", []), "accuracy")[0]
    lines = ["| variant | seeds | val accuracy | vs baseline | with flip TTA | head only | wall s | peak MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for _, label, _ in ABLATIONS:
        runs = by.get(label)
        if not runs:
            continue
        acc, se = stat(runs, "accuracy")
        tta, head = stat(runs, "tta_accuracy")[0], stat(runs, "head_accuracy")[0]
        lines.append(f"| {label} | {len(runs)} | {acc:.3f} ± {se:.3f} | {acc - base:+.3f} | "
                     f"{tta:.3f} | {head:.3f} | {stat(runs, 'wall_s')[0]:.0f} | "
                     f"{stat(runs, 'peak_mb')[0]:,.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON lines, appended to")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="*", help="groups to run (default: all)")
    parser.add_argument("--backbone", default="mobilenet_025")
    parser.add_argument("--summary", action="store_true", help="only print the table")
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


if __name__ == "__main__":
    main()
