"""How fast auditfix is, against what a plain libcst tool pays on the same code.

Usage (from the repository root; see benchmarks/README.md):

    python benchmarks/run_benchmarks.py                       # langchain, superset, pre-commit, sample_repo x1/x10/x100
    python benchmarks/run_benchmarks.py --with-bump-pydantic  # plus pydantic-config against bump-pydantic (minutes)
    python benchmarks/run_benchmarks.py --quick               # sample_repo x10 only, each run once (what CI runs)
    python benchmarks/run_benchmarks.py --json results.json --repeat 3

For every corpus, side by side in one run:

    libcst, all files       ``libcst.parse_module(...).code`` over every file auditfix discovers, one
                            process: the cost of a plain libcst tool that parses every file (the
                            "all-files libcst baseline"; auditfix's targets are ratios to it)
    libcst, parsed files    the same over exactly the files auditfix parses (the rest it rules out
                            by text markers and CPython's parse): the equal-work baseline
    cold -j1                ``auditfix run --dry-run`` (all codemods), one worker, no cache
    cold -jN                the same with one worker per core
    warm -jN (replay)       the same command again, unchanged input: replayed from .auditfix_cache/

and on apache-superset the pre-commit case: ``auditfix run --check FILE...`` after one named
file changed, against ``python -c "import libcst"`` measured in the same minutes.  With
``--with-bump-pydantic``: fastapi 0.99.1 and openapi-schema-pydantic 1.2.4 converted by
pydantic-config alone and by bump-pydantic 0.8.0 restricted to its Config rule (BP002), each
conversion judged by benchmarks/pydantic_oracle.py (Pydantic v2, warnings as errors).

How it measures (and why):
- Every timed command is a subprocess, so start-up, imports and the process pool are paid as a
  user pays them.  Its wall time, CPU time and peak memory come from ``os.wait4``: ``ru_maxrss`` of a
  waited child covers the child and every descendant it waited for, so "peak MB" is the largest
  process of the run (the main process or one pool worker).
- The per-run file counts (parsed, skipped by the pre-filter, from cache) are read from the summary
  line the CLI prints on stderr, so they belong to the very run that was timed and cost nothing
  extra.  ``tests/test_benchmark_script.py`` breaks if that line's format changes.  Which files
  each codemod's markers select, and which files auditfix parses, are computed in this process
  (text and CPython parse only, untimed); the second must equal the cold run's count.
- The libcst baselines get their file lists in a process that imports only libcst.
- Each measurement is repeated ``--repeat`` times (small corpora at least 3) and the fastest is kept:
  the machine is shared, so the minimum is the measurement least disturbed by other load.
- The scale series reports seconds per 1,000 lines raw, less the start-up (a run on an empty
  folder, which imports neither libcst nor a codemod), and less the fixed cost of a run (a cold run
  on one small module every codemod acts on: libcst, the codemods and their templates are loaded,
  one file is rewritten).  Linearity is judged on the last: a constant cost paid once per run is not
  a scaling problem, but it dominates a 2,600-line corpus.  The copies differ by a comment line, so
  no per-text sharing makes a copy cheaper than the original.

Unix only (``os.wait4``, ``resource``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import corpora  # noqa: E402 - needs the repository on sys.path when run as a script

SCHEMA_VERSION = 3

# The libcst baselines: parse and print each listed file.  Only libcst is imported.
LIBCST_PROGRAM = """
import json, sys
import libcst
with open(sys.argv[1], encoding="utf-8") as handle:
    root, paths = json.load(handle)
parsed = failed = 0
for path in paths:
    with open(root + "/" + path, "rb") as handle:
        data = handle.read()
    try:
        libcst.parse_module(data).code
        parsed += 1
    except Exception:
        failed += 1
