"""The options of ``auditfix run`` in one table, and the plain command lines run without Typer.

``cli.py`` builds its Typer options from :data:`RUN_OPTIONS`, and the console script
(:func:`entry`) reads a plain ``run`` command line with the same table before Typer is even
imported: Typer, click and rich cost about as much as the rest of a small run, and Typer's
parameter handling imports pydantic.  Each option says what the fast path may do with it
(:class:`FastPath`), so adding an option to the CLI without deciding that is impossible
(``tests/test_replay.py`` compares the table with the Typer command).

A plain command line is ``run PATH... --dry-run|--check|--write`` with any of the options whose
role is not ``CLI_ONLY``.  A repeated ``--dry-run``/``--check`` is replayed from
``.auditfix_cache/`` (:mod:`codemods.engine.replay`); otherwise the engine runs and its output is
printed by the same functions the Typer command uses, so both print the same bytes.  Anything
else (another form, an option the fast path leaves to the CLI, a path that does not exist, a
configuration error) goes to the Typer app, which reports it.
"""

from __future__ import annotations

import atexit
import dataclasses
import enum
import gc
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from codemods.engine import dataclass_code, replay, sorter
from codemods.engine.cache import CACHE_DIR_NAME

if TYPE_CHECKING:
    from codemods.engine.config import Settings
    from codemods.engine.runner import Engine, RunReport

EXIT_OK, EXIT_FOUND, EXIT_ERROR, EXIT_INCOMPLETE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class FastPath(enum.Enum):
    """What the console script's fast path does with an option of ``run``."""

    PREVIEW_MODE = "a preview (--dry-run, --check): replayed when identical to an earlier run"
    WRITE_MODE = "--write: run without Typer, never replayed"
    IN_KEY = "changes the output: part of a preview's replay key"
    NO_EFFECT = "changes no output: a replay ignores it"
    NO_CACHE = "--no-cache: run without Typer, neither replayed nor recorded, no cache read or written"
    CLI_ONLY = "the command line is left to the Typer app"


@dataclasses.dataclass(frozen=True)
class CommandOption:
    """One option of ``auditfix run`` (``name`` is the parameter of ``cli.run``)."""

    name: str
    flags: tuple[str, ...]
    help: str
    takes_value: bool
    fast_path: FastPath
    repeatable: bool = False
    metavar: str | None = None


