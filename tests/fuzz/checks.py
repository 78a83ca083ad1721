"""The promises auditfix makes about any program, as checks that raise :class:`Violation`.

For one program: no codemod crashes, nothing is refused by the pipeline's own safety net
(a refusal means a codemod produced code that does not parse, does not compile, or is not
a fixed point), every change is reported, the output parses and compiles, and a second run
changes nothing.  For a folder: the same through the engine, and ``run --dry-run`` prints a
diff that ``git apply`` turns into exactly the bytes ``run --write`` writes.

Shared by ``tests/fuzz`` (a few examples, every test run) and ``benchmarks/fuzz.py``
(thousands, on demand).
"""

from __future__ import annotations

import contextlib
import importlib
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from unittest import mock

import libcst as cst

from codemods import REGISTRY
from codemods.base import Codemod
from codemods.engine.config import default_options, resolve
from codemods.engine.runner import Engine, write_changes
from codemods.engine.pipeline import (
    CHANGED,
    FAILED,
    FILTERED,
    UNCHANGED,
    UNPARSABLE,
    FileOutcome,
    Plan,
    transform_source,
)
from codemods.engine.templating import TemplateSet

PATH = "app/module.py"


class Violation(Exception):
    """A broken promise: ``kind`` names which one, ``codemods`` which codemods were running."""

    def __init__(self, kind: str, codemods: Sequence[str], message: str) -> None:
        super().__init__(f"{kind} [{', '.join(codemods)}]: {message}")
        self.kind = kind
        self.codemods = tuple(codemods)
        self.message = message

    @property
    def signature(self) -> str:
        """What makes two violations the same bug: numbers and names of temporary files vary."""
        first_line = self.message.strip().splitlines()[0] if self.message.strip() else ""
        return f"{self.kind} [{', '.join(self.codemods)}]: {re.sub(r'[0-9]+', 'N', first_line)}"


# -- which codemods -------------------------------------------------------------------------------


def codemod_by_name(name: str) -> type[Codemod]:
    """A registered codemod, or one not registered yet, found by the one-name convention
    (``print-to-logging`` lives in ``codemods/rules/print_to_logging.py``)."""
    for codemod in REGISTRY:
        if codemod.name == name:
            return codemod
    module = importlib.import_module(f"codemods.{name.replace('-', '_')}")
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Codemod) and getattr(value, "name", None) == name
    ]
    if len(found) != 1:
        raise LookupError(f"codemods/{name.replace('-', '_')}.py does not define the codemod {name!r}")
    return found[0]


# -- one program through the pipeline ----------------------------------------------------------------


def make_plan(codemods: Sequence[type[Codemod]], sources: Mapping[str, bytes]) -> Plan:
    """The plan the engine would build for a tree holding ``sources`` (path -> bytes).

    Unlike the engine, an indexer that raises is not forgiven here: it is a violation.
    """
    options = {c.name: default_options(c) for c in codemods}
    indexes = {}
    for codemod in codemods:
        if not codemod.index_markers:
            continue
        facts = {}
        for path, data in sources.items():
            if any(marker in data for marker in codemod.index_markers):
                try:
                    facts[path] = codemod.index_file(path, data)
                except Exception as exc:  # noqa: BLE001 - reported as a violation
                    raise Violation("index-crash", [codemod.name], f"{type(exc).__name__}: {exc}") from exc
        indexes[codemod.name] = codemod.build_index(facts, options[codemod.name])
    return Plan(tuple(codemods), options, indexes, TemplateSet())


