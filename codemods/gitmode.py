"""Git mode: one branch per codemod, each holding one commit with exactly that codemod's changes.

Every branch is built in a temporary ``git worktree`` under ``<git-dir>/auditfix-worktrees/``,
checked out from the base commit (or, with ``stack``, from the previous codemod's commit).
The user's checkout is never written to: its current branch, HEAD, index, working tree and
stash stay as they were, whether the run succeeds, fails or is interrupted.  Temporary
worktrees are removed in ``finally`` blocks (SIGTERM is turned into an exception so that they
run), and the ones a killed run left behind are removed by the next run, which holds the
repository lock (``<git-dir>/auditfix.lock``) while it works.

Git is driven through gitpython's command wrapper, so commits run the repository's hooks
exactly as ``git commit`` does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import git

from codemods import __version__
from codemods.base import Codemod
from codemods.output.docs import parse_sections
from codemods.engine.config import Settings
from codemods.engine.runner import Engine, Problem, ProgressCallback, RunReport, write_changes
from codemods.engine.templating import TemplateError

WORKTREES_DIR_NAME = "auditfix-worktrees"
LOCK_FILE_NAME = "auditfix.lock"
CACHE_DIR_NAME = "auditfix-cache"

# Variables a git hook (or a wrapper script) may have set that would point our git commands
# at the user's index or work tree instead of the temporary worktree.
_REPOSITORY_ENVIRONMENT = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_COMMON_DIR")
# Never let git guess an identity, never start a repack in the middle of the run, never ask
# for a password on a terminal nobody is watching.
_GIT_CONFIG = ("user.useConfigOnly=true", "gc.auto=0")
_GIT_ENVIRONMENT = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}

CREATED, REPLACED, NO_CHANGES, REFUSED, FAILED = "created", "replaced", "no changes", "refused", "failed"
FINDINGS_ONLY = "findings only"  # a codemod that never changes code (Codemod.fixes is False): no branch


class GitModeError(Exception):
    """A precondition of git mode does not hold; nothing was changed."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every ``finally`` block runs."""


@dataclasses.dataclass(frozen=True)
class GitOptions:
    base: str = "HEAD"
    force: bool = False  # replace existing branches under the prefix
    stack: bool = False  # each branch starts from the previous codemod's branch
    no_verify: bool = False  # skip commit hooks (and pre-push hooks)
    push: str | None = None  # remote to push every created branch to
    pr_body_dir: Path | None = None  # write one pull-request description per branch here
    lock_timeout: float = 5.0  # seconds to wait for another run on the same repository


# -- what the templates are rendered from ----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FileStat:
    path: str  # relative to the repository's top
    added: int
    removed: int


@dataclasses.dataclass(frozen=True)
class LeftAlone:
    """A finding the codemod declined to fix, and why."""

    path: str
    line: int
    reason: str


@dataclasses.dataclass(frozen=True)
class CategoryChange:
    codemod: str
    summary: str
    why: str  # the "Why is this bad?" section of the codemod's docstring
    safety: str
    branch: str
    base: str  # what the branch starts from: a commit, or the previous branch with --stack
    review_command: str
    files: tuple[FileStat, ...]
    added: int
    removed: int
    fixed: int  # fixable findings
    left_alone: tuple[LeftAlone, ...]
    tool_version: str


# -- what a run reports ----------------------------------------------------------------------


@dataclasses.dataclass
class CategoryResult:
    codemod: str
    branch: str
    status: str = NO_CHANGES
    start: str = ""  # what the review diff starts from
    commit: str = ""
    files: int = 0
    added: int = 0
    removed: int = 0
    message: str = ""  # why it was refused or failed
    detail: str = ""  # for example a hook's output
    pushed: bool = False
    follow_up_error: str = ""  # the branch exists, but pushing it or writing its description failed
    pr_body: Path | None = None

    @property
    def has_branch(self) -> bool:
        return self.status in (CREATED, REPLACED)

    @property
    def ok(self) -> bool:
        return self.status in (CREATED, REPLACED, NO_CHANGES, FINDINGS_ONLY) and not self.follow_up_error

    @property
    def review_command(self) -> str:
        return f"git diff {self.start}..{self.branch}" if self.has_branch else ""


@dataclasses.dataclass
class GitRunResult:
    base_ref: str
    base_commit: str
    dirty: bool
    categories: list[CategoryResult] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)  # files skipped or failed

    @property
    def failed(self) -> bool:
        return any(not c.ok for c in self.categories)


