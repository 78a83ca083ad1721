"""The ``auditfix`` command line: arguments in, output and exit codes out.

Exit codes: 0 nothing to report; 1 findings (``scan``) or changes (``run --dry-run``, ``run --check``);
2 usage, configuration or internal error; 3 some files were skipped, failed or could
not be written (the rest of the run completed).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import gc
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import click
import typer
from rich.console import Console

from codemods import __version__
from codemods.engine import replay
from codemods.engine.config import ConfigError

# libcst, the codemods, the engine, git and the report templates are imported by the commands
# that use them: a preview replayed from .auditfix_cache/ (codemods.engine.replay) needs none of them.
if TYPE_CHECKING:
    from codemods.engine.config import Settings
    from codemods.engine.runner import Engine, RunReport
    from codemods.fleet.report import FleetReport
    from codemods.fleet.results import RepoResult
    from codemods.fleet.state import Record
    from codemods.git import GitOptions, GitRunResult

EXIT_OK, EXIT_FOUND, EXIT_ERROR, EXIT_INCOMPLETE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

# At exit, the interpreter's last garbage collections walk every object still alive (libcst's
# thousands of node and matcher classes): about 0.3 s after every run.  Frozen objects are
# skipped; everything auditfix writes is closed explicitly before, and the standard streams are
# flushed by the interpreter regardless.
atexit.register(gc.freeze)

app = typer.Typer(
    name="auditfix",
    help="Turn backend audit findings into reviewed, ready-to-merge fixes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stderr = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def entry() -> None:
    """The console script.  A repeated plain preview (``run PATH --dry-run`` or ``--check``) is
    replayed before Typer parses anything: its parameter handling costs more than the replay
    itself (see codemods.engine.replay.replay_command_line).  Everything else is the Typer app."""
    code = replay.replay_command_line(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    app()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"auditfix {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """auditfix rewrites audited anti-patterns with libcst codemods: preview, write, or one git branch each."""


def _names(value: Optional[str]) -> Optional[list[str]]:
    if not value:
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


PathArgument = Annotated[Path, typer.Argument(help="Folder (or file) to work on.", show_default=False)]
PathsArgument = Annotated[
    list[Path],
    typer.Argument(
        help="Folder or file to work on; several files (as pre-commit passes them) are worked on "
        "from their common folder, and only they are rewritten.",
        show_default=False,
        metavar="PATH",
    ),
]
SelectOption = Annotated[Optional[str], typer.Option("--select", help="Comma-separated codemods to run (default: all).")]
IgnoreOption = Annotated[Optional[str], typer.Option("--ignore", help="Comma-separated codemods not to run.")]
ExcludeOption = Annotated[
    Optional[list[str]], typer.Option("--exclude", help="Gitignore-style pattern of files to leave alone (repeatable).")
]
JobsOption = Annotated[Optional[int], typer.Option("--jobs", "-j", help="Worker processes (default: one per core).")]
NoProgressOption = Annotated[bool, typer.Option("--no-progress", help="Do not show a progress bar.")]
NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Ignore and do not update .auditfix_cache/.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show internal tracebacks of failed files.")]


def fail(message: str) -> typer.Exit:
    stderr.print(f"auditfix: error: {message}", markup=False)
    return typer.Exit(EXIT_ERROR)


def load_settings(
    path: Path,
    select: Optional[str],
    ignore: Optional[str],
    exclude: Optional[list[str]],
    jobs: Optional[int],
    no_cache: bool,
) -> Settings:
    from codemods import REGISTRY
    from codemods.engine.config import resolve

    if not path.exists():
        raise fail(f"{path}: no such file or folder")
    try:
        return resolve(
            path.resolve(),
            REGISTRY,
            select=_names(select),
            ignore=_names(ignore),
            exclude=exclude or (),
            jobs=jobs,
            cache=False if no_cache else None,
        )
    except ConfigError as exc:
        raise fail(str(exc)) from None


def combine_paths(paths: list[Path]) -> tuple[Path, Optional[list[str]]]:
    """One path is the root, as always; several run from their common folder, restricted to them."""
    for path in paths:
        if not path.exists():
            raise fail(f"{path}: no such file or folder")
    return replay.common_root(paths)


def display_path(path: Path) -> str:
    """``path`` as the user would type it: relative to the current folder when it is inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def write_output(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"{path}: cannot write: {exc.strerror or exc}") from None


