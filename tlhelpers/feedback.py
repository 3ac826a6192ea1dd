"""Friendly feedback for the exercise checks: what is right, what to fix, a hint.

>>> fb = Feedback("demo", "Demo").check(True, "right", "wrong", "a hint")
>>> fb.passed
True
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

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
        self.items.append((status, text, hint))
        return self

    def ok(self, text: str) -> "Feedback":
        return self.add("ok", text)

    def fix(self, text: str, hint: str | None = None) -> "Feedback":
        return self.add("fix", text, hint)

    def todo(self, text: str) -> "Feedback":
        return self.add("todo", text)

    def info(self, text: str) -> "Feedback":
        return self.add("info", text)

    def check(self, condition: bool, right: str, wrong: str, hint: str | None) -> "Feedback":
        """Add ``right`` as ok when ``condition`` holds, else ``wrong`` as a fix with ``hint``."""
        return self.ok(right) if condition else self.fix(wrong, hint)

    @property
    def done(self) -> bool:
        return not any(s == "todo" for s, _, _ in self.items)

    @property
    def passed(self) -> bool:
        """True when something was checked and nothing is left to fix or to do."""
        statuses = [s for s, _, _ in self.items]
        return "ok" in statuses and "fix" not in statuses and "todo" not in statuses

    def text(self) -> str:
        lines = [self.title]
        for status, text, hint in self.items:
            lines.append(f"  {_ICONS[status][1]} {text}")
            if hint:
                lines.append(f"         Hint: {hint}")
        return "\n".join(lines)

    def html(self) -> str:
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


# ---------------------------------------------------------------- small value helpers
def count(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def is_nan(value: Any) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def is_fraction(value: Any) -> bool:
    try:
        return 0.0 <= float(value) <= 1.0
    except (TypeError, ValueError):
        return False


def positive(value: Any) -> bool:
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def is_random(weights: Any) -> bool:
    text = "" if weights is None else str(weights).strip().lower()
    return not text or is_nan(weights) or text.startswith(("none", "random"))


def as_history(history: Any) -> dict | None:
    hist = getattr(history, "history", history)
    return hist if isinstance(hist, dict) else None


def as_rows(results: Any) -> list[dict] | None:
    if hasattr(results, "to_dict"):
        return results.to_dict("records")
    if isinstance(results, (list, tuple)) and all(isinstance(r, dict) for r in results):
        return list(results)
    return None
