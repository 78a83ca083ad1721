"""The fleet state: what a re-run and a resumed run read, and that a killed writer loses nothing it committed."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codemods.fleet.results import (
    BRANCHES,
    DONE,
    FAILED,
    SKIPPED,
    UP_TO_DATE,
    BranchRecord,
    CodemodCounts,
    FindingRecord,
    ProblemRecord,
    RepoResult,
)
from codemods.fleet.state import SCHEMA_VERSION, StateError, StateStore

DONE_RESULT = RepoResult(
    "svc", "/git/svc.git", None, DONE, BRANCHES, commit="c1" * 20, fingerprint="f1",
    branches=(BranchRecord("bare-except", "auditfix/bare-except", "created", "b1" * 20, "c1c1c1c1c1c1", 1, 3, 1),),
    codemods={"bare-except": CodemodCounts(1, 3, 1, 2, 1, 1)},
    findings=(FindingRecord("bare-except", "app/a.py", 3, 4, "bare except", True),),
    not_processed=(ProblemRecord("app/broken.py", "syntax error at line 1"),),
    added=3, removed=1, log=("cloned /git/svc.git",), seconds=1.5, worker="host:1", version="0.1.0",
)  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    with StateStore(tmp_path / "state.sqlite") as opened:
        yield opened


def test_a_recorded_result_round_trips_and_becomes_the_previous_of_the_next_job(store: StateStore) -> None:
    run = store.begin_run(BRANCHES, {}, "0.1.0", 1)
    record = store.record(run, DONE_RESULT)
    assert record.result == DONE_RESULT and (record.run_id, record.done_run_id) == (run, run)
    previous = record.previous()
    assert (previous.status, previous.commit, previous.fingerprint) == (DONE, DONE_RESULT.commit, "f1")
    assert previous.branches == (("auditfix/bare-except", "b1" * 20),)


def test_a_skip_keeps_the_result_of_the_run_that_did_the_work(store: StateStore) -> None:
    first = store.begin_run(BRANCHES, {}, "0.1.0", 1)
    store.record(first, DONE_RESULT)
    second = store.begin_run(BRANCHES, {}, "0.1.0", 1)
    skip = RepoResult("svc", "/git/svc.git", None, SKIPPED, BRANCHES, reason=UP_TO_DATE, commit=DONE_RESULT.commit,
                      fingerprint="f1", seconds=0.2)  # fmt: skip
    record = store.record(second, skip)
    assert (record.status, record.reason, record.run_id, record.done_run_id) == (SKIPPED, UP_TO_DATE, second, first)
    assert record.result.branches == DONE_RESULT.branches and record.result.findings == DONE_RESULT.findings
    assert record.result.seconds == 0.2
    assert record.previous().status == SKIPPED  # a later run may skip it again


def test_a_failure_replaces_the_result_but_remembers_when_it_was_last_done(store: StateStore) -> None:
    first = store.begin_run(BRANCHES, {}, "0.1.0", 1)
    store.record(first, DONE_RESULT)
    second = store.begin_run(BRANCHES, {}, "0.1.0", 1)
    failure = RepoResult("svc", "/git/svc.git", None, FAILED, BRANCHES, reason="fetch failed: timeout", failure="fetch failed")
    record = store.record(second, failure)
    assert (record.status, record.reason, record.done_run_id) == (FAILED, "fetch failed: timeout", first)
    assert record.result.branches == ()


def test_runs_are_recorded_with_their_outcome(store: StateStore) -> None:
    run = store.begin_run(BRANCHES, {"select": ["bare-except"]}, "0.1.0", 3)
    assert store.runs()[-1]["outcome"] is None  # running, or killed
    store.finish_run(run, "interrupted")
    [row] = store.runs()
    assert (row["id"], row["outcome"], row["repositories"], row["settings"]) == (run, "interrupted", 3, '{"select": ["bare-except"]}')


def test_a_state_of_another_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    StateStore(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StateError, match=f"state schema 999, this one reads {SCHEMA_VERSION}"):
        StateStore(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    path.write_text("not sqlite at all, but long enough to have a header of sorts " * 4)
    with pytest.raises(StateError, match="cannot use the fleet state"):
        StateStore(path)


def test_a_writer_killed_between_records_loses_none_it_recorded(tmp_path: Path) -> None:
    # Each record is its own transaction: SIGKILL right after one leaves exactly the recorded ones.
    path = tmp_path / "state.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal
        from codemods.fleet.results import RepoResult
        from codemods.fleet.state import StateStore
        store = StateStore({str(path)!r})
        run = store.begin_run("branches", {{}}, "0.1.0", 50)
        for number in range(50):
            store.record(run, RepoResult(f"r{{number}}", "/x", None, "done", "branches", commit="c", fingerprint="f"))
            if number == 6:
                os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == -signal.SIGKILL, result.stderr
    with StateStore(path) as store:
        assert sorted(store.records([f"r{n}" for n in range(50)])) == sorted(f"r{n}" for n in range(7))
        assert store.runs()[0]["outcome"] is None
