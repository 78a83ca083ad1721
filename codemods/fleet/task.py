"""One repository of a fleet, as a Dask worker runs it.

``process_repository(job)`` brings ``DIR/repos/<name>`` to the commit to fix (a first fetch
into a new repository, later fetches into the same one), decides whether the last finished
run is still up to date, and otherwise does what ``auditfix run <clone>`` does: settings
from the clone's own ``[tool.auditfix]`` (the fleet's ``--select``/``--ignore`` win), then
git mode (one branch per codemod, replaced on every run: the clone is auditfix's own, so
``--force`` is implied; with ``--push`` every branch is force-pushed to ``origin``), or with
``--dry-run`` the engine alone, returning the diff and findings.

It never raises for a problem of the repository: every outcome is a :class:`RepoResult`.
Nothing here imports Dask.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import socket
import threading
import time
import traceback
from pathlib import Path

import git

from codemods import __version__
from codemods.engine.cache import content_key, tool_digest
from codemods.engine.config import ConfigError, Settings
from codemods.fleet.results import (
    BRANCH_FAILED,
    CLONE_FAILED,
    CONFIGURATION,
    DONE,
    DRY_RUN,
    FETCH_FAILED,
    GIT_MODE,
    INTERNAL_ERROR,
    NO_SUCH_BRANCH,
    NOT_A_REPOSITORY,
    PUSH,
    PUSH_FAILED,
    SKIPPED,
    UP_TO_DATE,
    BranchRecord,
    CodemodCounts,
    FindingRecord,
    ProblemRecord,
    RepoJob,
    RepoResult,
    failed,
    finished,
)
from codemods.git import BUILT_REFS, CACHE_DIR_NAME, DELETED, CategoryResult
from codemods.git import UP_TO_DATE as BRANCH_UP_TO_DATE
from codemods.git.run import _worktree_git
from codemods.git.safety import command_output, git_error_line

# The remote's default branch (its HEAD), fetched with the branches: one connection tells both.
DEFAULT_HEAD_REF = "refs/auditfix-fleet/default-head"
NETWORK_TIMEOUT = 900  # seconds a fetch may take before it is killed (a hung server must not hold a worker)

# The engine keeps its per-run plan in a module global of the process (codemods.engine.runner), so a
# worker process runs one repository at a time however many threads Dask gives it; fetching,
# which waits on the network, happens outside.
_RUN_LOCK = threading.Lock()


class _Failure(Exception):
    def __init__(self, failure: str, detail: str) -> None:
        super().__init__(f"{failure}: {detail}")
        self.failure, self.detail = failure, detail


def process_repository(job: RepoJob) -> RepoResult:
    started = time.monotonic()
    try:
        result = _process(job)
    except _Failure as exc:
        result = failed(job, exc.failure, exc.detail)
    except Exception as exc:  # noqa: BLE001 - a bug fails this repository, not the fleet
        result = failed(job, INTERNAL_ERROR, f"{type(exc).__name__}: {exc}", log=(traceback.format_exc(),))
    return dataclasses.replace(
        result, seconds=round(time.monotonic() - started, 3), worker=f"{socket.gethostname()}:{os.getpid()}", version=__version__
    )


def worker_version() -> str:
    """Run on every worker before any task: it must be able to import auditfix, and which one it runs."""
    return __version__


def _process(job: RepoJob) -> RepoResult:
    clone = Path(job.clone)
    log: list[str] = []
    commit = update_clone(job, clone, log)
    fingerprint = fingerprint_of(job)
    identity = {"commit": commit, "fingerprint": fingerprint}
    if is_up_to_date(job, clone, commit, fingerprint):
        return finished(job, SKIPPED, reason=UP_TO_DATE, **identity)
    with _RUN_LOCK:
        try:
            settings = settings_for(job, clone)
        except ConfigError as exc:
            return failed(job, CONFIGURATION, str(exc), **identity)
        if job.mode == DRY_RUN:
            return preview(job, clone, settings, commit, fingerprint)
        return make_branches(job, clone, settings, commit, fingerprint, log)


# -- the clone -----------------------------------------------------------------------------------


def update_clone(job: RepoJob, clone: Path, log: list[str]) -> str:
    """Fetch the repository into ``clone`` (made on first use) and check out the commit to fix."""
    spec = job.spec
    first = not _is_clone(clone)
    if first:
        shutil.rmtree(clone, ignore_errors=True)  # what a run killed before its first fetch left
        clone.mkdir(parents=True)
        command = _worktree_git(clone)
        command.init("--quiet")
        command.remote("add", "origin", spec.location)
    else:
        command = _worktree_git(clone)
        if command.remote("get-url", "origin") != spec.location:
            command.remote("set-url", "origin", spec.location)
    refspecs = ["+refs/heads/*:refs/remotes/origin/*"] + ([] if spec.branch else [f"+HEAD:{DEFAULT_HEAD_REF}"])
    try:
        command.fetch("--quiet", "--prune", "--no-tags", "origin", *refspecs, kill_after_timeout=NETWORK_TIMEOUT)
    except git.GitCommandError as exc:
        if first:
            shutil.rmtree(clone, ignore_errors=True)  # nothing of a repository that could not be cloned stays
        if "couldn't find remote ref HEAD" in command_output(exc):
            raise _Failure(NO_SUCH_BRANCH, f"{spec.location} has no default branch (no commits yet?)") from None
        raise _fetch_failure(spec.location, spec.is_local, first, exc) from None
    log.append(("cloned " if first else "fetched ") + spec.label)
    commit = _target_commit(command, job)
    command.checkout("--quiet", "--detach", "--force", commit)
    command.clean("-ffdxq")  # the work tree is exactly the commit: its pyproject.toml is the settings
    return commit


def _is_clone(folder: Path) -> bool:
    if not (folder / ".git").is_dir():
        return False
    try:
        _worktree_git(folder).remote("get-url", "origin")
    except git.GitCommandError:
        return False
    return True


def _fetch_failure(location: str, local: bool, first: bool, exc: git.GitCommandError) -> _Failure:
    if local and Path(location).exists() and not _is_repository(Path(location)):
        return _Failure(NOT_A_REPOSITORY, location)
    error = _git_error(exc)
    return _Failure(CLONE_FAILED if first else FETCH_FAILED, error if location in error else f"{location}: {error}")


def _git_error(exc: git.GitCommandError) -> str:
    """Git's own reason (its first ``fatal:`` or ``error:`` line), not the advice that follows it."""
    for line in command_output(exc).splitlines():
        for prefix in ("fatal:", "error:"):
            if line.strip().startswith(prefix):
                return line.strip()[len(prefix) :].strip()
    return git_error_line(exc)


