"""docs/results.md and tlhelpers.analysis.measured_finetune are generated from the recorded runs of
notebook 04 (benchmarks/finetune_claims.py), and both agree with them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_page_and_the_module_match_the_records():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "results_page.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_records_show_what_the_issue_asked_for():
    from tlhelpers.analysis.measured_finetune import SEEDS

    ci = SEEDS["ci, mobilenet_025"]
    assert len(ci["seeds"]) >= 3 and min(ci["recipe_gaps"]) >= 0.03 and max(ci["recipe_p"]) < 0.05
    cpu = SEEDS["cpu, mobilenet_025"]
    assert len(cpu["seeds"]) >= 3 and min(cpu["recipe_gaps"]) >= 0.05
