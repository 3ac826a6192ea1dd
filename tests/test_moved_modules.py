"""The first, flat layout's module names (``tlhelpers.plots``) still work after the move to
subpackages (issue 30): the same module object, with a FutureWarning that names the new place."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

import tlhelpers


def test_every_old_name_points_to_a_module_that_exists():
    from pathlib import Path

    package = Path(tlhelpers.__file__).parent
    for old, new in tlhelpers.MOVED.items():
        assert (package / Path(*new.split(".")[1:])).with_suffix(".py").is_file(), (old, new)
        assert not (package / f"{old}.py").exists(), f"tlhelpers/{old}.py is back beside its new place"


@pytest.mark.parametrize("old", ["plots", "data", "config", "check_runs", "augment"])
def test_an_old_name_is_the_same_module_with_a_warning(old):
    code = (f"import warnings, importlib\nwarnings.simplefilter('always')\n"
            f"with warnings.catch_warnings(record=True) as seen:\n"
            f"    import tlhelpers.{old} as a\n"
            f"b = importlib.import_module('{tlhelpers.MOVED[old]}')\n"
            f"print(a is b, a.__spec__.name == '{tlhelpers.MOVED[old]}', a.__name__)\n"
            f"print([(w.category.__name__, w.filename) for w in seen])\n"
            f"print(seen[0].message if seen else '')\n"
            f"from tlhelpers import {old} as c\nprint(c is b)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"True True {tlhelpers.MOVED[old]}"
    assert "('FutureWarning', '<string>')" in lines[1], "the warning points at the learner's import line"
    assert f"tlhelpers.{old} is now {tlhelpers.MOVED[old]}" in lines[2]
    assert lines[-1] == "True"


def test_monkeypatching_through_an_old_name_reaches_the_code(monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import tlhelpers.stats as old
    from tlhelpers.analysis import evaluation, stats

    assert old is stats
    monkeypatch.setattr(old, "standard_error", lambda acc, n: 123.0)
    assert evaluation.standard_error is not None and stats.standard_error(0.5, 10) == 123.0


def test_unknown_names_still_fail_plainly():
    with pytest.raises(ModuleNotFoundError, match="tlhelpers.no_such_module"):
        import tlhelpers.no_such_module  # noqa: F401
    with pytest.raises(ModuleNotFoundError):
        import tlhelpers.figures.data  # noqa: F401   (old names only directly under tlhelpers)


def test_the_finder_is_installed_once():
    import importlib

    importlib.reload(tlhelpers)
    finders = [f for f in sys.meta_path if type(f).__name__ == "_MovedModules"]
    assert len(finders) == 1


@pytest.mark.parametrize("old, usage", [("launch", "python -m tlhelpers launch"), ("fetch", "python -m tlhelpers fetch")])
def test_an_old_name_still_runs_as_a_command(old, usage):
    """``python -m tlhelpers.launch`` (the flat layout's command) runs the moved module, and says
    where it went."""
    from pathlib import Path

    done = subprocess.run([sys.executable, "-m", f"tlhelpers.{old}", "--help"], capture_output=True, text=True,
                          timeout=120, cwd=Path(tlhelpers.__file__).parents[1])
    assert done.returncode == 0, done.stderr
    assert usage in done.stdout
    assert f"FutureWarning: tlhelpers.{old} is now {tlhelpers.MOVED[old]}" in done.stderr
