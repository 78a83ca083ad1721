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
import uuid
from collections.abc import Callable
from pathlib import Path

import git

from codemods import __version__
from codemods.base import Codemod, Finding
from codemods.engine.config import Settings, read_code_style
from codemods.engine.runner import (
    Change,
    Engine,
    Problem,
    ProgressCallback,
    RunReport,
    write_changes,
)
from codemods.engine.templating import TemplateError
from codemods.git.safety import (
    GitModeError,
    RepositoryLock,
    command_output,
    git_error_line,
    interrupted,
    signals_deferred,
    terminate_as_interrupt,
    without_repository_environment,
)
from codemods.git.verify import (
    Verification,
    bisect,
    package_of,
    run_verification,
    split_by_package,
    units,
)
from codemods.output.docs import parse_sections

WORKTREES_DIR_NAME = "auditfix-worktrees"
LOCK_FILE_NAME = "auditfix.lock"
CACHE_DIR_NAME = "auditfix-cache"

# Never let git guess an identity, never start a repack in the middle of the run, never ask
# for a password on a terminal nobody is watching.
_GIT_CONFIG = ("user.useConfigOnly=true", "gc.auto=0")
_GIT_ENVIRONMENT = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}

CREATED, REPLACED, NO_CHANGES, REFUSED, FAILED = "created", "replaced", "no changes", "refused", "failed"
FINDINGS_ONLY = "findings only"  # a codemod that never changes code (Codemod.fixes is False): no branch
# A second run refreshes the branches it made, as dependency bots do (see docs/git-mode.md).
REFRESHED, UP_TO_DATE, DELETED, KEPT = "rebuilt", "up to date", "deleted", "kept"
# Where the commit auditfix last made for each branch is recorded: a branch whose tip is that
# commit holds nothing but auditfix's work, and may be rebuilt or deleted.
BUILT_REFS = "refs/auditfix/built/"


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
    verification: str = ""  # what --verify found, for the commit message and the PR body


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
    previous: str = ""  # the branch's commit before this run, if it existed
    paths: tuple[str, ...] = ()  # the files the branch changes (relative to the repository's top)
    verification: str = ""  # what --verify found
    left_out: tuple[LeftAlone, ...] = ()  # files --verify left out, with the tests they fail

    @property
    def has_branch(self) -> bool:
        return self.status in (CREATED, REPLACED, REFRESHED, UP_TO_DATE)

    @property
    def ok(self) -> bool:
        return self.status in (CREATED, REPLACED, REFRESHED, UP_TO_DATE, NO_CHANGES, DELETED, KEPT, FINDINGS_ONLY) and not self.follow_up_error

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
    findings: list[Finding] = dataclasses.field(default_factory=list)  # of every codemod that ran

    @property
    def failed(self) -> bool:
        return any(not c.ok for c in self.categories)

    @property
    def up_to_date(self) -> bool:
        """Nothing was created, rebuilt or deleted: every branch is as the base needs it."""
        return all(c.status in (UP_TO_DATE, NO_CHANGES) for c in self.categories)


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
    with without_repository_environment():
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
        self._verifications: dict[str, Verification] = {}  # --verify on each start commit
        self.base = ""

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
        with terminate_as_interrupt(), RepositoryLock(self.common_dir / LOCK_FILE_NAME, self.options.lock_timeout):
            self.remove_stale_worktrees()
            result.dirty = self.is_dirty()
            if result.dirty:
                self.notify(
                    f"your working tree has uncommitted changes; they are not part of any branch "
                    f"(the branches are built from {self.options.base}, {base[:12]})"
                )
            self.base = base
            start, start_label = base, base[:12]
            try:
                for codemod in self.settings.codemods:
                    categories, report = self.build_category(codemod, start, start_label)
                    if report is not None:
                        _merge_problems(result.problems, report)
                        result.findings.extend(report.findings)
                    for category in categories:
                        result.categories.append(category)
                        self.notify(_describe(category))
                    made = [c for c in categories if c.has_branch]
                    if self.options.stack and len(made) == 1:
                        start, start_label = made[0].commit, made[0].branch
            finally:
                self._discard_worktree()
            if self.options.push is not None:
                for category in result.categories:
                    if category.has_branch or category.status == DELETED:
                        self.push(category)
        return result

    def build_category(
        self, codemod: type[Codemod], start: str, start_label: str
    ) -> tuple[list[CategoryResult], RunReport | None]:
        """The branches of one codemod: one, or one per top-level package when its change is
        larger than ``max-branch-files``; existing branches of the codemod are refreshed."""
        name = self.settings.branch_prefix + codemod.name
        existing = self._existing_branches(name)
        if not codemod.fixes:
            # Nothing to commit, ever: no worktree, no run, no empty branch.
            category = CategoryResult(codemod.name, name, start=start_label)
            category.status = FINDINGS_ONLY
            category.message = f"reports only, no branch; `auditfix scan --select {codemod.name}` lists its findings"
            return [category], None
        report = None
        results: list[CategoryResult] = []
        try:
            worktree = self._worktree_at(start)
            engine = self._engine(codemod, worktree)
            report = engine.run()
            groups = self._groups(name, report.changes, existing)
            # Branches no longer needed go first: auditfix/x and auditfix/x/<package> cannot coexist.
            for branch, commit in existing.items():
                if branch not in groups:
                    category = CategoryResult(codemod.name, branch, start=start_label)
                    results.append(category)
                    self._retire(category, commit)
            for branch, changes in groups.items():
                category = CategoryResult(codemod.name, branch, start=start_label)
                results.append(category)
                self._make_branch(codemod, category, start, engine, report, changes, existing.get(branch))
        except (git.GitCommandError, TemplateError, OSError) as exc:
            category = CategoryResult(codemod.name, name, start=start_label)
            category.status, category.message = FAILED, git_error_line(exc)
            category.detail = command_output(exc)
            results.append(category)
            self._discard_worktree()  # whatever state it is in, the next codemod starts afresh
        return results or [CategoryResult(codemod.name, name, start=start_label)], report

    def _groups(self, name: str, changes: list[Change], existing: dict[str, str]) -> dict[str, list[Change]]:
        """Branch name -> the changes it holds: all of them, or, for a change spanning more than
        ``max-branch-files`` files, one group per top-level package (a file and the generated
        files it needs stay together).  A change once split stays split while any of its
        package branches exists, so a branch under review keeps its name."""
        if not changes:
            return {}
        limit = self.settings.max_branch_files
        was_split = any(branch.startswith(name + "/") for branch in existing)
        if not limit or (len(changes) <= limit and not was_split) or self.options.stack:
            return {name: list(changes)}
        packages = split_by_package(changes)
        if len(packages) < 2 and not was_split:
            return {name: list(changes)}
        return {f"{name}/{package}": group for package, group in packages.items()}

    def _engine(self, codemod: type[Codemod], worktree: Path) -> Engine:
        root = worktree / self.subpath if self.subpath != "." else worktree
        settings = dataclasses.replace(self.settings, codemods=(codemod,), style=read_code_style(root))
        engine = Engine(root, settings)
        if self.settings.cache:
            # Kept in the git dir: the worktree is gone after the run, and nothing in it may be committed.
            engine.cache_folder = self.common_dir / CACHE_DIR_NAME / codemod.name / _slug(self.subpath)
        if self.progress is not None:
            progress = self.progress
            engine.progress = lambda phase, done, total: progress(f"{codemod.name}: {phase}", done, total)
        return engine

    # one branch ----------------------------------------------------------------------------------

    def _make_branch(
        self,
        codemod: type[Codemod],
        category: CategoryResult,
        start: str,
        engine: Engine,
        report: RunReport,
        changes: list[Change],
        existing: str | None,
    ) -> None:
        """Create, rebuild or leave one branch holding ``changes`` on ``start``."""
        category.previous = existing or ""
        if existing is not None and self._leave_existing(category, existing):
            return
        staged = self._stage(category, start, engine, changes)
        if staged is None:
            return
        if not staged:
            if existing is not None:
                self._delete(category, existing, "nothing left to change (its change is in the base already); deleted")
            return
        in_worktree = _worktree_git(self._worktree_at_current())
        if existing is not None and self._is_up_to_date(existing, start, in_worktree.write_tree()):
            self._mark_up_to_date(category, existing)
            return
        if self.settings.verify:
            kept = self._verified(category, start, engine, changes)
            if not kept:
                return  # failed: no part passes (an existing branch stays as it was)
            # The command ran in the worktree, which was reset after it: stage what is kept again.
            changes = kept
            staged = self._stage(category, start, engine, changes)
            if not staged:
                return
            if existing is not None and self._is_up_to_date(existing, start, in_worktree.write_tree()):
                self._mark_up_to_date(category, existing)
                return
        self._commit_branch(codemod, category, report, changes, staged, existing, self._prefix(engine))

    def _worktree_at_current(self) -> Path:
        assert self._worktree is not None
        return self._worktree

    def _stage(self, category: CategoryResult, start: str, engine: Engine, changes: list[Change]) -> list[str] | None:
        """Write ``changes`` into the worktree (at ``start``) and stage them; the staged paths
        (relative to the repository's top; empty when nothing differs), or None on failure."""
        worktree = self._worktree_at(start)
        problems = write_changes(engine.folder, changes)
        if problems:
            category.status = FAILED
            category.message = "could not write " + "; ".join(f"{p.path}: {p.message}" for p in problems)
            return None
        paths = [self._prefix(engine) + change.path for change in changes]
        in_worktree = _worktree_git(worktree)
        # Only the files the codemod changed or created; --force because a generated file the
        # changed code imports must be committed even if a .gitignore pattern happens to match it.
        in_worktree.add("--force", "--", *paths)
        if not in_worktree.diff("--cached", "--name-only"):
            return []
        category.paths = tuple(paths)
        return paths

    def _prefix(self, engine: Engine) -> str:
        folder = engine.folder.relative_to(self._worktree_at_current()).as_posix()
        return "" if folder == "." else folder + "/"

    def _mark_up_to_date(self, category: CategoryResult, existing: str) -> None:
        category.status, category.commit, category.message = UP_TO_DATE, existing, "up to date"
        category.files = len(category.paths)

    def _commit_branch(
        self,
        codemod: type[Codemod],
        category: CategoryResult,
        report: RunReport,
        changes: list[Change],
        paths: list[str],
        existing: str | None,
        prefix: str,
    ) -> None:
        worktree = self._worktree_at_current()
        in_worktree = _worktree_git(worktree)
        stats = self._stats(in_worktree, paths)
        in_branch = {change.path for change in changes}
        packages = {package_of(path) for path in in_branch}
        whole = len(changes) == len(report.changes)
        findings = [
            f for f in report.findings if f.path in in_branch or (not f.fixable and (whole or package_of(f.path) in packages))
        ]
        change = self._describe_change(codemod, category, findings, stats, prefix)
        message_file = worktree.with_name(worktree.name + ".message")
        message_file.write_text(self.settings.templates.render("commit_message.txt.j2", change=change), encoding="utf-8")
        try:
            self._commit(in_worktree, message_file)
        except git.GitCommandError as exc:
            if interrupted(exc):
                # Ctrl-C reached git (and its hook) first: the run is interrupted, whether or not
                # this process has seen the signal yet; it must not go on to the next branch.
                raise KeyboardInterrupt from exc
            category.status = FAILED
            category.message = "git commit failed" + ("" if self.options.no_verify else " (refused by a hook?)")
            category.detail = command_output(exc)
            return
        finally:
            message_file.unlink(missing_ok=True)
        commit = in_worktree.rev_parse("HEAD")
        self._set_branch(category.branch, commit, existing)
        if existing is None:
            category.status = CREATED
        else:
            category.status = REPLACED if self.options.force else REFRESHED
        category.commit = commit
        category.files, category.added, category.removed = len(change.files), change.added, change.removed
        if self.options.pr_body_dir is not None:
            try:
                category.pr_body = self._write_pr_body(change)
            except (OSError, TemplateError) as exc:
                category.follow_up_error = f"pull-request description not written: {git_error_line(exc)}"

    def _leave_existing(self, category: CategoryResult, existing: str) -> bool:
        """Settle an existing branch that must not be rebuilt (True): checked out somewhere,
        merged into the base (deleted), or holding someone else's commits (kept)."""
        branch = category.branch
        checked_out = self._checked_out_in(branch)
        if checked_out is not None:
            category.status = REFUSED
            category.message = f"branch {branch} exists and is checked out in {checked_out}; left as it is"
            return True
        if self.options.force:
            return False
        built = self._built(branch)
        if built is not None and self._is_ancestor(existing, self.base) and self._is_ancestor(built, existing):
            self._delete(category, existing, f"merged into {self.options.base}; deleted")
            return True
        others = self._commits_of_others(branch, existing)
        if others:
            category.status = KEPT
            category.message = (
                f"someone else committed on it ({'; '.join(others)}); left as it is: merge it, delete it or use --force "
                "to rebuild it"
            )
            return True
        return False

    def _retire(self, category: CategoryResult, existing: str) -> None:
        """A branch of the codemod that the new change no longer needs (its part was merged,
        or the change is split differently now)."""
        category.previous = existing
        if self._leave_existing(category, existing):
            return
        self._delete(category, existing, "nothing left to change (its change is in the base already); deleted")

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
        self,
        codemod: type[Codemod],
        category: CategoryResult,
        findings: list[Finding],
        stats: tuple[FileStat, ...],
        prefix: str,
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
            fixed=sum(1 for f in findings if f.fixable),
            left_alone=(
                *category.left_out,
                *(LeftAlone(prefix + f.path, f.line, f.message) for f in findings if not f.fixable),
            ),
            tool_version=__version__,
            verification=category.verification,
        )

    def _write_pr_body(self, change: CategoryChange) -> Path:
        folder = self.options.pr_body_dir
        assert folder is not None
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{change.branch.removeprefix(self.settings.branch_prefix).replace('/', '--')}.md"
        target.write_text(self.settings.templates.render("pull_request.md.j2", change=change), encoding="utf-8")
        return target

    # --verify ----------------------------------------------------------------------------------

    def _verified(self, category: CategoryResult, start: str, engine: Engine, changes: list[Change]) -> list[Change]:
        """The part of ``changes`` that does not make the project's own command (--verify) worse
        than it is on ``start``: all of them, or what is left once the files responsible for a
        new failure are found (by bisecting the changed files) and left out.  Empty when no
        part can be verified; ``category`` says what was found either way."""
        command = self.settings.verify
        base = self._base_verification(start, engine)
        full = self._verify_with(start, engine, changes)
        if not full.worse_than(base):
            category.verification = f"`{command}` {full.describe(base)}"
            return changes
        self.notify(f"{category.branch}: `{command}` {full.describe(base)}; looking for the files responsible")
        pieces = units(changes)
        results: dict[tuple[int, ...], Verification] = {}

        def worse(indexes: tuple[int, ...]) -> bool:
            if indexes not in results:
                subset = [change for i in indexes for change in pieces[i]]
                results[indexes] = self._verify_with(start, engine, subset)
            return results[indexes].worse_than(base)

        results[tuple(range(len(pieces)))] = full
        responsible = bisect(tuple(range(len(pieces))), worse)
        kept_indexes = tuple(i for i in range(len(pieces)) if i not in responsible)
        prefix = self._prefix(engine)
        failing = sorted(full.failures - base.failures)
        tests = ", ".join(failing[:10]) + (f" and {len(failing) - 10} more" if len(failing) > 10 else "")
        reason = f"left out: with it `{command}` fails" + (f" ({tests})" if tests else "")
        category.left_out = tuple(
            LeftAlone(prefix + change.path, 1, reason) for i in sorted(responsible) for change in pieces[i]
        )
        left_out_paths = ", ".join(item.path for item in category.left_out)
        if not kept_indexes or worse(kept_indexes):
            category.status = FAILED
            category.message = f"`{command}` fails with this change ({tests or full.summary}); no part of it passes, so no branch"
            return []
        kept = [change for i in kept_indexes for change in pieces[i]]
        category.verification = (
            f"`{command}` {results[kept_indexes].describe(base)}; left out {left_out_paths}, which made it fail"
            + (f" ({tests})" if tests else "")
        )
        self.notify(f"{category.branch}: {left_out_paths} left out: with it `{command}` fails" + (f" ({tests})" if tests else ""))
        return kept

    def _base_verification(self, start: str, engine: Engine) -> Verification:
        if start not in self._verifications:
            self._verifications[start] = self._verify_with(start, engine, [])
        return self._verifications[start]

    def _verify_with(self, start: str, engine: Engine, changes: list[Change]) -> Verification:
        """Run the --verify command on ``start`` with ``changes`` applied (in the worktree)."""
        self._worktree_at(start)
        problems = write_changes(engine.folder, changes)
        if problems:
            raise OSError(f"could not write {problems[0].path} to verify it: {problems[0].message}")
        result = run_verification(self.settings.verify, engine.folder)
        self._worktree_at(start)  # the command's own files (caches, databases) go
        return result

    # branches -------------------------------------------------------------------------------

    def _existing_branches(self, name: str) -> dict[str, str]:
        """The branches of one codemod that exist: ``name`` and ``name/<package>``."""
        found = {}
        output = self.git.for_each_ref("--format=%(refname)%00%(objectname)", f"refs/heads/{name}", f"refs/heads/{name}/")
        for line in output.splitlines():
            ref, _, commit = line.partition("\0")
            branch = ref.removeprefix("refs/heads/")
            if branch == name or branch.startswith(name + "/"):
                found[branch] = commit
        return found

    def _is_ancestor(self, commit: str, of: str) -> bool:
        try:
            self.git.merge_base("--is-ancestor", commit, of)
        except git.GitCommandError:
            return False
        return True

    def _built(self, branch: str) -> str | None:
        """The commit auditfix last made for ``branch`` (recorded under refs/auditfix/built/)."""
        try:
            return self.git.rev_parse("--verify", "--quiet", f"{BUILT_REFS}{branch}^{{commit}}")
        except git.GitCommandError:
            return None

    def _commits_of_others(self, branch: str, existing: str) -> list[str]:
        """The commits on ``branch`` that neither auditfix nor the base made, newest first, as
        ``<hash> <author>: <subject>`` (at most five named)."""
        built = self._built(branch)
        if built == existing:
            return []
        excluded = [self.base, *([built] if built is not None else [])]
        output = self.git.log("--format=%h %an: %s", existing, "--not", *excluded, "--")
        commits = [line for line in output.splitlines() if line.strip()]
        if len(commits) > 5:
            commits = [*commits[:5], f"and {len(commits) - 5} more"]
        return commits or [f"{existing[:12]} (not made by auditfix)"]

    def _is_up_to_date(self, existing: str, start: str, tree: str) -> bool:
        """``existing`` is auditfix's commit on ``start`` with exactly ``tree``."""
        try:
            parent = self.git.rev_parse("--verify", "--quiet", f"{existing}^")
        except git.GitCommandError:
            return False
        return parent == start and self.git.rev_parse(f"{existing}^{{tree}}") == tree

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
            reason = "replaced (--force)" if self.options.force else "rebuilt on the new base"
            self.git.update_ref("-m", f"auditfix: {reason}", f"refs/heads/{branch}", commit, existing)
        self.git.update_ref(f"{BUILT_REFS}{branch}", commit)

    def _delete(self, category: CategoryResult, existing: str, message: str) -> None:
        # Fails if the branch moved since we looked: never delete someone's new commit.
        self.git.update_ref("-m", "auditfix: deleted", "-d", f"refs/heads/{category.branch}", existing)
        with contextlib.suppress(git.GitCommandError):
            self.git.update_ref("-d", f"{BUILT_REFS}{category.branch}")
        category.status, category.message, category.commit = DELETED, message, existing

    def push(self, category: CategoryResult) -> None:
        """Push (or, for a deleted branch, delete) the remote branch, but only while it is where
        auditfix left it (--force-with-lease with the commit expected there): a commit someone
        pushed meanwhile is never overwritten.  With --force, whatever is there is replaced."""
        remote_ref = f"refs/heads/{category.branch}"
        remote = self._remote_commit(remote_ref)
        if category.status == DELETED:
            if remote is None:
                return  # gone there too (for example deleted when its pull request was merged)
            refspec, expected = f":{remote_ref}", category.commit
        else:
            if remote == category.commit:
                return  # already there
            refspec = f"{remote_ref}:{remote_ref}"
            if remote is None or self.options.force or remote == category.previous:
                expected = remote or ""
            else:
                expected = category.previous  # someone pushed to it: the lease fails, nothing is lost
        arguments = ["--quiet", "--porcelain", f"--force-with-lease={remote_ref}:{expected}"]
        if self.options.no_verify:
            arguments.append("--no-verify")
        try:
            self.git.push(*arguments, self.options.push, refspec)
        except git.GitCommandError as exc:
            category.follow_up_error = f"push to {self.options.push} failed: {git_error_line(exc)}"
            category.detail = command_output(exc)
            self.notify(f"{category.branch}: {category.follow_up_error}")
        else:
            category.pushed = True

    def _remote_commit(self, remote_ref: str) -> str | None:
        try:
            output = self.git.ls_remote("--", self.options.push, remote_ref)
        except git.GitCommandError:
            return None
        for line in output.splitlines():
            commit, _, ref = line.partition("\t")
            if ref == remote_ref:
                return commit
        return None

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
            with signals_deferred():
                self._remove_worktree(self._worktree)
            self._worktree = None

    def _add_worktree(self, commit: str) -> Path:
        self.worktrees.mkdir(exist_ok=True)
        worktree = self.worktrees / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        try:
            self.git.worktree("add", "--detach", "--quiet", str(worktree), commit)
        except BaseException:
            with signals_deferred():
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


# -- small helpers ---------------------------------------------------------------------------

def _merge_problems(problems: list[Problem], report: RunReport) -> None:
    seen = {(p.path, p.message) for p in problems}
    for problem in [*report.skipped, *report.failed]:
        if (problem.path, problem.message) not in seen:
            seen.add((problem.path, problem.message))
            problems.append(problem)


def _describe(category: CategoryResult) -> str:
    if category.status == UP_TO_DATE:
        return f"{category.branch}: up to date at {category.commit[:12]}"
    if category.has_branch:
        files = f"{category.files} file" + ("" if category.files == 1 else "s")
        return f"{category.branch}: {category.status} at {category.commit[:12]} ({files}, +{category.added} -{category.removed})"
    if category.status == NO_CHANGES:
        return f"{category.codemod}: nothing to change"
    if category.status == FINDINGS_ONLY:
        return f"{category.codemod}: {category.message}"
    if category.status == KEPT:
        return f"warning: {category.branch}: {category.message}"
    return f"{category.branch}: {category.status}: {category.message}"


def _slug(subpath: str) -> str:
    return "root" if subpath == "." else re.sub(r"[^A-Za-z0-9._-]", "_", subpath)
