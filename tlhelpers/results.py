"""The results store: the headline numbers one notebook saves for a later one.

One small JSON file in the course cache (``TL_CACHE_DIR``), with one section per kind of
run (:func:`run_tag`: profile, backbone, sizes, epochs), so numbers from different
profiles are never mixed. Writes are atomic; an unreadable file is replaced.

>>> from tlhelpers.results import find_result
>>> find_result({"CNN from scratch": 0.4}, "scratch")
0.4
"""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path
from typing import Mapping

from tlhelpers import assets
from tlhelpers.cachefile import write_atomic
from tlhelpers.config import Profile

RESULTS_FILE = "results.json"


def run_tag(profile: Profile) -> str:
    """The key under which results of one kind of run are stored (profile, backbone, sizes).

    >>> from tlhelpers.config import get_profile
    >>> run_tag(get_profile("ci", env={}))
    'ci-mobilenet_025-96px-1000train-1000test-10+15ep'
    """
    if not isinstance(profile, Profile):
        raise TypeError(f"profile must be the Profile that notebook.start() returned, got {profile!r}.")
    return (f"{profile.name}-{profile.backbone}-{profile.image_size}px-{profile.train_size}train-"
            f"{profile.test_size}test-{profile.head_epochs}+{profile.epochs}ep")


def results_path() -> Path:
    """The JSON file in the course cache (``TL_CACHE_DIR``) that holds saved results."""
    return assets.course_cache_dir() / RESULTS_FILE


def _read_all() -> dict:
    path = results_path()
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, OSError):
        print(f"Notice: {path} is unreadable; starting a fresh results file.")
        return {}


def save_result(notebook: str, name: str, value: float, metric: str = "test accuracy", *,
                profile: Profile) -> Path:
    """Store ``value`` (e.g. a test accuracy) under the profile's :func:`run_tag`.

    ``notebook`` is the notebook number ("03"); ``name`` what was measured
    ("feature extraction"). Saving again replaces the old value.

    >>> save_result("05", "scratch", 0.41, profile=profile)   # doctest: +SKIP
    """
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"value must be a finite number, got {value!r}.")
    everything = _read_all()
    section = everything.setdefault(run_tag(profile), {})
    section[f"{notebook}/{name}"] = dict(
        notebook=str(notebook), name=str(name), value=value, metric=metric,
        saved=datetime.datetime.now().isoformat(timespec="seconds"))
    text = json.dumps(everything, indent=2, sort_keys=True)
    return write_atomic(results_path(), lambda tmp: tmp.write_text(text))   # never half a file


def load_results(notebook: str | None = None, *, profile: Profile) -> dict[str, float]:
    """Saved results of ``profile`` as ``{name: value}`` (optionally one notebook's).

    Empty when nothing was saved (for example when that notebook was not run yet).

    >>> load_results("05", profile=profile).get("scratch")   # doctest: +SKIP
    0.41
    """
    section = _read_all().get(run_tag(profile), {})
    return {entry["name"]: float(entry["value"]) for entry in section.values()
            if notebook is None or entry["notebook"] == str(notebook)}


def find_result(results: Mapping[str, float], name: str) -> float | None:
    """The value saved as ``name``, else the first whose name contains it, else None.

    >>> find_result({"CNN from scratch": 0.4}, "scratch")
    0.4
    """
    if name in results:
        return float(results[name])
    for key, value in results.items():
        if name.lower() in key.lower():
            return float(value)
    return None


def save_results(notebook: str, values: Mapping[str, object], *, profile: Profile) -> dict[str, float]:
    """Save every number of ``values`` with :func:`save_result` ("_" in a key reads as a space:
    "feature_extraction" is saved as "feature extraction"); returns what was saved.

    >>> save_results("05", {"scratch": 0.31, "feature_extraction": 0.6}, profile=profile)  # doctest: +SKIP
    {'scratch': 0.31, 'feature extraction': 0.6}
    """
    saved = {}
    for key, value in values.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            save_result(notebook, key.replace("_", " "), float(value), profile=profile)
            saved[key.replace("_", " ")] = float(value)
    return saved
