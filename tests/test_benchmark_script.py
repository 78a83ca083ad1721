"""benchmarks/run_benchmarks.py keeps working: --quick runs and writes a well-formed table and JSON.

Nothing here is timed: the numbers depend on the machine, only their shape is checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import run_benchmarks as bench
from codemods.engine.runner import Change, RunReport, Problem

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "run_benchmarks.py"
RUNS = ["libcst, all files", "libcst, parsed files", "cold -j2", "warm -j2 (replay)"]  # --quick: no one-core run


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    folder = tmp_path_factory.mktemp("bench")
    output = folder / "results.json"
    command = [sys.executable, str(SCRIPT), "--quick", "--copies", "2", "--jobs", "2", "--json", str(output), "--cache-dir", str(folder / "cache")]
    result = subprocess.run(command, capture_output=True, text=True, cwd=folder)
    assert result.returncode == 0, result.stderr
    return result.stdout, json.loads(output.read_text())


def test_quick_mode_measures_every_run_of_the_replicated_sample_repo(quick_run: tuple[str, dict]) -> None:
    _, data = quick_run
    assert data["schema_version"] == bench.SCHEMA_VERSION and data["quick"] is True
    corpus, precommit = data["corpora"]
    assert corpus["name"] == "sample_repo x2"
    assert [m["run"] for m in corpus["measurements"]] == RUNS
    everything, same_files = corpus["measurements"][:2]
    files = everything["files"]
    assert files == corpus["files"] > 0
    # The equal-work baseline parses exactly the files auditfix parses.
    assert same_files["files"] == same_files["parsed"] == corpus["parsed_files"] < files
    for measurement in corpus["measurements"]:
        assert measurement["seconds"] > 0 and measurement["peak_mb"] > 0
        assert measurement["ratio"] == pytest.approx(measurement["seconds"] / everything["seconds"])
        assert measurement["equal_work_ratio"] == pytest.approx(measurement["seconds"] / same_files["seconds"])
    for measurement in corpus["measurements"][2:]:
        assert measurement["files"] == files
        assert measurement["parsed"] + measurement["filtered"] == files
    cold = corpus["measurements"][2]
    # A difference between the run's parsed count and the pre-computed list is never silent.
    assert cold["parsed"] == corpus["parsed_files"] or str(corpus["parsed_files"]) in cold["note"]
    assert precommit["name"] == "sample_repo x2 pre-commit"
    baseline, check = precommit["measurements"]
    assert baseline["run"] == "python -c 'import libcst'" and check["run"] == "one changed file"
    assert check["changed"] >= 1  # the file, and the service module a route-commit fix creates
    # The case is compared with the import libcst runs timed between its own runs; with one case
    # those are all the baseline's runs.
    assert check["baseline_seconds"] == pytest.approx(baseline["seconds"])
    assert check["ratio"] == pytest.approx(check["seconds"] / check["baseline_seconds"])
    assert check["fastest_baseline_ratio"] == pytest.approx(check["seconds"] / baseline["seconds"])


def test_quick_mode_measures_the_start_up_and_leaves_the_fixed_cost_to_the_series(quick_run: tuple[str, dict]) -> None:
    _, data = quick_run
    assert data["startup_seconds"] > 0
    assert data["fixed_seconds"] is None and data["scale"] == []  # one corpus is no series


def test_the_fixed_cost_file_is_changed_by_every_codemod(tmp_path: Path) -> None:
    # The fixed cost of a run is measured on this file: every codemod must load and act.
    from codemods import REGISTRY
    from codemods.engine.config import resolve
    from codemods.engine.runner import Engine

    (tmp_path / "app" / "routes").mkdir(parents=True)
    (tmp_path / "app" / "__init__.py").write_text(bench.ONE_FILE_PACKAGE)
    (tmp_path / "app" / "routes" / "__init__.py").write_text("")
    (tmp_path / "app" / "routes" / "items.py").write_text(bench.ONE_FILE)
    report = Engine(tmp_path, resolve(tmp_path, REGISTRY, jobs=1, cache=False)).run()
    assert set(report.changes_per_codemod()) == {c.name for c in REGISTRY if c.fixes}
    assert set(report.findings_per_codemod()) == {c.name for c in REGISTRY}  # findings-only codemods report


def test_quick_mode_second_run_comes_from_the_cache(quick_run: tuple[str, dict]) -> None:
    _, data = quick_run
    by_run = {m["run"]: m for m in data["corpora"][0]["measurements"]}
    assert by_run["cold -j2"]["cached"] == 0
    assert by_run["warm -j2 (replay)"]["cached"] == by_run["warm -j2 (replay)"]["parsed"] > 0
    assert by_run["warm -j2 (replay)"]["changed"] == by_run["cold -j2"]["changed"]


def test_quick_mode_prints_a_markdown_table_with_a_row_per_run(quick_run: tuple[str, dict]) -> None:
    stdout, data = quick_run
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| corpus | run |"))
    columns = lines[header].count("|")
    rows = lines[header + 2 : header + 2 + len(RUNS)]
    assert [row.split("|")[2].strip() for row in rows] == RUNS
    assert all(row.count("|") == columns for row in rows)
    assert any(line.startswith("| target |") for line in lines)
    assert data["codemods"] and all(name in stdout for name in data["codemods"])


# -- the pieces, on known input ----------------------------------------------------------------------


def test_the_summary_the_cli_prints_is_understood() -> None:
    report = RunReport(Path("."), ("a",), files=10, parsed=4, filtered=6, cached=3)
    report.changes.append(Change("x.py", b"", b"new", ("a",)))
    report.failed.append(Problem("y.py", "reason"))
    counts = bench.parse_summary(f"skipped z.py: reason\nauditfix: {report.summary()}\n")
    assert counts == {"files": 10, "parsed": 4, "filtered": 6, "cached": 3, "changed": 1, "skipped": 0, "failed": 1}


def test_a_summary_without_cache_hits_counts_zero_from_cache() -> None:
    report = RunReport(Path("."), ("a",), files=2, parsed=1, filtered=1)
    assert bench.parse_summary(report.summary())["cached"] == 0


def test_missing_summary_is_an_error_with_the_output() -> None:
    with pytest.raises(bench.BenchmarkError, match="Traceback"):
        bench.parse_summary("Traceback (most recent call last):\n  ...\n")


def test_config_classes_are_counted_from_removed_lines_of_a_diff() -> None:
    diff = b"--- a/m.py\n+++ b/m.py\n@@ -1,4 +1,2 @@\n-    class Config:\n-        extra = 'forbid'\n+    model_config = ConfigDict(extra='forbid')\n     class ConfigHelper:\n-class Config:\n"
    assert bench.count_removed_config_classes(diff) == 2


def measurement(run: str, seconds: float, baseline: float, **counts: int) -> bench.Measurement:
    return bench.Measurement("c", run, seconds, seconds, 100.0, ratio=seconds / baseline, **counts)


def test_targets_are_judged_on_ratios_to_the_all_files_libcst_baseline_of_the_same_run() -> None:
    result = bench.CorpusResult(
        "langchain-0.0.350", 10, 1000, {},
        [
            measurement(bench.ALL_FILES, 10, 10), measurement(bench.PARSED_FILES, 2, 10), measurement("cold -j1", 9, 10),
            measurement("cold -j2", 6, 10), measurement("warm -j2 (replay)", 1.5, 10),
        ],
    )  # fmt: skip
    targets = {t.name: t for t in bench.evaluate_targets([result], [], jobs=2)}
    assert targets["langchain-0.0.350: cold -j1 / libcst all files"].met is True
    assert targets["langchain-0.0.350: warm -j2 (replay) / libcst all files"].met is False  # 0.15 > 0.1
    assert len(targets) == 2  # the -j2 speed-up target was retired


def test_the_pre_commit_and_bump_pydantic_targets() -> None:
    precommit = bench.CorpusResult(
        "apache-superset-3.1.0 pre-commit", 1, 1, {},
        [measurement("python -c 'import libcst'", 0.2, 0.2), measurement("one changed file", 0.6, 0.2)],
    )  # fmt: skip
    ours = bench.Measurement("fastapi-0.99.1", "pydantic-config", 1.0, 1.0, 50.0, configs_converted=47, configs_wrong=0)
    theirs = bench.Measurement("fastapi-0.99.1", "bump-pydantic (BP002)", 30.0, 30.0, 80.0, configs_converted=47, configs_wrong=2)
    pydantic = bench.CorpusResult("fastapi-0.99.1", 1, 1, {}, [ours, theirs])
    targets = {t.name: t for t in bench.evaluate_targets([precommit, pydantic], [], jobs=2)}
    assert targets["apache-superset-3.1.0 pre-commit: one changed file / import libcst"].met is False  # 3.0 > 2.5
    assert targets["fastapi-0.99.1: bump-pydantic / pydantic-config (speed-up)"].value == 30.0
    assert targets["fastapi-0.99.1: Config classes handled, pydantic-config minus bump-pydantic"].met is True
    assert targets["fastapi-0.99.1: pydantic-config's wrong conversions (oracle)"].met is True


def test_scale_series_linearity_compares_every_point_with_the_largest() -> None:
    scale = [
        {"copies": 1, "marginal_seconds_per_kloc": 0.13},
        {"copies": 10, "marginal_seconds_per_kloc": 0.1},
        {"copies": 100, "marginal_seconds_per_kloc": 0.1},
    ]
    [target] = bench.evaluate_targets([], scale, jobs=2)
    assert target.value == pytest.approx(0.3) and target.met is False


def test_the_oracle_judges_a_lost_a_renamed_and_a_v1_key(tmp_path: Path) -> None:
    """benchmarks/pydantic_oracle.py on known conversions (Pydantic v2 is a test dependency)."""
    model = "from pydantic import BaseModel{extra}\n\n\nclass {name}(BaseModel):\n    x: int = 0\n\n{body}\n"
    v1 = "    class Config:\n        orm_mode = True\n        extra = 'forbid'\n"
    conversions = {
        "right": ("model_config = ConfigDict(from_attributes=True, extra='forbid')", ", ConfigDict"),
        "lost": ("model_config = ConfigDict(from_attributes=True)", ", ConfigDict"),
        "v1_key": ("model_config = ConfigDict(orm_mode=True, extra='forbid')", ", ConfigDict"),
        "left": (v1.strip(), ""),
    }
    for name, (body, extra) in conversions.items():
        (tmp_path / "before").mkdir(exist_ok=True)
        (tmp_path / "after").mkdir(exist_ok=True)
        (tmp_path / "before" / f"{name}.py").write_text(model.format(extra="", name="M", body=v1))
        (tmp_path / "after" / f"{name}.py").write_text(model.format(extra=extra, name="M", body="    " + body.replace("\n", "\n    ")))
    verdict = bench.judge_conversions(tmp_path / "before", tmp_path / "after", tmp_path)
    by_file = {r["path"]: r for r in verdict["results"]}
    assert (verdict["classes"], verdict["handled"], verdict["wrong"]) == (4, 3, 2)
    assert not by_file["right.py"].get("wrong") and by_file["right.py"]["module_import"] == "ok"
    assert "`extra` lost" in by_file["lost.py"]["wrong"]
    assert "orm_mode" in by_file["v1_key.py"]["wrong"]
    assert not by_file["left.py"]["handled"]


def test_scale_points_subtract_the_fixed_cost_of_a_run() -> None:
    result = bench.CorpusResult("sample_repo x10", 10, 20_000, {}, [measurement("cold -j1", 11.0, 5.0)])
    point = bench.scale_point(result, 10, startup=0.5, fixed=1.0)
    assert point["seconds_per_kloc"] == pytest.approx(0.55)
    assert point["less_startup_seconds_per_kloc"] == pytest.approx(0.525)
    assert point["marginal_seconds_per_kloc"] == pytest.approx(0.5)


def test_replicated_copies_are_the_original_code_with_a_distinct_last_comment(tmp_path: Path) -> None:
    from benchmarks import corpora

    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "a.py").write_bytes(b"x = 1\n")
    (source / "pkg" / "b.py").write_bytes(b"y = 2")  # no final newline
    target = corpora.replicate(source, 2, tmp_path / "copies")
    first, second = (target / "copy_001" / "pkg" / "b.py").read_bytes(), (target / "copy_002" / "pkg" / "b.py").read_bytes()
    assert first == b"y = 2\n# sample_repo copy 1\n" and second == b"y = 2\n# sample_repo copy 2\n"
    assert (target / "copy_002" / "pkg" / "a.py").read_bytes() == b"x = 1\n# sample_repo copy 2\n"


# -- benchmarks/project_suites.py: reading a suite's JUnit report and comparing two runs ---------------

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.UserModelCase" name="test_avatar" file="tests.py"/>
<testcase classname="tests.UserModelCase" name="test_follow" file="tests.py">
  <failure message="AssertionError: assert 1 == 2">self = ...
E   AssertionError: assert 1 == 2</failure></testcase>
<testcase classname="tests.test_api" name="test_posts"/>
<testcase classname="tests.test_api" name="test_posts"><error message="failed on teardown with &quot;RuntimeError: boom&quot;">...</error></testcase>
<testcase classname="tests.test_api" name="test_legacy"><skipped message="no Postgres" type="pytest.skip"/></testcase>
<testcase classname="" name="tests.test_client" file="tests/test_client.py"><error message="collection failure">ImportError while importing test module
Traceback:
tests/test_client.py:6: in &lt;module&gt;
E   ModuleNotFoundError: No module named 'fastapi.app_testing'</error></testcase>
</testsuite></testsuites>"""


