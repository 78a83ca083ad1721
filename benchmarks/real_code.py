"""Run every codemod with ``--write`` over real code bases from PyPI and check the promises.

    python benchmarks/real_code.py                      # all code bases
    python benchmarks/real_code.py --only Flask-Admin   # one (a name prefix)
    python benchmarks/real_code.py --cache-dir /tmp/bench --jobs 2

Each code base is a source distribution downloaded once (``pip download --no-deps
--no-binary :all:``) into the benchmark cache (``~/.cache/auditfix-benchmarks``, or
``$AUDITFIX_BENCH_CACHE``, or ``--cache-dir``; see ``benchmarks/corpora.py``), never into the
repository.  For each one, on a fresh copy of its ``.py`` files:

1. ``auditfix run COPY --write --no-progress --no-cache --verbose``;
2. every file the run changed or created is compiled with ``py_compile``;
3. the same command again, immediately: it must change nothing.

Printed per code base: files, files changed per codemod, files skipped (counts by reason),
failed files (crashes, which must be 0, and refusals by reason), changed files that do not
compile (must be 0), created packages that hide an existing module (must be 0) and files an
immediate second run changes (must be 0).  Exit status 1
when one of the must-be-0 numbers is not.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import py_compile
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from benchmarks.corpora import LANGCHAIN, SUPERSET, CorpusError, cache_root, fetch_sdist, working_copy  # noqa: E402

CODE_BASES: tuple[str, ...] = (
    SUPERSET,
    LANGCHAIN,
    "Flask-AppBuilder==4.3.11",
    # Flask + Flask-SQLAlchemy admin views, with form handling that commits in views.
    "Flask-Admin==1.6.1",
    # Flask + SQLAlchemy user management: datastores that commit, many routes.
    "Flask-Security-Too==5.3.3",
    # FastAPI + SQLAlchemy CRUD routes that commit, Pydantic v1 schemas.
    "fastapi-crudrouter==0.8.6",
)

AUDITFIX = [sys.executable, "-c", "from cli import entry; entry()"]
_SUMMARY = re.compile(r"^auditfix: (?P<files>\d+) files scanned \((?P<parsed>\d+) parsed, (?P<filtered>\d+) skipped by the pre-filter")
_PER_CODEMOD = re.compile(r"files changed per codemod: (?P<list>[^;]+)")
_PROBLEM = re.compile(r"^(?P<kind>skipped|failed|not written) (?P<path>.+?): (?P<reason>.*)$")


@dataclasses.dataclass
class Problem:
    kind: str  # skipped, failed, not written
    path: str
    reason: str
    detail: list[str] = dataclasses.field(default_factory=list)  # --verbose traceback of a failure

    @property
    def is_crash(self) -> bool:
        return self.kind == "failed" and "internal error" in self.reason


@dataclasses.dataclass
class RunResult:
    exit_code: int
    seconds: float
    files: int = 0
    parsed: int = 0
    filtered: int = 0
    per_codemod: dict[str, int] = dataclasses.field(default_factory=dict)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    stderr: str = ""


@dataclasses.dataclass
class CodeBaseResult:
    requirement: str
    first: RunResult
    second: RunResult
    changed: list[str]  # files the first run changed or created
    created: list[str]
    not_compiling: list[tuple[str, str, bool]]  # (path, error, the original compiled)
    changed_again: list[str]
    hiding: list[str]  # created packages that hide an existing module of the same name

    @property
    def crashes(self) -> list[Problem]:
        return [p for p in self.first.problems + self.second.problems if p.is_crash]

    @property
    def broken(self) -> list[str]:
        """The promises this code base broke."""
        reasons = []
        if self.crashes:
            reasons.append(f"{len(self.crashes)} crashes")
        if [p for p in self.not_compiling if p[2]]:
            reasons.append("changed files that do not compile")
        if self.changed_again:
            reasons.append("a second run changed files")
        if self.hiding:
            reasons.append("created packages hide modules")
        return reasons


# -- running auditfix --------------------------------------------------------------------------------


def run_auditfix(folder: Path, jobs: int | None) -> RunResult:
    command = [*AUDITFIX, "run", str(folder), "--write", "--no-progress", "--no-cache", "--verbose"]
    if jobs:
        command += ["--jobs", str(jobs)]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, cwd=REPOSITORY, env=environment)
    result = RunResult(completed.returncode, time.perf_counter() - started, stderr=completed.stderr)
    parse_stderr(completed.stderr, result)
    return result


def parse_stderr(stderr: str, result: RunResult) -> None:
    current: Problem | None = None
    for line in stderr.splitlines():
        problem = _PROBLEM.match(line)
        summary = _SUMMARY.match(line)
        if problem:
            current = Problem(problem["kind"], problem["path"], problem["reason"])
            result.problems.append(current)
        elif summary:
            current = None
            result.files, result.parsed, result.filtered = (int(summary[k]) for k in ("files", "parsed", "filtered"))
            per_codemod = _PER_CODEMOD.search(line)
            if per_codemod:
                for item in per_codemod["list"].split(", "):
                    name, _, count = item.strip().rpartition(" ")  # "bare-except 12"
                    result.per_codemod[name] = int(count)
        elif current is not None and current.kind == "failed":
            current.detail.append(line)


# -- files -----------------------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*.py")
        if p.is_file() and ".auditfix_cache" not in p.parts
    }


def compile_error(path: Path) -> str | None:
    with tempfile.TemporaryDirectory() as scratch:
        try:
            py_compile.compile(str(path), cfile=str(Path(scratch, "out.pyc")), doraise=True)
        except py_compile.PyCompileError as exc:
            return exc.msg.strip().splitlines()[-1]
    return None


def compiles(data: bytes) -> bool:
    try:
        compile(data, "<original>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def check_code_base(requirement: str, cache: Path, jobs: int | None) -> CodeBaseResult:
    source = fetch_sdist(requirement, cache)
    name = source.name
    copy = working_copy(source, cache / "work" / f"real-code-{name}")
    before = snapshot(copy)
    first = run_auditfix(copy, jobs)
    after = snapshot(copy)
    changed = sorted(p for p in after if before.get(p) != after[p])
    created = sorted(p for p in after if p not in before)
    not_compiling = []
    for path in changed:
        error = compile_error(copy / path)
        if error is not None:
            not_compiling.append((path, error, path in before and compiles(before[path])))
    second = run_auditfix(copy, jobs)
    again = snapshot(copy)
    changed_again = sorted(p for p in again.keys() | after.keys() if again.get(p) != after.get(p))
    packages = {p.rsplit("/", 1)[0] for p in created if "/" in p}
    hiding = sorted(f"{package}/ hides {package}.py" for package in packages if f"{package}.py" in before)
    return CodeBaseResult(requirement, first, second, changed, created, not_compiling, changed_again, hiding)


# -- the report -----------------------------------------------------------------------------------------


def reason_class(reason: str) -> str:
    """A reason without its positions, so that files with the same problem count together."""
    reason = re.sub(r"line \d+, column \d+", "line N, column N", reason)
    reason = re.sub(r"\bat line \d+\b", "at line N", reason)
    return reason


def print_report(result: CodeBaseResult) -> None:
    first = result.first
    print(f"== {result.requirement.replace('==', ' ')} ==")
    print(f"files: {first.files} ({first.parsed} parsed, {first.filtered} without any codemod's markers)")
    per_codemod = ", ".join(f"{name} {count}" for name, count in first.per_codemod.items()) or "none"
    print(f"files changed: {len(result.changed)} ({len(result.created)} created); per codemod: {per_codemod}")
    skipped = collections.Counter(reason_class(p.reason) for p in first.problems if p.kind == "skipped")
    print(f"files skipped: {sum(skipped.values())}")
    for reason, count in skipped.most_common():
        print(f"    {count:4d}  {reason}")
    refusals = collections.Counter(reason_class(p.reason) for p in first.problems if p.kind == "failed" and not p.is_crash)
    print(f"files left unchanged by a safety check: {sum(refusals.values())}")
    for reason, count in refusals.most_common():
        print(f"    {count:4d}  {reason}")
    unwritten = [p for p in first.problems if p.kind == "not written"]
    if unwritten:
        print(f"files not written: {len(unwritten)}")
        for problem in unwritten:
            print(f"    {problem.path}: {problem.reason}")
    print(f"crashes (internal errors): {len(result.crashes)}")
    for problem in result.crashes:
        print(f"    {problem.path}: {problem.reason}")
        print("        " + "\n        ".join(problem.detail[-6:]))
    regressions = [p for p in result.not_compiling if p[2]]
    print(f"changed files that fail py_compile: {len(regressions)}"
          f"{f' (and {len(result.not_compiling) - len(regressions)} that did not compile before either)' if len(result.not_compiling) > len(regressions) else ''}")
    for path, error, _ in regressions:
        print(f"    {path}: {error}")
    print(f"created packages that hide a module: {len(result.hiding)}")
    for text in result.hiding:
        print(f"    {text}")
    print(f"files changed by an immediate second run: {len(result.changed_again)}")
    for path in result.changed_again[:20]:
        print(f"    {path}")
    print(f"seconds: {first.seconds:.1f} first run, {result.second.seconds:.1f} second run; exit codes {first.exit_code}, {result.second.exit_code}")
    print()


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache-dir", help="where downloads, unpacked sources and working copies live")
    parser.add_argument("--only", action="append", default=[], help="only code bases whose name starts with this (repeatable)")
    parser.add_argument("--jobs", type=int, help="worker processes for auditfix (default: one per core)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    cache = cache_root(arguments.cache_dir)
    chosen = [r for r in CODE_BASES if not arguments.only or any(r.lower().startswith(o.lower()) for o in arguments.only)]
    if not chosen:
        print(f"no code base matches {arguments.only}; known: {', '.join(CODE_BASES)}", file=sys.stderr)
        return 2
    print(f"auditfix over real code: {len(chosen)} code bases, cache {cache}\n", flush=True)
    broken: dict[str, list[str]] = {}
    for requirement in chosen:
        try:
            result = check_code_base(requirement, cache, arguments.jobs)
        except CorpusError as exc:
            print(f"== {requirement} ==\ncannot download: {exc}\n", flush=True)
            broken[requirement] = ["download failed"]
            continue
        print_report(result)
        sys.stdout.flush()
        if result.broken:
            broken[requirement] = result.broken
    if broken:
        print("promises broken: " + "; ".join(f"{r}: {', '.join(b)}" for r, b in broken.items()))
        return 1
    print("every promise kept: 0 crashes, every changed file compiles, a second run changes nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