def check_program(source: str | bytes, codemods: Sequence[type[Codemod]], path: str = PATH) -> FileOutcome:
    """Run ``codemods`` over one file and check every per-file promise; return the first outcome."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    names = [c.name for c in codemods]
    plan = make_plan(codemods, {path: data})
    outcome = transform_source(path, data, plan)
    check_outcome(data, outcome, names)
    check_precheck(outcome, transform_source(path, data, plan, precheck=False), names)
    if outcome.status == CHANGED:
        assert outcome.new_source is not None
        check_output(outcome.new_source, names)
        check_style(data, outcome.new_source, outcome.changed_by)
        # In full, without the syntax pre-check: idempotence must not rest on the pre-check.
        again = transform_source(path, outcome.new_source, make_plan(codemods, {path: outcome.new_source}), precheck=False)
        check_outcome(outcome.new_source, again, names)
        if again.status not in (UNCHANGED, FILTERED):
            diff = _short_diff(outcome.new_source, again.new_source or b"")
            raise Violation("not-idempotent", again.changed_by or names, f"a second run changes the output again:\n{diff}")
    return outcome


def check_precheck(checked: FileOutcome, unchecked: FileOutcome, names: Sequence[str]) -> None:
    """The syntax pre-check only skips work: the outcome is the same without it."""
    if checked.status == FILTERED:
        if unchecked.status not in (FILTERED, UNCHANGED) or unchecked.findings or unchecked.extras:
            found = "; ".join(f"{f.codemod}: {f.message}" for f in unchecked.findings)
            raise Violation("precheck-unsound", names, f"the pre-check skipped a file that is {unchecked.status}: {found}")
        return
    same = (checked.status, checked.new_source, checked.findings, checked.changed_by) == (
        unchecked.status, unchecked.new_source, unchecked.findings, unchecked.changed_by
    )  # fmt: skip
    if not same:
        raise Violation("precheck-unsound", names, f"with the pre-check {checked.status}, without it {unchecked.status}")


def check_outcome(data: bytes, outcome: FileOutcome, names: Sequence[str]) -> None:
    if outcome.status == FAILED:
        if outcome.detail:
            last = outcome.detail.strip().splitlines()[-1]
            raise Violation("crash", names, f"{outcome.message}\n{last}\n{outcome.detail}")
        raise Violation("refused", names, outcome.message)
    if outcome.status == UNPARSABLE:
        raise Violation("input-unparsable", names, outcome.message)
    fixes = [f for f in outcome.findings if f.fixable]
    if outcome.status == CHANGED and not fixes:
        raise Violation("unreported-change", outcome.changed_by or names, "the file changed without a fixable finding")
    if outcome.status == UNCHANGED and fixes:
        raise Violation("fix-without-change", [f.codemod for f in fixes], fixes[0].message)
    line_count = data.count(b"\n") + 1
    for finding in outcome.findings:
        if not 1 <= finding.line <= line_count:
            raise Violation("finding-out-of-range", [finding.codemod], f"line {finding.line} of {line_count}")


def check_output(new_source: bytes, names: Sequence[str]) -> None:
    try:
        cst.parse_module(new_source)
    except Exception as exc:  # noqa: BLE001
        raise Violation("output-unparsable", names, f"{type(exc).__name__}: {exc}") from exc
    try:
        compile(new_source, "<auditfix output>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        raise Violation("output-does-not-compile", names, f"{type(exc).__name__}: {exc}") from exc


def check_style(old: bytes, new: bytes, names: Sequence[str]) -> None:
    """New code follows the file's line endings and indentation (when the file is consistent)."""
    for style, foreign in ((b"\r\n", re.compile(rb"(?<!\r)\n")), (b"\n", re.compile(rb"\r"))):
        if style in old and not foreign.search(old) and foreign.search(new):
            raise Violation("style-changed", names, f"the file uses only {style!r} line endings; the output mixes in others")
    indents = set(re.findall(rb"^([ \t])", old, re.M))
    if indents == {b"\t"} and re.search(rb"^ +\S", new, re.M):
        raise Violation("style-changed", names, "the file is indented with tabs; the output has lines indented with spaces")


def _short_diff(old: bytes, new: bytes, limit: int = 40) -> str:
    import difflib

    lines = difflib.unified_diff(
        old.decode("utf-8", "replace").splitlines(), new.decode("utf-8", "replace").splitlines(), lineterm="", n=1
    )
    return "\n".join(list(lines)[2 : 2 + limit])