def test_junit_outcomes_keep_the_worst_report_of_a_test_and_its_first_error_line() -> None:
    from benchmarks import project_suites

    outcomes = project_suites.parse_junit(JUNIT)
    assert {t: o.outcome for t, o in outcomes.items()} == {
        "tests.UserModelCase::test_avatar": "passed",
        "tests.UserModelCase::test_follow": "failed",
        "tests.test_api::test_posts": "error",  # passed its call, failed its teardown
        "tests.test_api::test_legacy": "skipped",
        "::tests.test_client": "error",
    }
    assert outcomes["tests.UserModelCase::test_follow"].message == "AssertionError: assert 1 == 2"
    # A module that does not import: the traceback's error line, not pytest's "collection failure".
    assert outcomes["::tests.test_client"].message == "ModuleNotFoundError: No module named 'fastapi.app_testing'"


def test_every_test_that_passed_before_and_does_not_pass_after_is_newly_failing() -> None:
    from benchmarks.project_suites import TestOutcome, compare

    def run(**outcomes: str) -> dict[str, TestOutcome]:
        return {name: TestOutcome(name, outcome, f"{outcome} message") for name, outcome in outcomes.items()}

    before = run(kept="passed", broken="passed", vanished="passed", was_failing="failed", now_skipped="passed")
    after = run(kept="passed", broken="error", was_failing="passed", now_skipped="skipped", new="passed")
    comparison = compare(before, after)
    assert (comparison.passed_before, comparison.passed_after) == (4, 3)
    assert [(o.test_id, o.outcome) for o in comparison.newly_failing] == [
        ("broken", "error"), ("now_skipped", "skipped"), ("vanished", "missing"),
    ]
    assert comparison.newly_passing == ["new", "was_failing"]


