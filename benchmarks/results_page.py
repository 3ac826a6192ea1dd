"""Write docs/results.md and tlhelpers/analysis/measured_finetune.py from the recorded runs of notebook 04.

The records are the JSON lines that ``benchmarks/finetune_claims.py`` appends, one per seed,
in ``docs/benchmarks/finetune-*.jsonl``. Nothing on the page is typed by hand:

    python benchmarks/results_page.py            # rewrite both files
    python benchmarks/results_page.py --check    # exit 1 if either differs from the records

``tests/test_results_page.py`` runs the check.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDS = sorted((ROOT / "docs" / "benchmarks").glob("finetune-*.jsonl"))
PAGE = ROOT / "docs" / "results.md"
MODULE = ROOT / "tlhelpers" / "analysis" / "measured_finetune.py"

sys.path.insert(0, str(ROOT))
from tlhelpers.analysis.stats import t_factor  # noqa: E402


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and its standard error over seeds."""
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return mean, se


def label(rows: list[dict]) -> str:
    r = rows[0]
    return f"{r['profile']}, {r['backbone']}"


def verdict(mean: float, se: float, seeds: int) -> str:
    """Beyond Student's t x SE over seeds, between 2 and t SE (suggestive), or within noise."""
    t = t_factor(seeds)
    if abs(mean) > t * se:
        return "beyond seed noise"
    if abs(mean) > 2 * se:
        return "suggestive"
    return "within seed noise"


def summary(rows: list[dict]) -> dict:
    """What notebook 04 prints from this record: means and standard errors over seeds."""
    seeds = len(rows)
    out = {"label": label(rows), "seeds": [r["seed"] for r in rows],
           "conditions": {k: rows[0][k] for k in ("image_size", "train", "validation", "test", "epochs")},
           "test": {}, "bn": {}}
    for name, values in (("feature extraction", [r["feature_extraction"] for r in rows]),
                         ("lesson's fine-tuning", [r["lesson"]["accuracy"] for r in rows]),
                         ("course's fine-tuning", [r["recipe"]["accuracy"] for r in rows])):
        out["test"][name] = [round(v, 4) for v in mean_se(values)]
    for key in ("recipe", "lesson"):
        gaps = [r[key]["gap"] for r in rows]
        out[f"{key}_gaps"] = gaps
        out[f"{key}_p"] = [r[key]["p_value"] for r in rows]
    cells = {(b["per_class"], b["batch"]) for b in rows[0]["bn"]}
    for per_class, batch in sorted(cells):
        diffs = []
        for r in rows:
            acc = {b["bn"]: b["val_accuracy"] for b in r["bn"] if (b["per_class"], b["batch"]) == (per_class, batch)}
            diffs.append(acc["updating"] - acc["frozen"])
        mean, se = mean_se(diffs)
        out["bn"][f"{per_class} per class, batch {batch}"] = {
            "per_seed": [round(d, 3) for d in diffs], "mean": round(mean, 4), "se": round(se, 4),
            "verdict": verdict(mean, se, seeds)}
    out["high_lr"] = {"classes_predicted": [r["high_lr"]["classes_predicted"] for r in rows],
                      "val_accuracy": [round(r["high_lr"]["val_accuracy"], 3) for r in rows],
                      "last_loss": [round(r["high_lr"]["last_loss"], 2) for r in rows]}
    out["wall_s"] = [r["wall_s"] for r in rows]
    out["peak_mb"] = [r["peak_mb"] for r in rows]
    return out


