"""A fleet on a Dask cluster started outside auditfix (`dask scheduler` and `dask worker`, on
127.0.0.1 only): four good repositories, one with an unparsable file, one that is not a
repository; then a second run on a local cluster, which redoes none of them."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed
import pytest

from codemods.fleet.results import BRANCH_EXISTS
from tests.fleet.conftest import BROKEN, TINY, auditfix, make_origin, origin_branches, sample_files

pytestmark = pytest.mark.slow

DASK = Path(sys.executable).parent / "dask"
START_TIMEOUT = 120


def start(arguments: list[str], folder: Path, log: str) -> subprocess.Popen[bytes]:
    with open(folder / log, "wb") as output:
        # A session of its own: the whole process group (nannies and their workers) is stopped after.
        return subprocess.Popen([str(DASK), *arguments], cwd=folder, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(condition: Any, what: str, processes: list[subprocess.Popen[bytes]], folder: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not condition():
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            logs = "\n".join(f"{p.name}:\n{p.read_text()}" for p in folder.glob("*.log"))
            raise AssertionError(f"{what} did not happen\n{logs}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory, module_git: None) -> Iterator[str]:
    """`dask scheduler` and `dask worker` (two processes, one thread each), as an operator starts them."""
    folder = tmp_path_factory.mktemp("dask")
    address_file = folder / "scheduler.json"
    loopback = ["--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"]
    scheduler = start(["scheduler", *loopback, "--port", "0", "--scheduler-file", str(address_file)], folder, "scheduler.log")
    processes = [scheduler]
    try:
        wait_for(address_file.exists, "the scheduler's start", processes, folder)
        time.sleep(0.2)  # the file is written in one go, but give the writer its close
        address = json.loads(address_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        workers = start(
            ["worker", "--scheduler-file", str(address_file), *loopback, "--nworkers", "2", "--nthreads", "1",
             "--local-directory", str(folder / "scratch")],
            folder, "workers.log",
        )  # fmt: skip
        processes.append(workers)
        with distributed.Client(address, timeout=START_TIMEOUT) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT)  # as an operator checks before using it
        yield address
    finally:
        for process in reversed(processes):
            stop(process)


@dataclasses.dataclass
class Runs:
    root: Path
    origins: dict[str, Path]
    first: subprocess.CompletedProcess[str]
    first_report: dict[str, Any]
    branches_after_first: dict[str, dict[str, str]]
    second: subprocess.CompletedProcess[str]
    second_report: dict[str, Any]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, dask_cluster: str) -> Runs:
    root = tmp_path_factory.mktemp("six")
    origins = {
        "orders": make_origin(root, "orders", sample_files("fastapi_app")),
        "jobs": make_origin(root, "jobs", TINY),
        "billing": make_origin(root, "billing", {**TINY, "app/billing.py": "def bill(x):\n    print(x)\n"}),
        "search": make_origin(root, "search", {**TINY, "app/search.py": "try:\n    import re\nexcept:\n    re = None\n"}),
        "legacy": make_origin(root, "legacy", {**TINY, "app/legacy.py": BROKEN}),
    }
    (root / "scratch-notes").mkdir()
    listing = root / "repos.txt"
    listing.write_text("\n".join(str(o) for o in origins.values()) + "\nscratch-notes\n")
    workdir = root / "work"
    first = auditfix("fleet", str(listing), "--workdir", str(workdir), "--scheduler", dask_cluster, "--push", "--no-progress", cwd=root)
    first_report = json.loads((workdir / "fleet-report.json").read_text())
    after_first = {name: origin_branches(origin) for name, origin in origins.items()}
    second = auditfix("fleet", str(listing), "--workdir", str(workdir), "--workers", "2", "--push", "--no-progress", cwd=root)
    second_report = json.loads((workdir / "fleet-report.json").read_text())
    return Runs(root, origins, first, first_report, after_first, second, second_report)


def test_the_report_lists_all_six_with_a_status(runs: Runs, dask_cluster: str) -> None:
    assert runs.first.returncode == 3, runs.first.stderr
    assert f"auditfix: 6 repositories on scheduler {dask_cluster}, 2 workers" in runs.first.stderr
    statuses = {r["name"]: r["status"] for r in runs.first_report["repositories"]}
    assert statuses == {"orders": "done", "jobs": "done", "billing": "done", "search": "done", "legacy": "done",
                        "scratch-notes": "failed"}  # fmt: skip


def test_every_good_origin_gets_its_auditfix_branches(runs: Runs) -> None:
    for name, branches in runs.branches_after_first.items():
        made = {b["branch"]: b["commit"] for r in runs.first_report["repositories"] if r["name"] == name for b in r["branches"] if b["status"] in BRANCH_EXISTS}
        assert made and {b: c for b, c in branches.items() if b.startswith("auditfix/")} == made, name
    assert {"auditfix/bare-except", "auditfix/print-to-logging", "auditfix/route-commit"} <= runs.branches_after_first["orders"].keys()


def test_the_unparsable_file_is_named_and_the_rest_of_that_repository_fixed(runs: Runs) -> None:
    legacy = next(r for r in runs.first_report["repositories"] if r["name"] == "legacy")
    assert [p["path"] for p in legacy["not_processed"]] == ["app/legacy.py"]
    assert {"auditfix/bare-except", "auditfix/print-to-logging"} <= runs.branches_after_first["legacy"].keys()
    assert "legacy: done: 2 branches (2 on origin), 2 file changes, 2 findings, 1 file not processed" in runs.first.stderr


def test_the_folder_that_is_not_a_repository_is_a_failure_and_nothing_crashed(runs: Runs) -> None:
    failed = next(r for r in runs.first_report["repositories"] if r["name"] == "scratch-notes")
    assert failed["failure"] == "not a git repository"
    assert "Traceback" not in runs.first.stderr + runs.second.stderr


def test_a_second_run_on_a_local_cluster_redoes_none_of_them(runs: Runs) -> None:
    assert runs.second.returncode == 3, runs.second.stderr
    assert "auditfix: 6 repositories on local cluster, 2 worker processes" in runs.second.stderr
    statuses = {r["name"]: r["status"] for r in runs.second_report["repositories"]}
    assert statuses == {**{name: "skipped" for name in runs.origins}, "scratch-notes": "failed"}
    assert {name: origin_branches(origin) for name, origin in runs.origins.items()} == runs.branches_after_first
