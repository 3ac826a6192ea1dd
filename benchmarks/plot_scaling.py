"""Plot time and peak memory against training-set size from `pipelines.py --out` JSON.

    python benchmarks/plot_scaling.py results.json docs/performance-scaling.png
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from matplotlib.figure import Figure


def main(src: str, dest: str) -> None:
    runs = json.loads(Path(src).read_text())["runs"]
    sizes = sorted({r["train"] for r in runs})
    names = sorted({r["pipeline"] for r in runs}, key=lambda n: (n != "original", n))
    fig = Figure(figsize=(11, 4), layout="constrained")
    axes = fig.subplots(1, 2)
    for key, ax, label in (("wall_s", axes[0], "wall time (s)"), ("peak_mb", axes[1], "peak memory (MB)")):
        for name in names:
            xs = [n for n in sizes if any(r["train"] == n and r["pipeline"] == name for r in runs)]
            ys = [statistics.median(r[key] for r in runs if r["train"] == n and r["pipeline"] == name)
                  for n in xs]
            ax.plot(xs, ys, marker="o", label=name)
        ax.set(xlabel="training images", ylabel=label, title=label.split(" (")[0].capitalize())
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.savefig(dest, dpi=110)
    print(f"wrote {dest}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
