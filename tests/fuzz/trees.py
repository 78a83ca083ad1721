"""Whole trees of generated programs, and `run --write` as a process that can be killed.

Shared by ``tests/fuzz/test_write_runs.py`` (a few dozen programs) and
``benchmarks/write_runs.py`` (hundreds, and kills spread over a long write phase).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from tests.fuzz import strategies

REPOSITORY = Path(__file__).resolve().parents[2]

# Runs the console script after replacing os.replace with one that SIGKILLs the process just
# before or just after its Nth call (the write journal is the first, each file one more).
KILL_LAUNCHER = """
import os, signal, sys
kill_at, when = int(sys.argv[1]), sys.argv[2]
real_replace = os.replace
calls = 0

def replace(source, target, *args, **kwargs):
    global calls
    calls += 1
    if calls == kill_at and when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(source, target, *args, **kwargs)
    if calls == kill_at and when == "after":
        os.kill(os.getpid(), signal.SIGKILL)

os.replace = replace
sys.argv = ["auditfix", *sys.argv[3:]]
import cli
cli.entry()
"""

WRITE = ("--write", "--no-cache", "--no-progress")


def run_write(
    folder: Path, *, jobs: int = 1, kill: tuple[int, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """``auditfix run FOLDER --write`` in its own process; ``kill=(n, "before"|"after")``
    SIGKILLs it at its nth ``os.replace``."""
    arguments = ["run", str(folder), *WRITE, "--jobs", str(jobs)]
    if kill is None:
        command = [sys.executable, "-c", "import cli; cli.entry()", *arguments]
    else:
        command = [sys.executable, "-c", KILL_LAUNCHER, str(kill[0]), kill[1], *arguments]
    return subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=timeout)


def generated_tree(count: int, run_seed: int = 0) -> dict[str, str]:
    """``count`` generated programs in one tree: about a third are route packages (views that
    commit, sometimes with their service module already there), the rest pattern programs
    (loops that commit, prints, bare excepts, Pydantic configs, routes) as modules."""
    files: dict[str, str] = {}
    number = 0

    @seed(run_seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(strategies.route_package(), strategies.valid(strategies.programs()), strategies.valid(strategies.programs())))
    def collect(example: dict[str, str] | str) -> None:
        nonlocal number
        if number >= count:
            return
        folder = f"p{number:03d}"
        number += 1
        if isinstance(example, str):
            files[f"{folder}/__init__.py"] = ""
            files[f"{folder}/module.py"] = example
        else:
            files.update({f"{folder}/{path}": text for path, text in example.items()})

    collect()
    return files


def summary_numbers(stderr: str) -> dict[str, int]:
    """The counts of the run's summary line (``... 12 changed, 0 skipped, 0 failed; ... 12 files written``)."""
    line = next(line for line in stderr.splitlines() if line.startswith("auditfix:") and " files scanned" in line)
    counts = re.search(r"(\d+) changed, (\d+) skipped, (\d+) failed", line)
    written = re.search(r"(\d+) files written", line)
    assert counts is not None, line
    numbers = dict(zip(("changed", "skipped", "failed"), map(int, counts.groups())))
    numbers["written"] = int(written.group(1)) if written else 0
    return numbers
