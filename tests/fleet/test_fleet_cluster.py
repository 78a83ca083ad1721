"""A fleet on a real local Dask cluster (two worker processes), through the console script:
a dozen generated repositories (copies of sample_repo with differences, one with an
unparsable file, a path that is not a repository, one whose clone fails), pushed to their
local bare origins; then the same command again, which skips everything."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from codemods.fleet.results import BRANCH_EXISTS
from codemods.fleet.state import STATE_FILE_NAME, StateStore
from tests.fleet.conftest import BROKEN, PROJECT, TINY, auditfix, make_origin, origin_branches, sample_files

pytestmark = pytest.mark.slow

SCHEMA = json.loads((PROJECT / "docs" / "fleet-report.schema.json").read_text())
GOOD = ["full", "flask", "fastapi", "selected", "extra", "clean", "partly", "tiny", "tiny-2", "release"]
CLEAN = {"README.md": "nothing to fix\n", "app/__init__.py": "", "app/sums.py": "def total(xs):\n    return sum(xs)\n"}


@dataclasses.dataclass
class Fleet:
    root: Path
    workdir: Path
    origins: dict[str, Path]
    first: subprocess.CompletedProcess[str]
    first_report: dict[str, Any]
    branches_after_first: dict[str, dict[str, str]]
    second: subprocess.CompletedProcess[str]
    second_report: dict[str, Any]

    def repository(self, name: str, report: dict[str, Any] | None = None) -> dict[str, Any]:
        return next(r for r in (report or self.first_report)["repositories"] if r["name"] == name)


def generate(root: Path) -> tuple[Path, dict[str, Path]]:
    """Three copies of sample_repo (whole, and each of its two applications), one of them with an
    unparsable file, and small projects with differences: their own settings, an extra module, a
    named branch, nothing to fix."""
    fastapi = sample_files("fastapi_app")
    origins = {
        "full": make_origin(root, "full", {**sample_files(), "NOTES.md": "the whole sample\n"}),
        "flask": make_origin(root, "flask", sample_files("flask_app")),
        "fastapi": make_origin(root, "fastapi", fastapi),
        "selected": make_origin(root, "selected", {**TINY, "pyproject.toml": '[tool.auditfix]\nselect = ["print-to-logging"]\n'}),
        "extra": make_origin(root, "extra", {**TINY, "app/report.py": "def report(rows):\n    for row in rows:\n        print(row)\n"}),
        "clean": make_origin(root, "clean", CLEAN),
        "partly": make_origin(root, "partly", {**fastapi, "fastapi_app/broken.py": BROKEN}),
        "tiny": make_origin(root, "tiny", TINY),
        "tiny-2": make_origin(root, "tiny-2", {**TINY, "app/more.py": "try:\n    import ujson\nexcept:\n    ujson = None\n"}),
        "release": make_origin(root, "release", TINY, branches={"stable": {"app/old.py": "def old():\n    print('old')\n"}}),
    }
    (root / "not-a-repo").mkdir()
    (root / "not-a-repo" / "main.py").write_text("print('hello')\n")
    listing = root / "repos.txt"
    lines = [f"{origin}" + (" stable" if name == "release" else "") for name, origin in origins.items()]
    listing.write_text(
        "# the platform's services\n" + "\n".join(lines[:5]) + "\n\nnot-a-repo\n" + "\n".join(lines[5:])
        + "\nfile:///nonexistent/gone.git  # clone fails\n"
    )  # fmt: skip
    return listing, origins


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, module_git: None) -> Fleet:
    root = tmp_path_factory.mktemp("fleet")
    listing, origins = generate(root)
    workdir = root / "work"
    command = ("fleet", str(listing), "--workdir", str(workdir), "--workers", "2", "--push", "--no-progress")
    first = auditfix(*command, cwd=root)
    first_report = json.loads((workdir / "fleet-report.json").read_text())
    after_first = {name: origin_branches(origin) for name, origin in origins.items()}
    second = auditfix(*command, cwd=root)
    second_report = json.loads((workdir / "fleet-report.json").read_text())
    return Fleet(root, workdir, origins, first, first_report, after_first, second, second_report)


def test_every_repository_is_in_the_report_with_its_status(world: Fleet) -> None:
    assert world.first.returncode == 3, world.first.stderr  # some failed
    jsonschema.Draft202012Validator(SCHEMA).validate(world.first_report)
    statuses = {r["name"]: r["status"] for r in world.first_report["repositories"]}
    assert statuses == {**{name: "done" for name in GOOD}, "not-a-repo": "failed", "gone": "failed"}
    assert [r["name"] for r in world.first_report["repositories"]][:6] == ["full", "flask", "fastapi", "selected", "extra", "not-a-repo"]


def test_every_good_origin_gets_the_branches_the_report_lists(world: Fleet) -> None:
    for name in GOOD:
        listed = {b["branch"]: b["commit"] for b in world.repository(name)["branches"] if b["status"] in BRANCH_EXISTS}
        assert all(b["pushed"] for b in world.repository(name)["branches"] if b["status"] in BRANCH_EXISTS)
        pushed = {branch: commit for branch, commit in world.branches_after_first[name].items() if branch.startswith("auditfix/")}
        assert pushed == listed, name
    made = [b for b in world.repository("full")["branches"] if b["status"] in BRANCH_EXISTS]
    assert len(made) >= 5 and len(world.branches_after_first["full"]) == 1 + len(made)  # main and auditfix's


def test_each_repository_s_own_settings_and_branch_apply(world: Fleet) -> None:
    assert [b["codemod"] for b in world.repository("selected")["branches"]] == ["print-to-logging"]
    release = world.repository("release")
    assert release["branch"] == "stable" and release["commit"] == world.branches_after_first["release"]["stable"]
    assert release["codemods"]["print-to-logging"]["changed_files"] == 2


def test_a_repository_with_nothing_to_fix_is_done_without_branches(world: Fleet) -> None:
    clean = world.repository("clean")
    assert clean["status"] == "done" and not any(b["status"] in BRANCH_EXISTS for b in clean["branches"])
    assert set(world.branches_after_first["clean"]) == {"main"}


def test_the_unparsable_file_is_named_and_the_rest_of_its_repository_fixed(world: Fleet) -> None:
    partly, fastapi = world.repository("partly"), world.repository("fastapi")
    [problem] = partly["not_processed"]
    assert problem["path"] == "fastapi_app/broken.py" and "syntax" in problem["reason"]
    assert partly["codemods"] == fastapi["codemods"]  # everything else fixed as in its copy without the file
    assert "fastapi_app/broken.py" in world.first.stdout  # in the table's notes
    markdown = (world.workdir / "fleet-report.md").read_text()
    assert "- `partly`: `fastapi_app/broken.py`: " in markdown


def test_failures_say_why(world: Fleet) -> None:
    assert world.repository("not-a-repo")["reason"] == f"not a git repository: {world.root / 'not-a-repo'}"
    gone = world.repository("gone")
    assert gone["failure"] == "clone failed" and gone["reason"].startswith("clone failed: ")
    assert f"auditfix: not-a-repo: failed: not a git repository: {world.root / 'not-a-repo'}" in world.first.stderr
    assert "10 done, 0 skipped (up to date), 2 failed" in world.first.stderr


def test_totals_per_codemod_are_the_sum_over_the_repositories(world: Fleet) -> None:
    totals = world.first_report["totals"]
    for codemod, total in totals.items():
        counts = [r["codemods"][codemod] for r in world.first_report["repositories"] if codemod in r["codemods"]]
        assert total["changed_files"] == sum(c["changed_files"] for c in counts)
        assert total["findings"] == sum(c["findings"] for c in counts)
    assert totals["bare-except"]["branches"] == sum(
        1 for name in GOOD for b in world.repository(name)["branches"] if b["codemod"] == "bare-except" and b["status"] in BRANCH_EXISTS
    )


def test_two_worker_processes_shared_the_work_and_each_repository_has_a_log(world: Fleet) -> None:
    workers = {world.repository(name)["worker"] for name in GOOD}
    assert len(workers) == 2
    for repository in world.first_report["repositories"]:
        log = world.workdir / repository["log"]
        assert log.read_text().startswith("== run 1, ")
    assert (world.workdir / "fleet-report.html").read_text().count('<tr data-repository="') == 12


def test_a_second_run_skips_everything_that_finished_and_retries_the_failures(world: Fleet) -> None:
    assert world.second.returncode == 3, world.second.stderr
    statuses = {r["name"]: (r["status"], r["reason"]) for r in world.second_report["repositories"]}
    assert {name: statuses[name] for name in GOOD} == {name: ("skipped", "up to date") for name in GOOD}
    assert statuses["not-a-repo"][0] == statuses["gone"][0] == "failed"
    assert "0 done, 10 skipped (up to date), 2 failed" in world.second.stderr
    # Nothing was redone: the origins' branches are the first run's commits, and the state says
    # the work was done by run 1.
    assert {name: origin_branches(origin) for name, origin in world.origins.items()} == world.branches_after_first
    with StateStore(world.workdir / STATE_FILE_NAME) as store:
        records = store.records(GOOD)
        assert {r.done_run_id for r in records.values()} == {1} and {r.run_id for r in records.values()} == {2}
        assert [run["outcome"] for run in store.runs()] == ["completed", "completed"]
    # The report still shows where each repository stands.
    assert world.repository("full", world.second_report)["branches"] == world.repository("full")["branches"]
