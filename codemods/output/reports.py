"""Reports of a run, in the formats people plug into their tools.

``text`` (one line per finding), ``json`` (the versioned schema documented in
docs/reports.md), ``markdown`` (an audit report: summary table, locations and one
before/after example per codemod, taken from the scanned code), ``sarif`` (SARIF 2.1.0
for code-scanning tools) and ``html`` (one self-contained page for reviewers: summary,
bar charts and a highlighted diff per file).

Everything here is a pure function of a :class:`RunReport` (plus the codemods and
templates of the run): output is sorted and carries no time unless one is passed in.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import difflib
import json
import re
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from codemods import __version__
from codemods.base import Codemod, Finding
from codemods.engine.config import Settings
from codemods.engine.runner import Change, RunReport
from codemods.engine.pipeline import CHANGED, Plan, transform_source

FORMATS = ("text", "json", "markdown", "sarif", "html")
JSON_SCHEMA_VERSION = 1
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
# SARIF levels: a fixable finding is a problem auditfix can fix for you; a declined one is a
# place where the pattern matched but no rewrite could be proven safe (see docs/reports.md).
LEVEL_FIXABLE, LEVEL_DECLINED = "warning", "note"
# A codemod that only reports (``Codemod.fixes`` is False) finds real problems for a person to fix:
# its findings are warnings too, and are called "to fix by hand" rather than "declined".
LEVEL_REPORTED = "warning"
TO_FIX_BY_HAND = "to fix by hand"
EXAMPLE_CONTEXT = 2  # lines of context around a before/after example
EXAMPLE_CANDIDATES = 8  # files looked at for an example, smallest first: keeps reports cheap
TOP_LEVEL = "(top level)"


def render(
    output_format: str, report: RunReport, settings: Settings, timestamp: datetime.datetime | None = None
) -> str:
    """The report in ``output_format`` (one of :data:`FORMATS`)."""
    if output_format == "text":
        return render_text(report)
    if output_format == "json":
        return render_json(report, timestamp=timestamp)
    if output_format == "markdown":
        return render_markdown(report, settings, timestamp=timestamp)
    if output_format == "sarif":
        return render_sarif(report, settings.codemods, timestamp=timestamp)
    if output_format == "html":
        return render_html(report, settings, timestamp=timestamp)
    raise ValueError(f"unknown report format {output_format!r}; expected one of {', '.join(FORMATS)}")


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _header_values(report: RunReport, timestamp: datetime.datetime | None) -> dict[str, Any]:
    """The figures the markdown and HTML reports both open with."""
    return {
        "folder": report.root.name or str(report.root),
        "version": __version__,
        "generated_at": _iso(timestamp) if timestamp is not None else None,
        "files": report.files,
        "parsed": report.parsed,
        "total": len(report.findings),
        "fixable": sum(1 for f in report.findings if f.fixable),
        "declined": sum(1 for f in report.findings if not f.fixable),
    }


def _iso(timestamp: datetime.datetime) -> str:
    return timestamp.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- text and json -----------------------------------------------------------------------------


def render_text(report: RunReport) -> str:
    lines = []
    for f in report.findings:
        state = "fixable" if f.fixable else "not fixed"
        lines.append(f"{f.path}:{f.line}:{f.column}: {f.codemod}: {f.message} [{state}]")
    return "".join(line + "\n" for line in lines)


def render_json(report: RunReport, *, timestamp: datetime.datetime | None = None) -> str:
    """The JSON report; its schema is docs/report.schema.json (``schema_version`` 1)."""
    document: dict[str, Any] = {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "auditfix", "version": __version__},
    }
    if timestamp is not None:
        document["generated_at"] = _iso(timestamp)
    document.update(
        {
            "codemods": list(report.codemods),
            "findings": [f.to_dict() for f in report.findings],
            "changed_files": [
                {"path": c.path, "codemods": list(c.codemods), "created": c.old is None} for c in report.changes
            ],
            "skipped": [{"path": p.path, "reason": p.message} for p in report.skipped],
            "failed": [{"path": p.path, "reason": p.message} for p in report.failed],
            "summary": {
                "files": report.files,
                "parsed": report.parsed,
                "findings": len(report.findings),
                "fixable": sum(1 for f in report.findings if f.fixable),
                "declined": sum(1 for f in report.findings if not f.fixable),
                "changed_files": len(report.changes),
                "findings_per_codemod": report.findings_per_codemod(),
            },
        }
    )
    return json.dumps(document, indent=2) + "\n"


# -- what markdown and html share: per-codemod summaries and examples ------------------------------


@dataclasses.dataclass(frozen=True)
class Category:
    """One codemod's line in the summary table."""

    name: str
    summary: str
    safety: str
    findings: int
    fixable: int
    declined: int
    reasons: tuple[tuple[str, int], ...]  # (why a finding was declined, how often), most frequent first
    reports_only: bool = False  # the codemod never rewrites: its findings are to fix by hand