# -- a folder through the engine and the command line ---------------------------------------------------


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> None:
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not {".git", ".auditfix_cache"} & set(p.relative_to(root).parts)
    }


def check_tree(files: Mapping[str, str | bytes], codemods: Sequence[type[Codemod]]) -> dict[str, bytes]:
    """Run the engine over a folder twice (writing in between); return the files after the first run."""
    names = [c.name for c in codemods]
    with tempfile.TemporaryDirectory(prefix="auditfix-fuzz-") as folder:
        root = Path(folder)
        write_tree(root, files)
        first = Engine(root, resolve(root, tuple(codemods), jobs=1, cache=False)).run()
        for problem in first.failed:
            kind = "crash" if problem.detail or "internal error" in problem.message else "refused"
            raise Violation(kind, names, f"{problem.path}: {problem.message}\n{problem.detail}")
        if first.skipped:
            raise Violation("input-unparsable", names, f"{first.skipped[0].path}: {first.skipped[0].message}")
        for change in first.changes:
            package = change.path.rsplit("/", 1)[0] if change.old is None and "/" in change.path else None
            if package is not None and (root / f"{package}.py").is_file():
                raise Violation("shadows-module", names, f"created {change.path}: the package {package}/ hides {package}.py")
        problems = write_changes(root, first.changes)
        if problems:
            raise Violation("not-written", names, f"{problems[0].path}: {problems[0].message}")
        written = read_tree(root)
        for path in (c.path for c in first.changes):
            if path.endswith(".py"):
                check_output(written[path], names)
        second = Engine(root, resolve(root, tuple(codemods), jobs=1, cache=False)).run()
        if second.failed or second.changes:
            what = second.failed[0].message if second.failed else ", ".join(c.path for c in second.changes)
            raise Violation("not-idempotent", names, f"a second run over the written folder changes or fails: {what}")
        return written


@contextlib.contextmanager
def _cli_registry(codemods: Sequence[type[Codemod]]) -> Iterator[None]:
    from codemods import registry as codemods_registry

    with mock.patch.object(codemods_registry, "REGISTRY", tuple(codemods)):
        yield


def check_dry_run_applies_like_write(files: Mapping[str, str | bytes], codemods: Sequence[type[Codemod]]) -> None:
    """``run --dry-run`` applied with ``git apply`` gives the bytes ``run --write`` writes."""
    from typer.testing import CliRunner

    import cli

    names = [c.name for c in codemods]
    runner = CliRunner()
    common = ["--no-cache", "--no-progress", "--jobs", "1"]
    with tempfile.TemporaryDirectory(prefix="auditfix-dry-run-") as folder, _cli_registry(codemods):
        written, applied = Path(folder, "written"), Path(folder, "applied")
        for root in (written, applied):
            write_tree(root, files)
            subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        dry = runner.invoke(cli.app, ["run", str(applied), "--dry-run", *common], catch_exceptions=False)
        if dry.exit_code not in (0, 1):
            raise Violation("dry-run-failed", names, f"exit {dry.exit_code}: {dry.stderr}")
        patch = Path(folder, "changes.diff")
        patch.write_bytes(dry.stdout_bytes)
        if dry.stdout_bytes:
            applying = subprocess.run(["git", "apply", str(patch)], cwd=applied, capture_output=True, text=True)
            if applying.returncode != 0:
                raise Violation("diff-does-not-apply", names, applying.stderr.strip())
        wrote = runner.invoke(cli.app, ["run", str(written), "--write", *common], catch_exceptions=False)
        if wrote.exit_code != 0:
            raise Violation("write-failed", names, f"exit {wrote.exit_code}: {wrote.stderr}")
        after_apply, after_write = read_tree(applied), read_tree(written)
        if after_apply != after_write:
            differing = sorted(p for p in after_apply.keys() | after_write.keys() if after_apply.get(p) != after_write.get(p))
            raise Violation("dry-run-differs-from-write", names, f"files differ: {', '.join(differing)}")
