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
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from codemods import __version__
from codemods.engine import commandline, replay
from codemods.engine.commandline import (
    EXIT_ERROR,
    EXIT_FOUND,
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Interrupted,
    ReplayKey,
    display_path,
    print_problems,
    progress_reporter,
)
from codemods.engine.config import ConfigError

# libcst, the codemods, the engine, git and the report templates are imported by the commands
# that use them.  The console script is codemods.engine.commandline.entry: it runs a plain
# ``run --check|--dry-run|--write`` without importing this module (Typer, click, rich, pydantic).
if TYPE_CHECKING:
    from codemods.engine.config import Settings
    from codemods.engine.runner import Engine, RunReport
    from codemods.fleet.report import FleetReport
    from codemods.fleet.results import RepoResult
    from codemods.fleet.state import Record
    from codemods.git import GitOptions, GitRunResult

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


entry = commandline.entry  # the console script (kept here for ``python -c "from cli import entry"``)


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
        help="Folder or file to work on; named files (as pre-commit passes them) are worked on "
        "from their project's root, and only they are rewritten.",
        show_default=False,
        metavar="PATH",
    ),
]


def option(name: str) -> typer.models.OptionInfo:
    """The Typer option of ``run`` called ``name``, from the table the console script's fast path
    reads too (codemods.engine.commandline.RUN_OPTIONS)."""
    spec = commandline.run_option(name)
    return typer.Option(*spec.flags, help=spec.help, metavar=spec.metavar)


SelectOption = Annotated[Optional[str], option("select")]
IgnoreOption = Annotated[Optional[str], option("ignore")]
ExcludeOption = Annotated[Optional[list[str]], option("exclude")]
JobsOption = Annotated[Optional[int], option("jobs")]
NoProgressOption = Annotated[bool, option("no_progress")]
NoCacheOption = Annotated[bool, option("no_cache")]
VerboseOption = Annotated[bool, option("verbose")]


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
    """One folder is the root, as always; named files run from their project's root, restricted to them."""
    for path in paths:
        if not path.exists():
            raise fail(f"{path}: no such file or folder")
    return replay.common_root(paths)


def write_output(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"{path}: cannot write: {exc.strerror or exc}") from None


def execute(engine: Engine, show_progress: bool) -> RunReport:
    try:
        return commandline.execute(engine, show_progress)
    except Interrupted:
        raise typer.Exit(EXIT_INTERRUPTED) from None


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


@app.command()
def run(
    paths: PathsArgument,
    dry_run: Annotated[bool, option("dry_run")] = False,
    write: Annotated[bool, option("write")] = False,
    check: Annotated[bool, option("check")] = False,
    html: Annotated[Optional[Path], option("html")] = None,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    exclude: ExcludeOption = None,
    jobs: JobsOption = None,
    no_progress: NoProgressOption = False,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
    base: Annotated[Optional[str], option("base")] = None,
    branch_prefix: Annotated[Optional[str], option("branch_prefix")] = None,
    force: Annotated[bool, option("force")] = False,
    stack: Annotated[bool, option("stack")] = False,
    no_verify: Annotated[bool, option("no_verify")] = False,
    push: Annotated[Optional[str], option("push")] = None,
    pr_body_dir: Annotated[Optional[Path], option("pr_body_dir")] = None,
    verify: Annotated[Optional[str], option("verify")] = None,
    max_branch_files: Annotated[Optional[int], option("max_branch_files")] = None,
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
        replay_key = ReplayKey.compute(root, command, exclude or ())
        recorded = replay.lookup(replay_key.folder, replay_key.value) if replay_key.value is not None else None
        if recorded is not None:
            raise typer.Exit(commandline.replay_recorded(recorded))
    settings = load_settings(path, select, ignore, exclude, jobs, no_cache)
    if not dry_run and not write and not check:
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
    if dry_run and html is not None:
        from codemods.engine.runner import Engine
        from codemods.output.reports import render_html

        engine = Engine(root, settings, only=only)
        commandline.warn_of_interrupted_write(engine.folder)
        report = execute(engine, not no_progress)
        print_problems(report, verbose)
        write_output(html, render_html(report, settings))
        stderr.print(f"auditfix: {report.summary()}; report written to {html}", markup=False)
        incomplete = report.skipped or report.failed
        raise typer.Exit(EXIT_INCOMPLETE if incomplete else EXIT_FOUND if report.changes else EXIT_OK)
    mode = "check" if check else "dry-run" if dry_run else "write"
    try:
        code = commandline.run_plain(
            root, settings, mode, only=only, show_progress=not no_progress, verbose=verbose, replay_key=replay_key
        )
    except Interrupted:
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except commandline.CommandError as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(code)


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