def progress_reporter(enabled: bool) -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    """A rich progress bar on stderr when it is a terminal; otherwise silence."""
    if not enabled or not sys.stderr.isatty():
        return (lambda phase, done, total: None), (lambda: None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=stderr, transient=True,
    )  # fmt: skip
    tasks: dict[str, int] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            if not tasks:
                progress.start()
            tasks[phase] = progress.add_task(phase, total=total)
        progress.update(tasks[phase], completed=done, total=total)

    return update, progress.stop


def execute(engine: Engine, show_progress: bool) -> RunReport:
    update, stop = progress_reporter(show_progress)
    engine.progress = update
    try:
        return engine.run()
    except KeyboardInterrupt:
        stop()
        stderr.print("auditfix: interrupted before anything was written", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        stop()


def problem_lines(report: RunReport, verbose: bool) -> list[str]:
    lines = [f"skipped {problem.path}: {problem.message}" for problem in report.skipped]
    for problem in report.failed:
        lines.append(f"failed {problem.path}: {problem.message}")
        if verbose and problem.detail:
            lines.append(problem.detail)
    return lines


def print_problems(report: RunReport, verbose: bool) -> None:
    for line in problem_lines(report, verbose):
        stderr.print(line, markup=False)


def colourise(diff: bytes) -> bytes:
    colours = {b"+": b"\x1b[32m", b"-": b"\x1b[31m", b"@": b"\x1b[36m", b"d": b"\x1b[1m"}
    lines = []
    for line in diff.splitlines(keepends=True):
        colour = colours.get(line[:1]) if not line.startswith((b"+++", b"---")) else b"\x1b[1m"
        lines.append(colour + line.rstrip(b"\n") + b"\x1b[0m\n" if colour else line)
    return b"".join(lines)


@app.command("list")
def list_codemods() -> None:
    """List every codemod: name, summary and fix safety."""
    from rich.table import Table

    from codemods import REGISTRY

    if not sys.stdout.isatty():
        for codemod in REGISTRY:
            typer.echo(f"{codemod.name}: {codemod.summary}\n    fix safety: {codemod.safety}")
        return
    console = Console(highlight=False)
    table = Table(show_lines=True)
    table.add_column("codemod", no_wrap=True)
    table.add_column("what it fixes")
    table.add_column("fix safety")
    for codemod in REGISTRY:
        table.add_row(codemod.name, codemod.summary, codemod.safety)
    console.print(table)


@app.command()
def explain(
    name: Annotated[str, typer.Argument(help="A codemod name, as `auditfix list` shows it.", show_default=False)],
) -> None:
    """Print one codemod's documentation: what it does, why, an example, fix safety, limitations."""
    from codemods import REGISTRY
    from codemods.output.docs import render_one

    codemod = next((c for c in REGISTRY if c.name == name), None)
    if codemod is None:
        known = ", ".join(c.name for c in REGISTRY) or "none are registered"
        raise fail(f"unknown codemod {name!r}; known codemods: {known}")
    typer.echo(render_one(codemod), nl=False)


@app.command()
def scan(
    paths: PathsArgument,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    exclude: ExcludeOption = None,
    jobs: JobsOption = None,
    output_format: Annotated[
        str, typer.Option("--format", help="text, json, markdown, sarif or html (see docs/reports.md).")
    ] = "text",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report to this file.")] = None,
    timestamp: Annotated[
        bool, typer.Option("--timestamp", help="Put the time of the scan in the report (default: reproducible output).")
    ] = False,
    no_progress: NoProgressOption = False,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Report findings, one per location; changes nothing.  Exit 1 when there are findings."""
    from codemods.engine.runner import Engine
    from codemods.output.reports import FORMATS, render, utc_now

    if output_format not in FORMATS:
        raise fail(f"--format: expected one of {', '.join(FORMATS)}, got {output_format!r}")
    path, only = combine_paths(paths)
    settings = load_settings(path, select, ignore, exclude, jobs, no_cache)
    report = execute(Engine(path.resolve(), settings, only=only), not no_progress)
    text = render(output_format, report, settings, utc_now() if timestamp else None)
    if output is not None:
        write_output(output, text)
    else:
        sys.stdout.write(text)
    print_problems(report, verbose)
    stderr.print(f"auditfix: {report.summary()}; {len(report.findings)} findings", markup=False)
    raise typer.Exit(EXIT_FOUND if report.findings else EXIT_OK)


def run_check(engine: Engine, show_progress: bool, verbose: bool, replay_key: ReplayKey | None = None) -> int:
    """``run --check``: print only the files that would change, one per line; 1 if there are any."""
    report = execute(engine, show_progress)
    print_problems(report, verbose)
    listing = "".join(display_path(engine.folder / change.path) + "\n" for change in report.changes)
    typer.echo(listing, nl=False)
    code = EXIT_FOUND if report.changes else EXIT_INCOMPLETE if report.skipped or report.failed else EXIT_OK
    remember(engine, report, replay_key, listing.encode(), problem_lines(report, verbose), code)
    return code


class ReplayKey:
    """The replay key of a preview, computed before the run (see codemods.engine.replay)."""

    def __init__(self, root: Path, command: tuple[str, ...], excludes: Sequence[str]) -> None:
        self.root, self.command, self.excludes = root, command, tuple(excludes)
        self.folder = root if root.is_dir() else root.parent
        key = replay.run_key(self.root, self.folder, self.command, self.excludes)
        self.key = key
        self.value = key.value if key is not None else None


def remember(
    engine: Engine, report: RunReport, key: ReplayKey | None, stdout: bytes, problems: list[str], code: int
) -> None:
    """Record a completed preview, to replay it while nothing it depends on changes."""
    if key is None or key.value is None or not engine.settings.cache:
        return
    if key.key is None or not replay.unchanged(key.key, key.folder):
        return  # a file changed while the run read it: the output may belong to either state
    summary = dataclasses.replace(report, cached=report.parsed).summary()
    lines = (*problems, f"auditfix: {summary}; replayed: nothing changed since an identical run")
    recorded = replay.Recorded(stdout, lines, code, tuple(sorted(report.external.items())))
    replay.record(engine.folder, key.value, recorded)


def replay_output(recorded: replay.Recorded | None) -> None:
    """Print what an identical earlier run printed and exit as it did; return if there is none."""
    if recorded is None:
        return
    stdout = click.get_binary_stream("stdout")
    stdout.write(recorded.stdout)
    stdout.flush()
    for line in recorded.stderr_lines:
        stderr.print(line, markup=False)
    raise typer.Exit(recorded.exit_code)


@app.command()
def run(
    paths: PathsArgument,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print a unified diff; write nothing.")] = False,
    write: Annotated[bool, typer.Option("--write", help="Apply the changes in place (no git).")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; list the files that would change and exit 1 if any (for CI).")
    ] = False,
    html: Annotated[
        Optional[Path],
        typer.Option("--html", help="With --dry-run: write a self-contained HTML report here instead of the diff."),
    ] = None,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    exclude: ExcludeOption = None,
    jobs: JobsOption = None,
    no_progress: NoProgressOption = False,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
    base: Annotated[
        Optional[str], typer.Option("--base", metavar="REF", help="Git mode: build the branches from this commit (default: HEAD).")
    ] = None,
    branch_prefix: Annotated[
        Optional[str], typer.Option("--branch-prefix", help="Git mode: prefix of the branch names (default: auditfix/).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Git mode: replace existing branches under the prefix.")] = False,
    stack: Annotated[bool, typer.Option("--stack", help="Git mode: start each branch from the previous one.")] = False,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Git mode: skip the commit (and push) hooks.")] = False,
    push: Annotated[
        Optional[str], typer.Option("--push", metavar="REMOTE", help="Git mode: push every branch made to this remote.")
    ] = None,
    pr_body_dir: Annotated[
        Optional[Path], typer.Option("--pr-body-dir", metavar="DIR", help="Git mode: write a pull-request description per branch.")
    ] = None,
    verify: Annotated[
        Optional[str],
        typer.Option(
            "--verify",
            metavar="CMD",
            help="Git mode: run this command (the project's tests, linters) on the base and on each branch; "
            "files that make it fail are left out of the branch.",
        ),
    ] = None,
    max_branch_files: Annotated[
        Optional[int],
        typer.Option(
            "--max-branch-files",
            metavar="N",
            help="Git mode: a codemod changing more files gets one branch per top-level package (default 25; 0: never).",
        ),
    ] = None,
) -> None:
    """Fix: --dry-run prints a diff, --write edits files, neither makes one git branch per codemod."""
    git_only = (base, push, pr_body_dir, branch_prefix, verify, max_branch_files) != (None,) * 6
    if (dry_run or write or check) and (git_only or force or stack or no_verify):
        raise fail("--base, --branch-prefix, --force, --stack, --no-verify, --push, --pr-body-dir, --verify and "
                   "--max-branch-files are for git mode (without --dry-run, --write or --check)")  # fmt: skip
    path, only = combine_paths(paths)
    if dry_run and write:
        raise fail("--dry-run and --write cannot be used together")
    if check and (dry_run or write):
        raise fail("--check cannot be used with --dry-run or --write")
    if html is not None and not dry_run:
        raise fail("--html needs --dry-run")
    if only is not None and not (dry_run or write or check):
        raise fail("several paths work with --check, --dry-run or --write; git mode takes one folder")
    root = path.resolve()
    replay_key = None
    if (check or (dry_run and html is None)) and not no_cache:
        command = replay.preview_command(check, select or "", ignore or "", only, verbose)
        replay_key = ReplayKey(root, command, exclude or ())
        if replay_key.value is not None:
            replay_output(replay.lookup(replay_key.folder, replay_key.value))
    from codemods.engine.journal import journal_path
    from codemods.engine.runner import Engine, write_changes

    settings = load_settings(path, select, ignore, exclude, jobs, no_cache)
    if check:
        raise typer.Exit(run_check(Engine(root, settings, only=only), not no_progress, verbose, replay_key))
    if not dry_run and not write:
        from codemods.git import GitOptions

        options = GitOptions(
            base=base or "HEAD", force=force, stack=stack, no_verify=no_verify, push=push, pr_body_dir=pr_body_dir
        )
        if branch_prefix is not None:
            settings = dataclasses.replace(settings, branch_prefix=branch_prefix)
        if verify is not None:
            settings = dataclasses.replace(settings, verify=verify)
        if max_branch_files is not None:
            if max_branch_files < 0:
                raise fail(f"--max-branch-files: expected a positive integer or 0, got {max_branch_files}")
            settings = dataclasses.replace(settings, max_branch_files=max_branch_files)
        run_in_git_mode(root, settings, options, not no_progress, verbose)
    engine = Engine(root, settings, only=only)
    if write:
        finish_interrupted(engine.folder)
    elif journal_path(engine.folder).exists():
        stderr.print("auditfix: a run --write was interrupted here; the next run --write finishes it first", markup=False)
    report = execute(engine, not no_progress)
    print_problems(report, verbose)
    if dry_run and html is not None:
        from codemods.output.reports import render_html

        write_output(html, render_html(report, settings))
        stderr.print(f"auditfix: {report.summary()}; report written to {html}", markup=False)
        incomplete = report.skipped or report.failed
        raise typer.Exit(EXIT_INCOMPLETE if incomplete else EXIT_FOUND if report.changes else EXIT_OK)
    if dry_run:
        from codemods.output.diffs import unified_diff

        diff = unified_diff(report.changes)
        output = colourise(diff) if sys.stdout.isatty() else diff
        stdout = click.get_binary_stream("stdout")
        stdout.write(output)
        stdout.flush()
        stderr.print(f"auditfix: {report.summary()}", markup=False)
        incomplete = report.skipped or report.failed
        code = EXIT_INCOMPLETE if incomplete else EXIT_FOUND if report.changes else EXIT_OK
        remember(engine, report, replay_key, output, problem_lines(report, verbose), code)
        raise typer.Exit(code)
    try:
        problems = write_changes(engine.folder, report.changes)
    except KeyboardInterrupt:
        stderr.print("auditfix: interrupted; every file is either as it was or fully rewritten", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    for problem in problems:
        stderr.print(f"not written {problem.path}: {problem.message}", markup=False)
    written = len(report.changes) - len(problems)
    stderr.print(f"auditfix: {report.summary()}; {written} files written", markup=False)
    raise typer.Exit(EXIT_INCOMPLETE if report.skipped or report.failed or problems else EXIT_OK)


def finish_interrupted(folder: Path) -> None:
    """Finish the writes of a killed run --write before this run reads the tree."""
    from codemods.engine.journal import JournalError
    from codemods.engine.runner import finish_interrupted_write

    try:
        finished = finish_interrupted_write(folder)
    except JournalError as exc:
        raise fail(str(exc)) from None
    if finished is None:
        return
    for problem in finished.problems:
        stderr.print(f"not finished {problem.path}: {problem.message}", markup=False)
    stderr.print(
        f"auditfix: finished an interrupted run --write: {len(finished.written)} files written now, "
        f"{finished.done_before} written before it stopped",
        markup=False,
    )


def run_in_git_mode(root: Path, settings: Settings, options: GitOptions, show_progress: bool, verbose: bool) -> None:
    """Git mode: one branch per codemod with changes; exit 1 if a branch could not be made."""
    from codemods.git import GitModeError, run_git_mode

    update, stop = progress_reporter(show_progress)

    def notify(message: str) -> None:
        stderr.print(f"auditfix: {message}", markup=False)

    try:
        result = run_git_mode(root, settings, options, notify=notify, progress=update)
    except GitModeError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        stderr.print("auditfix: interrupted; temporary worktrees removed, your checkout is as it was", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        stop()
    print_git_result(result, verbose, display_path(root))
    raise typer.Exit(EXIT_FOUND if result.failed else EXIT_INCOMPLETE if result.problems else EXIT_OK)


def print_git_result(result: GitRunResult, verbose: bool, preview_path: str = ".") -> None:
    """Problems on stderr, then the table of branches on stdout."""
    for problem in result.problems:
        stderr.print(f"not fixed {problem.path}: {problem.message}", markup=False)
        if verbose and problem.detail:
            stderr.print(problem.detail, markup=False)
    for category in result.categories:
        # Its one-line message was printed as it happened; this is the output of the hook or push.
        if category.detail:
            stderr.print(f"auditfix: {category.branch}: git said:\n{category.detail}", markup=False)
    shown = [c for c in result.categories if c.status not in ("no changes", "findings only")]
    if not shown:
        stderr.print("auditfix: nothing to change; no branch made", markup=False)
        return
    if result.up_to_date:
        stderr.print("auditfix: branches are up to date", markup=False)
        return
    from rich.table import Table

    # Not on a terminal (CI logs, pipes): wide enough that branch names and commands are never cut.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    table = Table()
    table.add_column("branch", overflow="fold")
    table.add_column("commit", no_wrap=True)
    table.add_column("files", justify="right")
    table.add_column("added", justify="right")
    table.add_column("removed", justify="right")
    table.add_column("review with", overflow="fold")
    for c in shown:
        if c.has_branch:
            note = f" ({c.status}, pushed)" if c.pushed else f" ({c.status})" if c.status != "created" else ""
            note += f" [{c.follow_up_error}]" if c.follow_up_error else ""
            table.add_row(c.branch + note, c.commit[:12], str(c.files), f"+{c.added}", f"-{c.removed}", c.review_command)
        else:
            table.add_row(c.branch, c.status, "", "", "", c.message)
    console.print(table)
    print_preview_parts(console, result, preview_path)


def print_preview_parts(console: Console, result: GitRunResult, preview_path: str) -> None:
    """Which branch holds which part of the combined preview (``run PATH --dry-run``)."""
    made = [c for c in result.categories if c.has_branch and c.paths]
    if not made:
        return
    console.print(f"The combined preview (auditfix run {preview_path} --dry-run) is split into these branches:")
    for c in made:
        shown = ", ".join(c.paths[:6]) + (f" and {len(c.paths) - 6} more" if len(c.paths) > 6 else "")
        console.print(f"  {c.branch}: {shown}", soft_wrap=True)
        console.print(f"    preview: auditfix run {preview_path} --dry-run --select {c.codemod}", soft_wrap=True)
        if c.verification:
            console.print(f"    verified: {c.verification}", soft_wrap=True)


@app.command()
def fleet(
    repos: Annotated[
        Path,
        typer.Argument(
            help="File listing the repositories: one git URL or local path per line, optionally followed by a branch; "
            "# comments and blank lines are ignored.",
            show_default=False,
        ),
    ],
    workdir: Annotated[
        Path,
        typer.Option("--workdir", metavar="DIR", help="Clones (DIR/repos), state, logs and the fleet report.", show_default=False),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Collect the diffs and findings only; no branch is made.")] = False,
    push: Annotated[bool, typer.Option("--push", help="Push every branch made to the repository's origin.")] = False,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    scheduler: Annotated[
        Optional[str],
        typer.Option("--scheduler", metavar="ADDRESS", help="Run on this Dask cluster (tcp://host:8786) instead of a local one."),
    ] = None,
    workers: Annotated[
        Optional[int], typer.Option("--workers", help="Worker processes of the local cluster (default: one per core).")
    ] = None,
    no_progress: NoProgressOption = False,
) -> None:
    """Run the same fixes over many repositories, one Dask task each: branches per codemod, one report.

    Exit 0 when every repository is done or up to date, 3 when some failed, 2 on usage errors.
    """
    if dry_run and push:
        raise fail("--dry-run and --push cannot be used together")
    if scheduler is not None and workers is not None:
        raise fail("--workers sizes the local cluster; with --scheduler the cluster's own workers run the tasks")
    if workers is not None and workers < 1:
        raise fail(f"--workers: expected a positive number, got {workers}")
    from codemods import REGISTRY
    from codemods.fleet.cluster import FleetError, FleetOptions, run_fleet
    from codemods.fleet.repos import ReposFileError, read_repos_file
    from codemods.fleet.report import build_report, write_reports
    from codemods.fleet.results import BRANCHES, DRY_RUN, FAILED, PUSH
    from codemods.fleet.state import StateError

    try:
        specs = read_repos_file(repos)
    except ReposFileError as exc:
        raise fail(str(exc)) from None
    known = [codemod.name for codemod in REGISTRY]
    for option, names in (("--select", _names(select)), ("--ignore", _names(ignore))):
        unknown = [name for name in names or () if name not in known]
        if unknown:
            raise fail(f"{option}: unknown codemod {unknown[0]!r}; expected one of {', '.join(sorted(known))}")
    mode = DRY_RUN if dry_run else PUSH if push else BRANCHES
    options = FleetOptions(
        workdir, mode, tuple(_names(select) or ()), tuple(_names(ignore) or ()), scheduler=scheduler, workers=workers
    )
    display = FleetDisplay(len(specs), not no_progress)
    try:
        with _terminate_as_interrupt():
            run = run_fleet(
                specs, options, on_start=display.start, on_result=display.result, notify=display.message,
            )  # fmt: skip
    except (FleetError, StateError, OSError) as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:  # while the cluster started or stopped (during the run, run_fleet returns)
        stderr.print("auditfix: interrupted; every repository that finished is recorded: run the same command "
                     "again to continue", markup=False)  # fmt: skip
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        display.stop()
    report = build_report(run, workdir, mode, known)
    try:
        written = write_reports(report, workdir.resolve())
    except OSError as exc:
        raise fail(f"cannot write the fleet report: {exc}") from None
    print_fleet_table(report)
    summary = report.summary()
    text = (f"{summary['repositories']} repositories: {summary['done']} done, {summary['skipped']} skipped (up to date), "
            f"{summary['failed']} failed")  # fmt: skip
    if run.interrupted:
        text += f", {summary['pending']} not reached: interrupted; run the same command again to finish"
    stderr.print(f"auditfix: fleet: {text}; report: {written[-1]}", markup=False)
    if run.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    raise typer.Exit(EXIT_INCOMPLETE if report.count(FAILED) else EXIT_OK)


class FleetDisplay:
    """One line per repository on stderr as its result arrives, under a progress bar on a terminal."""

    def __init__(self, total: int, progress: bool) -> None:
        self.total = total
        self.counts = {"done": 0, "failed": 0, "skipped": 0}
        self.progress = None
        self.task = 0
        if progress and sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("repositories"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                TimeElapsedColumn(), console=stderr, transient=True,
            )  # fmt: skip

    def start(self, description: str) -> None:
        self.message(f"{self.total} repositories on {description}")
        if self.progress is not None:
            self.progress.start()
            self.task = self.progress.add_task(self._counts(), total=self.total)

    def result(self, result: RepoResult, record: Record) -> None:
        from codemods.fleet.results import DRY_RUN, FAILED, SKIPPED

        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        kept = record.result  # a skip reports what the run that did the work found
        if result.status == FAILED:
            line = f"failed: {result.reason}"
        else:
            line = "skipped (up to date)" if result.status == SKIPPED else "done"
            files = sum(c.changed_files for c in kept.codemods.values())
            if kept.mode == DRY_RUN:
                line += f": {_count(files, 'file change')} previewed"
            else:
                pushed = sum(1 for b in kept.made_branches if b.pushed)
                line += f": {_count(len(kept.made_branches), 'branch')}" + (f" ({pushed} on origin)" if pushed else "")
                line += f", {_count(files, 'file change')}"
            line += f", {_count(len(kept.findings), 'finding')}"
            if kept.not_processed:
                line += f", {_count(len(kept.not_processed), 'file')} not processed"
        self.message(f"{result.name}: {line}")
        if self.progress is not None:
            self.progress.update(self.task, advance=1, description=self._counts())

    def _counts(self) -> str:
        return f"{self.counts['done']} done, {self.counts['skipped']} skipped, {self.counts['failed']} failed"

    def message(self, text: str) -> None:
        console = self.progress.console if self.progress is not None else stderr
        console.print(f"auditfix: {text}", markup=False, highlight=False)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "es" if noun.endswith("ch") else "s")


def print_fleet_table(report: FleetReport) -> None:
    """The repositories and where each stands, on stdout."""
    from rich.table import Table

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    table = Table()
    for column, justify in (("repository", "left"), ("status", "left"), ("commit", "left"), ("branches", "right"),
                            ("files", "right"), ("findings", "right"), ("notes", "left")):  # fmt: skip
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in report.repositories:
        result = r.result
        notes = r.reason if r.status == "failed" else ""
        if not notes and result is not None and result.not_processed:
            notes = f"{len(result.not_processed)} files not processed: " + ", ".join(p.path for p in result.not_processed)
        table.add_row(
            r.name, r.status_label, result.commit[:12] if result else "", str(len(result.made_branches) if result else 0),
            str(r.changed_files), str(len(result.findings) if result else 0), notes,
        )  # fmt: skip
    console.print(table)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a fleet run as Ctrl-C does: the cluster is shut down and the report written."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
