"""Which GitHub repository the course lives in: ``GITHUB_REPOSITORY`` in GitHub Actions, else
the ``origin`` remote when it is on GitHub, else a placeholder. :mod:`tlhelpers.startup.launch`
makes the badges and the Colab install cell from it.

>>> slug_from_url("https://github.com/someone/tl-course.git")
'someone/tl-course'
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Mapping

from tlhelpers.settings import config

ROOT = Path(__file__).resolve().parents[2]
#: What the badges name when no GitHub repository can be found (no badge works then).
PLACEHOLDER = "OWNER/transfer-learning-keras"
#: An ``origin`` URL on GitHub: https (with or without .git), ssh://, or scp-like git@github.com:.
GITHUB_URL = re.compile(r"^(?:(?:https?|ssh|git)://(?:[^@/]+@)?github\.com(?::\d+)?/|git@github\.com:)"
                        r"(?P<slug>[\w.-]+/[\w.-]+?)(?:\.git)?/?$")
SLUG = re.compile(r"^[\w.-]+/[\w.-]+$")


def slug_from_url(url: str) -> str | None:
    """``owner/name`` of a GitHub remote URL, or None for any other URL.

    >>> slug_from_url("git@github.com:someone/tl-course.git")
    'someone/tl-course'
    >>> slug_from_url("https://gitlab.com/someone/tl-course.git") is None
    True
    """
    found = GITHUB_URL.match(url.strip())
    return found["slug"] if found else None


def repository(root: Path = ROOT, env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The GitHub ``owner/name`` the course lives in, and where that was read.

    ``GITHUB_REPOSITORY`` (set in GitHub Actions) wins; else the ``origin`` remote of the
    git repository at ``root`` when it is a GitHub URL; else :data:`PLACEHOLDER`.

    >>> repository(env={"GITHUB_REPOSITORY": "someone/tl-course"})
    ('someone/tl-course', 'GITHUB_REPOSITORY')
    """
    slug = config.settings(env).github_repository or ""   # GITHUB_REPOSITORY, in GitHub Actions
    if SLUG.match(slug):
        return slug, "GITHUB_REPOSITORY"
    try:
        done = subprocess.run(["git", "-C", str(root), "remote", "get-url", "origin"],
                              capture_output=True, text=True, timeout=20)
        url = done.stdout.strip() if done.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):   # no git on this machine
        url = ""
    slug = slug_from_url(url) if url else None
    return (slug, f"origin ({url})") if slug else (PLACEHOLDER, "placeholder")