def test_each_precommit_case_is_compared_with_the_baseline_runs_of_its_own_minutes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scripted timings: the machine is slow while the first case runs (its import libcst runs
    take 0.30 s) and fast during the second (0.20 s).  Each case's ratio is to its own baseline;
    the ratio to the fastest baseline of all is kept beside it."""
    (tmp_path / "a.py").write_text("x = 1\n")
    seconds = iter([
        9.0,  # case 0: the previous commit's run (not counted)
        *[s for auditfix in (0.60, 0.66, 0.63, 0.61, 0.62) for s in (auditfix, 0.30)],
        9.0,  # case 1: the previous commit's run
        *[s for auditfix in (0.50, 0.52, 0.55, 0.51, 0.53) for s in (auditfix, 0.20)],
    ])  # fmt: skip

    def scripted(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> bench.Timing:
        return bench.Timing(next(seconds), 0.1, 10.0, 0, b"a.py\n", "")

    monkeypatch.setattr(bench, "timed", scripted)
    corpus = bench.corpora.Corpus("c", tmp_path, 1, 1)
    result = bench.measure_precommit(corpus, [("slow minutes", ["a.py"], {}), ("fast minutes", ["a.py"], {"X": "1"})], 5, tmp_path, lambda _: None)
    baseline, slow, fast = result.measurements
    assert baseline.seconds == 0.20 and baseline.ratio == 1.0
    assert (slow.seconds, slow.baseline_seconds) == (0.60, 0.30)
    assert slow.ratio == pytest.approx(2.0) and slow.fastest_baseline_ratio == pytest.approx(3.0)
    assert (fast.seconds, fast.baseline_seconds) == (0.50, 0.20)
    assert fast.ratio == pytest.approx(2.5) and fast.fastest_baseline_ratio == pytest.approx(2.5)
    assert next(seconds, None) is None  # every scripted run was taken, in that order