def section(s: dict) -> str:
    c = s["conditions"]
    n = len(s["seeds"])
    t = t_factor(n)
    lines = [f"## `{s['label']}`", "",
             f"{c['image_size']} px; {c['train']} training, {c['validation']} validation and {c['test']} test "
             f"images; {c['epochs']} fine-tuning epochs; seeds {', '.join(map(str, s['seeds']))}.", "",
             "| test accuracy | mean over seeds | SE over seeds |", "|---|---:|---:|"]
    for name, (mean, se) in s["test"].items():
        lines.append(f"| {name} | {mean:.3f} | {se:.3f} |")
    lines += ["", "Gain over feature extraction on the same test images, per seed, with McNemar's p "
              "(the noise of which test images were drawn):", ""]
    for key, name in (("recipe", "course's fine-tuning"), ("lesson", "lesson's fine-tuning")):
        per_seed = ", ".join(f"{g:+.3f} (p = {p:.2g})" for g, p in zip(s[f"{key}_gaps"], s[f"{key}_p"]))
        lines.append(f"- {name}: {per_seed}")
    lines += ["", f"BatchNormalization updating minus frozen, validation accuracy (section 6; {n} seeds; "
              f"a mean counts beyond seed noise past Student's t = {t:.2f} standard errors, "
              "and is suggestive between 2 and t):", "",
              "| setting | per seed | mean | SE | verdict |", "|---|---|---:|---:|---|"]
    for name, b in s["bn"].items():
        per_seed = ", ".join(f"{d:+.3f}" for d in b["per_seed"])
        lines.append(f"| {name} | {per_seed} | {b['mean']:+.3f} | {b['se']:.3f} | {b['verdict']} |")
    h = s["high_lr"]
    lines += ["", f"Learning rate 1e-2 (section 7): classes predicted {h['classes_predicted']}, validation "
              f"accuracy {h['val_accuracy']}, last training loss {h['last_loss']} (ln 10 = 2.30).", "",
              f"Each seed took {', '.join(f'{w:.0f}' for w in s['wall_s'])} s; the process's peak memory after "
              f"each seed: {', '.join(f'{m:,}' for m in s['peak_mb'])} MB (one process runs every seed and "
              "builds a fresh model for every run, and TensorFlow keeps part of each traced model; notebook 04 "
              "restarts its models instead, see docs/performance.md).", ""]
    return "\n".join(lines)


def page(summaries: list[dict]) -> str:
    head = ["# What notebook 04 measures, over seeds", "",
            "Generated by `python benchmarks/results_page.py` from the records of "
            "`benchmarks/finetune_claims.py` (`docs/benchmarks/finetune-*.jsonl`); do not edit by hand. "
            "`tests/test_results_page.py` checks that this page and the records agree.", "",
            "Each record repeats notebook 04's experiments with one seed: feature extraction, the original "
            "lesson's fine-tuning (last 20 layers, constant 1e-4) and the course's recipe (the whole base of "
            "MobileNet 0.25, cosine decay from 1e-4, flip and shift augmentation), all three scored on the "
            "same test images; the BatchNormalization grid of section 6; the high rate of section 7. "
            "Two kinds of noise appear below and are named where they do: which test images were drawn "
            "(McNemar's paired test, per seed) and which seed trained the models (the spread over seeds).",
            "", "MobileNetV2, the `cpu` profile's backbone for learners, has no ImageNet weights offline, so "
            "the `cpu` record uses MobileNet 0.25 (`TL_BACKBONE=mobilenet_025`) at the `cpu` profile's "
            "size and data; `docs/performance.md` gives MobileNetV2's time and memory.", ""]
    return "\n".join(head) + "\n" + "\n".join(section(s) for s in summaries)


def module(summaries: list[dict]) -> str:
    body = json.dumps({s["label"]: s for s in summaries}, indent=1, sort_keys=True)
    return (
        '"""Notebook 04\'s experiments over seeds, summarised (a generated file).\n\n'
        "Written by ``python benchmarks/results_page.py`` from ``docs/benchmarks/finetune-*.jsonl``\n"
        "(``tests/test_results_page.py`` checks that they agree). Keys are \"profile, backbone\".\n\n"
        ">>> sorted(SEEDS)[0].startswith(\"ci\")\nTrue\n\"\"\"\n\n"
        "import json\n\n"
        f"SEEDS = json.loads(r'''{body}''')\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    summaries = [summary(load(p)) for p in RECORDS]
    wanted = {PAGE: page(summaries), MODULE: module(summaries)}
    if args.check:
        stale = [str(p.relative_to(ROOT)) for p, text in wanted.items()
                 if not p.exists() or p.read_text() != text]
        if stale:
            print(f"{', '.join(stale)} differ from the records: run python benchmarks/results_page.py")
            return 1
        return 0
    for p, text in wanted.items():
        p.write_text(text)
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
