"""pydantic-config + pydantic-api beside bump-pydantic on a real Pydantic v1 code base.

Usage (from the repository root; see benchmarks/README.md):

    python benchmarks/pydantic_api.py                         # fastapi 0.99.1's sdist
    python benchmarks/pydantic_api.py --corpus fastapi==0.99.1 --json results.json
    python benchmarks/pydantic_api.py --skip-bump-pydantic    # auditfix alone (seconds, not minutes)

What it does, each tool on its own fresh copy of the corpus:

    auditfix        ``auditfix run --write --select pydantic-config,pydantic-api`` (no cache), timed
    bump-pydantic   ``bump-pydantic .`` (rewrites in place), timed; installed once into its own
                    virtualenv under the cache folder, so it cannot touch our packages

and then, untimed, for each resulting tree: which files changed and how many lines, and which of
the files that use Pydantic (under ``--import-under``, default ``docs_src``: fastapi's examples,
self-contained programs) import cleanly under the installed Pydantic v2 with every warning an
error.  Each file is run (``runpy.run_path``, not as ``__main__``) in a fresh process, so one
file's models cannot affect another's.  A file that fails is classified: a Pydantic error or
deprecation (the v1 API left behind, or a conversion that broke it), a missing package (the
example needs something not installed: the same for every tree), or another error.  The
original tree is checked the same way, as the baseline.

The corpus is downloaded at run time (``pip download --no-deps --no-binary :all:``) into the
cache folder (see benchmarks/corpora.py); nothing downloaded is ever inside the repository.
Unix only (``os.wait4``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import corpora  # noqa: E402
from benchmarks.run_benchmarks import (  # noqa: E402
    BenchmarkError,
    auditfix_command,
    bump_pydantic_executable,
    child_environment,
    parse_summary,
    timed,
)

DEFAULT_CORPUS = "fastapi==0.99.1"
CODEMODS = "pydantic-config,pydantic-api"
IMPORT_TIMEOUT = 60  # seconds per file
IMPORT_WORKERS = 4  # files checked at once (each in its own process)
CLEAN, PYDANTIC, MISSING, OTHER = "imports cleanly", "Pydantic error or warning", "missing package", "other error"

# Run one file as a module (not as __main__) with every warning an error; print how it ended.
IMPORT_PROGRAM = r"""
import json, runpy, sys, warnings
path = sys.argv[1]
sys.path.insert(0, sys.argv[2])
warnings.simplefilter("error")
try:
    runpy.run_path(path, run_name="benchmarked_module")
    print(json.dumps({"ok": True}))
except BaseException as error:
    module = type(error).__module__
    print(json.dumps({"ok": False, "type": type(error).__name__, "module": module, "name": getattr(error, "name", None), "message": str(error)[:300]}))
