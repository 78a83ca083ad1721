"""Run public projects' own test suites before and after every codemod, and compare.

    python benchmarks/project_suites.py                        # every project
    python benchmarks/project_suites.py --only microblog       # one (a name prefix)
    python benchmarks/project_suites.py --bisect               # also find the codemod behind each regression
    python benchmarks/project_suites.py --git-mirror /work/.mirror   # clone from local bare mirrors

Issues 16 and 17 ask that on public code bases every project's own suite passes every test it
passed before all codemods ran.  For each project below, in a folder of the benchmark cache
(``~/.cache/auditfix-benchmarks/suites/<project>/``, or ``$AUDITFIX_BENCH_CACHE``, or
``--cache-dir``; nothing here is ever inside the repository):

1. its source: a git repository at a pinned commit (cloned from ``--git-mirror`` when a bare
   mirror ``owner+name/repo`` is there, from GitHub otherwise) or a PyPI source distribution
   (``pip download --no-deps --no-binary :all:``, see ``benchmarks/corpora.py``);
2. a virtual environment with the project and its test dependencies (pinned where the project's
   current release needs older libraries), made once and reused while the pins do not change;
3. **before**: its suite on a fresh copy, run by pytest (which runs unittest cases too) with a
   JUnit XML report, from which the passing test ids are read;
4. a fresh copy made a git repository, and ``auditfix run COPY --write`` with every codemod, by
   the ``auditfix`` console script the README's ``pip install .`` installs (``--auditfix``);
5. **after**: the same suite on that copy.

Printed per project: tests passed before and after, tests newly failing (must be 0) with the
first line of their error, files changed per codemod.  With ``--bisect``, every codemod that
changed files is run alone on a fresh copy and the newly failing tests are run again, which
names the codemod that broke each one.  The diff of each run is kept in the project's folder
(``auditfix.diff``) for review.  Exit status 1 when a test newly fails.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree

REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from benchmarks.corpora import CorpusError, cache_root
from benchmarks.real_code import RunResult, parse_stderr

SUITE_TIMEOUT = 1800  # seconds; a suite that hangs after the rewrite is a failure, not a stuck benchmark
GIT = ["git", "-c", "user.name=auditfix-bench", "-c", "user.email=bench@auditfix.invalid", "-c", "init.defaultBranch=main"]


@dataclasses.dataclass(frozen=True)
class GitSource:
    repository: str  # "owner/name" on GitHub
    commit: str

    @property
    def label(self) -> str:
        return f"{self.repository}@{self.commit[:12]}"


@dataclasses.dataclass(frozen=True)
class SdistSource:
    requirement: str  # "Flask-Admin==1.6.1"

    @property
    def label(self) -> str:
        return f"{self.requirement} (PyPI sdist)"


@dataclasses.dataclass(frozen=True)
class Project:
    name: str
    source: GitSource | SdistSource
    stack: str  # what it is built on, for the report
    install: tuple[str, ...]  # pip arguments, run from the source folder ("-e", "." installs the project)
    tests: tuple[str, ...]  # pytest arguments, run from the project's top
    environment: tuple[tuple[str, str], ...] = ()


PROJECTS: tuple[Project, ...] = (
    Project(
        "microblog",
        GitSource("miguelgrinberg/microblog", "a975ef64864354867c88e0ed3a17ba7d17dca752"),
        "Flask, Flask-SQLAlchemy, Flask-Login (current_user routes), unittest tests.py",
        ("-r", "requirements.txt", "pytest"),
        ("tests.py",),
    ),
    Project(
        "sqlmodel",
        GitSource("fastapi/sqlmodel", "a6469ef61bb903cbf7fd8749c70d8ceb8046c368"),
        "SQLModel (SQLAlchemy + Pydantic v2); docs_src FastAPI tutorial apps (SessionDep routes) tested on SQLite",
        ("-e", ".", "black", "coverage", "dirty-equals", "fastapi", "httpx", "jinja2", "pytest", "typer", "typing-extensions"),
        ("tests",),
    ),
    Project(
        "Flask-Admin",
        SdistSource("Flask-Admin==1.6.1"),
        "Flask, Flask-SQLAlchemy, WTForms admin views; SQLite tests (Postgres, MongoDB and Azure tests left out)",
        (
            "-e", ".", "Flask==2.2.5", "Werkzeug==2.2.3", "Flask-SQLAlchemy==3.0.3", "SQLAlchemy==1.4.52", "WTForms==3.0.1",
            "Flask-BabelEx==0.9.4", "Babel<2.13", "sqlalchemy-utils==0.41.1", "pytz", "email-validator", "arrow", "colour", "pillow<10", "peewee", "wtf-peewee",
            "pytest",
        ),
        (
            "flask_admin/tests",
            "--ignore=flask_admin/tests/geoa", "--ignore=flask_admin/tests/mongoengine", "--ignore=flask_admin/tests/pymongo",
            "--ignore=flask_admin/tests/sqla/test_postgres.py", "--ignore=flask_admin/tests/fileadmin/test_fileadmin_azure.py",
        ),
    ),
    Project(
        "flasky",
        GitSource("miguelgrinberg/flasky", "3beedd640b9146b0bd65c8c2ecf402b01798bc33"),
        "Flask, Flask-SQLAlchemy 2, Flask-Login, REST API with db.session.commit() in routes; unittest on SQLite (Selenium tests left out)",
        # Its requirements pin 2017 releases that do not install on Python 3.11; these are the
        # newest releases of the same major versions its code is written for.
        (
            "Flask==1.1.4", "Werkzeug==1.0.1", "Jinja2==2.11.3", "MarkupSafe==2.0.1", "itsdangerous==1.1.0", "click==7.1.2",
            "Flask-SQLAlchemy==2.5.1", "SQLAlchemy==1.3.24", "Flask-Login==0.5.0", "Flask-WTF==0.14.3", "WTForms==2.3.3",
            "Flask-Mail==0.9.1", "Flask-Migrate==2.7.0", "alembic==1.4.3", "Flask-Moment==0.11.0", "Flask-PageDown==0.3.0",
            "Flask-Bootstrap==3.3.7.1", "Flask-HTTPAuth==4.2.0", "bleach==3.3.0", "Markdown==3.3.4", "faker", "python-dotenv",
            "email-validator", "pytest",
        ),
        ("tests", "--ignore=tests/test_selenium.py"),  # Selenium drives a Chrome browser
        # config.py reads SERVER_NAME from the environment at import (for production only).
        (("FLASK_CONFIG", "testing"), ("SERVER_NAME", "localhost")),
    ),
    Project(
        "fastapi-crudrouter",
        GitSource("awtkns/fastapi-crudrouter", "9b829865d85113a3f16f94c029502a9a584d47bb"),  # tag v0.8.6
        "FastAPI CRUD routers over SQLAlchemy, databases, ormar, tortoise (Pydantic v1); the SQLite and in-memory backends",
        # What its tests/dev.requirements.txt resolved to in its time: gino-starlette 0.1.1 needs
        # Starlette 0.13 (FastAPI 0.63), sqlalchemy<1.4; Pydantic 1.10 is the first v1 release that
        # works on Python 3.11.
        (
            "-e", ".", "fastapi==0.63.0", "pydantic>=1.10,<2", "SQLAlchemy==1.3.24", "sqlalchemy_utils==0.36.8", "databases==0.4.3",
            "aiosqlite", "ormar<0.13", "tortoise-orm==0.18.1", "gino-starlette==0.1.1", "asyncpg", "psycopg2-binary", "requests",
            "pytest",
        ),
        # gino and the postgresql DSNs need a Postgres server; tests/test_integration builds virtualenvs with pip.
        ("tests", "--ignore=tests/test_integration", "-k", "not gino and not postgresql"),
    ),
)


# -- test results -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TestOutcome:
    test_id: str  # "tests/test_api.py::APITestCase::test_posts" style, from the JUnit classname and name
    outcome: str  # passed, failed, error, skipped
    message: str = ""  # the first line of the failure or error


@dataclasses.dataclass
class SuiteRun:
    exit_code: int
    seconds: float
    outcomes: dict[str, TestOutcome]
    output_tail: str = ""

    @property
    def passed(self) -> set[str]:
        return {t for t, o in self.outcomes.items() if o.outcome == "passed"}


def parse_junit(xml_text: str) -> dict[str, TestOutcome]:
    """Each test case of a JUnit XML report (pytest's), by id, with its outcome and first error line.

    A test reported twice (a failing teardown after a passing call) keeps its worst outcome.
    """
    outcomes: dict[str, TestOutcome] = {}
    root = ElementTree.fromstring(xml_text)
    for case in root.iter("testcase"):
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                message = first_error_line(child.get("message") or "", child.text or "")
                break
        previous = outcomes.get(test_id)
        if previous is None or _severity(outcome) > _severity(previous.outcome):
            outcomes[test_id] = TestOutcome(test_id, outcome, message)
    return outcomes


def _severity(outcome: str) -> int:
    return ("passed", "skipped", "failed", "error").index(outcome)


def first_error_line(message: str, text: str) -> str:
    """The line that says what went wrong: pytest's message, else the last ``E   `` line of the traceback."""
    message = message.strip()
    if message and message != "collection failure":  # pytest's message for a module that did not import
        return message.splitlines()[0][:300]
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    lines = errors or [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


@dataclasses.dataclass(frozen=True)
class Comparison:
    passed_before: int
    passed_after: int
    newly_failing: list[TestOutcome]  # passed before; failed, errored, skipped or vanished after
    newly_passing: list[str]


def compare(before: dict[str, TestOutcome], after: dict[str, TestOutcome]) -> Comparison:
    passed_before = {t for t, o in before.items() if o.outcome == "passed"}
    passed_after = {t for t, o in after.items() if o.outcome == "passed"}
    newly_failing = [
        after.get(t) or TestOutcome(t, "missing", "not run after the rewrite (collection error?)")
        for t in sorted(passed_before - passed_after)
    ]
    return Comparison(len(passed_before), len(passed_after), newly_failing, sorted(passed_after - passed_before))


# -- sources and environments ---------------------------------------------------------------------------


def project_folder(cache: Path, project: Project) -> Path:
    return cache / "suites" / project.name


def pristine_source(project: Project, cache: Path, git_mirror: Path | None) -> Path:
    """The project's files at the pinned version (no ``.git``), made once."""
    target = project_folder(cache, project) / "source"
    marker = target / ".auditfix-bench-source"
    if marker.is_file() and marker.read_text() == project.source.label:
        return target
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    if isinstance(project.source, GitSource):
        _export_commit(project.source, target, git_mirror)
    else:
        _unpack_sdist(project.source.requirement, cache, target)
    marker.write_text(project.source.label)
    return target


def _export_commit(source: GitSource, target: Path, git_mirror: Path | None) -> None:
    mirror = git_mirror / source.repository.replace("/", "+") / "repo" if git_mirror else None
    if mirror is not None and mirror.is_dir():
        origin = str(mirror)
    else:
        origin = f"https://github.com/{source.repository}.git"
    clone = target.parent / "clone"
    if clone.exists():
        shutil.rmtree(clone)
    _check([*GIT, "clone", "--quiet", "--no-checkout", origin, str(clone)])
    archive = subprocess.run([*GIT, "-C", str(clone), "archive", "--format=tar", source.commit], capture_output=True, check=False)
    if archive.returncode != 0:
        raise CorpusError(f"{source.label}: git archive failed: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    shutil.rmtree(clone)


def _unpack_sdist(requirement: str, cache: Path, target: Path) -> None:
    name = requirement.replace("==", "-")
    downloads = cache / "downloads" / name
    archives = sorted(downloads.glob("*.tar.gz")) if downloads.is_dir() else []
    if not archives:
        downloads.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--quiet", requirement, "-d", str(downloads)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        archives = sorted(downloads.glob("*.tar.gz"))
        if result.returncode != 0 or not archives:
            raise CorpusError(f"pip download {requirement} failed: {result.stderr.strip()[-2000:]}")
    with tarfile.open(archives[0]) as bundle:
        bundle.extractall(target.parent / "unpacked", filter="data")
    (top,) = (target.parent / "unpacked").iterdir()
    shutil.copytree(top, target, dirs_exist_ok=True)
    shutil.rmtree(target.parent / "unpacked")


def environment_for(project: Project, cache: Path, source: Path) -> Path:
    """The project's virtual environment (its Python), made once per set of install arguments."""
    venv = project_folder(cache, project) / "venv"
    python = venv / "bin" / "python"
    stamp = venv / ".auditfix-bench-install"
    wanted = hashlib.sha256("\n".join([project.source.label, *project.install]).encode()).hexdigest()
    if python.is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return python
    if venv.exists():
        shutil.rmtree(venv)
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if uv:
        _check([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
        _check([uv, "pip", "install", "--quiet", "--python", str(python), *project.install], cwd=source)
    else:
        _check([sys.executable, "-m", "venv", str(venv)])
        _check([str(python), "-m", "pip", "install", "--quiet", *project.install], cwd=source)
    stamp.write_text(wanted)
    return python


def _check(command: list[str], cwd: Path | None = None) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise CorpusError(f"{' '.join(command[:4])} ... failed: {(result.stderr or result.stdout).strip()[-2000:]}")


def fresh_copy(source: Path, target: Path, *, as_git: bool) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(".auditfix-bench-source"))
    if as_git:
        _check([*GIT, "init", "--quiet", str(target)])
        _check([*GIT, "-C", str(target), "add", "--all"])
        _check([*GIT, "-C", str(target), "commit", "--quiet", "--no-verify", "-m", "pristine"])
    return target


# -- running ---------------------------------------------------------------------------------------------


def run_suite(project: Project, python: Path, copy: Path, report: Path, selected: Sequence[str] = ()) -> SuiteRun:
    """Run the suite (or only ``selected`` test ids) in ``copy``; read the outcomes from JUnit XML."""
    report.unlink(missing_ok=True)
    arguments = [*selected] if selected else [*project.tests]
    command = [str(python), "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "junit_family=xunit1", f"--junitxml={report}"]
    # A module that no longer imports fails its own tests, not the whole run.
    command += ["--continue-on-collection-errors", *arguments]
    environment = {**os.environ, **dict(project.environment), "PYTHONDONTWRITEBYTECODE": "1"}
    environment.pop("PYTHONPATH", None)
    environment.pop("VIRTUAL_ENV", None)
    started = time.perf_counter()
    try:
        completed = subprocess.run(command, cwd=copy, env=environment, capture_output=True, text=True, timeout=SUITE_TIMEOUT, check=False)
        exit_code, output = completed.returncode, completed.stdout + completed.stderr
    except subprocess.TimeoutExpired as exc:
        exit_code, output = -1, f"timed out after {SUITE_TIMEOUT} s: {exc}"
    outcomes = parse_junit(report.read_text()) if report.is_file() else {}
    return SuiteRun(exit_code, time.perf_counter() - started, outcomes, output[-3000:])


def run_auditfix(auditfix: Sequence[str], copy: Path, select: str | None = None) -> RunResult:
    command = [*auditfix, "run", str(copy), "--write", "--no-progress", "--no-cache"]
    if select:
        command += ["--select", select]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, cwd=copy.parent, check=False)
    result = RunResult(completed.returncode, time.perf_counter() - started, stderr=completed.stderr)
    parse_stderr(completed.stderr, result)
    return result


def changed_files(copy: Path) -> list[str]:
    """Files the run changed or created, by git (the copy's only commit is the pristine tree)."""
    status = subprocess.run([*GIT, "-C", str(copy), "status", "--porcelain", "--untracked-files=all"], capture_output=True, text=True, check=True)
    return sorted(line[3:] for line in status.stdout.splitlines() if line[3:].endswith(".py"))


def save_diff(copy: Path, target: Path) -> None:
    subprocess.run([*GIT, "-C", str(copy), "add", "--all"], check=True)
    diff = subprocess.run([*GIT, "-C", str(copy), "diff", "--cached"], capture_output=True, text=True, check=True)
    subprocess.run([*GIT, "-C", str(copy), "reset", "--quiet"], check=True)
    target.write_text(diff.stdout)


def new_pyflakes_diagnostics(ruff: str | None, before: Path, after: Path, changed: Sequence[str]) -> list[str] | None:
    """Pyflakes diagnostics (ruff's F rules, which no project configuration changes) the rewrite added
    to the changed and created files; None without ruff."""
    if ruff is None or not changed:
        return None if ruff is None else []

    def diagnostics(folder: Path) -> collections.Counter[tuple[str, str, str]]:
        files = [f for f in changed if (folder / f).is_file()]
        if not files:
            return collections.Counter()
        command = [ruff, "check", "--isolated", "--no-cache", "--select", "F", "--output-format", "json", "--exit-zero", *files]
        found = json.loads(subprocess.run(command, cwd=folder, capture_output=True, text=True, check=True).stdout)
        return collections.Counter((Path(d["filename"]).relative_to(folder.resolve()).as_posix(), d["code"], d["message"]) for d in found)

    added = diagnostics(after) - diagnostics(before)
    return sorted(f"{path}: {code} {message}" for path, code, message in added.elements())


@dataclasses.dataclass
class ProjectResult:
    project: Project
    before: SuiteRun
    after: SuiteRun
    run: RunResult
    changed: list[str]
    comparison: Comparison
    new_diagnostics: list[str] | None  # pyflakes diagnostics the rewrite added; None: ruff not found
    culprits: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # codemod -> tests it breaks alone


def check_project(
    project: Project, cache: Path, git_mirror: Path | None, auditfix: Sequence[str], bisect: bool, ruff: str | None
) -> ProjectResult:
    folder = project_folder(cache, project)
    source = pristine_source(project, cache, git_mirror)
    python = environment_for(project, cache, source)
    before_copy = fresh_copy(source, folder / "before", as_git=False)
    before = run_suite(project, python, before_copy, folder / "before.xml")
    after_copy = fresh_copy(source, folder / "after", as_git=True)
    run = run_auditfix(auditfix, after_copy)
    changed = changed_files(after_copy)
    save_diff(after_copy, folder / "auditfix.diff")
    after = run_suite(project, python, after_copy, folder / "after.xml")
    diagnostics = new_pyflakes_diagnostics(ruff, source, after_copy, changed)
    result = ProjectResult(project, before, after, run, changed, compare(before.outcomes, after.outcomes), diagnostics)
    if bisect and result.comparison.newly_failing:
        result.culprits = find_culprits(result, source, python, folder, auditfix)
    return result


def find_culprits(result: ProjectResult, source: Path, python: Path, folder: Path, auditfix: Sequence[str]) -> dict[str, list[str]]:
    """Each codemod that changed files, run alone: which of the newly failing tests fail with it."""
    failing = {t.test_id for t in result.comparison.newly_failing}
    culprits: dict[str, list[str]] = {}
    for codemod in result.run.per_codemod:
        copy = fresh_copy(source, folder / f"only-{codemod}", as_git=True)
        run_auditfix(auditfix, copy, select=codemod)
        save_diff(copy, folder / f"only-{codemod}.diff")
        # The whole suite again: a test id from JUnit is not always a pytest node id.
        alone = run_suite(result.project, python, copy, folder / f"only-{codemod}.xml")
        broken = sorted(failing - alone.passed)
        if broken:
            culprits[codemod] = broken
    return culprits


# -- the report -------------------------------------------------------------------------------------------


def print_report(result: ProjectResult) -> None:
    project, comparison = result.project, result.comparison
    print(f"== {project.name}: {project.source.label} ==")
    print(f"stack: {project.stack}")
    for label, suite in (("before", result.before), ("after", result.after)):
        counts = {k: sum(1 for o in suite.outcomes.values() if o.outcome == k) for k in ("passed", "failed", "error", "skipped")}
        print(f"suite {label}: {counts['passed']} passed, {counts['failed']} failed, {counts['error']} errors, "
              f"{counts['skipped']} skipped ({suite.seconds:.0f} s, pytest exit {suite.exit_code})")
    if not result.before.outcomes:
        print("    the suite reported no test; its output ends with:\n" + _indent(result.before.output_tail[-1500:]))
    per_codemod = ", ".join(f"{name} {count}" for name, count in result.run.per_codemod.items()) or "none"
    print(f"auditfix run --write: exit {result.run.exit_code}, {result.run.seconds:.0f} s; files changed per codemod: {per_codemod}")
    problems = [p for p in result.run.problems if p.kind != "skipped"]
    for problem in problems:
        print(f"    {problem.kind} {problem.path}: {problem.reason}")
    print(f"files changed or created: {len(result.changed)}")
    if result.new_diagnostics is None:
        print("pyflakes diagnostics added: not checked (no ruff; pass --ruff)")
    else:
        print(f"pyflakes diagnostics added: {len(result.new_diagnostics)}")
        for text in result.new_diagnostics:
            print(f"    {text}")
    print(f"tests passing before: {comparison.passed_before}; after: {comparison.passed_after}; "
          f"newly passing: {len(comparison.newly_passing)}")
    print(f"tests newly failing: {len(comparison.newly_failing)}")
    for outcome in comparison.newly_failing:
        print(f"    {outcome.test_id} [{outcome.outcome}]: {outcome.message}")
    for codemod, tests in result.culprits.items():
        print(f"    --select {codemod} alone breaks {len(tests)} of them")
    new_collection = [o for o in result.after.outcomes.values() if o.test_id.startswith("::") and o.test_id not in result.before.outcomes]
    if new_collection:
        print(f"test modules that no longer import: {len(new_collection)}")
        for outcome in new_collection:
            print(f"    {outcome.test_id.strip(':')}: {outcome.message}")
    if comparison.newly_failing and not result.after.outcomes:
        print("    the suite after reported no test; its output ends with:\n" + _indent(result.after.output_tail[-1500:]))
    print()


def _indent(text: str) -> str:
    return "\n".join("        " + line for line in text.splitlines())


def default_auditfix() -> list[str]:
    """The console script ``pip install .`` puts next to this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "auditfix"
    found = str(beside) if beside.is_file() else shutil.which("auditfix")
    if found is None:
        raise SystemExit("no auditfix console script: pip install . first, or pass --auditfix")
    return [found]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache-dir", help="where sources, virtual environments and copies live")
    parser.add_argument("--git-mirror", type=Path, help="a folder of bare mirrors owner+name/repo to clone from instead of GitHub")
    parser.add_argument("--only", action="append", default=[], help="only projects whose name starts with this (repeatable)")
    parser.add_argument("--auditfix", help="the auditfix command (default: the console script installed beside this Python)")
    parser.add_argument("--ruff", help="the ruff executable for the pyflakes check (default: beside this Python, else on PATH)")
    parser.add_argument("--bisect", action="store_true", help="run each codemod alone to name the one behind each newly failing test")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    cache = cache_root(arguments.cache_dir)
    chosen = [p for p in PROJECTS if not arguments.only or any(p.name.lower().startswith(o.lower()) for o in arguments.only)]
    if not chosen:
        print(f"no project matches {arguments.only}; known: {', '.join(p.name for p in PROJECTS)}", file=sys.stderr)
        return 2
    auditfix = arguments.auditfix.split() if arguments.auditfix else default_auditfix()
    beside = Path(sys.executable).parent / "ruff"
    ruff = arguments.ruff or (str(beside) if beside.is_file() else shutil.which("ruff"))
    print(f"public projects' own suites, before and after every codemod: {len(chosen)} projects, cache {cache}\n", flush=True)
    regressions: dict[str, int] = {}
    rows: list[str] = []
    for project in chosen:
        try:
            result = check_project(project, cache, arguments.git_mirror, auditfix, arguments.bisect, ruff)
        except CorpusError as exc:
            print(f"== {project.name} ==\ncannot set up: {exc}\n", flush=True)
            regressions[project.name] = -1
            continue
        print_report(result)
        sys.stdout.flush()
        comparison = result.comparison
        rows.append(f"| {project.name} | {project.source.label} | {comparison.passed_before} | {comparison.passed_after} "
                    f"| {len(comparison.newly_failing)} | {', '.join(f'{n} {c}' for n, c in result.run.per_codemod.items()) or 'none'} |")
        if result.comparison.newly_failing:
            regressions[project.name] = len(result.comparison.newly_failing)
    print("| project | version | passed before | passed after | newly failing | files changed per codemod |")
    print("|---|---|---:|---:|---:|---|")
    print("\n".join(rows) + "\n")
    if regressions:
        print("not kept: " + "; ".join(f"{name}: {'setup failed' if n < 0 else f'{n} tests newly failing'}" for name, n in regressions.items()))
        return 1
    print("kept: every test that passed before every codemod ran passes after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
