"""Fleet mode on this machine: N copies of sample_repo, one worker process against two.

Usage (from the repository root; see benchmarks/README.md, "Fleet mode"):

    python benchmarks/fleet_benchmark.py                     # 20 repositories, 1 and 2 workers, a re-run
    python benchmarks/fleet_benchmark.py --repos 4 --json fleet.json

What it measures:
- ``auditfix fleet REPOS --workdir DIR --workers W --push`` as a subprocess (the console script,
  as users start it), on freshly generated repositories: copies of sample_repo that differ by a
  file naming the copy (git mode caches per clone: equal files are no cheaper), each pushed to its own
  local bare origin.  Every run starts from an empty work folder:
  clones, the per-repository git-mode cache and the state are cold.
- From the command's own stderr, read as it is written: when the cluster was ready (its "N
  repositories on local cluster" line), when each repository's result arrived, and when the
  command exited.  So a run splits into *start-up* (imports, the local cluster, auditfix
  imported on every worker), *work* (first task submitted to last result) and *report*.
- CPU seconds of the whole run (the command, its cluster's processes and every git command they
  ran, from ``os.wait4``): on a shared machine, steadier than wall time.
- From fleet-report.json: each task's own seconds on its worker (clone, five codemod branches,
  push).  *Seconds per repository* is the work phase divided by the repositories, the figure
  that decides how long a campaign takes; the task seconds show what one costs on a worker.
- A re-run of the 2-worker command: every repository is up to date (fetch, compare, skip).
- Dask's own cost per task on this machine: a local cluster with one worker process runs
  ``--overhead-tasks`` trivial tasks, all submitted at once (throughput) and one at a time
  (round trip), so the scheduler's share of a repository's seconds is known; and the command's
  serial share: recording one result (80 findings, 5 branches) in the SQLite state.

The machine is shared: its load average is recorded before and after, and every figure should be
read with it.  Unix only.
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CLI_PROGRAM = "import sys; from cli import entry; sys.argv[0] = 'auditfix'; sys.exit(entry())"
SCHEMA_VERSION = 1
IDENTITY = "[user]\n\tname = Fleet Benchmark\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n"


def git(folder: Path, *arguments: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *arguments], cwd=folder, env=env, check=True, capture_output=True)


def environment(scratch: Path) -> dict[str, str]:
    """This process's environment, with a git configuration of its own (an identity, nothing else)."""
    config = scratch / "gitconfig"
    config.write_text(IDENTITY)
    env = dict(os.environ, HOME=str(scratch), GIT_CONFIG_GLOBAL=str(config), GIT_CONFIG_SYSTEM=os.devnull)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(name, None)
    return env


def generate(scratch: Path, count: int, sample: Path, env: dict[str, str]) -> Path:
    """``count`` bare origins holding sample_repo, each with its own comment; the list file."""
    lines = []
    for number in range(count):
        work = scratch / "sources" / f"service-{number:02d}"
        shutil.copytree(sample, work, ignore=shutil.ignore_patterns("__pycache__", ".auditfix_cache"))
        with open(work / "SERVICE.md", "w", encoding="utf-8") as handle:
            handle.write(f"service {number}\n")
        git(work, "init", "--quiet", env=env)
        git(work, "add", "--all", env=env)
        git(work, "commit", "--quiet", "--message", "initial", env=env)
        origin = scratch / "origins" / f"service-{number:02d}.git"
        git(scratch, "clone", "--quiet", "--bare", str(work), str(origin), env=env)
        lines.append(str(origin))
    listing = scratch / "repos.txt"
    listing.write_text("\n".join(lines) + "\n")
    return listing