"""


@dataclasses.dataclass
class ToolResult:
    tool: str
    seconds: float | None = None
    cpu_seconds: float | None = None
    files_changed: int = 0
    lines_changed: int = 0  # removed plus added lines of the unified diff
    conversions: int | None = None  # auditfix: fixable findings (each a rewrite it reports)
    declined: int | None = None  # auditfix: findings it left for a person, with the reason
    imports: dict[str, int] = dataclasses.field(default_factory=dict)  # outcome -> files using Pydantic
    changed_clean: int = 0  # changed files (under --import-under) that import cleanly
    changed_checked: int = 0  # changed files (under --import-under) that use Pydantic
    examples: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # outcome -> a few "path: error"


def python_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py")) if p.is_file()}


def compare(before: dict[str, bytes], after: Path) -> tuple[list[str], int]:
    """The files that changed, and the removed plus added lines."""
    changed, lines = [], 0
    for path, data in python_files(after).items():
        old = before.get(path)
        if old is None or old == data:
            continue
        changed.append(path)
        diff = difflib.unified_diff(
            old.decode(errors="replace").splitlines(), data.decode(errors="replace").splitlines(), lineterm="", n=0
        )
        lines += sum(1 for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---")))
    return changed, lines


def classify(outcome: dict) -> str:
    if outcome.get("ok"):
        return CLEAN
    text = f"{outcome.get('type')} {outcome.get('module')} {outcome.get('message')}".lower()
    if outcome.get("type") in ("ModuleNotFoundError",) and "pydantic" not in str(outcome.get("name") or ""):
        return MISSING
    if "pydantic" in text:
        return PYDANTIC
    return OTHER


def import_outcome(path: Path, root: Path, python: str) -> dict:
    try:
        result = subprocess.run(
            # -I: the corpus's own folder is not on sys.path, so fastapi's sdist (a v1-only package
            # at its top) cannot shadow the installed fastapi the examples are meant to run on.
            [python, "-I", "-c", IMPORT_PROGRAM, str(path), str(path.parent)],
            cwd=path.parent, capture_output=True, text=True, timeout=IMPORT_TIMEOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"ok": False, "type": "Timeout", "module": "", "message": f"over {IMPORT_TIMEOUT} s"}
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"ok": False, "type": "Crash", "module": "", "message": result.stderr[-300:]}
    return json.loads(lines[-1])


def check_imports(
    root: Path, paths: Iterable[str], python: str, baseline: dict[str, tuple[str, str]] | None = None
) -> dict[str, tuple[str, str]]:
    """path -> (outcome class, short error) for each file.  A file whose folder's ``.py`` files are
    all as in the original tree has the baseline's outcome (running it again would only repeat it)."""
    found = {}
    todo = []
    for path in paths:
        if baseline is not None and path in baseline and _folder_unchanged(root, path):
            found[path] = baseline[path]
        else:
            todo.append(path)
    with concurrent.futures.ThreadPoolExecutor(IMPORT_WORKERS) as pool:
        for path, outcome in zip(todo, pool.map(lambda p: import_outcome(root / p, root, python), todo), strict=True):
            detail = "" if outcome.get("ok") else f"{outcome.get('type')}: {outcome.get('message', '')[:160]}"
            found[path] = (classify(outcome), detail)
    return dict(sorted(found.items()))


_ORIGINAL: dict[str, bytes] = {}  # the original tree's files, for _folder_unchanged


def _folder_unchanged(root: Path, path: str) -> bool:
    folder = (root / path).parent
    for file in folder.glob("*.py"):
        relative = file.relative_to(root).as_posix()
        if _ORIGINAL.get(relative) != file.read_bytes():
            return False
    return True


def summarise(result: ToolResult, outcomes: dict[str, tuple[str, str]], changed: Sequence[str]) -> None:
    for path, (kind, detail) in sorted(outcomes.items()):
        result.imports[kind] = result.imports.get(kind, 0) + 1
        if kind != CLEAN and len(result.examples.setdefault(kind, [])) < 5:
            result.examples[kind].append(f"{path}: {detail}")
    checked = [p for p in changed if p in outcomes]
    result.changed_checked = len(checked)
    result.changed_clean = sum(1 for p in checked if outcomes[p][0] == CLEAN)


def run_auditfix(copy: Path, scratch: Path) -> ToolResult:
    scan = subprocess.run(
        auditfix_command("scan", "--no-cache", "--no-progress", "--select", CODEMODS, "--format", "json", str(copy)),
        cwd=scratch, env=child_environment(), capture_output=True, text=True,
    )  # fmt: skip
    if scan.returncode not in (0, 1):
        raise BenchmarkError(f"auditfix scan exited {scan.returncode}:\n{scan.stderr[-3000:]}")
    findings = json.loads(scan.stdout)["findings"]
    shutil.rmtree(copy / ".auditfix_cache", ignore_errors=True)
    command = auditfix_command("run", "--write", "--no-cache", "--no-progress", "--select", CODEMODS, str(copy))
    timing = timed(command, cwd=scratch, env=child_environment())
    if timing.returncode not in (0, 3):
        raise BenchmarkError(f"auditfix run exited {timing.returncode}:\n{timing.stderr[-3000:]}")
    counts = parse_summary(timing.stderr)
    if counts["failed"]:
        print(f"  auditfix: {counts['failed']} files failed its safety checks", file=sys.stderr)
    return ToolResult(
        "auditfix (pydantic-config + pydantic-api)", timing.seconds, timing.cpu_seconds,
        conversions=sum(1 for f in findings if f["fixable"]), declined=sum(1 for f in findings if not f["fixable"]),
    )  # fmt: skip


