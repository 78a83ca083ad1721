"""Which files a run looks at: every ``.py`` under the folder, minus what git and the user exclude."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec

# Folders never worth rewriting: version control, virtualenvs, dependencies, build output, caches.
DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", ".env", "env", "virtualenv",
        "node_modules", "build", "dist", "__pycache__", "site-packages", ".eggs",
        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".auditfix_cache",
    }
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Discovered:
    paths: list[str]  # posix paths relative to the root, sorted
    symlinks: list[str]  # .py files that are symbolic links: reported, never rewritten


def _read_ignore_file(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _spec(lines: Sequence[str]) -> pathspec.GitIgnoreSpec:
    import pathspec  # only where there are rules: a tree without any is walked without it

    return pathspec.GitIgnoreSpec.from_lines(list(lines))


class _IgnoreRules:
    """.gitignore files apply to their own folder and below; later (deeper) rules win."""

    def __init__(self, root: Path, excludes: Sequence[str]) -> None:
        self.root = root
        # No exclude pattern: nothing is excluded (what an empty spec would answer).
        self.excludes = _spec(excludes) if excludes else None
        self.by_folder: dict[str, pathspec.GitIgnoreSpec] = {}
        top_lines = _read_ignore_file(root / ".git" / "info" / "exclude")
        self._load("", top_lines)

    def _load(self, folder: str, extra: Sequence[str] = ()) -> None:
        base = self.root / folder if folder else self.root
        lines = [*extra, *_read_ignore_file(base / ".gitignore")]
        if lines:
            self.by_folder[folder] = _spec(lines)

    def enter(self, folder: str) -> None:
        """Take in the rules of ``folder``'s own .gitignore (called only when its listing has one)."""
        self._load(folder)

    def ignored(self, relative: str, is_dir: bool) -> bool:
        candidate = relative + "/" if is_dir else relative
        if self.excludes is not None and self.excludes.match_file(candidate):
            return True
        verdict = False
        for folder, spec in self.by_folder.items():
            if folder and not relative.startswith(folder + "/"):
                continue
            inner = relative[len(folder) + 1 :] if folder else relative
            result = spec.check_file(inner + "/" if is_dir else inner)
            if result.include is not None:
                verdict = result.include
        return verdict


def discover(root: Path, excludes: Sequence[str] = ()) -> Discovered:
    """Every ``.py`` file under ``root`` (or ``root`` itself, if it is a file)."""
    if root.is_file():
        return Discovered([root.name], [])
    rules = _IgnoreRules(root, excludes)
    paths: list[str] = []
    symlinks: list[str] = []
    for relative, is_link in _walk(str(root), "", rules):
        (symlinks if is_link else paths).append(relative)
    return Discovered(sorted(paths), sorted(symlinks))


def _walk(root: str, folder: str, rules: _IgnoreRules) -> Iterator[tuple[str, bool]]:
    """The files under ``folder`` (the root itself when empty).  A subfolder's own listing tells
    whether it is a virtualenv (``pyvenv.cfg``) and has a ``.gitignore``, instead of a look for
    either file in every folder."""
    try:
        entries = sorted(os.scandir(os.path.join(root, folder) if folder else root), key=lambda e: e.name)
    except OSError:
        return
    if folder:
        names = {entry.name.lower() for entry in entries}  # a case-insensitive file system opens either spelling
        if "pyvenv.cfg" in names and os.path.isfile(os.path.join(root, folder, "pyvenv.cfg")):
            return  # a virtualenv
        if ".gitignore" in names:
            rules.enter(folder)
    for entry in entries:
        relative = f"{folder}/{entry.name}" if folder else entry.name
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            if entry.name in DEFAULT_EXCLUDED_DIRS or entry.name.endswith(".egg-info"):
                continue
            if rules.ignored(relative, is_dir=True):
                continue
            yield from _walk(root, relative, rules)
        elif entry.name.endswith(".py") and not rules.ignored(relative, is_dir=False):
            yield relative, is_link
