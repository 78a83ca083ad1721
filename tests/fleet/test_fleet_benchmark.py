"""benchmarks/fleet_benchmark.py keeps working (on two repositories; nothing here is timed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fleet.conftest import PROJECT, TINY
from tests.gitrepo import write_files

pytestmark = pytest.mark.slow


def test_the_fleet_benchmark_measures_one_and_two_workers_and_a_re_run(tmp_path: Path) -> None:
    # The shape of the results only: two copies of a tiny project instead of twenty of sample_repo.
    sample = tmp_path / "sample"
    write_files(sample, TINY)
    output = tmp_path / "fleet.json"
    command = [sys.executable, str(PROJECT / "benchmarks" / "fleet_benchmark.py"), "--repos", "2", "--overhead-tasks", "20",
               "--json", str(output), "--sample-repo", str(sample)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr
    data = json.loads(output.read_text())
    assert [run["name"] for run in data["runs"]] == ["1 worker, cold", "2 workers, cold", "2 workers, re-run (all up to date)"]
    assert [run["statuses"] for run in data["runs"]] == [["done"], ["done"], ["skipped"]]
    for run in data["runs"]:
        assert run["repositories"] == 2 and run["work_seconds"] > 0 and run["startup_seconds"] > 0 and run["cpu_seconds"] > 0
    assert data["runs"][0]["workers_used"] == 1
    assert data["speedup_work"] > 0 and data["overhead"]["round_trip_ms"] > 0 and data["state_ms_per_record"] > 0
    assert "| 2 workers, cold | " in result.stdout