RUN_OPTIONS: tuple[CommandOption, ...] = (
    CommandOption("dry_run", ("--dry-run",), "Print a unified diff; write nothing.", False, FastPath.PREVIEW_MODE),
    CommandOption("write", ("--write",), "Apply the changes in place (no git).", False, FastPath.WRITE_MODE),
    CommandOption(
        "check", ("--check",), "Write nothing; list the files that would change and exit 1 if any (for CI).",
        False, FastPath.PREVIEW_MODE,
    ),  # fmt: skip
    CommandOption(
        "html", ("--html",), "With --dry-run: write a self-contained HTML report here instead of the diff.",
        True, FastPath.CLI_ONLY,
    ),  # fmt: skip
    CommandOption("select", ("--select",), "Comma-separated codemods to run (default: all).", True, FastPath.IN_KEY),
    CommandOption("ignore", ("--ignore",), "Comma-separated codemods not to run.", True, FastPath.IN_KEY),
    CommandOption(
        "exclude", ("--exclude",), "Gitignore-style pattern of files to leave alone (repeatable).",
        True, FastPath.IN_KEY, repeatable=True,
    ),  # fmt: skip
    CommandOption("jobs", ("--jobs", "-j"), "Worker processes (default: one per core).", True, FastPath.NO_EFFECT),
    CommandOption("no_progress", ("--no-progress",), "Do not show a progress bar.", False, FastPath.NO_EFFECT),
    CommandOption("no_cache", ("--no-cache",), "Ignore and do not update .auditfix_cache/.", False, FastPath.NO_CACHE),
    CommandOption("verbose", ("--verbose", "-v"), "Show internal tracebacks of failed files.", False, FastPath.IN_KEY),
    CommandOption(
        "base", ("--base",), "Git mode: build the branches from this commit (default: HEAD).",
        True, FastPath.CLI_ONLY, metavar="REF",
    ),  # fmt: skip
    CommandOption(
        "branch_prefix", ("--branch-prefix",), "Git mode: prefix of the branch names (default: auditfix/).",
        True, FastPath.CLI_ONLY,
    ),  # fmt: skip
    CommandOption("force", ("--force",), "Git mode: replace existing branches under the prefix.", False, FastPath.CLI_ONLY),
    CommandOption("stack", ("--stack",), "Git mode: start each branch from the previous one.", False, FastPath.CLI_ONLY),
    CommandOption("no_verify", ("--no-verify",), "Git mode: skip the commit (and push) hooks.", False, FastPath.CLI_ONLY),
    CommandOption(
        "push", ("--push",), "Git mode: push every branch made to this remote.", True, FastPath.CLI_ONLY, metavar="REMOTE"
    ),
    CommandOption(
        "pr_body_dir", ("--pr-body-dir",), "Git mode: write a pull-request description per branch.",
        True, FastPath.CLI_ONLY, metavar="DIR",
    ),  # fmt: skip
    CommandOption(
        "verify", ("--verify",),
        "Git mode: run this command (the project's tests, linters) on the base and on each branch; "
        "files that make it fail are left out of the branch.",
        True, FastPath.CLI_ONLY, metavar="CMD",
    ),  # fmt: skip
    CommandOption(
        "max_branch_files", ("--max-branch-files",),
        "Git mode: a codemod changing more files gets one branch per top-level package (default 25; 0: never).",
        True, FastPath.CLI_ONLY, metavar="N",
    ),  # fmt: skip
)
OPTIONS_BY_NAME = {option.name: option for option in RUN_OPTIONS}


def run_option(name: str) -> CommandOption:
    return OPTIONS_BY_NAME[name]


# -- reading a plain command line ---------------------------------------------------------------

_JOBS = re.compile(r"[0-9]+")


@dataclasses.dataclass(frozen=True)
class PlainRun:
    """A ``run --dry-run``, ``--check`` or ``--write`` command line, as the CLI's ``run`` reads it."""

    paths: tuple[str, ...]
    mode: str  # "dry-run", "check" or "write"
    select: str
    ignore: str
    excludes: tuple[str, ...]
    jobs: int | None
    verbose: bool
    progress: bool
    cache: bool = True

    @property
    def check(self) -> bool:
        return self.mode == "check"

    @property
    def replayable(self) -> bool:
        return self.mode != "write" and self.cache


def _by_flag() -> dict[str, CommandOption]:
    return {flag: option for option in RUN_OPTIONS for flag in option.flags}