@dataclasses.dataclass(frozen=True)
class Example:
    """A small before/after taken from the scanned code."""

    path: str
    line: int  # first line of ``before`` in the file
    before: str
    after: str
    also_by: tuple[str, ...]  # other codemods whose edits fall in the same lines


def categories(report: RunReport, codemods: Sequence[type[Codemod]]) -> list[Category]:
    by_codemod: dict[str, list[Finding]] = collections.defaultdict(list)
    for finding in report.findings:
        by_codemod[finding.codemod].append(finding)
    rows = []
    for codemod in codemods:
        found = by_codemod.get(codemod.name, [])
        reasons = collections.Counter(f.message for f in found if not f.fixable)
        rows.append(
            Category(
                name=codemod.name,
                summary=codemod.summary,
                safety=codemod.safety,
                findings=len(found),
                fixable=sum(1 for f in found if f.fixable),
                declined=sum(1 for f in found if not f.fixable),
                reasons=tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
                reports_only=not codemod.fixes,
            )
        )
    return rows


def _text_lines(data: bytes | None) -> list[str]:
    """Lines split on LF only, as the diffs split them; a CR stays part of its line."""
    if not data:
        return []
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _groups(old: list[str], new: list[str], context: int) -> list[list[tuple[str, int, int, int, int]]]:
    return list(difflib.SequenceMatcher(None, old, new, autojunk=False).get_grouped_opcodes(context))


def _lines_of(findings: Sequence[Finding], path: str, name: str) -> set[int]:
    return {f.line for f in findings if f.path == path and f.codemod == name and f.fixable}


def _one_codemod_rewrite(codemod: type[Codemod], change: Change, settings: Settings) -> bytes | None:
    """The file as ``codemod`` alone would rewrite it, when that needs no whole-tree index."""
    if codemod.index_markers or change.old is None:
        return None
    plan = Plan((codemod,), settings.options, {}, settings.templates)
    outcome = transform_source(change.path, change.old, plan)
    return outcome.new_source if outcome.status == CHANGED else None


