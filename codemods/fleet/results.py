"""What travels between the fleet client and its workers, and what the state keeps.

Plain frozen dataclasses of strings and numbers: they pickle to any Dask worker, and a result
round-trips through JSON (``to_dict``/``from_dict``) into the state database.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from codemods.fleet.repos import RepoSpec

# What became of a repository in a run.
DONE, FAILED, SKIPPED = "done", "failed", "skipped"
UP_TO_DATE = "up to date"  # the reason of a skip
# Git mode's statuses of a branch that exists with auditfix's change (codemods.git.run).
BRANCH_EXISTS = ("created", "replaced", "rebuilt", "up to date")
# Modes: --dry-run, neither (branches in the clone), --push.
DRY_RUN, BRANCHES, PUSH = "dry-run", "branches", "push"
MODES = (DRY_RUN, BRANCHES, PUSH)

# Why a repository failed: the first word of its reason in the reports, and ``failure`` in JSON.
NOT_A_REPOSITORY = "not a git repository"
CLONE_FAILED = "clone failed"
FETCH_FAILED = "fetch failed"
NO_SUCH_BRANCH = "no such branch"
CONFIGURATION = "configuration error"
GIT_MODE = "git mode refused"
BRANCH_FAILED = "branch failed"
PUSH_FAILED = "push failed"
WORKER_LOST = "worker lost"
INTERNAL_ERROR = "internal error"
FAILURES = (
    NOT_A_REPOSITORY, CLONE_FAILED, FETCH_FAILED, NO_SUCH_BRANCH, CONFIGURATION, GIT_MODE, BRANCH_FAILED,
    PUSH_FAILED, WORKER_LOST, INTERNAL_ERROR,
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Previous:
    """What the state knows of a repository's last outcome, sent with its job."""

    status: str
    commit: str
    fingerprint: str  # location, branch, mode, codemods asked for, auditfix's version and code
    branches: tuple[tuple[str, str], ...]  # (branch, commit) made by that run


@dataclasses.dataclass(frozen=True)
class RepoJob:
    spec: RepoSpec
    clone: str  # absolute path of DIR/repos/<name>, as the workers see it
    mode: str
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    previous: Previous | None = None


@dataclasses.dataclass(frozen=True)
class BranchRecord:
    """One codemod's branch (or why it has none), as git mode reported it."""

    codemod: str
    branch: str
    status: str  # created, rebuilt, up to date, deleted, kept, no changes, findings only, refused, failed
    commit: str = ""  # the branch's commit (a deleted branch: the commit it had)
    base: str = ""
    files: int = 0
    added: int = 0
    removed: int = 0
    pushed: bool = False  # origin holds this commit (--push)
    message: str = ""  # why it was deleted, kept, refused or failed, or what failed after (push)

    @property
    def made(self) -> bool:
        """The branch exists with auditfix's change (made now, or left as it was, up to date)."""
        return self.status in BRANCH_EXISTS


@dataclasses.dataclass(frozen=True)
class CodemodCounts:
    changed_files: int = 0
    added: int | None = None  # lines, from the codemod's branch (None in a dry run: the diff is shared)
    removed: int | None = None
    findings: int = 0
    fixable: int = 0
    declined: int = 0


@dataclasses.dataclass(frozen=True)
class FindingRecord:
    codemod: str
    path: str
    line: int
    column: int
    message: str
    fixable: bool


@dataclasses.dataclass(frozen=True)
class ProblemRecord:
    """A file that was not processed (not readable Python, or a rewrite that failed a safety check)."""

    path: str
    reason: str


@dataclasses.dataclass(frozen=True)
class RepoResult:
    name: str
    location: str
    branch: str | None
    status: str
    mode: str = ""  # of the run that did the work
    reason: str = ""  # why it failed ("clone failed: ...") or was skipped ("up to date")
    failure: str = ""  # one of FAILURES
    commit: str = ""
    fingerprint: str = ""
    branches: tuple[BranchRecord, ...] = ()
    codemods: dict[str, CodemodCounts] = dataclasses.field(default_factory=dict)
    findings: tuple[FindingRecord, ...] = ()
    not_processed: tuple[ProblemRecord, ...] = ()
    added: int = 0  # lines over every change (every branch, or the dry run's diff)
    removed: int = 0
    log: tuple[str, ...] = ()
    seconds: float = 0.0
    worker: str = ""  # the Dask worker that ran it
    version: str = ""  # of auditfix on that worker
    diff: bytes = dataclasses.field(default=b"", repr=False)  # dry run only; stored as a file, not in the state

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        del data["diff"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RepoResult:
        values = dict(data)
        values["branches"] = tuple(BranchRecord(**b) for b in values.get("branches", ()))
        values["codemods"] = {name: CodemodCounts(**c) for name, c in values.get("codemods", {}).items()}
        values["findings"] = tuple(FindingRecord(**f) for f in values.get("findings", ()))
        values["not_processed"] = tuple(ProblemRecord(**p) for p in values.get("not_processed", ()))
        values["log"] = tuple(values.get("log", ()))
        return cls(**values)

    @property
    def made_branches(self) -> tuple[BranchRecord, ...]:
        return tuple(b for b in self.branches if b.made)


def finished(job: RepoJob, status: str, **values: Any) -> RepoResult:
    return RepoResult(job.spec.name, job.spec.location, job.spec.branch, status, job.mode, **values)


def failed(job: RepoJob, failure: str, detail: str, **values: Any) -> RepoResult:
    return finished(job, FAILED, reason=f"{failure}: {detail}", failure=failure, **values)