def parse_plain_run(argv: Sequence[str]) -> PlainRun | None:
    """The run ``argv`` asks for, if it is in a plain form whose meaning is certain; else None
    (the Typer app parses it)."""
    if not argv or argv[0] != "run":
        return None
    by_flag = _by_flag()
    paths: list[str] = []
    values: dict[str, list[str]] = {}
    flags: set[str] = set()
    tokens = list(argv[1:])
    while tokens:
        token = tokens.pop(0)
        if token == "--":
            paths.extend(tokens)
            break
        if not token.startswith("-") or token == "-":
            paths.append(token)
            continue
        name, value = token, None
        if token.startswith("--") and "=" in token:
            name, value = token.split("=", 1)
        elif not token.startswith("--") and len(token) > 2 and token[:2] in by_flag and by_flag[token[:2]].takes_value:
            name, value = token[:2], token[2:]  # -j4
        option = by_flag.get(name)
        if option is None or option.fast_path is FastPath.CLI_ONLY:
            return None  # an option the fast path does not take: the CLI decides
        if not option.takes_value:
            if value is not None:
                return None
            flags.add(option.name)
            continue
        if value is None:
            if not tokens:
                return None
            value = tokens.pop(0)
        values.setdefault(option.name, []).append(value)
    modes = [o.name for o in RUN_OPTIONS if o.fast_path in (FastPath.PREVIEW_MODE, FastPath.WRITE_MODE) and o.name in flags]
    if len(modes) != 1 or not paths:
        return None
    if any(len(found) > 1 for name, found in values.items() if not run_option(name).repeatable):
        return None
    jobs = values.get("jobs", [])
    if any(_JOBS.fullmatch(job) is None for job in jobs):
        return None
    return PlainRun(
        paths=tuple(paths),
        mode=modes[0].replace("_", "-"),
        select=values.get("select", [""])[0],
        ignore=values.get("ignore", [""])[0],
        excludes=tuple(values.get("exclude", [])),
        jobs=int(jobs[0]) if jobs else None,
        verbose="verbose" in flags,
        progress="no_progress" not in flags,
        cache="no_cache" not in flags,
    )


def plain_run_key(run: PlainRun) -> tuple[Path, Path, tuple[str, ...]] | None:
    """(root, folder, command) of the key the CLI's ``run`` computes for a preview; None if a
    path does not exist (the CLI reports it)."""
    paths = [Path(p) for p in run.paths]
    if not all(p.exists() for p in paths):
        return None
    path, only = replay.common_root(paths)
    root = path.resolve()
    folder = root if root.is_dir() else root.parent
    return root, folder, replay.preview_command(run.check, run.select, run.ignore, only, run.verbose)


# -- printing, shared with the Typer command ----------------------------------------------------


def print_line(line: str) -> None:
    """One line on stderr, as ``cli.stderr.print(line, markup=False)`` prints it: plain when it
    is printable (the usual case, without importing rich); else through rich, which treats
    control characters itself."""
    if line.isprintable():
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
        return
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True, emoji=False).print(line, markup=False)