def run_bump_pydantic(copy: Path, cache: Path) -> ToolResult:
    executable = bump_pydantic_executable(cache)
    timing = timed([str(executable), "."], cwd=copy)  # it wants a path relative to its working folder
    if timing.returncode not in (0, 1):
        raise BenchmarkError(f"bump-pydantic exited {timing.returncode}:\n{timing.stderr[-3000:]}")
    return ToolResult("bump-pydantic", timing.seconds, timing.cpu_seconds)


def markdown(corpus: str, results: Sequence[ToolResult], checked: int, under: str) -> str:
    kinds = (CLEAN, PYDANTIC, MISSING, OTHER)
    lines = [
        f"Corpus: {corpus}; import check: the {checked} files under `{under}/` that use Pydantic, "
        "each run in its own process under Pydantic v2 with every warning an error.",
        "",
        "| tool | seconds | CPU s | files changed | lines changed | conversions reported | declined, with a reason | "
        + " | ".join(kinds)
        + " | changed files that import cleanly |",
        "|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(kinds) + "---:|",
    ]
    for r in results:
        seconds = f"{r.seconds:.2f}" if r.seconds is not None else ""
        cpu = f"{r.cpu_seconds:.2f}" if r.cpu_seconds is not None else ""
        conversions = "" if r.conversions is None else str(r.conversions)
        declined = "" if r.declined is None else str(r.declined)
        cells = " | ".join(str(r.imports.get(k, 0)) for k in kinds)
        share = f"{r.changed_clean} of {r.changed_checked}" if r.changed_checked else ""
        lines.append(
            f"| {r.tool} | {seconds} | {cpu} | {r.files_changed} | {r.lines_changed} | {conversions} | {declined} | {cells} | {share} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS, help="a pinned sdist requirement (default: %(default)s)")
    parser.add_argument(
        "--import-under", default="docs_src", help="folder of the corpus whose files are import-checked"
    )
    parser.add_argument("--cache-dir", default=None, help="where corpora and bump-pydantic's virtualenv are kept")
    parser.add_argument("--skip-bump-pydantic", action="store_true", help="measure auditfix only")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    arguments = parser.parse_args(argv)

    cache = corpora.cache_root(arguments.cache_dir)
    source = corpora.fetch_sdist(arguments.corpus, cache)
    original = python_files(source)
    under = arguments.import_under.strip("/")
    checked = sorted(p for p, data in original.items() if p.startswith(under + "/") and b"pydantic" in data)
    python = sys.executable
    results: list[ToolResult] = []
    with tempfile.TemporaryDirectory(prefix="auditfix-pydantic-api-") as folder:
        scratch = Path(folder)
        baseline = ToolResult("unconverted (baseline)")
        print(f"import check of {len(checked)} files of the original tree ...", file=sys.stderr)
        base_outcomes = check_imports(source, checked, python)
        summarise(baseline, base_outcomes, [])
        results.append(baseline)
        _ORIGINAL.update(original)

        ours = corpora.migrating_to_pydantic_2(corpora.working_copy(source, scratch / "auditfix"))
        print("auditfix ...", file=sys.stderr)
        result = run_auditfix(ours, scratch)
        changed, result.lines_changed = compare(original, ours)
        result.files_changed = len(changed)
        summarise(result, check_imports(ours, checked, python, base_outcomes), changed)
        results.append(result)
        print(f"  {result.seconds:.2f} s, {result.files_changed} files changed", file=sys.stderr)

        if not arguments.skip_bump_pydantic:
            theirs = corpora.working_copy(source, scratch / "bump-pydantic")
            print("bump-pydantic (minutes) ...", file=sys.stderr)
            result = run_bump_pydantic(theirs, cache)
            changed, result.lines_changed = compare(original, theirs)
            result.files_changed = len(changed)
            summarise(result, check_imports(theirs, checked, python, base_outcomes), changed)
            results.append(result)
            print(f"  {result.seconds:.2f} s, {result.files_changed} files changed", file=sys.stderr)

    print(markdown(source.name, results, len(checked), under))
    for r in results:
        for kind, examples in sorted(r.examples.items()):
            print(f"\n{r.tool}, {kind} (first {len(examples)}):")
            for example in examples:
                print(f"  {example}")
    if arguments.json is not None:
        payload = {
            "corpus": source.name,
            "checked": len(checked),
            "under": under,
            "results": [dataclasses.asdict(r) for r in results],
        }
        arguments.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    if os.name != "posix":
        sys.exit("Unix only (os.wait4)")
    sys.exit(main())
