"""The fleet report: ``fleet-report.json``, ``fleet-report.md`` and ``fleet-report.html``.

Built from the state after a run (every listed repository, whether this run did the work,
found it up to date, or never reached it because the run was interrupted), rendered as JSON
(schema: docs/fleet-report.schema.json) and through the templates ``fleet_report.md.j2``
and ``fleet_report.html.j2`` (overridable like every template).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codemods import __version__
from codemods.engine.templating import TemplateSet
from codemods.fleet.cluster import DIFFS_DIR, LOGS_DIR, REPOS_DIR, FleetRun
from codemods.fleet.results import DONE, DRY_RUN, FAILED, PUSH, SKIPPED, UP_TO_DATE, RepoResult
from codemods.output.reports import inline_code

JSON_SCHEMA_VERSION = 1
PENDING = "pending"  # listed, but not reached by the run (it was interrupted)
REPORT_NAME = "fleet-report"
MODE_LABELS = {DRY_RUN: "dry run: diffs and findings only", "branches": "branches in the clones", PUSH: "branches pushed to origin"}


@dataclasses.dataclass(frozen=True)
class Repository:
    """One listed repository: what this run did with it, and its last recorded result."""

    name: str
    location: str
    branch: str | None
    status: str  # done, failed, skipped or pending
    reason: str
    failure: str
    result: RepoResult | None  # None: never recorded
    clone: str  # paths relative to the work folder
    log: str | None
    diff: str | None

    @property
    def status_label(self) -> str:
        return f"{SKIPPED} ({UP_TO_DATE})" if self.status == SKIPPED and self.reason == UP_TO_DATE else self.status

    @property
    def changed_files(self) -> int:
        return sum(c.changed_files for c in self.result.codemods.values()) if self.result else 0


@dataclasses.dataclass(frozen=True)
class CodemodTotal:
    name: str
    repositories: int  # with changes
    branches: int
    pushed: int
    changed_files: int
    added: int | None
    removed: int | None
    findings: int
    fixable: int
    declined: int


@dataclasses.dataclass(frozen=True)
class FleetReport:
    version: str
    generated_at: str
    run_id: int
    mode: str
    interrupted: bool
    repositories: tuple[Repository, ...]
    totals: tuple[CodemodTotal, ...]

    def count(self, status: str) -> int:
        return sum(1 for r in self.repositories if r.status == status)

    def summary(self) -> dict[str, int]:
        results = [r.result for r in self.repositories if r.result is not None]
        findings = [f for result in results for f in result.findings]
        return {
            "repositories": len(self.repositories),
            DONE: self.count(DONE),
            FAILED: self.count(FAILED),
            SKIPPED: self.count(SKIPPED),
            PENDING: self.count(PENDING),
            "branches": sum(t.branches for t in self.totals),
            "pushed": sum(t.pushed for t in self.totals),
            "changed_files": sum(t.changed_files for t in self.totals),
            "added": sum(result.added for result in results),
            "removed": sum(result.removed for result in results),
            "findings": len(findings),
            "fixable": sum(1 for f in findings if f.fixable),
            "declined": sum(1 for f in findings if not f.fixable),
            "files_not_processed": sum(len(result.not_processed) for result in results),
        }


def build_report(run: FleetRun, workdir: Path, mode: str, codemod_order: Sequence[str]) -> FleetReport:
    repositories = []
    for spec in run.specs:
        record = run.records.get(spec.name)
        status = run.outcomes.get(spec.name, PENDING)
        result = record.result if record is not None else None
        reason = record.reason if record is not None and status != PENDING else ""
        log = f"{LOGS_DIR}/{spec.name}.log"
        diff = f"{DIFFS_DIR}/{spec.name}.diff"
        repositories.append(
            Repository(
                spec.name, spec.location, spec.branch, status, reason,
                result.failure if result is not None and status == FAILED else "",
                result, f"{REPOS_DIR}/{spec.name}",
                log if (workdir / log).is_file() else None,
                diff if result is not None and result.mode == DRY_RUN and (workdir / diff).is_file() else None,
            )
        )  # fmt: skip
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return FleetReport(
        __version__, stamp, run.run_id, mode, run.interrupted, tuple(repositories), _totals(repositories, codemod_order)
    )


def _totals(repositories: Sequence[Repository], order: Sequence[str]) -> tuple[CodemodTotal, ...]:
    results = [r.result for r in repositories if r.result is not None]
    names = [name for name in order if any(name in result.codemods for result in results)]
    names += sorted({name for result in results for name in result.codemods} - set(names))
    totals = []
    for name in names:
        counts = [result.codemods[name] for result in results if name in result.codemods]
        branches = [b for result in results for b in result.made_branches if b.codemod == name]
        totals.append(
            CodemodTotal(
                name,
                repositories=sum(1 for c in counts if c.changed_files),
                branches=len(branches),
                pushed=sum(1 for b in branches if b.pushed),
                changed_files=sum(c.changed_files for c in counts),
                added=_sum_known(c.added for c in counts),
                removed=_sum_known(c.removed for c in counts),
                findings=sum(c.findings for c in counts),
                fixable=sum(c.fixable for c in counts),
                declined=sum(c.declined for c in counts),
            )
        )
    return tuple(totals)


def _sum_known(values: Any) -> int | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


# -- rendering -----------------------------------------------------------------------------------


def render_json(report: FleetReport) -> str:
    """The JSON report; its schema is docs/fleet-report.schema.json (``schema_version`` 1)."""
    document = {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "auditfix", "version": report.version},
        "generated_at": report.generated_at,
        "run": {"id": report.run_id, "mode": report.mode, "interrupted": report.interrupted},
        "summary": report.summary(),
        "totals": {t.name: {k: v for k, v in dataclasses.asdict(t).items() if k != "name"} for t in report.totals},
        "repositories": [_repository_json(r) for r in report.repositories],
    }
    return json.dumps(document, indent=2) + "\n"


def _repository_json(repository: Repository) -> dict[str, Any]:
    result = repository.result
    entry: dict[str, Any] = {
        "name": repository.name,
        "location": repository.location,
        "branch": repository.branch,
        "status": repository.status,
        "reason": repository.reason,
        "failure": repository.failure or None,
        "clone": repository.clone,
        "log": repository.log,
        "diff": repository.diff,
        "commit": result.commit if result else None,
        "mode": result.mode if result else None,
    }
    if result is None:
        return {**entry, "branches": [], "codemods": {}, "findings": [], "not_processed": [], "added": 0, "removed": 0,
                "seconds": None, "worker": None}  # fmt: skip
    data = result.to_dict()
    for key in ("branches", "codemods", "findings", "not_processed", "added", "removed", "seconds", "worker"):
        entry[key] = data[key]
    return entry


def render_markdown(report: FleetReport, templates: TemplateSet | None = None) -> str:
    return (templates or TemplateSet()).render("fleet_report.md.j2", **_template_values(report))


def render_html(report: FleetReport, templates: TemplateSet | None = None) -> str:
    return (templates or TemplateSet()).render("fleet_report.html.j2", **_template_values(report), code=inline_code)


def _template_values(report: FleetReport) -> dict[str, Any]:
    return {
        "report": report,
        "summary": report.summary(),
        "mode_label": MODE_LABELS.get(report.mode, report.mode),
        "failures": [r for r in report.repositories if r.status == FAILED],
        "not_processed": [(r, p) for r in report.repositories if r.result for p in r.result.not_processed],
        "number": _number,
    }


def _number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def write_reports(report: FleetReport, workdir: Path) -> list[Path]:
    """Write the three reports into the work folder, each atomically (a reader never sees half of one)."""
    written = []
    for suffix, text in (("json", render_json(report)), ("md", render_markdown(report)), ("html", render_html(report))):
        target = workdir / f"{REPORT_NAME}.{suffix}"
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(target)
        written.append(target)
    return written