def write_stdout(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def display_path(path: Path) -> str:
    """``path`` as the user would type it: relative to the current folder when it is inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def colourise(diff: bytes) -> bytes:
    colours = {b"+": b"\x1b[32m", b"-": b"\x1b[31m", b"@": b"\x1b[36m", b"d": b"\x1b[1m"}
    lines = []
    for line in diff.splitlines(keepends=True):
        colour = colours.get(line[:1]) if not line.startswith((b"+++", b"---")) else b"\x1b[1m"
        lines.append(colour + line.rstrip(b"\n") + b"\x1b[0m\n" if colour else line)
    return b"".join(lines)


def progress_reporter(enabled: bool) -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    """A rich progress bar on stderr when it is a terminal; otherwise silence (and no rich)."""
    if not enabled or not sys.stderr.isatty():
        return (lambda phase, done, total: None), (lambda: None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    )  # fmt: skip
    tasks: dict[str, int] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            if not tasks:
                progress.start()
            tasks[phase] = progress.add_task(phase, total=total)
        progress.update(tasks[phase], completed=done, total=total)

    return update, progress.stop


class Interrupted(Exception):
    """The user pressed Ctrl-C during the run; the message was printed."""


class CommandError(Exception):
    """The run cannot go on: the CLI prints ``auditfix: error: <message>`` and exits 2."""


def execute(engine: Engine, show_progress: bool) -> RunReport:
    update, stop = progress_reporter(show_progress)
    engine.progress = update
    try:
        return engine.run()
    except KeyboardInterrupt:
        stop()
        print_line("auditfix: interrupted before anything was written")
        raise Interrupted from None
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
        print_line(line)


# -- replay keys -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReplayKey:
    """The replay key of a preview, computed before the run (see codemods.engine.replay)."""

    root: Path
    folder: Path
    command: tuple[str, ...]
    excludes: tuple[str, ...]
    key: replay.RunKey | None

    @classmethod
    def compute(cls, root: Path, command: tuple[str, ...], excludes: Sequence[str]) -> ReplayKey:
        folder = root if root.is_dir() else root.parent
        return cls(root, folder, command, tuple(excludes), replay.run_key(root, folder, command, excludes))

    @property
    def value(self) -> str | None:
        return self.key.value if self.key is not None else None


def remember(
    engine: Engine, report: RunReport, key: ReplayKey | None, stdout: bytes, problems: list[str], code: int
) -> None:
    """Record a completed preview, to replay it while nothing it depends on changes."""
    if key is None or key.value is None or not engine.settings.cache:
        return
    if key.key is None or not replay.unchanged(key.key, key.folder, tree_read=engine.read_from_key):
        return  # a file changed while the run read it: the output may belong to either state
    summary = dataclasses.replace(report, cached=report.parsed).summary()
    lines = (*problems, f"auditfix: {summary}; replayed: nothing changed since an identical run")
    recorded = replay.Recorded(stdout, lines, code, tuple(sorted(report.external.items())))
    replay.record(engine.folder, key.value, recorded)


def replay_recorded(recorded: replay.Recorded) -> int:
    """Print what an identical earlier run printed; its exit code."""
    write_stdout(recorded.stdout)
    for line in recorded.stderr_lines:
        print_line(line)
    return recorded.exit_code


# -- the three plain modes ---------------------------------------------------------------------


def run_plain(
    root: Path, settings: Settings, mode: str, *, only: Sequence[str] | None, show_progress: bool, verbose: bool,
    replay_key: ReplayKey | None,
) -> int:  # fmt: skip
    """``run --check``, ``--dry-run`` (the diff) or ``--write``: run, print, return the exit code.
    Raises :class:`Interrupted` on Ctrl-C (after saying so)."""
    from codemods.engine.runner import Engine

    tree = replay_key.key.tree if replay_key is not None and replay_key.key is not None else None
    engine = Engine(root, settings, only=only, tree=tree)
    if mode == "write":
        finish_interrupted(engine.folder)
    else:
        warn_of_interrupted_write(engine.folder)
    report = execute(engine, show_progress)
    print_problems(report, verbose)
    incomplete = bool(report.skipped or report.failed)
    if mode == "check":
        listing = "".join(display_path(engine.folder / change.path) + "\n" for change in report.changes)
        write_stdout(listing.encode())
        code = EXIT_FOUND if report.changes else EXIT_INCOMPLETE if incomplete else EXIT_OK
        remember(engine, report, replay_key, listing.encode(), problem_lines(report, verbose), code)
        return code
    if mode == "dry-run":
        from codemods.output.diffs import unified_diff

        diff = unified_diff(report.changes)
        output = colourise(diff) if sys.stdout.isatty() else diff
        write_stdout(output)
        print_line(f"auditfix: {report.summary()}")
        code = EXIT_INCOMPLETE if incomplete else EXIT_FOUND if report.changes else EXIT_OK
        remember(engine, report, replay_key, output, problem_lines(report, verbose), code)
        return code
    return write_report(engine, report)


def finish_interrupted(folder: Path) -> None:
    """Finish the writes of a killed run --write before this run reads the tree."""
    from codemods.engine.journal import JournalError
    from codemods.engine.runner import finish_interrupted_write

    try:
        finished = finish_interrupted_write(folder)
    except JournalError as exc:
        raise CommandError(str(exc)) from None
    if finished is None:
        return
    for problem in finished.problems:
        print_line(f"not finished {problem.path}: {problem.message}")
    print_line(
        f"auditfix: finished an interrupted run --write: {len(finished.written)} files written now, "
        f"{finished.done_before} written before it stopped"
    )


def warn_of_interrupted_write(folder: Path) -> None:
    from codemods.engine.cache import journal_path

    if journal_path(folder).exists():
        print_line("auditfix: a run --write was interrupted here; the next run --write finishes it first")


def write_report(engine: Engine, report: RunReport) -> int:
    from codemods.engine.runner import write_changes

    try:
        problems = write_changes(engine.folder, report.changes)
    except KeyboardInterrupt:
        print_line("auditfix: interrupted; every file is either as it was or fully rewritten")
        raise Interrupted from None
    for problem in problems:
        print_line(f"not written {problem.path}: {problem.message}")
    written = len(report.changes) - len(problems)
    print_line(f"auditfix: {report.summary()}; {written} files written")
    return EXIT_INCOMPLETE if report.skipped or report.failed or problems else EXIT_OK


# -- the console script --------------------------------------------------------------------------


def run_command_line(argv: Sequence[str]) -> int | None:
    """Run a plain ``run`` command line without Typer and return its exit code; None when
    ``argv`` is not plain or needs the CLI to report something (nothing was printed then)."""
    try:
        run = parse_plain_run(argv)
        where = plain_run_key(run) if run is not None else None
        if run is None or where is None:
            return None
        root, folder, command = where
        replay_key = None
        if run.replayable:
            replay_key = ReplayKey.compute(root, command, run.excludes)
            recorded = replay.lookup(folder, replay_key.value) if replay_key.value is not None else None
            if recorded is not None and all(line.isprintable() for line in recorded.stderr_lines):
                return replay_recorded(recorded)
        settings = _settings(root, run)
        if settings is None:
            return None
    except Exception:  # noqa: BLE001 - anything odd before the run: the CLI runs and reports
        return None
    _, only = replay.common_root([Path(p) for p in run.paths])
    try:
        return run_plain(
            root, settings, run.mode, only=only, show_progress=run.progress, verbose=run.verbose, replay_key=replay_key
        )
    except Interrupted:
        return EXIT_INTERRUPTED
    except CommandError as exc:
        print_line(f"auditfix: error: {exc}")
        return EXIT_ERROR


def _settings(root: Path, run: PlainRun) -> Settings | None:
    """The run's settings, with the codemods as CodemodInfo: each is imported only when a file
    contains one of its markers (see codemods.engine.manifest)."""
    from codemods.engine.config import ConfigError, find_pyproject, read_pyproject_table, resolve
    from codemods.engine.manifest import registry_infos

    def names(value: str) -> list[str] | None:
        return [name.strip() for name in value.split(",") if name.strip()] or None

    folder = root if root.is_dir() else root.parent
    try:
        cache = run.cache and read_pyproject_table(find_pyproject(root)).get("cache", True) is not False
        # The codemods' metadata is a fact of auditfix's own files, not of the project: with the
        # project's cache off it is kept in the user's cache folder (importing every codemod to
        # read it costs a quarter of a second).
        if cache:
            manifest_folder = folder / CACHE_DIR_NAME
        else:
            from codemods.analysis.installed import cache_folder

            manifest_folder = cache_folder()
        infos = registry_infos(manifest_folder, replay.tool_fingerprint(with_registry=False))
        return resolve(
            root, infos, select=names(run.select), ignore=names(run.ignore), exclude=run.excludes, jobs=run.jobs,
            cache=None if run.cache else False,
        )  # fmt: skip
    except ConfigError:
        return None  # the CLI prints the error


def entry() -> None:
    """The console script ``auditfix``: a plain ``run`` without Typer, anything else with it."""
    # At exit, the interpreter's last garbage collections walk every object still alive (libcst's
    # node and matcher classes, the run's trees): 10-60 ms after a run on one file.  Frozen objects
    # are skipped; what auditfix writes is closed before, and the standard streams are flushed
    # regardless.  (cli.py does the same for the commands Typer runs.)
    atexit.register(gc.freeze)
    dataclass_code.install()  # libcst's generated dataclass methods from the last run: see that module
    sorter.allow()  # isort imported beside libcst when the run needs both: see codemods.engine.sorter
    code = run_command_line(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from cli import app

    app()
