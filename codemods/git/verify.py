"""--verify: the project's own command on the base and on a branch, and the files of a
branch responsible for a new failure (found by bisecting them); the per-package split of a
large change uses the same units (a file and the generated files it needs)."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codemods.engine.runner import Change

_TEST_ID = re.compile(r"^(?:FAILED|ERROR)\s+(\S+)", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class Verification:
    """The outcome of the project's command on one state of the code."""

    passed: bool
    failures: frozenset[str]  # the failing tests its output names (pytest's short summary)
    summary: str  # its last output line

    def worse_than(self, base: Verification) -> bool:
        """A new failure: it passed on the base, or a test that passed there fails here."""
        if self.passed:
            return False
        if base.passed:
            return True
        return bool(self.failures - base.failures)

    def describe(self, base: Verification) -> str:
        if self.passed:
            return "passes"
        if not base.passed:
            return f"fails as on the base ({self.summary}), with no new failure"
        return f"fails ({self.summary})"


def run_verification(command: str, folder: Path) -> Verification:
    """Run ``command`` with a shell in ``folder``; what it says (stdout and stderr together)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PYTEST_ADDOPTS"))}
    completed = subprocess.run(
        command, shell=True, cwd=folder, env=environment, capture_output=True, text=True, errors="replace"
    )
    output = completed.stdout + completed.stderr
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return Verification(
        passed=completed.returncode == 0,
        failures=frozenset(_TEST_ID.findall(output)),
        summary=lines[-1].strip("= ") if lines else f"exit code {completed.returncode}",
    )


def units(changes: list[Change]) -> list[list[Change]]:
    """The changes that can be left out one at a time: a file and the generated files it
    needs (a route and its new service module) are one unit."""
    owner = {change.path: change.path for change in changes}

    def root(path: str) -> str:
        while owner[path] != path:
            path = owner[path]
        return path

    for change in changes:
        for needed in change.requires:
            if needed in owner:
                owner[root(needed)] = root(change.path)
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(root(change.path), []).append(change)
    return list(groups.values())


def bisect(units: tuple[int, ...], worse: Callable[[tuple[int, ...]], bool]) -> set[int]:
    """The units responsible for ``worse(units)``: halves are tried on their own, and a half
    that is worse alone is narrowed further; when neither half is worse alone (the failure
    needs both), the whole set is responsible."""
    if len(units) == 1:
        return set(units)
    middle = len(units) // 2
    halves = [units[:middle], units[middle:]]
    guilty = [half for half in halves if worse(half)]
    if not guilty:
        return set(units)
    found: set[int] = set()
    for half in guilty:
        found |= bisect(half, worse)
    return found


def split_by_package(changes: Sequence[Change]) -> dict[str, list[Change]]:
    """Changes grouped by top-level package (the first folder of the path; a module at the top
    is its own group), a file and the generated files it needs kept together."""
    groups: dict[str, list[Change]] = {}
    for unit in units(list(changes)):
        package = package_of(unit[0].path)
        groups.setdefault(package, []).extend(unit)
    return {package: sorted(group, key=lambda c: c.path) for package, group in sorted(groups.items())}


def package_of(path: str) -> str:
    first = path.split("/", 1)[0]
    return first.removesuffix(".py") if "/" not in path else first