# -- the run -------------------------------------------------------------------------------


def run_git_mode(
    path: Path,
    settings: Settings,
    options: GitOptions,
    *,
    notify: Callable[[str], None] = lambda message: None,
    progress: ProgressCallback | None = None,
) -> GitRunResult:
    """Make one branch per codemod with changes under ``path``; raise GitModeError if impossible."""
    with _without_repository_environment():
        repo = open_repository(path)
        run = _GitRun(repo, path, settings, options, notify, progress)
        return run.execute()


def open_repository(path: Path) -> git.Repo:
    try:
        repo = git.Repo(path.resolve(), search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        repo = None
    if repo is None or repo.bare or repo.working_tree_dir is None:
        raise GitModeError(
            f"{path} is not inside a git work tree; git mode makes branches in a repository. "
            "Use --dry-run to preview the changes or --write to edit the files in place"
        )
    repo.git.update_environment(**_GIT_ENVIRONMENT)
    repo.git.set_persistent_git_options(c=list(_GIT_CONFIG))
    return repo


class _GitRun:
    def __init__(
        self,
        repo: git.Repo,
        path: Path,
        settings: Settings,
        options: GitOptions,
        notify: Callable[[str], None],
        progress: ProgressCallback | None,
    ) -> None:
        self.repo = repo
        self.git = repo.git
        self.settings = settings
        self.options = options
        self.notify = notify
        self.progress = progress
        self.top = Path(repo.working_tree_dir).resolve()
        try:
            self.subpath = path.resolve().relative_to(self.top).as_posix()
        except ValueError:
            raise GitModeError(f"{path} resolves to a place outside the work tree {self.top}") from None
        self.common_dir = Path(repo.common_dir).resolve()
        self.worktrees = self.common_dir / WORKTREES_DIR_NAME
        self._worktree: Path | None = None  # the run's temporary worktree, once made

    # preconditions ------------------------------------------------------------------------

    def check(self) -> str:
        """Everything that can be known before any work; returns the base commit."""
        base = self._base_commit()
        self._check_identity()
        self._check_branch_names()
        if self.subpath != ".":
            try:
                self.git.cat_file("-e", f"{base}:{self.subpath}")
            except git.GitCommandError:
                raise GitModeError(
                    f"{self.subpath} is not in {self.options.base} (untracked or ignored?); git mode works on "
                    "committed files: commit it first, or use --write to edit it in place"
                ) from None
        if self.options.push is not None:
            self._check_remote(self.options.push)
        return base

    def _base_commit(self) -> str:
        try:
            return self.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{self.options.base}^{{commit}}")
        except git.GitCommandError:
            pass
        if not self.git.rev_list("-n", "1", "--all"):
            raise GitModeError(
                f"the repository {self.top} has no commits yet; git mode builds branches from a commit: commit "
                "your files first, or use --write to edit them in place"
            )
        raise GitModeError(f"--base {self.options.base}: not a commit in {self.top}")

    def _check_identity(self) -> None:
        for variable in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
            try:
                self.git.var(variable)
            except git.GitCommandError:
                raise GitModeError(
                    "no git identity is configured for commits; set user.name and user.email, for example "
                    '`git config user.name "Your Name"` and `git config user.email you@example.com` '
                    "(add --global for every repository)"
                ) from None

    def _check_branch_names(self) -> None:
        prefix = self.settings.branch_prefix
        if self.options.force and not prefix:
            raise GitModeError("--force needs a branch prefix: it only replaces branches under the prefix")
        for codemod in self.settings.codemods:
            try:
                self.git.check_ref_format("--branch", prefix + codemod.name)
            except git.GitCommandError:
                raise GitModeError(f"branch prefix {prefix!r}: {prefix + codemod.name!r} is not a valid branch name") from None

    def _check_remote(self, remote: str) -> None:
        names = [r.name for r in self.repo.remotes]
        looks_like_location = "/" in remote or ":" in remote or Path(remote).exists()
        if remote not in names and not looks_like_location:
            known = ", ".join(names) or "none"
            raise GitModeError(f"--push {remote}: no such remote (known remotes: {known})")

    def is_dirty(self) -> bool:
        # GIT_OPTIONAL_LOCKS=0 (set on every command) keeps status from refreshing the user's index.
        return bool(self.git.status("--porcelain", "--untracked-files=normal"))

    # the run --------------------------------------------------------------------------------

    def execute(self) -> GitRunResult:
        base = self.check()
        result = GitRunResult(self.options.base, base, dirty=False)
        with _terminate_as_interrupt(), RepositoryLock(self.common_dir / LOCK_FILE_NAME, self.options.lock_timeout):
            self.remove_stale_worktrees()
            result.dirty = self.is_dirty()
            if result.dirty:
                self.notify(
                    f"your working tree has uncommitted changes; they are not part of any branch "
                    f"(the branches are built from {self.options.base}, {base[:12]})"
                )
            start, start_label = base, base[:12]
            try:
                for codemod in self.settings.codemods:
                    category, report = self.build_category(codemod, start, start_label)
                    if report is not None:
                        _merge_problems(result.problems, report)
                    result.categories.append(category)
                    self.notify(_describe(category))
                    if self.options.stack and category.has_branch:
                        start, start_label = category.commit, category.branch
            finally:
                self._discard_worktree()
            if self.options.push is not None:
                for category in result.categories:
                    if category.has_branch:
                        self.push(category)
        return result

    def build_category(self, codemod: type[Codemod], start: str, start_label: str) -> tuple[CategoryResult, RunReport | None]:
        branch = self.settings.branch_prefix + codemod.name
        category = CategoryResult(codemod.name, branch, start=start_label)
        if not codemod.fixes:
            # Nothing to commit, ever: no worktree, no run, no empty branch.
            category.status = FINDINGS_ONLY
            category.message = f"reports only, no branch; `auditfix scan --select {codemod.name}` lists its findings"
            return category, None
        existing = self._existing_branch(branch)
        if existing is not None:
            refusal = self._refusal(branch, existing)
            if refusal:
                category.status, category.message = REFUSED, refusal
                return category, None
        report = None
        try:
            worktree = self._worktree_at(start)
            engine = self._engine(codemod, worktree)
            report = engine.run()
            if report.changes:
                self._commit_category(codemod, category, worktree, engine, report, existing)
        except (git.GitCommandError, TemplateError, OSError) as exc:
            category.status, category.message = FAILED, _git_error_line(exc)
            category.detail = _command_output(exc)
            self._discard_worktree()  # whatever state it is in, the next codemod starts afresh
        return category, report

    def _engine(self, codemod: type[Codemod], worktree: Path) -> Engine:
        root = worktree / self.subpath if self.subpath != "." else worktree
        engine = Engine(root, dataclasses.replace(self.settings, codemods=(codemod,)))
        if self.settings.cache:
            # Kept in the git dir: the worktree is gone after the run, and nothing in it may be committed.
            engine.cache_folder = self.common_dir / CACHE_DIR_NAME / codemod.name / _slug(self.subpath)
        if self.progress is not None:
            progress = self.progress
            engine.progress = lambda phase, done, total: progress(f"{codemod.name}: {phase}", done, total)
        return engine

    def _commit_category(
        self,
        codemod: type[Codemod],
        category: CategoryResult,
        worktree: Path,
        engine: Engine,
        report: RunReport,
        existing: str | None,
    ) -> None:
        problems = write_changes(engine.folder, report.changes)
        if problems:
            category.status = FAILED
            category.message = "could not write " + "; ".join(f"{p.path}: {p.message}" for p in problems)
            return
        folder = engine.folder.relative_to(worktree).as_posix()
        prefix = "" if folder == "." else folder + "/"
        paths = [prefix + change.path for change in report.changes]
        in_worktree = _worktree_git(worktree)
        # Only the files the codemod changed or created; --force because a generated file the
        # changed code imports must be committed even if a .gitignore pattern happens to match it.
        in_worktree.add("--force", "--", *paths)
        if not in_worktree.diff("--cached", "--name-only"):
            return
        stats = self._stats(in_worktree, paths)
        change = self._describe_change(codemod, category, report, stats, prefix)
        message_file = worktree.with_name(worktree.name + ".message")
        message_file.write_text(self.settings.templates.render("commit_message.txt.j2", change=change), encoding="utf-8")
        try:
            self._commit(in_worktree, message_file)
        except git.GitCommandError as exc:
            if _interrupted(exc):
                # Ctrl-C reached git (and its hook) first: the run is interrupted, whether or not
                # this process has seen the signal yet; it must not go on to the next branch.
                raise KeyboardInterrupt from exc
            category.status = FAILED
            category.message = "git commit failed" + ("" if self.options.no_verify else " (refused by a hook?)")
            category.detail = _command_output(exc)
            return
        finally:
            message_file.unlink(missing_ok=True)
        commit = in_worktree.rev_parse("HEAD")
        self._set_branch(category.branch, commit, existing)
        category.status = REPLACED if existing is not None else CREATED
        category.commit = commit
        category.files, category.added, category.removed = len(change.files), change.added, change.removed
        if self.options.pr_body_dir is not None:
            try:
                category.pr_body = self._write_pr_body(change)
            except (OSError, TemplateError) as exc:
                category.follow_up_error = f"pull-request description not written: {_git_error_line(exc)}"

    def _commit(self, in_worktree: git.Git, message_file: Path) -> None:
        arguments = ["--quiet", "--cleanup=whitespace", f"--file={message_file}"]
        if self.options.no_verify:
            arguments.append("--no-verify")
        in_worktree.commit(*arguments)

    @staticmethod
    def _stats(in_worktree: git.Git, paths: list[str]) -> tuple[FileStat, ...]:
        stats = []
        output = in_worktree.diff("--cached", "--numstat", "--no-renames", "-z", "--", *paths, strip_newline_in_stdout=False)
        for record in filter(None, output.split("\0")):
            added, removed, name = record.split("\t", 2)
            # Binary files show "-": they count as changed files without lines.
            stats.append(FileStat(name, int(added) if added.isdigit() else 0, int(removed) if removed.isdigit() else 0))
        return tuple(stats)

    def _describe_change(
        self, codemod: type[Codemod], category: CategoryResult, report: RunReport, stats: tuple[FileStat, ...], prefix: str
    ) -> CategoryChange:
        return CategoryChange(
            codemod=codemod.name,
            summary=codemod.summary,
            why=parse_sections(codemod.documentation()).get("Why is this bad?", ""),
            safety=codemod.safety,
            branch=category.branch,
            base=category.start,
            review_command=f"git diff {category.start}..{category.branch}",
            files=stats,
            added=sum(s.added for s in stats),
            removed=sum(s.removed for s in stats),
            fixed=sum(1 for f in report.findings if f.fixable),
            left_alone=tuple(LeftAlone(prefix + f.path, f.line, f.message) for f in report.findings if not f.fixable),
            tool_version=__version__,
        )

    def _write_pr_body(self, change: CategoryChange) -> Path:
        folder = self.options.pr_body_dir
        assert folder is not None
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{change.codemod}.md"
        target.write_text(self.settings.templates.render("pull_request.md.j2", change=change), encoding="utf-8")
        return target

    # branches -------------------------------------------------------------------------------

    def _existing_branch(self, branch: str) -> str | None:
        try:
            return self.git.rev_parse("--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")
        except git.GitCommandError:
            return None

    def _refusal(self, branch: str, existing: str) -> str:
        checked_out = self._checked_out_in(branch)
        if checked_out is not None:
            return f"branch {branch} exists and is checked out in {checked_out}; left as it is"
        if not self.options.force:
            return f"branch {branch} already exists (at {existing[:12]}); left as it is: delete it or use --force to replace it"
        return ""

    def _checked_out_in(self, branch: str) -> str | None:
        path = None
        for line in self.git.worktree("list", "--porcelain").splitlines():
            if line.startswith("worktree "):
                path = line[len("worktree ") :]
            elif line == f"branch refs/heads/{branch}":
                return path
        return None

    def _set_branch(self, branch: str, commit: str, existing: str | None) -> None:
        if existing is None:
            # Fails if someone created the branch since we looked: never overwrite silently.
            self.git.branch("--no-track", branch, commit)
        else:
            self.git.update_ref("-m", "auditfix: replaced (--force)", f"refs/heads/{branch}", commit, existing)

    def push(self, category: CategoryResult) -> None:
        refspec = f"{'+' if self.options.force else ''}refs/heads/{category.branch}:refs/heads/{category.branch}"
        arguments = ["--quiet", "--porcelain"]
        if self.options.no_verify:
            arguments.append("--no-verify")
        try:
            self.git.push(*arguments, self.options.push, refspec)
        except git.GitCommandError as exc:
            category.follow_up_error = f"push to {self.options.push} failed: {_git_error_line(exc)}"
            category.detail = _command_output(exc)
            self.notify(f"{category.branch}: {category.follow_up_error}")
        else:
            category.pushed = True

    # worktrees ------------------------------------------------------------------------------

    def _worktree_at(self, commit: str) -> Path:
        """The run's temporary worktree, holding exactly ``commit``.

        One worktree serves every codemod of the run: switching it to another commit only
        rewrites the files that differ, which matters in large repositories.
        """
        if self._worktree is None:
            self._worktree = self._add_worktree(commit)
            return self._worktree
        in_worktree = _worktree_git(self._worktree)
        # Its HEAD is always detached: reset moves it, and drops what a refused commit staged.
        in_worktree.reset("--quiet", "--hard", commit)
        in_worktree.clean("-ffdxq")  # files the previous codemod created but did not commit
        return self._worktree

    def _discard_worktree(self) -> None:
        if self._worktree is not None:
            with _signals_deferred():
                self._remove_worktree(self._worktree)
            self._worktree = None

    def _add_worktree(self, commit: str) -> Path:
        self.worktrees.mkdir(exist_ok=True)
        worktree = self.worktrees / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        try:
            self.git.worktree("add", "--detach", "--quiet", str(worktree), commit)
        except BaseException:
            with _signals_deferred():
                self._remove_worktree(worktree)
            raise
        return worktree

    def _remove_worktree(self, worktree: Path) -> None:
        try:
            # Twice --force: also removes a worktree whose folder is gone or which is locked.
            self.git.worktree("remove", "--force", "--force", str(worktree))
        except git.GitCommandError:
            pass  # not (or no longer) registered
        shutil.rmtree(worktree, ignore_errors=True)
        worktree.with_name(worktree.name + ".message").unlink(missing_ok=True)

    def remove_stale_worktrees(self) -> None:
        """Remove what a killed run left: registered worktrees under our folder, then its files.

        Only worktrees under ``auditfix-worktrees/`` are touched (a global ``git worktree prune``
        would also forget the user's own worktrees on an unmounted disk).
        """
        for registered in self._registered_worktrees():
            if registered.parent == self.worktrees:
                self._remove_worktree(registered)
        if self.worktrees.is_dir():
            for leftover in self.worktrees.iterdir():
                if leftover.is_dir() and not leftover.is_symlink():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink(missing_ok=True)

    def _registered_worktrees(self) -> list[Path]:
        paths = []
        for line in self.git.worktree("list", "--porcelain").splitlines():
            if line.startswith("worktree "):
                paths.append(Path(line[len("worktree ") :]))
        return paths


def _worktree_git(worktree: Path) -> git.Git:
    command = git.Git(str(worktree))
    command.update_environment(**_GIT_ENVIRONMENT)
    command.set_persistent_git_options(c=list(_GIT_CONFIG))
    return command


# -- the repository lock ---------------------------------------------------------------------


class RepositoryLock:
    """One git-mode run per repository: a file holding ``<pid> <host>``, created atomically.

    A lock whose process is gone (same host, no such pid) is stale and taken over; a live one
    is waited for up to ``timeout`` seconds, then the run refuses.
    """

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.owner = f"{os.getpid()} {socket.gethostname()}\n"

    def __enter__(self) -> RepositoryLock:
        deadline = time.monotonic() + self.timeout
        while not self._try_create():
            holder = self._read()
            if holder is not None and self._is_stale(holder):
                self._take_over_stale(holder)
                continue
            if time.monotonic() >= deadline:
                who = f"pid {holder.split()[0]}" if holder else "another process"
                raise GitModeError(
                    f"another auditfix run ({who}) is working on this repository; try again when it has "
                    f"finished (if no such run exists, delete {self.path})"
                )
            time.sleep(0.1)
        return self

    def __exit__(self, *exc_info: object) -> None:
        with _signals_deferred():
            if self._read() == self.owner:
                self.path.unlink(missing_ok=True)

    def _try_create(self) -> bool:
        # Written to a private file and hard-linked into place, so the lock is never seen half-written.
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
        temporary.write_text(self.owner)
        try:
            os.link(temporary, self.path)
            return True
        except FileExistsError:
            return False
        finally:
            temporary.unlink(missing_ok=True)

    def _read(self) -> str | None:
        try:
            return self.path.read_text()
        except (OSError, UnicodeDecodeError):
            return None

    @staticmethod
    def _is_stale(holder: str) -> bool:
        parts = holder.split()
        if len(parts) != 2 or not parts[0].isdigit():
            return True  # not written by auditfix as it is now
        pid, host = int(parts[0]), parts[1]
        if host != socket.gethostname() or os.name == "nt":
            # Cannot tell: another machine sharing the repository, or Windows, where os.kill
            # would terminate the process instead of probing it.
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def _take_over_stale(self, holder: str) -> None:
        # Move it aside first, so two runs that both saw the stale lock cannot delete a fresh one.
        aside = self.path.with_name(f"{self.path.name}.stale.{os.getpid()}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return
        if aside.read_text() != holder:
            with contextlib.suppress(FileExistsError):
                os.link(aside, self.path)  # it was a live run's fresh lock: put it back
        aside.unlink(missing_ok=True)


# -- signals and environment -----------------------------------------------------------------


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_SIGNALLED = threading.Event()  # set by the run's Ctrl-C/SIGTERM handlers (see _terminate_as_interrupt)


def _interrupted(exc: git.GitCommandError) -> bool:
    """Whether a failed git command ended because the run was interrupted: git killed by SIGINT
    or SIGTERM (or a shell's 128 + n), or this process got one (handled, or still pending)."""
    status = exc.status if isinstance(exc.status, int) else None
    if status is not None and (status in (-s for s in _STOP_SIGNALS) or status in (128 + s for s in _STOP_SIGNALS)):
        return True
    pending = signal.sigpending() if hasattr(signal, "sigpending") else set()
    return _SIGNALLED.is_set() or any(s in pending for s in _STOP_SIGNALS)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Make SIGTERM raise (like Ctrl-C does), so that worktrees and the lock are cleaned up."""
    if not _in_main_thread():
        yield
        return

    def raise_terminated(signum: int, frame: object) -> None:
        _SIGNALLED.set()
        raise Terminated()

    def raise_interrupt(signum: int, frame: object) -> None:
        # As Python's own handler does, but remembered: a commit that fails meanwhile is then
        # known to be part of the interruption even if the exception got lost on its way.
        _SIGNALLED.set()
        raise KeyboardInterrupt

    _SIGNALLED.clear()
    previous = signal.signal(signal.SIGTERM, raise_terminated)
    previous_interrupt = signal.getsignal(signal.SIGINT)
    if previous_interrupt is signal.default_int_handler:
        signal.signal(signal.SIGINT, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        if previous_interrupt is signal.default_int_handler:
            signal.signal(signal.SIGINT, previous_interrupt)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while cleaning up; they are delivered when the cleanup is done."""
    if not _in_main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def _without_repository_environment() -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in _REPOSITORY_ENVIRONMENT if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


# -- small helpers ---------------------------------------------------------------------------

def _merge_problems(problems: list[Problem], report: RunReport) -> None:
    seen = {(p.path, p.message) for p in problems}
    for problem in [*report.skipped, *report.failed]:
        if (problem.path, problem.message) not in seen:
            seen.add((problem.path, problem.message))
            problems.append(problem)


def _describe(category: CategoryResult) -> str:
    if category.has_branch:
        files = f"{category.files} file" + ("" if category.files == 1 else "s")
        return f"{category.branch}: {category.status} at {category.commit[:12]} ({files}, +{category.added} -{category.removed})"
    if category.status == NO_CHANGES:
        return f"{category.codemod}: nothing to change"
    if category.status == FINDINGS_ONLY:
        return f"{category.codemod}: {category.message}"
    return f"{category.branch}: {category.status}: {category.message}"


def _git_error_line(exc: BaseException) -> str:
    if isinstance(exc, git.GitCommandError):
        text = (exc.stderr or exc.stdout or "").strip()
        for prefix in ("stderr:", "stdout:"):
            text = text.removeprefix(prefix).strip().strip("'").strip()
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[-1] if lines else f"git {exc.command[1] if len(exc.command) > 1 else ''} failed"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _command_output(exc: BaseException) -> str:
    if not isinstance(exc, git.GitCommandError):
        return ""
    parts = []
    for text in (exc.stdout, exc.stderr):
        text = re.sub(r"^\s*(stdout|stderr): '?", "", text or "").rstrip().removesuffix("'")
        if text.strip():
            parts.append(text.rstrip())
    return "\n".join(parts)


def _slug(subpath: str) -> str:
    return "root" if subpath == "." else re.sub(r"[^A-Za-z0-9._-]", "_", subpath)
