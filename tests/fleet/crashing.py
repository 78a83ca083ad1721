"""A fleet task that kills its own worker process, for the worker-loss tests (the workers
import it: it must live in a module, not in a test)."""

from __future__ import annotations

import os
from pathlib import Path

from codemods.fleet.results import RepoJob, RepoResult
from codemods.fleet.task import process_repository


def crash_first_attempt(job: RepoJob) -> RepoResult:
    """``victim-once`` dies on its first attempt, ``victim-always`` on every one; the rest run."""
    name = job.spec.name
    if name.startswith("victim"):
        attempted = Path(job.clone).parent.parent / f"attempted-{name}"
        if name == "victim-always" or not attempted.exists():
            attempted.touch()
            os._exit(1)  # as the out-of-memory killer would: no cleanup, no result
    return process_repository(job)