print(json.dumps({"parsed": parsed, "failed": failed}))
"""

# The installed CLI of this checkout, exactly as the console script (pyproject's [project.scripts]) starts it.
CLI_PROGRAM = "import sys; from codemods.engine.console import entry; sys.argv[0] = 'auditfix'; sys.exit(entry())"
IMPORT_LIBCST = [sys.executable, "-c", "import libcst"]
ALL_FILES = "libcst, all files"
PARSED_FILES = "libcst, parsed files"

SUMMARY = re.compile(
    r"(?P<files>\d+) files scanned \((?P<parsed>\d+) parsed, (?P<filtered>\d+) skipped by the pre-filter"
    r"(?:, (?P<cached>\d+) from cache)?\), (?P<changed>\d+) changed, (?P<skipped>\d+) skipped, (?P<failed>\d+) failed"
)
REMOVED_CONFIG_CLASS = re.compile(r"^-\s*class Config\b", re.M)

# Targets (issues 7 and 22).  The -j2 speed-up target was retired: on these corpora the pre-filter
# leaves too little parallel work (benchmarks/README.md).
COLD_RATIO_MAX = 1.0
WARM_RATIO_MAX = 0.1
PRECOMMIT_RATIO_MAX = 2.5
BUMP_SPEEDUP_MIN = 20.0
SCALE_TOLERANCE = 0.20
WORKER_MEMORY_MAX_MB = 300.0
SMALL_CORPUS_LINES = 20_000
# The pre-commit case on superset: the file the issue names, and a second one elsewhere in the
# tree, so that the two are worked on from superset/ with its whole-tree indexes.
PRECOMMIT_FILE = "superset/views/sql_lab/views.py"
PRECOMMIT_OTHER = "superset/sqllab/api.py"
# A module none of the codemods' markers occur in: what most commits change.
PRECOMMIT_UNTOUCHED = "superset/utils/hashing.py"
# bump-pydantic 0.8.0's rules; all but BP002 (class Config -> model_config) are disabled.
BUMP_PYDANTIC = "bump-pydantic==0.8.0"
BUMP_RULES_OFF = ("BP001", "BP003", "BP004", "BP005", "BP006", "BP007", "BP008", "BP009")


class BenchmarkError(Exception):
    """A command the benchmark depends on failed; the message has its output."""


@dataclasses.dataclass
class Timing:
    seconds: float
    cpu_seconds: float
    peak_mb: float
    returncode: int
    stdout: bytes
    stderr: str


@dataclasses.dataclass
class Measurement:
    corpus: str
    run: str
    seconds: float
    cpu_seconds: float
    peak_mb: float
    ratio: float | None = None  # seconds / the all-files libcst baseline's seconds on the same corpus
    equal_work_ratio: float | None = None  # seconds / the parsed-files libcst baseline's seconds
    files: int | None = None
    parsed: int | None = None
    filtered: int | None = None
    cached: int | None = None
    changed: int | None = None
    failed: int | None = None
    configs_converted: int | None = None  # class Config blocks handled (converted or removed)
    configs_wrong: int | None = None  # conversions the oracle judges wrong
    # pre-commit: the fastest `import libcst` timed between this case's runs, and the ratio to the
    # fastest of the whole pre-commit measurement (``ratio`` is to the former)
    baseline_seconds: float | None = None
    fastest_baseline_ratio: float | None = None
    note: str = ""


@dataclasses.dataclass
class CorpusResult:
    name: str
    files: int
    lines: int
    marker_matches: dict[str, int]  # codemod name (and "any") -> files whose markers match
    measurements: list[Measurement]
    parsed_files: int | None = None  # files auditfix parses (markers and syntax pre-check pass)

    def get(self, run: str) -> Measurement | None:
        return next((m for m in self.measurements if m.run == run), None)


@dataclasses.dataclass
class Target:
    name: str
    value: float | None
    limit: float
    comparison: str  # "<=" or ">="
    met: bool | None  # None: not measured in this run
    detail: str = ""


# -- running one command ---------------------------------------------------------------------


def timed(command: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None) -> Timing:
    """Run ``command``; wall and CPU seconds and the peak RSS of its largest process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(list(command), cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read().decode("utf-8", errors="replace")
    peak = usage.ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return Timing(seconds, usage.ru_utime + usage.ru_stime, peak, process.returncode, stdout, stderr)


def fastest(repeats: int, run: Any) -> Timing:
    """The quickest of ``repeats`` runs of ``run()`` (peak memory: the largest seen)."""
    timings = [run() for _ in range(max(repeats, 1))]
    best = min(timings, key=lambda t: t.seconds)
    return dataclasses.replace(best, peak_mb=max(t.peak_mb for t in timings))


def child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env.pop("AUDITFIX_BENCH_CACHE", None)
    return env


def auditfix_command(*arguments: str) -> list[str]:
    return [sys.executable, "-c", CLI_PROGRAM, *arguments]


def parse_summary(stderr: str) -> dict[str, int]:
    """The counts of the CLI's ``auditfix: N files scanned (...)`` line."""
    match = SUMMARY.search(stderr)
    if match is None:
        raise BenchmarkError(f"no run summary in auditfix's stderr:\n{stderr[-3000:]}")
    return {key: int(value) if value is not None else 0 for key, value in match.groupdict().items()}


def count_removed_config_classes(diff: bytes) -> int:
    return len(REMOVED_CONFIG_CLASS.findall(diff.decode("utf-8", errors="replace")))


def remove_cache(corpus: Path) -> None:
    shutil.rmtree(corpus / ".auditfix_cache", ignore_errors=True)


# -- what each run measures --------------------------------------------------------------------


def discovered_files(root: Path) -> list[str]:
    from codemods.engine.discovery import discover

    return discover(root).paths


def marker_matches(root: Path, paths: Sequence[str]) -> dict[str, int]:
    """How many files each codemod's pre-filter lets through (no parsing)."""
    from codemods import REGISTRY

    data = [(root / p).read_bytes() for p in paths]
    counts = {c.name: sum(1 for d in data if c.applies_to(d)) for c in REGISTRY}
    counts["any"] = sum(1 for d in data if any(c.applies_to(d) for c in REGISTRY))
    return counts


def files_auditfix_parses(root: Path, paths: Sequence[str]) -> list[str]:
    """The files a cold run of every codemod gives to libcst: some codemod's markers occur and its
    syntax pre-check holds on CPython's parse (or CPython cannot parse it), with the whole-tree
    indexes the run builds (pydantic-api's and query-in-loop's pre-checks consult them), as the
    engine and the pipeline decide."""
    from codemods import REGISTRY
    from codemods.analysis import precheck
    from codemods.engine.config import resolve
    from codemods.engine.pipeline import Plan, candidates
    from codemods.engine.runner import Engine, RunReport, read_sources

    settings = resolve(root, REGISTRY, jobs=1, cache=False)
    engine = Engine(root, settings)
    sources = read_sources(root, paths, RunReport(root, ()))
    indexers = [c for c in settings.codemods if c.index_markers and engine._may_act_anywhere(c, sources)]
    indexes = engine._build_indexes(indexers, sources)
    unused = tuple(c.name for c in settings.codemods if c.index_markers and c.name not in indexes)
    plan = Plan(settings.codemods, settings.options, indexes, settings.templates, empty_indexes=unused)
    parsed = []
    for source in sources:
        applicable = plan.applicable(source.data)
        if applicable and candidates(applicable, precheck.parse_shared(source.data), plan, source.path, source.data):
            parsed.append(source.path)
    return parsed


def registered_codemods() -> list[str]:
    from codemods import REGISTRY

    return [c.name for c in REGISTRY]


def measure_libcst(corpus: corpora.Corpus, run: str, paths: Sequence[str], repeats: int, scratch: Path) -> Measurement:
    """A libcst baseline: parse and print ``paths``, in a process that imports only libcst."""
    listing = scratch / f"{re.sub(r'[^A-Za-z0-9]+', '-', corpus.name + ' ' + run)}.json"
    listing.write_text(json.dumps([str(corpus.path), list(paths)]), encoding="utf-8")
    command = [sys.executable, "-c", LIBCST_PROGRAM, str(listing)]
    timing = fastest(repeats, lambda: timed(command, cwd=scratch, env=child_environment()))
    if timing.returncode != 0:
        raise BenchmarkError(f"the libcst baseline failed on {corpus.name}:\n{timing.stderr[-3000:]}")
    counts = json.loads(timing.stdout)
    note = f"{counts['failed']} files libcst cannot parse" if counts["failed"] else ""
    return Measurement(
        corpus.name, run, timing.seconds, timing.cpu_seconds, timing.peak_mb,
        files=len(paths), parsed=counts["parsed"], note=note,
    )  # fmt: skip


def measure_auditfix(
    corpus: corpora.Corpus, run: str, arguments: Sequence[str], repeats: int, scratch: Path, *, cold: bool
) -> tuple[Measurement, bytes]:
    command = auditfix_command("run", "--dry-run", "--no-progress", *arguments, str(corpus.path))

    def once() -> Timing:
        if cold:
            remove_cache(corpus.path)
        timing = timed(command, cwd=scratch, env=child_environment())
        if timing.returncode not in (0, 1, 3):  # nothing to do, changes, some files skipped/failed
            raise BenchmarkError(f"{run} on {corpus.name} exited {timing.returncode}:\n{timing.stderr[-3000:]}")
        return timing

    timing = fastest(repeats, once)
    counts = parse_summary(timing.stderr)
    measurement = Measurement(
        corpus.name, run, timing.seconds, timing.cpu_seconds, timing.peak_mb,
        files=counts["files"], parsed=counts["parsed"], filtered=counts["filtered"], cached=counts["cached"],
        changed=counts["changed"], failed=counts["failed"],
    )  # fmt: skip
    return measurement, timing.stdout


# -- one corpus ----------------------------------------------------------------------------------


def benchmark_corpus(
    corpus: corpora.Corpus, *, jobs: int, repeats: int, scratch: Path, log: Any, quick: bool = False,
) -> CorpusResult:  # fmt: skip
    """The libcst baselines and the runs of one corpus.  ``quick`` (CI's check that the script
    still works): each measured once, and no one-core run or fixed cost, which the full benchmark
    measures."""
    if corpus.lines < SMALL_CORPUS_LINES and not quick:
        repeats = max(repeats, 3)
    paths = discovered_files(corpus.path)
    parsed = files_auditfix_parses(corpus.path, paths)
    log(f"{corpus.name}: {len(paths)} files, {corpus.lines} lines; auditfix parses {len(parsed)}")
    result = CorpusResult(corpus.name, corpus.files, corpus.lines, marker_matches(corpus.path, paths), [], len(parsed))
    everything = measure_libcst(corpus, ALL_FILES, paths, repeats, scratch)
    same_files = measure_libcst(corpus, PARSED_FILES, parsed, repeats, scratch)
    result.measurements += [everything, same_files]
    log(f"  {ALL_FILES:24} {everything.seconds:7.2f} s\n  {PARSED_FILES:24} {same_files.seconds:7.2f} s")
    runs = [
        ("cold -j1", ["-j", "1"], True), (f"cold -j{jobs}", ["-j", str(jobs)], True),
        (f"warm -j{jobs} (replay)", ["-j", str(jobs)], False),
    ]  # fmt: skip
    if quick:
        runs = runs[1:]
    for run, arguments, cold in runs:
        measurement, _ = measure_auditfix(corpus, run, arguments, repeats, scratch, cold=cold)
        if cold and measurement.parsed != len(parsed):
            measurement.note = f"parsed {measurement.parsed}, the pre-computed list has {len(parsed)}"
        result.measurements.append(measurement)
        log(f"  {run:24} {measurement.seconds:7.2f} s")
    for measurement in result.measurements:
        measurement.ratio = measurement.seconds / everything.seconds if everything.seconds else None
        measurement.equal_work_ratio = measurement.seconds / same_files.seconds if same_files.seconds else None
    remove_cache(corpus.path)
    return result


# -- the pre-commit case ------------------------------------------------------------------------------


def measure_precommit(
    corpus: corpora.Corpus, cases: Sequence[tuple[str, Sequence[str], dict[str, str]]], repeats: int, scratch: Path, log: Any
) -> CorpusResult:
    """``auditfix run --check --no-progress FILE...`` as the pre-commit hook runs it, from the
    corpus's top, after the first named file changed: each case is run once unchanged (its
    caches filled, as by the previous commit), then ``repeats`` times (at least 5) with a new last
    line in that file, so no result of it is cached and nothing is replayed.  ``import libcst``
    is timed after each of those runs, and each case is compared with the fastest of its own
    baseline runs: the same number of runs, in the same minutes (the machine's speed changes from
    one minute to the next; the fastest of all baseline runs, the first row, was taken over four
    times as many).  A case's variables are added to auditfix's environment (not to the baseline's)."""
    repeats = max(repeats, 5)
    result = CorpusResult(f"{corpus.name} pre-commit", corpus.files, corpus.lines, {}, [])
    baseline: list[Timing] = []
    for case, (label, files, variables) in enumerate(cases):
        command = auditfix_command("run", "--check", "--no-progress", *files)
        environment = {**child_environment(), **variables}
        changed = corpus.path / files[0]
        original = changed.read_bytes()
        timed(command, cwd=corpus.path, env=environment)  # the previous commit's run
        timings, own_baseline = [], []
        for number in range(repeats):
            # No codemod's marker, and a text no other case wrote (its results would be cached).
            changed.write_bytes(original + f"# edited {case}.{number}\n".encode())
            timing = timed(command, cwd=corpus.path, env=environment)
            if timing.returncode not in (0, 1):
                raise BenchmarkError(f"pre-commit run on {files} exited {timing.returncode}:\n{timing.stderr[-3000:]}")
            timings.append(timing)
            own_baseline.append(timed(IMPORT_LIBCST, cwd=scratch, env=child_environment()))
        baseline += own_baseline
        changed.write_bytes(original)
        best = min(timings, key=lambda t: t.seconds)
        listed = best.stdout.decode().split()
        measurement = Measurement(
            result.name, label, best.seconds, best.cpu_seconds, max(t.peak_mb for t in timings),
            files=len(files), changed=len(listed), note=" ".join(files),
            baseline_seconds=min(t.seconds for t in own_baseline),
        )  # fmt: skip
        result.measurements.append(measurement)
        log(f"  pre-commit {label:40} {best.seconds:6.2f} s")
    libcst = min(baseline, key=lambda t: t.seconds)
    result.measurements.insert(0, Measurement(result.name, "python -c 'import libcst'", libcst.seconds, libcst.cpu_seconds, libcst.peak_mb))
    for measurement in result.measurements:
        measurement.ratio = measurement.seconds / (measurement.baseline_seconds or libcst.seconds)
        measurement.fastest_baseline_ratio = measurement.seconds / libcst.seconds
    remove_cache(corpus.path)
    for files in (f for _, f, _ in cases):
        for file in files:
            shutil.rmtree((corpus.path / file).parent / ".auditfix_cache", ignore_errors=True)
    return result


# -- pydantic-config against bump-pydantic --------------------------------------------------------------


def bump_pydantic_executable(cache: Path) -> Path:
    """bump-pydantic 0.8.0 in its own virtualenv under the cache folder, so it cannot touch our packages."""
    venv = cache / "venv-bump-pydantic-0.8.0"
    executable = venv / "bin" / "bump-pydantic"
    if executable.is_file():
        return executable
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", BUMP_PYDANTIC],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True)
        if result.returncode != 0:
            raise BenchmarkError(f"{' '.join(step)} failed:\n{result.stderr[-3000:]}")
    return executable


def judge_conversions(original: Path, converted: Path, scratch: Path) -> dict[str, Any]:
    """benchmarks/pydantic_oracle.py over a converted tree (its own process: Pydantic v2)."""
    output = scratch / f"oracle-{converted.name}.json"
    command = [sys.executable, str(REPO / "benchmarks" / "pydantic_oracle.py"), str(original), str(converted), str(output)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=scratch, env={**os.environ, "PYTHONPATH": ""})
    if result.returncode != 0:
        raise BenchmarkError(f"the oracle failed on {converted}:\n{result.stderr[-3000:]}")
    return json.loads(output.read_text(encoding="utf-8"))


def oracle_note(verdict: dict[str, Any]) -> str:
    wrong = [f"{r['path']}::{r['class']}: {r['wrong']}" for r in verdict["results"] if r.get("wrong")]
    misleading = [
        f"{r['path']}::{r['class']}: TODO says removed but kept: {', '.join(r['misleading_todos'])}"
        for r in verdict["results"] if r.get("misleading_todos")
    ]  # fmt: skip
    empty = sum(1 for r in verdict["results"] if r.get("empty_v1_config") and r["handled"])
    parts = [f"{verdict['classes']} v1 Config classes, {verdict['handled']} handled, {verdict['modules_imported']} of their modules import under v2"]
    parts.append(f"{empty} empty Config handled")
    parts += [f"WRONG {w}" for w in wrong] + [f"misleading {m}" for m in misleading]
    return "; ".join(parts)


def measure_pydantic(
    corpus: corpora.Corpus, *, jobs: int, scratch: Path, cache: Path, log: Any, bump: bool
) -> CorpusResult:
    """pydantic-config (``run --select pydantic-config --write``) and bump-pydantic's Config rule,
    each on a fresh copy of the sdist, each judged by the oracle."""
    result = CorpusResult(corpus.name, corpus.files, corpus.lines, {}, [])
    ours = corpora.migrating_to_pydantic_2(corpora.working_copy(corpus.path, scratch / "pydantic-config" / corpus.path.name))
    command = auditfix_command("run", "--write", "--no-progress", "--no-cache", "--select", "pydantic-config", "-j", str(jobs), str(ours))
    timing = timed(command, cwd=scratch, env=child_environment())
    if timing.returncode not in (0, 3):
        raise BenchmarkError(f"pydantic-config on {corpus.name} exited {timing.returncode}:\n{timing.stderr[-3000:]}")
    result.measurements.append(_judged(corpus, "pydantic-config", timing, ours, scratch))
    log(f"  pydantic-config  {timing.seconds:7.2f} s: {result.measurements[-1].note[:150]}")
    if bump:
        executable = bump_pydantic_executable(cache)
        theirs = corpora.working_copy(corpus.path, scratch / "bump-pydantic" / corpus.path.name)
        disable = [argument for rule in BUMP_RULES_OFF for argument in ("--disable", rule)]
        # It wants a path relative to its working folder, and writes its log file there.
        timing = timed([str(executable), *disable, "--log-file", str(scratch / "bump-pydantic.log"), "."], cwd=theirs)
        if timing.returncode != 0:
            raise BenchmarkError(f"bump-pydantic exited {timing.returncode}:\n{timing.stderr[-3000:]}")
        result.measurements.append(_judged(corpus, "bump-pydantic (BP002)", timing, theirs, scratch))
        log(f"  bump-pydantic    {timing.seconds:7.2f} s: {result.measurements[-1].note[:150]}")
    return result


def _judged(corpus: corpora.Corpus, run: str, timing: Timing, converted: Path, scratch: Path) -> Measurement:
    verdict = judge_conversions(corpus.path, converted, scratch)
    return Measurement(
        corpus.name, run, timing.seconds, timing.cpu_seconds, timing.peak_mb, files=corpus.files,
        configs_converted=verdict["handled"], configs_wrong=verdict["wrong"], note=oracle_note(verdict),
    )  # fmt: skip


def byte_compile_checkout() -> None:
    """Compile this checkout's modules to ``__pycache__`` (git-ignored), as ``pip install`` does
    for an installed auditfix: otherwise every timed run would compile them again (this
    machine sets PYTHONDONTWRITEBYTECODE), which no user's run pays."""
    import compileall

    compileall.compile_dir(REPO / "codemods", quiet=1)
    compileall.compile_file(REPO / "cli.py", quiet=1)


def startup_seconds(repeats: int, scratch: Path) -> float:
    """A run on an empty folder: interpreter, CLI and settings.  It imports neither libcst nor
    a codemod (nothing to parse), so it is the least any run costs, not the fixed cost of a real one."""
    empty = scratch / "empty"
    empty.mkdir(exist_ok=True)
    command = auditfix_command("run", "--dry-run", "--no-progress", "-j", "1", str(empty))
    return fastest(repeats, lambda: timed(command, cwd=scratch, env=child_environment())).seconds


# One small module that every codemod acts on: a run on it pays every fixed cost of a real run
# (libcst, the codemods, their templates, one parse and rewrite of each kind) and almost no
# per-line cost.
ONE_FILE = '''\
import asyncio
from datetime import datetime

import requests
from fastapi import APIRouter
from flask import Blueprint, request
from pydantic import BaseModel
from slowapi import Limiter
from slowapi.util import get_remote_address

from app.extensions import db
from app.settings import API_TOKEN

bp = Blueprint("items", __name__)
router = APIRouter()
limiter = Limiter(key_func=get_remote_address)


class Item(BaseModel):
    name: str

    class Config:
        extra = "forbid"


@bp.route("/items", methods=["POST"])
def create_item():
    if request.headers.get("X-Api-Token") != API_TOKEN:
        return {"error": "forbidden"}, 403
    try:
        item = Item(name=requests.get("http://names.invalid/next").text)
    except:
        print("bad item")
        raise
    for name in ("a", "b"):
        db.session.add(name)
        db.session.commit()
    db.session.add(item)
    db.session.commit()
    return {"item": item.dict(), "at": datetime.utcnow().isoformat()}


@router.get("/items")
@limiter.limit("5/minute")
def list_items():
    return [item.name for item in db.session.query(Item).all()]


def sync_items():
    return asyncio.get_event_loop().run_until_complete(fetch_items())
'''


# The package configures logging, as an app does: print-to-logging converts only where output stays visible.
ONE_FILE_PACKAGE = "import logging\n\nlogging.basicConfig(level=logging.INFO)\n"


def fixed_seconds(repeats: int, scratch: Path) -> float:
    """A cold run over ONE_FILE alone: the fixed cost of a run that has code to fix."""
    folder = scratch / "one-file"
    (folder / "app" / "routes").mkdir(parents=True, exist_ok=True)
    (folder / "app" / "__init__.py").write_text(ONE_FILE_PACKAGE)
    (folder / "app" / "routes" / "__init__.py").write_text("")
    (folder / "app" / "routes" / "items.py").write_text(ONE_FILE)
    command = auditfix_command("run", "--dry-run", "--no-progress", "--no-cache", "-j", "1", str(folder))

    def once() -> Timing:
        timing = timed(command, cwd=scratch, env=child_environment())
        if timing.returncode != 1 or parse_summary(timing.stderr)["changed"] < 1:
            raise BenchmarkError(f"the one-file run changed nothing or failed:\n{timing.stderr[-3000:]}")
        return timing

    return fastest(repeats, once).seconds


# -- targets -------------------------------------------------------------------------------------


def _target(name: str, value: float | None, limit: float, comparison: str, detail: str = "") -> Target:
    if value is None:
        return Target(name, None, limit, comparison, None, detail or "not measured in this run")
    met = value <= limit if comparison == "<=" else value >= limit
    return Target(name, round(value, 3), limit, comparison, met, detail)


def evaluate_targets(results: Sequence[CorpusResult], scale: Sequence[dict[str, Any]], jobs: int) -> list[Target]:
    targets = []
    for result in results:
        if result.name.endswith("pre-commit"):
            # The target is the case, the first; the others are context (two files, and a
            # changed file no codemod can act on, the usual commit).
            m = result.measurements[1]
            targets.append(_target(f"{result.name}: {m.run} / import libcst", m.ratio, PRECOMMIT_RATIO_MAX, "<=", m.note))
            continue
        ours, theirs = result.get("pydantic-config"), result.get("bump-pydantic (BP002)")
        if ours or theirs:
            speedup = theirs.seconds / ours.seconds if ours and theirs else None
            targets.append(_target(f"{result.name}: bump-pydantic / pydantic-config (speed-up)", speedup, BUMP_SPEEDUP_MIN, ">="))
            more = (ours.configs_converted or 0) - (theirs.configs_converted or 0) if ours and theirs else None
            detail = f"{ours.configs_converted} against {theirs.configs_converted}" if ours and theirs else ""
            targets.append(_target(f"{result.name}: Config classes handled, pydantic-config minus bump-pydantic", more, 0, ">=", detail))
            if ours:
                targets.append(_target(f"{result.name}: pydantic-config's wrong conversions (oracle)", ours.configs_wrong, 0, "<="))
            continue
        if result.name.startswith("sample_repo"):
            continue  # the scale series has a target of its own
        cold, warm = result.get("cold -j1"), result.get(f"warm -j{jobs} (replay)")
        targets.append(_target(f"{result.name}: cold -j1 / libcst all files", cold and cold.ratio, COLD_RATIO_MAX, "<="))
        targets.append(_target(f"{result.name}: warm -j{jobs} (replay) / libcst all files", warm and warm.ratio, WARM_RATIO_MAX, "<="))
        if result.name.startswith("apache-superset"):
            parallel = result.get(f"cold -j{jobs}")
            peak = max((m.peak_mb for m in (cold, parallel) if m), default=None)
            targets.append(_target(f"{result.name}: peak MB of the largest process", peak, WORKER_MEMORY_MAX_MB, "<="))
    if len(scale) > 1:
        reference = scale[-1]["marginal_seconds_per_kloc"]
        deviation = max(abs(point["marginal_seconds_per_kloc"] / reference - 1) for point in scale) if reference else None
        detail = ", ".join(f"x{p['copies']}: {p['marginal_seconds_per_kloc']:.3f}" for p in scale)
        targets.append(_target("scale series: largest deviation of s/kLOC from the largest copy", deviation, SCALE_TOLERANCE, "<=", detail))
    return targets


def scale_point(result: CorpusResult, copies: int, startup: float, fixed: float) -> dict[str, Any]:
    """Seconds per 1,000 lines of the cold one-core run: raw, less the empty-folder start-up, and
    less the fixed cost of a run (the one-file run), which is what linearity is judged on."""
    cold = result.get("cold -j1")
    assert cold is not None
    kloc = result.lines / 1000
    return {
        "copies": copies,
        "lines": result.lines,
        "seconds": round(cold.seconds, 3),
        "seconds_per_kloc": round(cold.seconds / kloc, 4),
        "less_startup_seconds_per_kloc": round(max(cold.seconds - startup, 0.0) / kloc, 4),
        "marginal_seconds_per_kloc": round(max(cold.seconds - fixed, 0.0) / kloc, 4),
    }


# -- output --------------------------------------------------------------------------------------


def _number(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return ""
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def markdown(
    results: Sequence[CorpusResult], scale: Sequence[dict[str, Any]], targets: Sequence[Target], startup: float,
    fixed: float | None,
) -> str:  # fmt: skip
    lines = [
        "| corpus | run | seconds | × libcst all files | × libcst parsed files | CPU s | peak MB | files | parsed | "
        "skipped by the pre-filter | from cache | changed | Config classes handled | wrong |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        if result.name.endswith("pre-commit") or result.get("pydantic-config"):
            continue
        for m in result.measurements:
            lines.append(
                f"| {result.name} ({result.lines:,} lines) | {m.run} | {m.seconds:.2f} | {_number(m.ratio)} | "
                f"{_number(m.equal_work_ratio)} | {m.cpu_seconds:.2f} | {m.peak_mb:.0f} | {_number(m.files)} | "
                f"{_number(m.parsed)} | {_number(m.filtered)} | {_number(m.cached)} | {_number(m.changed)} | | |"
            )
    for result in results:
        if not result.get("pydantic-config"):
            continue
        for m in result.measurements:
            lines.append(
                f"| {result.name} ({result.lines:,} lines) | {m.run} | {m.seconds:.2f} | | | {m.cpu_seconds:.2f} | "
                f"{m.peak_mb:.0f} | {_number(m.files)} | | | | | {_number(m.configs_converted)} | {_number(m.configs_wrong)} |"
            )
    for result in results:
        if not result.name.endswith("pre-commit"):
            continue
        lines += ["", f"{result.name} (`auditfix run --check --no-progress FILE...` from the corpus's top, after the first file changed):", ""]
        lines += [
            "| run | seconds | import libcst between its runs | × that | × the fastest import libcst | CPU s | files listed | files named |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for m in result.measurements:
            own = "" if m.baseline_seconds is None else f"{m.baseline_seconds:.3f}"
            lines.append(
                f"| {m.run} | {m.seconds:.3f} | {own} | {_number(m.ratio)} | {_number(m.fastest_baseline_ratio)} | "
                f"{m.cpu_seconds:.2f} | {_number(m.changed)} | {m.note} |"
            )
    notes = [f"- {r.name}, {m.run}: {m.note}" for r in results if r.get("pydantic-config") for m in r.measurements if m.note]
    if notes:
        lines += ["", "Config conversions judged by benchmarks/pydantic_oracle.py:", "", *notes]
    fixed_cost = "" if fixed is None else f"; fixed cost (a cold run on one small file every codemod acts on): {fixed:.2f} s"
    lines += ["", f"Start-up (a run on an empty folder): {startup:.2f} s{fixed_cost}", ""]
    if scale:
        lines += [
            "| sample_repo copies | lines | cold -j1 s | s / kLOC | s / kLOC less start-up | s / kLOC less fixed cost |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for p in scale:
            lines.append(
                f"| {p['copies']} | {p['lines']:,} | {p['seconds']:.2f} | {p['seconds_per_kloc']:.3f} | "
                f"{p['less_startup_seconds_per_kloc']:.3f} | {p['marginal_seconds_per_kloc']:.3f} |"
            )
        lines.append("")
    with_markers = [r for r in results if r.marker_matches]
    names = sorted({name for r in with_markers for name in r.marker_matches})
    if names:
        lines += ["Files each codemod's markers let through the pre-filter:", ""]
        lines += ["| corpus | files | " + " | ".join(names) + " |", "|---|---:|" + "---:|" * len(names)]
        for r in with_markers:
            lines.append(f"| {r.name} | {r.files} | " + " | ".join(str(r.marker_matches.get(n, "")) for n in names) + " |")
        lines.append("")
    lines += ["| target | value | limit | met |", "|---|---:|---:|---|"]
    for t in targets:
        verdict = {True: "yes", False: "**no**", None: "not measured"}[t.met]
        detail = f" ({t.detail})" if t.detail else ""
        lines.append(f"| {t.name}{detail} | {_number(t.value, 3)} | {t.comparison} {t.limit:g} | {verdict} |")
    return "\n".join(lines) + "\n"


def document(
    results: Sequence[CorpusResult], scale: Sequence[dict[str, Any]], targets: Sequence[Target], startup: float,
    fixed: float | None, jobs: int, load: tuple[Sequence[float], Sequence[float]], quick: bool,
) -> dict[str, Any]:  # fmt: skip
    import libcst

    from codemods import __version__

    return {
        "schema_version": SCHEMA_VERSION,
        "quick": quick,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "jobs": jobs,
            "load_average_before": list(load[0]),
            "load_average_after": list(load[1]),
        },
        "versions": {"auditfix": __version__, "libcst": getattr(libcst, "__version__", "unknown")},
        "codemods": registered_codemods(),
        "startup_seconds": round(startup, 3),
        "fixed_seconds": None if fixed is None else round(fixed, 3),
        "corpora": [
            {
                "name": r.name,
                "files": r.files,
                "lines": r.lines,
                "marker_matches": r.marker_matches,
                "parsed_files": r.parsed_files,
                "measurements": [dataclasses.asdict(m) for m in r.measurements],
            }
            for r in results
        ],
        "scale": list(scale),
        "targets": [dataclasses.asdict(t) for t in targets],
    }


# -- the command line ----------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="sample_repo x10, cold -jN and warm once, one pre-commit run (about 30 s); what CI runs")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    parser.add_argument("--cache-dir", help=f"where corpora are kept (default ${corpora.CACHE_ENVIRONMENT_VARIABLE} or {corpora.DEFAULT_CACHE})")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement, fastest kept (default 1; small corpora 3)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="workers of the parallel runs (default: all cores)")
    parser.add_argument("--with-bump-pydantic", action="store_true", help="also pydantic-config against bump-pydantic's Config rule on fastapi 0.99.1 and openapi-schema-pydantic 1.2.4 (minutes)")
    parser.add_argument("--only", choices=["langchain", "superset", "precommit", "pydantic", "scale"], action="append", help="limit the full run to these parts (repeatable)")
    parser.add_argument("--sample-repo", type=Path, default=REPO / "sample_repo", help=argparse.SUPPRESS)
    parser.add_argument("--copies", type=int, default=10, help=argparse.SUPPRESS)  # of sample_repo in --quick
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    cache = corpora.cache_root(arguments.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if not arguments.sample_repo.is_dir():
        log(f"benchmark: {arguments.sample_repo} does not exist")
        return 2
    jobs = max(arguments.jobs, 1)
    parts = set(arguments.only or ["langchain", "superset", "precommit", "scale"])
    byte_compile_checkout()
    load_before = os.getloadavg()
    results: list[CorpusResult] = []
    scale: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="auditfix-bench-") as temporary:
        scratch = Path(temporary)
        try:
            startup = startup_seconds(1 if arguments.quick else max(arguments.repeat, 3), scratch)
            # The fixed cost is what the scale series subtracts; --quick has no series.
            fixed = None if arguments.quick else fixed_seconds(max(arguments.repeat, 3), scratch)
            log(f"start-up: {startup:.2f} s" + (f", fixed cost: {fixed:.2f} s" if fixed is not None else ""))
            work = cache / "work"
            if not arguments.quick:
                for part, requirement in (("langchain", corpora.LANGCHAIN), ("superset", corpora.SUPERSET)):
                    if part not in parts:
                        continue
                    source = corpora.fetch_sdist(requirement, cache)
                    copy = corpora.working_copy(source, work / source.name)
                    corpus = corpora.measure(source.name, copy)
                    results.append(benchmark_corpus(corpus, jobs=jobs, repeats=arguments.repeat, scratch=scratch, log=log))
                if "precommit" in parts:
                    source = corpora.fetch_sdist(corpora.SUPERSET, cache)
                    copy = corpora.working_copy(source, work / (source.name + "-precommit"))
                    cases = [
                        (f"one changed file ({PRECOMMIT_FILE})", [PRECOMMIT_FILE], {}),
                        ("that file and one unchanged file in another folder (whole-tree indexes from the cache)", [PRECOMMIT_FILE, PRECOMMIT_OTHER], {}),
                        (f"a changed file no codemod's markers occur in ({PRECOMMIT_UNTOUCHED})", [PRECOMMIT_UNTOUCHED], {}),
                        # The first case again, compiling the dataclass methods as plain Python does:
                        # what the dataclass code table (codemods/engine/dataclass_code.py) saves.
                        ("the first case, dataclass code table off (AUDITFIX_CODE_CACHE=0)", [PRECOMMIT_FILE], {"AUDITFIX_CODE_CACHE": "0"}),
                    ]  # fmt: skip
                    results.append(measure_precommit(corpora.measure(source.name, copy), cases, arguments.repeat, scratch, log))
                if "pydantic" in parts or arguments.with_bump_pydantic:
                    for requirement in corpora.PYDANTIC_V1:
                        source = corpora.fetch_sdist(requirement, cache)
                        corpus = corpora.measure(source.name, source)
                        results.append(
                            measure_pydantic(corpus, jobs=jobs, scratch=scratch, cache=cache, log=log, bump=arguments.with_bump_pydantic)
                        )
            series = [arguments.copies] if arguments.quick else ([1, 10, 100] if "scale" in parts else [])
            for copies in series:
                copy = corpora.replicate(arguments.sample_repo, copies, work / f"sample_repo-x{copies}")
                corpus = corpora.measure(f"sample_repo x{copies}", copy)
                result = benchmark_corpus(
                    corpus, jobs=jobs, repeats=arguments.repeat, scratch=scratch, log=log, quick=arguments.quick
                )
                results.append(result)
                if fixed is not None:
                    scale.append(scale_point(result, copies, startup, fixed))
            if arguments.quick:
                # The pre-commit case on the replicated sample_repo, once: the script's path is exercised in CI.
                copy = work / f"sample_repo-x{arguments.copies}"
                named = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("job_routes.py"))[:1]
                # The copy holding it is a project (as a repository with pre-commit is): named
                # files are worked on from their project's root, with its whole-tree facts.
                project_file = arguments.sample_repo / "pyproject.toml"
                if named and project_file.is_file():
                    shutil.copyfile(project_file, copy / named[0].split("/")[0] / "pyproject.toml")
                results.append(measure_precommit(corpora.measure(f"sample_repo x{arguments.copies}", copy), [("one changed file", named, {})], 1, scratch, log))
        except (BenchmarkError, corpora.CorpusError) as exc:
            log(f"benchmark: {exc}")
            return 1
    targets = evaluate_targets(results, scale if len(scale) > 1 else [], jobs)
    sys.stdout.write(markdown(results, scale, targets, startup, fixed))
    if arguments.json is not None:
        data = document(results, scale, targets, startup, fixed, jobs, (load_before, os.getloadavg()), arguments.quick)
        arguments.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
