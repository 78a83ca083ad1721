"""Tasks whose worker process dies are retried on another worker; a repository that kills
every worker it runs on is recorded as failed, and the others are unaffected."""

from __future__ import annotations

from pathlib import Path

import dask
import pytest

from codemods.fleet.cluster import FleetOptions, run_fleet
from codemods.fleet.repos import parse_repos
from codemods.fleet.results import BRANCHES, DONE, FAILED, WORKER_LOST
from tests.fleet.conftest import TINY, make_origin
from tests.fleet.crashing import crash_first_attempt

pytestmark = pytest.mark.slow


def test_a_task_whose_worker_dies_is_retried_and_one_that_always_kills_it_fails(tmp_path: Path) -> None:
    origins = [make_origin(tmp_path, name, TINY) for name in ("victim-once", "victim-always", "plain")]
    specs = parse_repos([str(origin) for origin in origins], base=tmp_path)
    workdir = tmp_path / "work"
    # Two worker deaths are forgiven (Dask's default is three; fewer keeps the test short): a
    # task on its way to a worker that victim-always kills also counts that death against
    # itself (seen once under load in CI), so victim-once needs room for one such bystander
    # death beside its own; victim-always dies on every attempt and still fails.
    with dask.config.set({"distributed.scheduler.allowed-failures": 2}):
        run = run_fleet(specs, FleetOptions(workdir, BRANCHES, workers=2), task=crash_first_attempt)
    statuses = {name: record.status for name, record in run.records.items()}
    assert statuses == {"victim-once": DONE, "victim-always": FAILED, "plain": DONE}
    lost = run.records["victim-always"].result
    assert lost.failure == WORKER_LOST and "its worker died on every attempt" in lost.reason
    assert (workdir / "attempted-victim-once").exists()  # it did die once before succeeding
    assert [b.branch for b in run.records["victim-once"].result.made_branches] == [
        "auditfix/bare-except", "auditfix/print-to-logging",
    ]  # fmt: skip
