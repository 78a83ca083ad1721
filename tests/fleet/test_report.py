"""The fleet report, from a state holding every kind of outcome: JSON (against its documented
schema), markdown and HTML."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from codemods.fleet.cluster import FleetRun
from codemods.fleet.repos import parse_repos
from codemods.fleet.report import build_report, render_html, render_json, render_markdown, write_reports
from codemods.fleet.results import (
    BRANCHES,
    DONE,
    DRY_RUN,
    FAILED,
    NOT_A_REPOSITORY,
    PUSH,
    SKIPPED,
    UP_TO_DATE,
    BranchRecord,
    CodemodCounts,
    FindingRecord,
    ProblemRecord,
    RepoResult,
)
from codemods.fleet.state import StateStore

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "fleet-report.schema.json").read_text())
ORDER = ["bare-except", "print-to-logging", "pydantic-config", "loop-commit", "route-commit"]
LIST = "/git/api.git\n/git/web.git\n/git/preview.git\n/plain/folder\n/git/late.git\n"


def branch(codemod: str, files: int, added: int, removed: int, pushed: bool = True) -> BranchRecord:
    return BranchRecord(codemod, f"auditfix/{codemod}", "created", "c0ffee" * 6 + "abcd", "1234567890ab", files, added, removed, pushed)


def finding(codemod: str, fixable: bool = True) -> FindingRecord:
    return FindingRecord(codemod, "app/a.py", 3, 5, f"`{codemod}` <here>", fixable)


@pytest.fixture
def run(tmp_path: Path) -> FleetRun:
    """api done with two pushed branches; web up to date; preview a dry run; a failure; late never reached."""
    specs = parse_repos(LIST.splitlines(), base=tmp_path)
    api = RepoResult(
        "api", "/git/api.git", None, DONE, PUSH, commit="a" * 40, fingerprint="f",
        branches=(branch("bare-except", 2, 5, 2), branch("print-to-logging", 1, 4, 1),
                  BranchRecord("loop-commit", "auditfix/loop-commit", "no changes"),
                  BranchRecord("route-commit", "auditfix/route-commit/app", "created", "d" * 40, "1234567890ab", 2, 20, 3, True),
                  BranchRecord("route-commit", "auditfix/route-commit/lib", "rebuilt", "e" * 40, "1234567890ab", 1, 10, 1, True)),
        codemods={"bare-except": CodemodCounts(2, 5, 2, 3, 2, 1), "print-to-logging": CodemodCounts(1, 4, 1, 1, 1, 0),
                  "loop-commit": CodemodCounts(0, 0, 0, 1, 0, 1), "route-commit": CodemodCounts(3, 30, 4, 0, 0, 0)},
        findings=(finding("bare-except"), finding("bare-except"), finding("bare-except", False), finding("print-to-logging"),
                  finding("loop-commit", False)),
        not_processed=(ProblemRecord("app/broken.py", "syntax error at line 1: invalid syntax"),),
        added=9, removed=3, seconds=2.5, worker="host:42",
    )  # fmt: skip
    web = RepoResult("web", "/git/web.git", None, DONE, PUSH, commit="b" * 40, fingerprint="f",
                     branches=(branch("bare-except", 1, 1, 1),), codemods={"bare-except": CodemodCounts(1, 1, 1, 1, 1, 0)},
                     findings=(finding("bare-except"),), added=1, removed=1)  # fmt: skip
    preview = RepoResult("preview", "/git/preview.git", None, DONE, DRY_RUN, commit="c" * 40, fingerprint="f",
                         codemods={"bare-except": CodemodCounts(3, None, None, 3, 3, 0)},
                         findings=(finding("bare-except"),) * 3, added=6, removed=3)  # fmt: skip
    plain = RepoResult("folder", "/plain/folder", None, FAILED, PUSH, reason=f"{NOT_A_REPOSITORY}: /plain/folder",
                       failure=NOT_A_REPOSITORY)  # fmt: skip
    (tmp_path / "logs").mkdir()
    (tmp_path / "diffs").mkdir()
    for name in ("api", "web", "preview", "folder"):
        (tmp_path / "logs" / f"{name}.log").write_text("...\n")
    (tmp_path / "diffs" / "preview.diff").write_text("diff --git a/x b/x\n")
    with StateStore(tmp_path / "state.sqlite") as store:
        first = store.begin_run(PUSH, {}, "0.1.0", 5)
        for result in (api, web, preview, plain):
            store.record(first, result)
        second = store.begin_run(PUSH, {}, "0.1.0", 5)
        for result in (api, plain):
            store.record(second, result)
        store.record(second, RepoResult("web", "/git/web.git", None, SKIPPED, PUSH, reason=UP_TO_DATE, commit="b" * 40, fingerprint="f"))
        records = store.records([spec.name for spec in specs])
    outcomes = {"api": DONE, "web": SKIPPED, "preview": DONE, "folder": FAILED}
    return FleetRun(second, specs, records, outcomes, interrupted=True)


def test_json_lists_every_repository_with_its_status_and_follows_the_schema(run: FleetRun, tmp_path: Path) -> None:
    document = json.loads(render_json(build_report(run, tmp_path, PUSH, ORDER)))
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    statuses = {r["name"]: (r["status"], r["reason"]) for r in document["repositories"]}
    assert statuses == {
        "api": (DONE, ""), "web": (SKIPPED, UP_TO_DATE), "preview": (DONE, ""),
        "folder": (FAILED, "not a git repository: /plain/folder"), "late": ("pending", ""),
    }  # fmt: skip
    assert document["run"] == {"id": run.run_id, "mode": PUSH, "interrupted": True}
    by_name = {r["name"]: r for r in document["repositories"]}
    assert by_name["folder"]["failure"] == NOT_A_REPOSITORY and by_name["api"]["failure"] is None
    assert by_name["web"]["branches"][0]["branch"] == "auditfix/bare-except"  # a skip shows what is there
    assert by_name["preview"]["diff"] == "diffs/preview.diff" and by_name["api"]["diff"] is None
    assert by_name["late"]["log"] is None and by_name["api"]["log"] == "logs/api.log"
    assert by_name["api"]["not_processed"] == [{"path": "app/broken.py", "reason": "syntax error at line 1: invalid syntax"}]


def test_totals_per_codemod_add_up_over_the_fleet(run: FleetRun, tmp_path: Path) -> None:
    document = json.loads(render_json(build_report(run, tmp_path, PUSH, ORDER)))
    assert list(document["totals"]) == ["bare-except", "print-to-logging", "loop-commit", "route-commit"]  # registry order
    assert document["totals"]["route-commit"]["branches"] == 2
    assert document["totals"]["bare-except"] == {
        "repositories": 3, "branches": 2, "pushed": 2, "changed_files": 6, "added": 6, "removed": 3,
        "findings": 7, "fixable": 6, "declined": 1,
    }  # fmt: skip
    assert document["totals"]["loop-commit"]["repositories"] == 0 and document["totals"]["loop-commit"]["declined"] == 1
    summary = document["summary"]
    assert (summary["done"], summary["skipped"], summary["failed"], summary["pending"]) == (2, 1, 1, 1)
    assert (summary["branches"], summary["findings"], summary["files_not_processed"]) == (5, 9, 1)


def test_markdown_names_failures_and_files_not_processed(run: FleetRun, tmp_path: Path) -> None:
    text = render_markdown(build_report(run, tmp_path, PUSH, ORDER))
    assert "**interrupted**" in text
    assert "| `web` | skipped (up to date) | `bbbbbbbbbbbb` | 1 | 1 | 1 |  |" in text
    assert "- `folder` (/plain/folder): not a git repository: /plain/folder (log: `logs/folder.log`)" in text
    assert "- `api`: `app/broken.py`: syntax error at line 1: invalid syntax" in text
    assert "| `bare-except` | `auditfix/bare-except` (created, on origin) | 2 | +5 -2 | 3 | 2 | 1 |" in text
    assert ("| `route-commit` | `auditfix/route-commit/app` (created, on origin); `auditfix/route-commit/lib` (rebuilt, "
            "on origin) | 3 | +30 -4 | 0 | 0 | 0 |") in text  # a change split per package: one branch each
    assert "| `loop-commit` | no changes | 0 | +0 -0 | 1 | 0 | 1 |" in text
    assert "| `bare-except` | 3 | 2 | 6 | 6 | 3 | 7 | 6 | 1 |" in text
    assert "Review in `repos/api`: `git diff 1234567890ab..auditfix/bare-except`" in text


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, str] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr" and values.get("data-repository"):
            self.rows[values["data-repository"] or ""] = values.get("data-status") or ""

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_one_escaped_page_with_a_row_per_repository(run: FleetRun, tmp_path: Path) -> None:
    page = render_html(build_report(run, tmp_path, PUSH, ORDER))
    collector = _Collector()
    collector.feed(page)
    assert collector.rows == {"api": DONE, "web": SKIPPED, "preview": DONE, "folder": FAILED, "late": "pending"}
    assert "<code>bare-except</code>: `bare-except` &lt;here&gt;" not in page  # messages are escaped, code marked
    assert "<code>bare-except</code> &lt;here&gt;" in page
    assert "<script" not in page and "http" not in page.replace('href="#', "").split("<body>")[1].split("logs/")[0]


def test_the_three_reports_are_written_into_the_work_folder(run: FleetRun, tmp_path: Path) -> None:
    written = write_reports(build_report(run, tmp_path, PUSH, ORDER), tmp_path)
    assert [p.name for p in written] == ["fleet-report.json", "fleet-report.md", "fleet-report.html"]
    assert not list(tmp_path.glob(".fleet-report*"))  # no temporary left behind
    assert json.loads(written[0].read_text())["summary"]["repositories"] == 5


def test_a_report_before_any_result_lists_every_repository_as_pending(tmp_path: Path) -> None:
    specs = parse_repos(LIST.splitlines(), base=tmp_path)
    document = json.loads(render_json(build_report(FleetRun(1, specs, {}, {}, interrupted=True), tmp_path, BRANCHES, ORDER)))
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert [r["status"] for r in document["repositories"]] == ["pending"] * 5 and document["totals"] == {}