def _is_repository(path: Path) -> bool:
    """Whether ``path`` itself is a repository (a work tree's top or a bare repository)."""
    try:
        command = _worktree_git(path)
        if command.rev_parse("--is-bare-repository") == "true":
            return Path(command.rev_parse("--absolute-git-dir")).resolve() == path.resolve()
        return Path(command.rev_parse("--show-toplevel")).resolve() == path.resolve()
    except git.GitCommandError:
        return False


def _target_commit(command: git.Git, job: RepoJob) -> str:
    branch = job.spec.branch
    ref = f"refs/remotes/origin/{branch}" if branch else DEFAULT_HEAD_REF
    try:
        return command.rev_parse("--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    except git.GitCommandError:
        if branch:
            raise _Failure(NO_SUCH_BRANCH, f"{branch} is not a branch of {job.spec.location}") from None
        raise _Failure(NO_SUCH_BRANCH, f"{job.spec.location} has no default branch (no commits yet?)") from None


# -- up to date? ------------------------------------------------------------------------------------


def fingerprint_of(job: RepoJob) -> str:
    """What, besides the commit, decides a repository's result: this auditfix (version, code,
    templates and the versions of what it runs on), the codemods asked for, the mode and where
    the repository is."""
    spec = job.spec
    return content_key(
        __version__, tool_digest(), job.mode, ",".join(job.select), ",".join(job.ignore),
        spec.location, spec.branch or "", spec.branch_scope,
    )  # fmt: skip


def is_up_to_date(job: RepoJob, clone: Path, commit: str, fingerprint: str) -> bool:
    """The last run finished on this commit with this fingerprint, and its branches are still
    there (in the clone, and with --push on origin)."""
    previous = job.previous
    if previous is None or previous.status not in (DONE, SKIPPED):
        return False
    if (previous.commit, previous.fingerprint) != (commit, fingerprint):
        return False
    if job.mode == DRY_RUN:
        return True
    command = _worktree_git(clone)
    namespaces = ["refs/heads/"] + (["refs/remotes/origin/"] if job.mode == PUSH else [])
    for branch, made in previous.branches:
        for namespace in namespaces:
            try:
                if command.rev_parse("--verify", "--quiet", f"{namespace}{branch}") != made:
                    return False
            except git.GitCommandError:
                return False
    return True


# -- the run ----------------------------------------------------------------------------------------


def settings_for(job: RepoJob, clone: Path) -> Settings:
    """As ``auditfix run <clone> --select ... --ignore ...`` resolves them; one process per
    repository (the fleet's parallelism is the cluster's)."""
    from codemods import REGISTRY
    from codemods.engine.config import resolve

    settings = resolve(clone, REGISTRY, select=list(job.select) or None, ignore=list(job.ignore) or None, jobs=1)
    if job.spec.branch_scope:
        settings = dataclasses.replace(settings, branch_prefix=settings.branch_prefix + job.spec.branch_scope)
    return settings


def make_branches(
    job: RepoJob, clone: Path, settings: Settings, commit: str, fingerprint: str, log: list[str]
) -> RepoResult:
    """Git mode on the clone, as a second ``auditfix run`` would do it: branches made, rebuilt on a
    moved base, deleted once merged, kept when someone else committed on them; with --push,
    origin's branches are the ones refreshed, and pushed back."""
    from codemods.git import GitModeError, GitOptions, run_git_mode

    pushing = job.mode == PUSH
    if pushing:
        recorded = dict(job.previous.branches) if job.previous is not None else {}
        log.extend(follow_origin(clone, settings.branch_prefix, recorded))
    options = GitOptions(base=commit, push="origin" if pushing else None)
    try:
        outcome = run_git_mode(clone, settings, options, notify=log.append)
    except GitModeError as exc:
        return failed(job, GIT_MODE, str(exc), commit=commit, fingerprint=fingerprint, log=tuple(log))
    if pushing:
        remember_pushed(clone, outcome.categories)
    branches = tuple(_branch_record(clone, c, pushing) for c in outcome.categories)
    for category in outcome.categories:
        if category.detail:
            log.append(f"{category.branch}: git said:\n{category.detail}")
    findings = _findings(outcome.findings)
    codemods = {}
    for name in dict.fromkeys(b.codemod for b in branches):
        made = [b for b in branches if b.codemod == name and b.made]
        codemods[name] = CodemodCounts(
            sum(b.files for b in made), sum(b.added for b in made), sum(b.removed for b in made),
            *_finding_counts(findings, name),
        )  # fmt: skip
    not_processed = tuple(ProblemRecord(p.path, p.message) for p in outcome.problems)
    log.extend(f"not fixed {p.path}: {p.reason}" for p in not_processed)
    made = [b for b in branches if b.made]
    values = {
        "commit": commit, "fingerprint": fingerprint, "branches": branches, "codemods": codemods, "findings": findings,
        "not_processed": not_processed, "added": sum(b.added for b in made), "removed": sum(b.removed for b in made),
        "log": tuple(log),
    }  # fmt: skip
    broken = [c for c in outcome.categories if not c.ok]
    if broken:
        only_pushes = all(c.follow_up_error.startswith("push") for c in broken)
        detail = "; ".join(f"{c.branch}: {c.message or c.follow_up_error}" for c in broken)
        return failed(job, PUSH_FAILED if only_pushes else BRANCH_FAILED, detail, **values)
    return finished(job, DONE, **values)


def _branch_record(clone: Path, category: CategoryResult, pushing: bool) -> BranchRecord:
    files, added, removed = category.files, category.added, category.removed
    if category.status == BRANCH_UP_TO_DATE:
        added, removed, files = _commit_stats(clone, category.commit)  # left as it was: nothing was counted
    return BranchRecord(
        category.codemod, category.branch, category.status, category.commit, category.start, files, added, removed,
        pushing and category.has_branch and not category.follow_up_error, category.message or category.follow_up_error,
    )  # fmt: skip


def _commit_stats(clone: Path, commit: str) -> tuple[int, int, int]:
    """Lines added, removed and files changed by one commit (auditfix's, on its parent)."""
    output = _worktree_git(clone).diff("--numstat", "--no-renames", f"{commit}^", commit)
    rows = [line.split("\t", 2) for line in output.splitlines() if line.strip()]
    return (
        sum(int(r[0]) for r in rows if r[0].isdigit()), sum(int(r[1]) for r in rows if r[1].isdigit()), len(rows)
    )  # fmt: skip


# -- origin's branches (--push) -----------------------------------------------------------------------

# The commit each branch had on origin after this clone last pushed it (or found it there).
PUSHED_REFS = "refs/auditfix-fleet/pushed/"


def follow_origin(clone: Path, prefix: str, recorded: dict[str, str]) -> list[str]:
    """Make the clone's branches under ``prefix`` the ones origin has, so git mode refreshes
    what is under review: a reviewer's commits on top of auditfix's are seen (the branch is kept),
    and a branch whose last push from here failed is rebuilt from what origin still holds.

    Auditfix's own commit on each branch (its built ref) is what this clone last pushed there,
    or, in a new clone, the commit the state recorded for the branch (``recorded``)."""
    command = _worktree_git(clone)
    remote = _branches(command, "refs/remotes/origin/", prefix)
    local = _branches(command, "refs/heads/", prefix)
    ours = {**recorded, **_branches(command, PUSHED_REFS, prefix)}
    lines = []
    for branch, commit in remote.items():
        if local.get(branch) == commit:
            continue
        command.update_ref(f"refs/heads/{branch}", commit)
        if branch in ours:
            command.update_ref(f"{BUILT_REFS}{branch}", ours[branch])
        lines.append(f"{branch}: as origin has it ({commit[:12]})")
    return lines


def remember_pushed(clone: Path, categories: list[CategoryResult]) -> None:
    """Record what origin holds now for each branch this run pushed, or deleted there."""
    command = _worktree_git(clone)
    for category in categories:
        if category.follow_up_error:
            continue
        if category.has_branch:
            command.update_ref(f"{PUSHED_REFS}{category.branch}", category.commit)
        elif category.status == DELETED:
            with contextlib.suppress(git.GitCommandError):  # never pushed from here
                command.update_ref("-d", f"{PUSHED_REFS}{category.branch}")


def _branches(command: git.Git, namespace: str, prefix: str) -> dict[str, str]:
    output = command.for_each_ref("--format=%(refname)%00%(objectname)", namespace)
    found = {}
    for line in output.splitlines():
        ref, _, commit = line.partition("\0")
        branch = ref.removeprefix(namespace)
        if branch.startswith(prefix):
            found[branch] = commit
    return found


def preview(job: RepoJob, clone: Path, settings: Settings, commit: str, fingerprint: str) -> RepoResult:
    """``--dry-run``: the engine over the checked-out commit; its diff and findings."""
    from codemods.engine.runner import Engine
    from codemods.output.diffs import unified_diff

    engine = Engine(clone, settings)
    if settings.cache:
        # In the git dir, like git mode's cache: the work tree stays exactly the commit.
        engine.cache_folder = clone / ".git" / CACHE_DIR_NAME / "dry-run"
    report = engine.run()
    diff = unified_diff(report.changes)
    findings = _findings(report.findings)
    changed = report.changes_per_codemod()
    codemods = {c.name: CodemodCounts(changed.get(c.name, 0), None, None, *_finding_counts(findings, c.name)) for c in settings.codemods}
    not_processed = tuple(ProblemRecord(p.path, p.message) for p in [*report.skipped, *report.failed])
    added, removed = diff_line_counts(diff)
    return finished(
        job, DONE, commit=commit, fingerprint=fingerprint, codemods=codemods,
        findings=findings, not_processed=not_processed, added=added, removed=removed, log=(report.summary(),), diff=diff,
    )  # fmt: skip


def diff_line_counts(diff: bytes) -> tuple[int, int]:
    """Lines added and removed by a unified diff (only hunk lines count: not the ``+++`` headers)."""
    added = removed = 0
    in_hunk = False
    for line in diff.split(b"\n"):
        if line.startswith(b"diff --git "):
            in_hunk = False
        elif line.startswith(b"@@"):
            in_hunk = True
        elif in_hunk and line.startswith(b"+"):
            added += 1
        elif in_hunk and line.startswith(b"-"):
            removed += 1
    return added, removed


def _findings(findings: list) -> tuple[FindingRecord, ...]:
    return tuple(FindingRecord(f.codemod, f.path, f.line, f.column, f.message, f.fixable) for f in sorted(findings))


def _finding_counts(findings: tuple[FindingRecord, ...], codemod: str) -> tuple[int, int, int]:
    mine = [f for f in findings if f.codemod == codemod]
    fixable = sum(1 for f in mine if f.fixable)
    return len(mine), fixable, len(mine) - fixable
