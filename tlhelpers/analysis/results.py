"""The results store: the headline numbers one notebook saves for a later one.

One small JSON file in the course cache (``TL_CACHE_DIR``), with one section per kind of
run (:func:`run_tag`: profile, backbone, sizes, epochs), so numbers from different
profiles are never mixed.

- Every read-modify-write holds a lock file (``results.json.lock``, :func:`cachefile.locked`),
  so two kernels saving at once never lose each other's results; writes are atomic.
- Each entry carries a checksum (``check``: SHA-256 of its section and fields), so a flipped
  digit or a byte that is not UTF-8 is detected, never read as a valid number. A damaged
  file is kept aside (``results.json.damaged-<date-time>``) with a notice, and its intact
  entries are written back; later saves and loads carry on.
- A file written before checksums existed is accepted once (entries that are well-formed)
  and written back with checksums at once.

>>> from tlhelpers.analysis.results import find_result
>>> find_result({"CNN from scratch": 0.4}, "scratch")
0.4
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
from pathlib import Path
from typing import Mapping

from tlhelpers.storage import assets
from tlhelpers.storage.cachefile import display_name, keep_aside, locked, write_atomic
from tlhelpers.settings.config import Profile

RESULTS_FILE = "results.json"


def run_tag(profile: Profile) -> str:
    """The key under which results of one kind of run are stored (profile, backbone, sizes).

    >>> from tlhelpers.settings.config import get_profile
    >>> run_tag(get_profile("ci", env={}))
    'ci-mobilenet_025-96px-1000train-1000test-10+15ep'
    """
    if not isinstance(profile, Profile):
        raise TypeError(f"profile must be the Profile that course.start() returned, got {profile!r}.")
    return (f"{profile.name}-{profile.backbone}-{profile.image_size}px-{profile.train_size}train-"
            f"{profile.test_size}test-{profile.head_epochs}+{profile.epochs}ep")


def results_path() -> Path:
    """The JSON file in the course cache (``TL_CACHE_DIR``) that holds saved results."""
    return assets.course_cache_dir() / RESULTS_FILE


def _check(tag: str, entry: dict) -> str:
    """The checksum stored with an entry: its section and every field but the checksum."""
    body = json.dumps([tag, {k: v for k, v in entry.items() if k != "check"}], sort_keys=True)
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _entry_ok(tag: str, key: str, entry) -> bool | None:
    """True: checksum fits; None: no checksum (older file) but well-formed; False: damaged."""
    try:
        well_formed = (key == f"{entry['notebook']}/{entry['name']}"
                       and isinstance(entry["value"], (int, float)) and math.isfinite(entry["value"]))
    except (TypeError, KeyError):
        return False
    if not well_formed:
        return False
    return None if "check" not in entry else entry["check"] == _check(tag, entry)


def _parse(raw: bytes) -> tuple[dict, str | None, bool]:
    """(intact entries, what was damaged or None, whether some entries lack checksums)."""
    try:   # a byte that is not UTF-8 spoils the entry it sits in (its checksum fails), not the file
        data = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        return {}, "it is not valid JSON", False
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        return {}, "it is not a JSON object of sections", False
    good: dict = {}
    bad = total = 0
    legacy = False
    for tag, section in data.items():
        for key, entry in section.items():
            total += 1
            ok = _entry_ok(tag, key, entry)
            if ok is False:
                bad += 1
                continue
            legacy |= ok is None
            good.setdefault(tag, {})[key] = {**entry, "check": _check(tag, entry)}
    problem = f"{bad} of its {total} results failed their checksum" if bad else None
    return good, problem, legacy


def _write(everything: dict) -> Path:
    text = json.dumps(everything, indent=2, sort_keys=True)
    return write_atomic(results_path(), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _read_all() -> dict:
    """Every intact entry; call it with the lock held (a damaged file is repaired here)."""
    path = results_path()
    if not path.is_file():
        return {}
    try:
        raw = path.read_bytes()
    except OSError as err:
        print(f"Notice: {display_name(path)} is unreadable ({err}); starting a fresh results file.")
        return {}
    good, problem, legacy = _parse(raw)
    if problem:
        aside = keep_aside(path)
        kept = sum(len(s) for s in good.values())
        print(f"Notice: {display_name(path)} is unreadable ({problem}); "
              + (f"it was kept aside as {aside.name}" if aside else "it could not be moved aside")
              + f" and its {kept} intact result(s) are kept. Rerun the notebooks whose results are missing.")
    if problem or legacy:
        try:
            _write(good)    # intact entries, each with its checksum
        except OSError as err:
            print(f"Notice: could not rewrite {display_name(path)} ({err}).")
    return good


def save_result(notebook: str, name: str, value: float, metric: str = "test accuracy", *,
                profile: Profile) -> Path | None:
    """Store ``value`` (e.g. a test accuracy) under the profile's :func:`run_tag`.

    ``notebook`` is the notebook number ("03"); ``name`` what was measured
    ("feature extraction"). Saving again replaces the old value. Returns the results
    file, or None with a notice when it cannot be written (a full disk, a read-only
    folder): the result is then only in the notebook's printout.

    >>> save_result("05", "scratch", 0.41, profile=profile)   # doctest: +SKIP
    """
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"value must be a finite number, got {value!r}.")
    tag = run_tag(profile)
    entry = dict(notebook=str(notebook), name=str(name), value=value, metric=metric,
                 saved=datetime.datetime.now().isoformat(timespec="seconds"))
    entry["check"] = _check(tag, entry)
    try:
        with locked(results_path()):   # read, change and write as one step: no other kernel in between
            everything = _read_all()
            everything.setdefault(tag, {})[f"{notebook}/{name}"] = entry
            return _write(everything)   # atomic: never half a file
    except OSError as err:
        print(f"Notice: could not save the result '{name}' to {display_name(results_path())} ({err}); "
              "it is kept in this notebook's printout only. Free some disk space or set TL_CACHE_DIR.")
        return None


def load_results(notebook: str | None = None, *, profile: Profile) -> dict[str, float]:
    """Saved results of ``profile`` as ``{name: value}`` (optionally one notebook's).

    Empty when nothing was saved (for example when that notebook was not run yet).

    >>> load_results("05", profile=profile).get("scratch")   # doctest: +SKIP
    0.41
    """
    tag = run_tag(profile)
    with locked(results_path()):
        section = _read_all().get(tag, {})
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
            if save_result(notebook, key.replace("_", " "), float(value), profile=profile) is not None:
                saved[key.replace("_", " ")] = float(value)
    return saved
