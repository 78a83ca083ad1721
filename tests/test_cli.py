"""The command-line contract other tools rely on: output shapes and exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
import codemods.registry
from tests.engine.test_engine import make_tree
from tests.engine.toy_codemods import CollectRegistered, OldToNew

runner = CliRunner()


@pytest.fixture(autouse=True)
def toy_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codemods.registry, "REGISTRY", (OldToNew, CollectRegistered))


def invoke(*args: str | Path):
    return runner.invoke(cli.app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    make_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": 'x = "old"\ny = f"old {x}"\n',
            "pkg/jobs.py": "@register\ndef nightly():\n    pass\n",
            "pkg/clean.py": "z = 1\n",
        },
    )
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    return tmp_path


def test_list_shows_every_codemod_with_summary_and_safety() -> None:
    result = invoke("list")
    assert result.exit_code == 0
    for codemod in (OldToNew, CollectRegistered):
        assert codemod.name in result.stdout
        assert codemod.summary in result.stdout


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.startswith("auditfix ")


def test_dry_run_prints_a_diff_git_apply_accepts_and_writes_nothing(project: Path) -> None:
    before = {p: p.read_bytes() for p in project.rglob("*.py")}
    result = invoke("run", project, "--dry-run", "--no-cache")
    assert result.exit_code == 1, result.stderr
    assert result.stdout.startswith("diff --git a/pkg/a.py b/pkg/a.py\n")
    assert "new file mode 100644\n--- /dev/null\n+++ b/registry.py" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour when stdout is not a terminal
    assert {p: p.read_bytes() for p in project.rglob("*.py")} == before
    (project.parent / "out.diff").write_text(result.stdout)
    subprocess.run(["git", "apply", "--check", str(project.parent / "out.diff")], cwd=project, check=True)
    assert "3 changed" in result.stderr


def test_dry_run_output_applies_to_the_same_bytes_as_write(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    copy = tmp_path_factory.mktemp("copy")
    subprocess.run(["cp", "-a", f"{project}/.", str(copy)], check=True)
    diff = invoke("run", project, "--dry-run", "--no-cache").stdout
    (copy / ".." / "d.diff").resolve().write_text(diff)
    subprocess.run(["git", "apply", str((copy / ".." / "d.diff").resolve())], cwd=copy, check=True)
    assert invoke("run", project, "--write", "--no-cache").exit_code == 0
    for path in project.rglob("*.py"):
        assert (copy / path.relative_to(project)).read_bytes() == path.read_bytes(), path


def test_dry_run_exit_0_when_nothing_to_change(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": "x = 1\n"})
    result = invoke("run", tmp_path, "--dry-run")
    assert (result.exit_code, result.stdout) == (0, "")


def test_skipped_file_sets_exit_3_and_is_named(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": 'x = "old"\n', "py2.py": 'print "old"\n'})
    result = invoke("run", tmp_path, "--write", "--no-cache")
    assert result.exit_code == 3
    assert "skipped py2.py: syntax error at line 1, column 1: Missing parentheses in call to 'print'. Did you mean print(...)? (this looks like Python 2 code)" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "a.py").read_text() == 'x = "new"\n'


def test_write_applies_changes_in_place(project: Path) -> None:
    result = invoke("run", project, "--write", "--no-cache")
    assert result.exit_code == 0, result.stderr
    assert (project / "pkg/a.py").read_text() == 'x = "new"\ny = f"old {x}"\n'
    assert (project / "registry.py").read_text() == "from pkg.jobs import nightly\n"
    assert "3 files written" in result.stderr
    again = invoke("run", project, "--dry-run", "--no-cache")
    assert (again.exit_code, again.stdout) == (0, "")


def test_scan_text_lists_findings_with_locations(project: Path) -> None:
    result = invoke("scan", project, "--select", "old-to-new", "--no-cache")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "pkg/a.py:1:5: old-to-new: 'old' replaced [fixable]",
        "pkg/a.py:2:7: old-to-new: 'old' inside an f-string is left alone [not fixed]",
    ]


def test_scan_json_to_file(project: Path) -> None:
    out = project / "report.json"
    result = invoke("scan", project, "--format", "json", "-o", out, "--no-cache")
    assert result.exit_code == 1
    document = json.loads(out.read_text())
    assert document["schema_version"] == 1
    assert {"codemod", "path", "line", "column", "message", "fixable"} <= set(document["findings"][0])
    assert document["summary"]["fixable"] == 2


def test_scan_exit_0_without_findings(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": "x = 1\n"})
    assert invoke("scan", tmp_path).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--select", "nope"], "unknown codemod 'nope'", id="unknown-select"),
        pytest.param(["--ignore", "old-to-new,collect-registered"], "no codemod selected", id="nothing-left"),
        pytest.param(["--dry-run", "--write"], "cannot be used together", id="dry-run-and-write"),
    ],
)
def test_usage_errors_exit_2_with_one_line(project: Path, args: list[str], message: str) -> None:
    result = invoke("run", project, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_path_exits_2(tmp_path: Path) -> None:
    result = invoke("scan", tmp_path / "nope")
    assert result.exit_code == 2 and "no such file or folder" in result.stderr


@pytest.mark.parametrize(
    ("pyproject", "message"),
    [
        pytest.param("[tool.auditfix]\ncolour = true\n", "unknown key 'colour'", id="unknown-key"),
        pytest.param("[tool.auditfix]\nselect = ['nope']\n", "unknown codemod 'nope'", id="unknown-codemod"),
        pytest.param("[tool.auditfix]\njobs = 'two'\n", "jobs: expected an integer, got str", id="wrong-type"),
        pytest.param("[tool.auditfix]\ntemplates = 'missing'\n", "does not exist", id="missing-templates"),
        pytest.param("[tool.auditfix.old-to-new]\nreplacement = 3\n", "replacement: expected a string", id="codemod-option-type"),
        pytest.param("[tool.auditfix.old-to-new]\nspeed = 3\n", "unknown option of old-to-new", id="codemod-option-unknown"),
        pytest.param("[tool.auditfix\n", "invalid TOML", id="broken-toml"),
    ],
)
def test_bad_configuration_is_one_line_exit_2_and_nothing_written(project: Path, pyproject: str, message: str) -> None:
    (project / "pyproject.toml").write_text(pyproject)
    result = invoke("run", project, "--write")
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (project / "pkg/a.py").read_text().startswith('x = "old"')


def test_template_with_a_syntax_error_is_reported(project: Path) -> None:
    (project / "tpl").mkdir()
    (project / "tpl" / "report.md.j2").write_text("{% for x in %}")
    (project / "pyproject.toml").write_text("[tool.auditfix]\ntemplates = 'tpl'\n")
    result = invoke("run", project, "--dry-run")
    assert result.exit_code == 2
    assert "report.md.j2:1: template syntax error" in result.stderr


def test_pyproject_settings_apply_and_the_command_line_wins(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.auditfix]\nselect = ['collect-registered']\nexclude = ['pkg/a.py']\n")
    result = invoke("run", project, "--dry-run", "--no-cache")
    assert "pkg/a.py" not in result.stdout and "registry.py" in result.stdout
    result = invoke("run", project, "--dry-run", "--no-cache", "--select", "old-to-new", "--exclude", "pkg/jobs.py")
    assert "registry.py" not in result.stdout  # --select won; pyproject's exclude still applies
    assert result.stdout == ""