def timed_fleet(listing: Path, workdir: Path, workers: int, env: dict[str, str]) -> dict[str, Any]:
    """One ``auditfix fleet`` run; its phases from the moments its stderr lines appear."""
    command = [sys.executable, "-c", CLI_PROGRAM, "fleet", str(listing), "--workdir", str(workdir),
               "--workers", str(workers), "--push", "--no-progress"]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ready = None
    arrivals = []
    assert process.stderr is not None
    for line in process.stderr:
        now = time.perf_counter() - started
        if " repositories on local cluster" in line:
            ready = now
        elif line.startswith("auditfix: service-"):
            arrivals.append(now)
    # The command waits for its local cluster, whose nannies wait for their workers, which wait
    # for git: the child's rusage is the CPU time of the whole run.
    _, status, usage = os.wait4(process.pid, 0)
    total = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or ready is None:
        raise SystemExit(f"auditfix fleet exited {code}: see {workdir}")
    report = json.loads((workdir / "fleet-report.json").read_text())
    tasks = [r["seconds"] for r in report["repositories"]]
    statuses = sorted({r["status"] for r in report["repositories"]})
    work = arrivals[-1] - ready
    return {
        "workers": workers,
        "repositories": len(tasks),
        "statuses": statuses,
        "seconds": round(total, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "startup_seconds": round(ready, 2),
        "work_seconds": round(work, 2),
        "report_seconds": round(total - arrivals[-1], 2),
        "seconds_per_repository": round(work / len(tasks), 3),
        "task_seconds_median": round(statistics.median(tasks), 3),
        "task_seconds_mean": round(statistics.fmean(tasks), 3),
        "task_seconds_max": round(max(tasks), 3),
        "workers_used": len({r["worker"] for r in report["repositories"]}),
    }


def dask_overhead(tasks: int) -> dict[str, float]:
    """Scheduler cost per task with one local worker process: throughput and one-by-one round trip."""
    import logging

    from distributed import Client, LocalCluster, as_completed, wait

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR) as cluster, Client(cluster) as client:  # fmt: skip
        wait(client.map(operator.neg, range(50)))  # warm up: connections, the worker's function cache
        started = time.perf_counter()
        for future in as_completed(client.map(operator.neg, range(tasks, 2 * tasks))):
            future.result()
        batch = time.perf_counter() - started
        rounds = max(tasks // 10, 20)
        started = time.perf_counter()
        for number in range(rounds):
            client.submit(operator.neg, 3 * tasks + number).result()
        single = time.perf_counter() - started
    return {
        "tasks": tasks,
        "batch_ms_per_task": round(1000 * batch / tasks, 3),
        "round_trip_ms": round(1000 * single / rounds, 3),
    }


def state_cost(scratch: Path, records: int) -> float:
    """Milliseconds the command spends recording one result in the state (its serial share per repository)."""
    from codemods.fleet.results import DONE, PUSH, BranchRecord, CodemodCounts, FindingRecord, RepoResult
    from codemods.fleet.state import StateStore

    findings = tuple(FindingRecord("print-to-logging", f"app/m{n}.py", n + 1, 1, "print() to logger.info()", True) for n in range(80))
    branches = tuple(BranchRecord(f"c{n}", f"auditfix/c{n}", "created", "a" * 40, "b" * 12, 5, 20, 10, True) for n in range(5))
    counts = {f"c{n}": CodemodCounts(5, 20, 10, 16, 16, 0) for n in range(5)}
    with StateStore(scratch / "state-cost.sqlite") as store:
        run = store.begin_run(PUSH, {}, "bench", records)
        started = time.perf_counter()
        for number in range(records):
            result = RepoResult(f"r{number}", "/x", None, DONE, PUSH, commit="c" * 40, fingerprint="f", branches=branches,
                                codemods=counts, findings=findings)  # fmt: skip
            store.record(run, result)
        return 1000 * (time.perf_counter() - started) / records


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Fleet benchmark: {results['repositories']} copies of sample_repo ({results['python']}, {results['cores']} cores, "
        f"load average {results['load_before']:.1f} before, {results['load_after']:.1f} after)",
        "",
        "| run | workers used | total s | CPU s | start-up s | work s | report s | s per repository | task s (median / max) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in results["runs"]:
        lines.append(
            f"| {run['name']} | {run['workers_used']} | {run['seconds']:.1f} | {run['cpu_seconds']:.1f} | "
            f"{run['startup_seconds']:.1f} | {run['work_seconds']:.1f} | {run['report_seconds']:.1f} | "
            f"{run['seconds_per_repository']:.2f} | {run['task_seconds_median']:.2f} / {run['task_seconds_max']:.2f} |"
        )
    lines += [
        "",
        f"Speed-up of 2 workers over 1: {results['speedup_work']:.2f}x on the work phase, {results['speedup_total']:.2f}x end to end.",
        f"Dask per task ({results['overhead']['tasks']} trivial tasks, one worker process): "
        f"{results['overhead']['batch_ms_per_task']:.2f} ms submitted together, {results['overhead']['round_trip_ms']:.2f} ms one at a time.",
        f"Recording one result in the state (80 findings, 5 branches): {results['state_ms_per_record']:.2f} ms.",
    ]
    return "\n".join(lines) + "\n"


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=20, help="repositories (copies of sample_repo; default 20)")
    parser.add_argument("--overhead-tasks", type=int, default=1000, help="trivial Dask tasks for the overhead figure")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary folder)")
    parser.add_argument("--sample-repo", type=Path, default=REPO / "sample_repo", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    scratch = arguments.keep or Path(tempfile.mkdtemp(prefix="auditfix-fleet-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        env = environment(scratch)
        load_before = os.getloadavg()[0]
        listing = generate(scratch, arguments.repos, arguments.sample_repo, env)
        runs = []
        for workers in (1, 2):
            run = timed_fleet(listing, scratch / f"work-{workers}", workers, env)
            runs.append({"name": f"{workers} worker{'s' if workers > 1 else ''}, cold", **run})
        rerun = timed_fleet(listing, scratch / "work-2", 2, env)
        runs.append({"name": "2 workers, re-run (all up to date)", **rerun})
        overhead = dask_overhead(arguments.overhead_tasks)
        state_ms = state_cost(scratch, 200)
        one, two = runs[0], runs[1]
        results = {
            "schema_version": SCHEMA_VERSION,
            "repositories": arguments.repos,
            "python": platform.python_version(),
            "cores": os.cpu_count(),
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
            "runs": runs,
            "speedup_work": round(one["work_seconds"] / two["work_seconds"], 3),
            "speedup_total": round(one["seconds"] / two["seconds"], 3),
            "overhead": overhead,
            "state_ms_per_record": round(state_ms, 3),
        }
        sys.stdout.write(markdown(results))
        if arguments.json is not None:
            arguments.json.write_text(json.dumps(results, indent=2) + "\n")
    finally:
        if arguments.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
