"""The pure per-file pipeline: bytes in, verified new bytes and findings out.

One parse, every applicable codemod over that one tree in registry order, then the checks
that make a rewrite trustworthy: the new code parses, compiles, and a second pass of the
same codemods changes nothing.  Nothing here touches the file system.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import re
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper

from codemods.analysis import precheck as precheck_module
from codemods.base import Codemod, FileContext, Finding, position_reports
from codemods.engine.manifest import CodemodInfo, loaded
from codemods.engine.style import tidy
from codemods.engine.templating import TemplateSet
from codemods.options import CodeStyle
from codemods.speedups.parsing import parse_module

UNCHANGED = "unchanged"
CHANGED = "changed"
FILTERED = "filtered"  # no codemod's markers occur in the file: never parsed
UNPARSABLE = "unparsable"  # skipped: not Python 3 source auditfix can read
FAILED = "failed"  # parsed, but a codemod or a safety check failed; left untouched


@dataclasses.dataclass(frozen=True)
class Plan:
    """Everything a worker needs to rewrite files; pickled once per worker process.

    A codemod may be given as a :class:`~codemods.engine.manifest.CodemodInfo`: its class is
    imported when a file contains one of its markers."""

    codemods: tuple[type[Codemod] | CodemodInfo, ...]
    options: Mapping[str, Mapping[str, Any]]  # codemod name -> its validated options
    indexes: Mapping[str, Any]  # codemod name -> its whole-tree index
    templates: TemplateSet
    style: CodeStyle = CodeStyle()
    # Fit the result to the style (codemods.engine.style: imports where isort puts them, new
    # lines within the limit).  The engine always does; codemod tests see the codemods alone.
    tidy: bool = False
    # Codemods whose index no file of the run needed: they get the index of no facts, built
    # only if a rewrite calls on them (the engine does not import a codemod just for that).
    empty_indexes: tuple[str, ...] = ()
    # Paths whose text no codemod's syntax pre-check passes on, found while the index pass had
    # their CPython tree: filtered without parsing them again.
    screened: frozenset[str] = frozenset()
    # Of the other paths the index pass parsed: codemod name -> its ``precheck_summary`` (those
    # left out cannot change the file), so that the pre-check needs no second parse.
    summaries: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    _built: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def applicable(self, source: bytes) -> list[type[Codemod]]:
        """The codemods whose markers occur in ``source`` (imported, if they were not yet)."""
        return [loaded(c) for c in self.codemods if c.applies_to(source)]

    def index(self, codemod: type[Codemod]) -> Any:
        if codemod.name in self.empty_indexes and codemod.name not in self.indexes:
            if codemod.name not in self._built:  # built once (the pre-check asks for it too)
                self._built[codemod.name] = codemod.build_index({}, self.options.get(codemod.name, {}))
            return self._built[codemod.name]
        return self.indexes.get(codemod.name)

    def context(self, codemod: type[Codemod], path: str, source: bytes = b"", *, shortcuts: bool = True) -> FileContext:
        return FileContext(
            path=path,
            options=self.options.get(codemod.name, {}),
            index=self.index(codemod),
            templates=self.templates,
            source=source,
            shortcuts=shortcuts,
            style=self.style,
        )


@dataclasses.dataclass
class FileOutcome:
    path: str
    status: str
    new_source: bytes | None = None
    findings: list[Finding] = dataclasses.field(default_factory=list)
    extras: list[tuple[str, Any]] = dataclasses.field(default_factory=list)  # (codemod name, extra)
    changed_by: tuple[str, ...] = ()
    message: str = ""  # why the file was skipped or failed, for the user
    detail: str = ""  # traceback, shown with --verbose


def transform_source(path: str, source: bytes, plan: Plan, *, precheck: bool = True, indexed: bool = True) -> FileOutcome:
    """Run the plan's codemods over one file's bytes.  Never raises.

    ``precheck=False`` runs every codemod whose markers match, without the syntax pre-check (and
    the second pass in full): the tests compare both ways to prove the pre-check changes nothing.
    ``indexed=False``: ``source`` is not the text the index pass screened at ``path`` (a file a
    codemod generates where another was), so the plan's facts of ``path`` do not apply to it.
    """
    if precheck and indexed and path in plan.screened:
        return FileOutcome(path, FILTERED)
    applicable = plan.applicable(source)
    python_parses = False  # CPython's parser accepted ``source`` (then libcst's checks cannot fail)
    if applicable and precheck:
        summaries = plan.summaries.get(path) if indexed else None
        if summaries is not None:  # taken of CPython's tree of this text
            python_parses = True
            precheck_module.take_over(path, source)  # the index pass's tree, if it kept it
            applicable = summarised_candidates(applicable, summaries, plan, path, source)
        else:
            syntax = precheck_module.parse_shared(source)
            python_parses = syntax is not None
            applicable = candidates(applicable, syntax, plan, path, source)
    if not applicable:
        return FileOutcome(path, FILTERED)
    try:
        tree = parse_module(source, python_parses=python_parses)
    except Exception as exc:  # noqa: BLE001 - every parse failure becomes a reason for the user
        return FileOutcome(path, UNPARSABLE, message=describe_parse_error(source, exc))
    try:
        return _rewrite(path, source, tree, applicable, plan, precheck)
    except RecursionError:
        return FileOutcome(path, FAILED, message="too deeply nested for the parser; left unchanged")
    except Exception as exc:  # noqa: BLE001 - a codemod bug must not stop the run
        return FileOutcome(
            path,
            FAILED,
            message=f"internal error: {type(exc).__name__}: {exc}; left unchanged",
            detail=traceback.format_exc(),
        )


def candidates(
    codemods: Sequence[type[Codemod]], syntax: ast.Module | None, plan: Plan, path: str, source: bytes
) -> list[type[Codemod]]:
    """The codemods whose syntax pre-check passes on ``source`` (the text of ``syntax``, at
    ``path``); all of them when CPython cannot parse the file."""
    if syntax is None:
        return list(codemods)
    facts = precheck_module.facts_of(syntax)
    return [
        c for c in codemods
        if c.applies_to(source)
        and c.may_change_file(facts, plan.options.get(c.name, {}), path=path, source=source, index=plan.index(c))
    ]  # fmt: skip


def summarised_candidates(
    codemods: Sequence[type[Codemod]], summaries: Mapping[str, Any], plan: Plan, path: str, source: bytes
) -> list[type[Codemod]]:
    """:func:`candidates` from the pre-check summaries the index pass took of ``source``'s
    CPython tree (a codemod left out of them cannot change the file); CPython parses the file
    again only for a codemod whose check needs the facts themselves (summary None)."""
    kept: list[type[Codemod]] = []
    for codemod in codemods:
        summary = summaries.get(codemod.name, False)
        if summary is False or not codemod.applies_to(source):  # the class's own pre-filter, as in candidates
            continue
        if summary is None:
            if candidates([codemod], precheck_module.parse_shared(source), plan, path, source):
                kept.append(codemod)
        elif codemod.may_change_summary(
            summary, plan.options.get(codemod.name, {}), path=path, source=source, index=plan.index(codemod)
        ):
            kept.append(codemod)
    return kept


@dataclasses.dataclass
class _PassResult:
    tree: cst.Module
    findings: list[Finding]
    extras: list[tuple[str, Any]]
    changed_by: list[str]


def _run_codemods(
    path: str,
    tree: cst.Module,
    codemods: Sequence[type[Codemod]],
    plan: Plan,
    source: bytes,
    shortcuts: bool = True,
    *,
    positioned: bool = True,
) -> _PassResult:
    """One pass: each codemod over the previous one's tree.  Findings are positioned in ``tree``.

    ``source`` is the text of ``tree``; a codemod after one that changed the tree gets the text
    of the changed tree (generated once), so its text checks and name facts describe its tree.
    The findings of the codemods that ran over one tree are positioned together, by one code
    generation of that tree; ``positioned=False`` (the second pass, which only asks whether
    anything changes) leaves them out.
    """
    original_lines: list[str] | None = None
    findings: list[Finding] = []
    extras: list[tuple[str, Any]] = []
    changed_by: list[str] = []
    current = tree
    current_code: str | None = None  # the text of ``current`` once it is no longer ``tree``
    wrapper: MetadataWrapper | None = None
    over_current: list[Codemod] = []  # the codemods that ran over ``current``, findings unpositioned

    def position() -> None:
        nonlocal original_lines
        new_findings = position_reports(current, over_current) if positioned else []
        if new_findings and current is not tree:
            # Earlier codemods moved lines: report positions in the file as the user has it.
            if original_lines is None:
                original_lines = tree.code.splitlines()
            assert current_code is not None  # generated for the first codemod over ``current``
            new_findings = _map_lines(new_findings, current_code.splitlines(), original_lines)
        findings.extend(new_findings)
        over_current.clear()

    for codemod_class in codemods:
        if current is not tree and current_code is None:
            current_code = current.code
            source = current_code.encode(current.encoding)
        codemod = codemod_class(plan.context(codemod_class, path, source, shortcuts=shortcuts))
        if wrapper is None:
            wrapper = MetadataWrapper(current, unsafe_skip_copy=True)
        new_tree = codemod.rewrite(current, wrapper)
        over_current.append(codemod)
        extras.extend((codemod_class.name, extra) for extra in codemod.extras)
        if any(fixable for _, _, fixable in codemod.reports) or codemod.extras:
            changed_by.append(codemod_class.name)
            position()
            current, wrapper, current_code = new_tree, None, None
        # Otherwise the codemod changed nothing (every change is a fixable finding), so the next
        # one gets the same tree object and reuses the metadata already computed for it.
    position()
    return _PassResult(current, findings, extras, changed_by)


def _rewrite(
    path: str, source: bytes, tree: cst.Module, codemods: Sequence[type[Codemod]], plan: Plan, precheck: bool
) -> FileOutcome:
    first = _run_codemods(path, tree, codemods, plan, source, precheck)
    findings = sorted(first.findings)
    if not first.changed_by:
        return FileOutcome(path, UNCHANGED, findings=findings)
    new_source = first.tree.bytes
    if plan.tidy:
        new_source = tidy(source, new_source, plan.style)
    if new_source == source:
        return FileOutcome(path, UNCHANGED, findings=findings, extras=first.extras)
    problem = verify_rewrite(path, source, new_source, plan, precheck=precheck)
    if problem is not None:
        return FileOutcome(path, FAILED, findings=findings, message=problem)
    return FileOutcome(
        path, CHANGED, new_source, findings=findings, extras=first.extras, changed_by=tuple(first.changed_by)
    )


def verify_rewrite(
    path: str, source: bytes | None, new_source: bytes, plan: Plan, *, precheck: bool = True
) -> str | None:
    """Why ``new_source`` must not be written, or None when it parses, compiles and is a fixed point.

    The second pass runs the codemods whose markers and syntax pre-check still match the new
    text: the others provably change nothing.  When none is left, CPython's parser and compiler
    are the parse check; otherwise libcst parses the new text too, for the second pass.
    """
    syntax = precheck_module.parse_shared(new_source)
    new_error = _compile_error(new_source if syntax is None else syntax)
    if new_error is not None and (source is None or _compile_error(source) is None):
        return f"the rewrite does not compile ({new_error}); left unchanged"
    applicable = plan.applicable(new_source)
    if applicable and precheck:
        applicable = candidates(applicable, syntax, plan, path, new_source)
    if not applicable and syntax is not None:
        return None
    try:
        new_tree = parse_module(new_source, python_parses=syntax is not None)
    except Exception as exc:  # noqa: BLE001
        return f"the rewrite does not parse ({one_line(exc)}); left unchanged"
    second = _run_codemods(path, new_tree, applicable, plan, new_source, precheck, positioned=False)
    if second.changed_by and second.tree.bytes != new_source:
        names = ", ".join(second.changed_by)
        return f"a second pass would change the file again ({names}); left unchanged"
    return None


def _compile_error(source: bytes | ast.Module) -> str | None:
    """Why CPython will not compile ``source`` (for example ``await`` outside ``async def``)."""
    try:
        compile(source, "<auditfix>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return one_line(exc)
    return None


def _map_lines(findings: list[Finding], current: list[str], original: list[str]) -> list[Finding]:
    """Translate line numbers of ``current`` to the matching lines of ``original``."""
    mapping: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, original, current, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for offset in range(j2 - j1):
            mapping[j1 + offset + 1] = i1 + min(offset, max(i2 - i1 - 1, 0)) + 1

    def in_message(match: re.Match[str]) -> str:
        # Decline reasons name other lines too ("per-item rollback at line 42").
        number = int(match.group(2))
        return f"{match.group(1)}{mapping.get(number, number)}"

    return [
        dataclasses.replace(f, line=mapping.get(f.line, f.line), message=_LINE_REFERENCE.sub(in_message, f.message))
        for f in findings
    ]


_LINE_REFERENCE = re.compile(r"(\blines? )(\d+)")


_PY2_HINTS = re.compile(rb"^\s*(print\s+[\"'\w]|exec\s+[\"'\w]|except\s+\w+\s*,\s*\w+\s*:)|\bur[\"']|`", re.M)


def describe_parse_error(source: bytes, exc: BaseException) -> str:
    """A one-line reason a file cannot be read, phrased for the person who owns it."""
    if b"\x00" in source:
        return "binary file (contains NUL bytes), not Python source"
    if isinstance(exc, (UnicodeDecodeError, LookupError)) or "encoding" in str(exc):
        return "cannot decode: not UTF-8 and no valid PEP 263 encoding declaration"
    # CPython's own compiler gives the most precise position and wording.
    try:
        compile(source, "<auditfix>", "exec", dont_inherit=True)
    except SyntaxError as error:
        reason = f"syntax error at line {error.lineno}, column {error.offset}: {error.msg}"
    except ValueError:
        reason = one_line(exc)
    else:
        reason = f"libcst cannot parse this file ({one_line(exc)})"
    if _PY2_HINTS.search(source):
        return f"{reason} (this looks like Python 2 code)"
    return reason


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
