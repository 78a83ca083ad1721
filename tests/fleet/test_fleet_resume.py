"""A fleet run killed half-way (SIGKILL to the command and its workers) and run again: every
repository recorded before the kill is skipped, every other one is done, none is lost."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codemods.fleet.state import STATE_FILE_NAME, StateStore
from tests.fleet.conftest import TINY, auditfix, make_origin, origin_branches, sample_files
from tests.gitrepo import git

pytestmark = pytest.mark.slow

KILL_AFTER = 3  # repositories recorded when the run is killed


def recorded(state: Path) -> set[str]:
    try:
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=5) as connection:
            return {row[0] for row in connection.execute("SELECT name FROM repositories")}
    except sqlite3.Error:  # not created yet
        return set()


def test_a_killed_run_resumes_without_losing_or_redoing_any_repository(tmp_path: Path) -> None:
    # Small projects first, so that some are recorded while the larger ones are still running.
    origins = {f"small-{n}": make_origin(tmp_path, f"small-{n}", {**TINY, "app/n.py": f"N = {n}\n"}) for n in range(4)}
    origins |= {f"large-{n}": make_origin(tmp_path, f"large-{n}", {**sample_files("fastapi_app"), "N.md": f"{n}\n"}) for n in range(2)}
    listing = tmp_path / "repos.txt"
    listing.write_text("".join(f"{origin}\n" for origin in origins.values()))
    workdir = tmp_path / "work"
    state = workdir / STATE_FILE_NAME
    arguments = ["fleet", str(listing), "--workdir", str(workdir), "--workers", "2", "--push", "--no-progress"]
    command = [sys.executable, "-c", "import sys; from cli import entry; sys.argv[0] = 'auditfix'; entry()", *arguments]
    killed = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 600
    while len(recorded(state)) < KILL_AFTER:
        assert killed.poll() is None, killed.stderr.read().decode() if killed.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(killed.pid, signal.SIGKILL)  # the command, its local cluster and every worker at once
    killed.wait()
    # A push to these local origins runs git-receive-pack in the killed process group, so a kill
    # in the middle of one can leave a ref lock in the origin; a real remote's receive-pack does not
    # die with its client and releases it.  (Left there, the resumed push fails, visibly.)
    for origin in origins.values():
        for lock in [*Path(origin).glob("*.lock"), *(Path(origin) / "refs").rglob("*.lock")]:
            lock.unlink()
    before = recorded(state)
    assert KILL_AFTER <= len(before) < len(origins), "the run was not killed half-way"
    with StateStore(state) as store:
        assert [run["outcome"] for run in store.runs()] == [None]  # it never finished
        done_before = {name: record.commit for name, record in store.records(sorted(before)).items()}
    pushed_before = {name: origin_branches(origins[name]) for name in before}

    resumed = auditfix(*arguments, cwd=tmp_path)

    assert resumed.returncode == 0, resumed.stderr
    report = json.loads((workdir / "fleet-report.json").read_text())
    statuses = {r["name"]: r["status"] for r in report["repositories"]}
    assert statuses == {name: "skipped" if name in before else "done" for name in origins}
    with StateStore(state) as store:
        records = store.records(list(origins))
        assert {name: r.done_run_id for name, r in records.items()} == {name: 1 if name in before else 2 for name in origins}
        assert {name: records[name].commit for name in before} == done_before
        assert [run["outcome"] for run in store.runs()] == [None, "completed"]
    assert {name: origin_branches(origins[name]) for name in before} == pushed_before  # not redone
    for name, origin in origins.items():
        branches = {b for b in origin_branches(origin) if b.startswith("auditfix/")}
        assert {"auditfix/bare-except", "auditfix/print-to-logging"} <= branches, name
        # What the killed run left in a clone (temporary worktrees, the repository lock) is gone.
        clone = workdir / "repos" / name
        assert git(clone, "worktree", "list", "--porcelain").count("worktree ") == 1
        assert not (clone / ".git" / "auditfix.lock").exists()


def test_sigterm_stops_the_run_writes_the_report_and_leaves_no_worker(tmp_path: Path) -> None:
    origins = {f"large-{n}": make_origin(tmp_path, f"large-{n}", {**sample_files("fastapi_app"), "N.md": f"{n}\n"}) for n in range(2)}
    origins["small"] = make_origin(tmp_path, "small", TINY)
    listing = tmp_path / "repos.txt"
    listing.write_text("".join(f"{origin}\n" for origin in origins.values()))
    workdir = tmp_path / "work"
    command = [sys.executable, "-c", "import sys; from cli import entry; sys.argv[0] = 'auditfix'; entry()",
               "fleet", str(listing), "--workdir", str(workdir), "--workers", "1", "--no-progress"]  # fmt: skip
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 600
    while not recorded(workdir / STATE_FILE_NAME):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)  # to the command only, as a service manager does
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr
    assert "interrupted; run the same command again to finish" in stderr
    report = json.loads((workdir / "fleet-report.json").read_text())
    assert report["run"]["interrupted"] is True
    statuses = [r["status"] for r in report["repositories"]]
    assert "done" in statuses and "pending" in statuses
    with StateStore(workdir / STATE_FILE_NAME) as store:
        assert [run["outcome"] for run in store.runs()] == ["interrupted"]
    assert group_ends(process.pid), subprocess.run(["ps", "-o", "pid,ppid,etime,cmd", "-g", str(process.pid)],
                                                   capture_output=True, text=True).stdout  # fmt: skip


def group_ends(group: int, seconds: float = 20) -> bool:
    """Whether every process of ``group`` (the command and its local cluster) is gone within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False
