"""Friendly feedback for the exercise checks: what is right, what to fix, a hint.

>>> fb = Feedback("demo", "Demo").check(True, "right", "wrong", "a hint")
>>> fb.passed
True
"""

from __future__ import annotations

import functools
import html
from typing import Any

import numpy as np

from tlhelpers.transfer.params import count_weights

#: The latest Feedback of every exercise in this session (for ``check.summary``).
RESULTS: dict[str, "Feedback"] = {}

_ICONS = {"ok": ("✅", "[ok]"), "fix": ("❌", "[fix]"), "todo": ("⏳", "[todo]"), "info": ("ℹ️", "[info]")}


def is_missing(value: Any) -> bool:
    """True for an unanswered placeholder: None, ``...``, or a string that is empty or starts with TODO."""
    if value is None or value is Ellipsis:
        return True
    return isinstance(value, str) and (value.strip() in ("", "...") or value.strip().upper().startswith("TODO"))


def _display_available() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Feedback:
    """What a check found: lines marked ok / fix / todo / info, each fix with a hint."""

    def __init__(self, key: str, title: str):
        self.key, self.title = key, title
        self.items: list[tuple[str, str, str | None]] = []
        self._shown = False

    def add(self, status: str, text: str, hint: str | None = None) -> "Feedback":
        """Add one line with ``status`` "ok", "fix", "todo" or "info" (and a hint for fixes)."""
        self.items.append((status, text, hint))
        return self

    def ok(self, text: str) -> "Feedback":
        """Add something the learner got right."""
        return self.add("ok", text)

    def fix(self, text: str, hint: str | None = None) -> "Feedback":
        """Add something to fix, with a hint that says how."""
        return self.add("fix", text, hint)

    def todo(self, text: str) -> "Feedback":
        """Add a step that has not been done yet."""
        return self.add("todo", text)

    def info(self, text: str) -> "Feedback":
        """Add a neutral remark (neither right nor wrong)."""
        return self.add("info", text)

    def check(self, condition: bool, right: str, wrong: str, hint: str | None) -> "Feedback":
        """Add ``right`` as ok when ``condition`` holds, else ``wrong`` as a fix with ``hint``."""
        return self.ok(right) if condition else self.fix(wrong, hint)

    @property
    def done(self) -> bool:
        """True when no step is left to do (fixes may remain)."""
        return not any(s == "todo" for s, _, _ in self.items)

    @property
    def passed(self) -> bool:
        """True when something was checked and nothing is left to fix or to do."""
        statuses = [s for s, _, _ in self.items]
        return "ok" in statuses and "fix" not in statuses and "todo" not in statuses

    def text(self) -> str:
        """The feedback as plain text, one line per item, hints indented."""
        lines = [self.title]
        for status, text, hint in self.items:
            lines.append(f"  {_ICONS[status][1]} {text}")
            if hint:
                lines.append(f"         Hint: {hint}")
        return "\n".join(lines)

    def html(self) -> str:
        """The feedback as HTML for a notebook, coloured by the overall result."""
        color = "#1e8e3e" if self.passed else ("#9aa0a6" if not self.done else "#d93025")
        rows = []
        for status, text, hint in self.items:
            extra = f"<br><span style='color:#5f6368'>💡 Hint: {html.escape(hint)}</span>" if hint else ""
            rows.append(f"<li style='list-style:none'>{_ICONS[status][0]} {html.escape(text)}{extra}</li>")
        return (f"<div style='border-left:4px solid {color};padding:4px 10px;margin:4px 0'>"
                f"<b>{html.escape(self.title)}</b><ul style='margin:4px 0;padding-left:4px'>"
                + "".join(rows) + "</ul></div>")

    def show(self, record: bool = True) -> "Feedback":
        """Display as HTML in Jupyter (plain text elsewhere); remember it for the summary."""
        if record:
            RESULTS[self.key] = self
        if _display_available():
            from IPython.display import display

            display({"text/plain": self.text(), "text/html": self.html()}, raw=True)
        else:
            print(self.text())
        self._shown = True
        return self

    def _ipython_display_(self) -> None:
        if not self._shown:  # already shown by the check itself: do not show it twice
            self.show(record=False)

    def __repr__(self) -> str:
        fixes = sum(s == "fix" for s, _, _ in self.items)
        state = "passed" if self.passed else ("not done yet" if not self.done else f"{fixes} to fix")
        return f"<Feedback {self.key}: {state}>"


