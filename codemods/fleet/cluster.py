"""The client side of a fleet run: a Dask cluster, one task per repository, results recorded
as they complete.

Without a scheduler address a ``LocalCluster`` is started: worker processes (one thread each)
listening on 127.0.0.1 only (its HTTP status server too).  With one, the tasks go to that cluster; its
workers need auditfix installed and the work folder at the same path (a shared file system
when they are on other machines).  A task whose worker dies is rescheduled by Dask on another
worker (up to ``distributed.scheduler.allowed-failures`` times, 3 by default); after that the
repository is recorded as failed ("worker lost") and the next run retries it.

The state (``fleet-state.sqlite``), the per-repository logs (``logs/<name>.log``) and diffs
(``diffs/<name>.diff``, dry runs) are written here, by the client, as each result arrives.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import os
import subprocess
import uuid
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Any

from codemods import __version__
from codemods.fleet.repos import RepoSpec
from codemods.fleet.results import DRY_RUN, INTERNAL_ERROR, SKIPPED, WORKER_LOST, RepoJob, RepoResult, failed
from codemods.fleet.state import STATE_FILE_NAME, Record, StateStore
from codemods.fleet.task import process_repository, worker_version

REPOS_DIR, LOGS_DIR, DIFFS_DIR = "repos", "logs", "diffs"
CONNECT_TIMEOUT = 30  # seconds to reach a scheduler
WORKER_TIMEOUT = 60  # seconds to wait for a scheduler's first worker


class FleetError(Exception):
    """The fleet cannot start: no Dask, no scheduler, no worker, workers without auditfix."""


@dataclasses.dataclass(frozen=True)
class FleetOptions:
    workdir: Path
    mode: str
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    scheduler: str | None = None  # an existing cluster's address; None: a local cluster
    workers: int | None = None  # local cluster's worker processes (None: one per core)


@dataclasses.dataclass
class FleetRun:
    run_id: int
    specs: list[RepoSpec]
    records: dict[str, Record]  # every listed repository the state knows, after the run
    outcomes: dict[str, str]  # what happened to each repository in this run (absent: not reached)
    interrupted: bool = False


ResultCallback = Callable[[RepoResult, Record], None]


def run_fleet(
    specs: Sequence[RepoSpec],
    options: FleetOptions,
    *,
    on_start: Callable[[str], None] = lambda description: None,
    on_result: ResultCallback = lambda result, record: None,
    notify: Callable[[str], None] = lambda message: None,
    task: Callable[[RepoJob], RepoResult] = process_repository,
) -> FleetRun:
    """Run every repository; KeyboardInterrupt stops the run (FleetRun.interrupted), keeping what finished."""
    workdir = options.workdir.resolve()
    if options.scheduler is None and options.mode != DRY_RUN:
        _check_identity()
    for folder in (REPOS_DIR, LOGS_DIR, DIFFS_DIR):
        (workdir / folder).mkdir(parents=True, exist_ok=True)
    with StateStore(workdir / STATE_FILE_NAME) as store:
        known = store.records([spec.name for spec in specs])
        jobs = [
            RepoJob(
                spec, str(workdir / REPOS_DIR / spec.name), options.mode, options.select, options.ignore,
                known[spec.name].previous() if spec.name in known else None,
            )
            for spec in specs
        ]  # fmt: skip
        with _cluster(options, notify) as (client, description):
            run_id = store.begin_run(options.mode, _settings(options), __version__, len(specs))
            run = FleetRun(run_id, list(specs), {}, {})
            on_start(description)
            results = _results(client, jobs, task)
            try:
                for job, result in results:
                    record = store.record(run_id, result)
                    run.outcomes[job.spec.name] = result.status
                    _write_artifacts(workdir, run_id, result)
                    on_result(result, record)
            except KeyboardInterrupt:
                run.interrupted = True
            finally:
                results.close()  # cancels what did not finish, while the client is still connected
            store.finish_run(run_id, "interrupted" if run.interrupted else "completed")
        run.records = store.records([spec.name for spec in specs])
    return run


def _check_identity() -> None:
    """Git mode commits; the local workers inherit this environment, so its identity must be set."""
    result = subprocess.run(
        ["git", "-c", "user.useConfigOnly=true", "var", "GIT_COMMITTER_IDENT"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise FleetError(
            "no git identity is configured for commits; set user.name and user.email, for example "
            '`git config --global user.name "Your Name"` and `git config --global user.email you@example.com` '
            "(or use --dry-run)"
        )


def _settings(options: FleetOptions) -> dict[str, Any]:
    return {"select": list(options.select), "ignore": list(options.ignore), "scheduler": options.scheduler or "local"}


def _results(
    client: Any, jobs: list[RepoJob], task: Callable[[RepoJob], RepoResult]
) -> Generator[tuple[RepoJob, RepoResult], None, None]:
    """(job, result) as each task completes; a task Dask gave up on becomes a failed result."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    token = uuid.uuid4().hex[:12]
    futures = {client.submit(task, job, key=f"auditfix-fleet-{token}-{job.spec.name}", pure=False): job for job in jobs}
    try:
        for future in as_completed(futures, loop=client.loop):
            job = futures[future]
            try:
                result = future.result()
            except KilledWorker:
                result = failed(job, WORKER_LOST, "its worker died on every attempt (out of memory, or killed)")
            except Exception as exc:  # noqa: BLE001 - for example a worker that cannot unpickle the task
                result = failed(job, INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
            future.release()
            yield job, result
    finally:
        client.cancel([f for f in futures if not f.done()])


class _cluster:
    """``with _cluster(options, notify) as (client, description)``: connected, checked, closed after."""

    def __init__(self, options: FleetOptions, notify: Callable[[str], None]) -> None:
        self.options, self.notify = options, notify
        self.client: Any = None
        self.cluster: Any = None
        self.config: Any = None

    def __enter__(self) -> tuple[Any, str]:
        try:
            import distributed
        except ImportError:
            raise FleetError('fleet mode needs Dask distributed: pip install "auditfix[fleet]"') from None
        logging.getLogger("distributed").setLevel(logging.ERROR)
        try:
            description = self._connect(distributed)
            self._check_workers()
        except BaseException:
            self.__exit__()
            raise
        return self.client, description

    def _connect(self, distributed: Any) -> str:
        if self.options.scheduler is not None:
            try:
                self.client = distributed.Client(self.options.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise FleetError(f"cannot connect to the Dask scheduler at {self.options.scheduler}: {exc}") from None
            try:
                self.client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
            except (TimeoutError, asyncio.TimeoutError):  # distinct before Python 3.11
                raise FleetError(f"no worker joined the scheduler at {self.options.scheduler} within {WORKER_TIMEOUT} s") from None
            workers = len(self.client.scheduler_info()["workers"])
            return f"scheduler {self.options.scheduler}, {workers} worker{'s' if workers != 1 else ''}"
        count = self.options.workers or os.cpu_count() or 1
        import dask

        # One task per worker thread, none queued behind it: a repository's task is seconds long,
        # and a task queued on a worker that dies would count as a suspect of its death.
        self.config = dask.config.set({"distributed.scheduler.worker-saturation": 1.0})
        self.cluster = distributed.LocalCluster(
            n_workers=count, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # its HTTP server always runs: loopback, any free port
            silence_logs=logging.ERROR,
        )  # fmt: skip
        self.client = distributed.Client(self.cluster, set_as_default=False)
        return f"local cluster, {count} worker process{'es' if count != 1 else ''}"

    def _check_workers(self) -> None:
        try:
            versions = self.client.run(worker_version)
        except Exception as exc:  # noqa: BLE001 - whatever a worker without auditfix raises
            raise FleetError(f"the Dask workers cannot run auditfix ({type(exc).__name__}: {exc}); install it on every worker") from None
        others = sorted({version for version in versions.values() if version != __version__})
        if others:
            self.notify(f"warning: workers run auditfix {', '.join(others)}, this is {__version__}")

    def __exit__(self, *exc_info: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        if self.config is not None:
            self.config.__exit__(None, None, None)


def _write_artifacts(workdir: Path, run_id: int, result: RepoResult) -> None:
    """Append the run's lines to the repository's log; keep a dry run's diff (if it has one)."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    outcome = result.status + (f": {result.reason}" if result.reason else "")
    lines = [f"== run {run_id}, {stamp}, {result.mode} on {result.worker or 'no worker'} ({result.seconds:.1f} s): {outcome}"]
    if result.commit:
        lines.append(f"commit {result.commit}")
    lines.extend(result.log)
    with open(workdir / LOGS_DIR / f"{result.name}.log", "a", encoding="utf-8") as log:
        log.write("\n".join(lines) + "\n")
    if result.mode == DRY_RUN and result.status != SKIPPED:
        diff = workdir / DIFFS_DIR / f"{result.name}.diff"
        if result.diff:
            diff.write_bytes(result.diff)
        else:
            diff.unlink(missing_ok=True)