def example_for(codemod: type[Codemod], report: RunReport, settings: Settings | None) -> Example | None:
    """A small hunk of a file this codemod changed that contains one of its findings.

    A file changed by several codemods is first re-run with this codemod alone (cheap: one
    file, one codemod) so the example shows only its edits.  When that is not possible (the
    codemod needs its whole-tree index), hunks free of other codemods' findings are preferred,
    and an example that still includes their edits names them.
    """
    candidates = [c for c in report.changes if codemod.name in c.codemods and c.old is not None]
    candidates.sort(key=lambda c: (len(c.codemods) > 1, len(c.old or b""), c.path))
    best: tuple[tuple[bool, int, int], Example] | None = None
    for rank, change in enumerate(candidates[:EXAMPLE_CANDIDATES]):
        new, mixed = change.new, len(change.codemods) > 1
        if mixed and settings is not None:
            alone = _one_codemod_rewrite(codemod, change, settings)
            if alone is not None:
                new, mixed = alone, False
        old_lines, new_lines = _text_lines(change.old), _text_lines(new)
        groups = _groups(old_lines, new_lines, EXAMPLE_CONTEXT)
        wanted = _lines_of(report.findings, change.path, codemod.name)
        containing = [g for g in groups if any(g[0][1] < line <= g[-1][2] for line in wanted)] or groups[:1]
        for group in containing:
            first, last = group[0][1] + 1, group[-1][2]
            others: tuple[str, ...] = ()
            if mixed:
                others = tuple(
                    name
                    for name in change.codemods
                    if name != codemod.name
                    and any(first <= line <= last for line in _lines_of(report.findings, change.path, name))
                )
            size = (group[-1][2] - group[0][1]) + (group[-1][4] - group[0][3])
            score = (bool(others), size, rank)
            if best is None or score < best[0]:
                before = "\n".join(old_lines[group[0][1] : group[-1][2]])
                after = "\n".join(new_lines[group[0][3] : group[-1][4]])
                best = (score, Example(change.path, first, before, after, others))
    return best[1] if best is not None else None


def top_folder(path: str) -> str:
    return path.split("/", 1)[0] if "/" in path else TOP_LEVEL


# -- markdown ----------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|")


def _fence(code: str) -> str:
    longest = run = 0
    for char in code:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


@dataclasses.dataclass(frozen=True)
class MarkdownSection:
    category: Category
    locations: tuple[str, ...]  # ready-made list items
    example: Example | None
    fence: str


def render_markdown(report: RunReport, settings: Settings, *, timestamp: datetime.datetime | None = None) -> str:
    rows = categories(report, settings.codemods)
    by_codemod = {c.name: c for c in settings.codemods}
    sections = []
    for row in rows:
        if not row.findings:
            continue
        found = [f for f in report.findings if f.codemod == row.name]
        state = TO_FIX_BY_HAND if row.reports_only else "declined"
        locations = tuple(
            f"`{f.path}:{f.line}:{f.column}` {'fixable' if f.fixable else state}: {_md_cell(f.message)}" for f in found
        )
        example = example_for(by_codemod[row.name], report, settings)
        fence = _fence(example.before + "\n" + example.after) if example else "```"
        sections.append(MarkdownSection(row, locations, example, fence))
    return settings.templates.render(
        "report.md.j2",
        **_header_values(report, timestamp),
        changed=[c.path for c in report.changes],
        rows=[
            dataclasses.replace(
                row,
                summary=_md_cell(row.summary),
                reasons=tuple((_md_cell(reason), count) for reason, count in row.reasons),
            )
            for row in rows
        ],
        sections=sections,
        skipped=[(p.path, _md_cell(p.message)) for p in report.skipped],
        failed=[(p.path, _md_cell(p.message)) for p in report.failed],
    )


# -- sarif -------------------------------------------------------------------------------------


def _first_paragraph(text: str) -> str:
    for paragraph in text.split("\n\n"):
        lines = [line for line in paragraph.strip().splitlines() if not line.lstrip().startswith("#")]
        if lines:
            return " ".join(line.strip() for line in lines)
    return ""


def sarif_rule(codemod: type[Codemod]) -> dict[str, Any]:
    from codemods.output.docs import parse_sections, render_one

    documentation = codemod.documentation()
    sections = parse_sections(documentation)
    what = sections.get("What it does", "").strip()
    return {
        "id": codemod.name,
        "name": "".join(part.capitalize() for part in codemod.name.split("-")),
        "shortDescription": {"text": codemod.summary},
        "fullDescription": {"text": _first_paragraph(what) if what else codemod.summary},
        "help": {"text": documentation or codemod.summary, "markdown": render_one(codemod)},
        "defaultConfiguration": {"level": LEVEL_FIXABLE},
        "properties": {"tags": ["auditfix", "maintainability"], "fixSafety": codemod.safety},
    }