def ready(**objects: Any) -> bool:
    """True when no object is a placeholder; otherwise say which ones and skip politely.

    >>> ready(model=None)
    Skipped: `model` is not done yet. Finish the exercise that creates it, then run this cell again.
    False
    """
    missing = [name for name, value in objects.items() if is_missing(value)]
    if missing:
        names = ", ".join(f"`{m}`" for m in missing)
        print(f"Skipped: {names} {'is' if len(missing) == 1 else 'are'} not done yet. Finish the "
              f"exercise that creates {'it' if len(missing) == 1 else 'them'}, then run this cell again.")
    return not missing


# ---------------------------------------------------------------- where each idea is taught
NB03 = "notebook 03 on feature extraction"
NB04 = "notebook 04 on fine-tuning"
NB05 = "notebook 05 on training from scratch"
NB06 = "notebook 06 on data augmentation"

#: The title of every check, in the order of the notebook.
TITLES = {
    "exercise_1": "Exercise 1 - load a new data set",
    "exercise_2": "Exercise 2 - a feature-extraction model in Keras",
    "exercise_2b": "Exercise 2b - save, reload and use the model",
    "exercise_3": "Exercise 3 - fine-tune the top of the base",
    "exercise_4": "Exercise 4 - augmentation inside the model",
    "exercise_5": "Exercise 5 - a small CNN from scratch",
    "exercise_6": "Exercise 6 - cats vs dogs, two classes",
    "exercise_7": "Exercise 7 - optimizers at the fine-tuning stage",
    "challenge": "Challenge - domain shift",
}


def start(key: str, **required: Any) -> Feedback | None:
    """A shown 'not done yet' Feedback when a required object is a placeholder, else None."""
    missing = [name for name, value in required.items() if is_missing(value)]
    if not missing:
        return None
    fb = Feedback(key, TITLES[key])
    one = len(missing) == 1
    names = ", ".join(f"`{m}`" for m in missing)
    fb.todo(f"Not done yet: {names} {'is still a placeholder' if one else 'are still placeholders'}. "
            f"Build {'it' if one else 'them'}, then run this check again.")
    return fb.show()


def guarded(key: str):
    """Decorator: whatever a check meets, the learner gets feedback, never a traceback."""
    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as err:  # the learner's objects can be anything: explain, do not crash
                first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
                fb = Feedback(key, TITLES[key])
                fb.fix(f"The check could not inspect what you passed ({type(err).__name__}: {first}).",
                       "Pass the objects the exercise names (look at the placeholders of its cell), "
                       "run the cells above it first, then run this check again.")
                return fb.show()
        return run
    return wrap


def describe(value: Any) -> str:
    """A few words on what ``value`` is, for messages: ``describe([]) == 'an empty list'``."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, (int, float, np.number)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value[:30]!r}"
    if isinstance(value, (list, tuple, dict, set)) and not value:
        return f"an empty {type(value).__name__}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, dict):
        return f"a dict with keys {', '.join(map(str, list(value)[:4]))}"
    return f"a {type(value).__name__}"


# ---------------------------------------------------------------- small value helpers
def count(weights) -> int:
    """Number of parameters in ``weights`` (:func:`tlhelpers.transfer.params.count_weights`)."""
    return count_weights(weights)


def is_fraction(value: Any) -> bool:
    """True for a number between 0 and 1 (booleans and strings are not numbers here)."""
    if isinstance(value, (bool, str)):
        return False
    try:
        return 0.0 <= float(value) <= 1.0
    except (TypeError, ValueError):
        return False


def positive(value: Any) -> bool:
    """True for a number above 0 (booleans and strings are not numbers here)."""
    if isinstance(value, (bool, str)):
        return False
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False
