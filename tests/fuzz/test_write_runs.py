"""`run --write` over a whole tree of generated programs: no file fails, a second run changes
nothing, and a run killed half-way is finished by the next one to the byte.

The suite's share is small; ``benchmarks/write_runs.py`` runs 500 programs and five kills.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.fuzz.checks import read_tree, write_tree
from tests.fuzz.trees import generated_tree, run_write, summary_numbers

PROGRAMS = 40


@pytest.fixture(scope="module")
def tree() -> dict[str, str]:
    return generated_tree(PROGRAMS, run_seed=16)


@pytest.mark.slow
def test_generated_programs_are_written_without_a_failure_and_a_second_run_changes_nothing(
    tree: dict[str, str], tmp_path: Path
) -> None:
    write_tree(tmp_path, tree)
    first = run_write(tmp_path, jobs=2)
    numbers = summary_numbers(first.stderr)
    assert numbers["failed"] == 0, first.stderr
    assert numbers["changed"] > PROGRAMS // 2 and numbers["written"] == numbers["changed"]
    written = read_tree(tmp_path)
    second = run_write(tmp_path, jobs=2)
    assert summary_numbers(second.stderr)["changed"] == 0, second.stderr
    assert read_tree(tmp_path) == written


@pytest.mark.slow
def test_a_run_killed_half_way_through_generated_programs_is_finished_to_the_byte(
    tree: dict[str, str], tmp_path: Path
) -> None:
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    for folder in (reference, killed):
        write_tree(folder, tree)
    changed = summary_numbers(run_write(reference).stderr)["changed"]
    result = run_write(killed, kill=(1 + changed // 2, "before"))
    assert result.returncode == -signal.SIGKILL
    assert read_tree(killed) != read_tree(reference)
    finished = run_write(killed)
    assert "finished an interrupted run --write" in finished.stderr
    assert summary_numbers(finished.stderr)["failed"] == 0
    assert read_tree(killed) == read_tree(reference)