def render_sarif(
    report: RunReport, codemods: Sequence[type[Codemod]], *, timestamp: datetime.datetime | None = None
) -> str:
    """SARIF 2.1.0: one rule per codemod of the run, one result per finding.

    Results carry no ``fixes``: one file's rewrite mixes the edits of all its findings and
    the imports they need, so no single finding's edit is correct on its own.
    """
    rule_index = {codemod.name: index for index, codemod in enumerate(codemods)}
    reports_only = {codemod.name for codemod in codemods if not codemod.fixes}
    results = []
    for f in report.findings:
        result: dict[str, Any] = {
            "ruleId": f.codemod,
            "level": LEVEL_FIXABLE if f.fixable else LEVEL_REPORTED if f.codemod in reports_only else LEVEL_DECLINED,
            "message": {"text": f.message if f.fixable else f"{f.message} (not fixed automatically)"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": f.line, "startColumn": f.column},
                    }
                }
            ],
            "properties": {"fixable": f.fixable},
        }
        if f.codemod in rule_index:
            result["ruleIndex"] = rule_index[f.codemod]
        results.append(result)
    invocation: dict[str, Any] = {"executionSuccessful": not report.failed}
    if timestamp is not None:
        invocation["endTimeUtc"] = _iso(timestamp)
    notifications = [
        {
            "level": "error" if problem in report.failed else "warning",
            "message": {"text": problem.message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": problem.path, "uriBaseId": "%SRCROOT%"}}}],
        }
        for problem in [*report.skipped, *report.failed]
    ]
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    document = {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "auditfix",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [sarif_rule(codemod) for codemod in codemods],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": report.root.as_uri().rstrip("/") + "/"}}
                if report.root.is_dir()
                else {"%SRCROOT%": {"uri": report.root.parent.as_uri().rstrip("/") + "/"}},
                "invocations": [invocation],
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


# -- html --------------------------------------------------------------------------------------


def _pygments_class(token_type: Any) -> str:
    from pygments.token import STANDARD_TYPES

    while token_type is not None:
        name = STANDARD_TYPES.get(token_type)
        if name is not None:
            return name
        token_type = token_type.parent
    return ""


def highlight_lines(lines: list[str]) -> list[Markup]:
    """Each line as HTML with pygments token classes; lexed as a whole so strings spanning lines work."""
    from pygments.lexers import PythonLexer

    lexer = PythonLexer(stripnl=False, ensurenl=False)
    text = "\n".join(line.replace("\r", "") for line in lines)
    out: list[list[str]] = [[]]
    for token_type, value in lexer.get_tokens(text):
        css = _pygments_class(token_type)
        for index, part in enumerate(value.split("\n")):
            if index:
                out.append([])
            if part:
                out[-1].append(f'<span class="{css}">{escape(part)}</span>' if css else str(escape(part)))
    if len(out) != len(lines):  # the lexer normalised something unusual: show the text plainly
        return [escape(line) for line in lines]
    return [Markup("".join(parts)) for parts in out]


@dataclasses.dataclass(frozen=True)
class DiffRow:
    kind: str  # "hunk", "context", "removed", "added"
    old_number: int | None
    new_number: int | None
    html: Markup


@dataclasses.dataclass(frozen=True)
class FileDiff:
    anchor: str
    path: str
    codemods: tuple[str, ...]
    created: bool
    added: int
    removed: int
    rows: tuple[DiffRow, ...]


def file_rows(change: Change, context: int = 3) -> tuple[DiffRow, ...]:
    old, new = _text_lines(change.old), _text_lines(change.new)
    old_html, new_html = highlight_lines(old), highlight_lines(new)
    rows: list[DiffRow] = []
    for group in _groups(old, new, context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        rows.append(DiffRow("hunk", None, None, escape(f"@@ -{i1 + 1},{i2 - i1} +{j1 + 1},{j2 - j1} @@")))
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                rows.extend(DiffRow("context", a1 + k + 1, b1 + k + 1, old_html[a1 + k]) for k in range(a2 - a1))
                continue
            rows.extend(DiffRow("removed", k + 1, None, old_html[k]) for k in range(a1, a2))
            rows.extend(DiffRow("added", None, k + 1, new_html[k]) for k in range(b1, b2))
    return tuple(rows)


@dataclasses.dataclass(frozen=True)
class Bar:
    label: str
    fixable: int
    declined: int
    fixable_percent: float
    declined_percent: float


def _bars(counts: dict[str, tuple[int, int]]) -> list[Bar]:
    largest = max((fixable + declined for fixable, declined in counts.values()), default=0) or 1
    return [
        Bar(label, fixable, declined, round(100 * fixable / largest, 2), round(100 * declined / largest, 2))
        for label, (fixable, declined) in counts.items()
    ]


def _count(findings: Sequence[Finding], key: Any, order: Sequence[str]) -> dict[str, tuple[int, int]]:
    fixable: collections.Counter[str] = collections.Counter(key(f) for f in findings if f.fixable)
    declined: collections.Counter[str] = collections.Counter(key(f) for f in findings if not f.fixable)
    return {label: (fixable[label], declined[label]) for label in order if fixable[label] or declined[label]}


@dataclasses.dataclass(frozen=True)
class HtmlSection:
    category: Category
    findings: tuple[Finding, ...]
    files: tuple[FileDiff, ...]  # diffs shown in this section
    elsewhere: tuple[FileDiff, ...]  # files this codemod also changed, shown under an earlier codemod


def inline_code(text: str) -> Markup:
    """Escaped text in which `backticked` spans (as summaries and messages write code) become <code>."""
    return Markup(re.sub(r"`([^`\n]+)`", r"<code>\1</code>", str(escape(text))))


def _pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="default").get_style_defs(".code")


def render_html(report: RunReport, settings: Settings, *, timestamp: datetime.datetime | None = None) -> str:
    rows = categories(report, settings.codemods)
    order = [c.name for c in settings.codemods]
    diffs: dict[str, FileDiff] = {}
    for number, change in enumerate(report.changes):
        rows_of_file = file_rows(change)
        diffs[change.path] = FileDiff(
            anchor=f"file-{number + 1}",
            path=change.path,
            codemods=change.codemods,
            created=change.old is None,
            added=sum(1 for r in rows_of_file if r.kind == "added"),
            removed=sum(1 for r in rows_of_file if r.kind == "removed"),
            rows=rows_of_file,
        )
    home = {path: min(d.codemods, key=lambda n: order.index(n) if n in order else len(order)) for path, d in diffs.items()}
    sections = []
    for row in rows:
        mine = [d for d in diffs.values() if row.name in d.codemods]
        findings = tuple(f for f in report.findings if f.codemod == row.name)
        if not findings and not mine:
            continue
        sections.append(
            HtmlSection(
                category=row,
                findings=findings,
                files=tuple(d for d in mine if home[d.path] == row.name),
                elsewhere=tuple(d for d in mine if home[d.path] != row.name),
            )
        )
    folders = sorted({top_folder(f.path) for f in report.findings}, key=lambda name: (name == TOP_LEVEL, name))
    return settings.templates.render(
        "report.html.j2",
        **_header_values(report, timestamp),
        changed=len(report.changes),
        rows=rows,
        category_bars=_bars(_count(report.findings, lambda f: f.codemod, order)),
        folder_bars=_bars(_count(report.findings, lambda f: top_folder(f.path), folders)),
        sections=sections,
        anchors={path: d.anchor for path, d in diffs.items()},
        skipped=report.skipped,
        failed=report.failed,
        highlight_css=Markup(_pygments_css()),
        code=inline_code,
    )
