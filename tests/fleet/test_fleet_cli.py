"""`auditfix fleet` usage errors (exit 2, before any cluster starts), and Dask staying out of
every other command."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from tests.fleet.conftest import TINY, make_origin


@pytest.fixture
def listing(tmp_path: Path) -> Path:
    path = tmp_path / "repos.txt"
    path.write_text(f"{make_origin(tmp_path, 'tiny', TINY)}\n")
    return path


def fleet(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, ["fleet", *arguments])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(["--dry-run", "--push"], "--dry-run and --push cannot be used together", id="dry-run-and-push"),
        pytest.param(["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "--workers sizes the local cluster", id="scheduler-and-workers"),
        pytest.param(["--workers", "0"], "--workers: expected a positive number, got 0", id="no-workers"),
        pytest.param(["--select", "bare-except,nope"], "--select: unknown codemod 'nope'", id="unknown-codemod"),
    ],
)
def test_usage_errors_exit_2_before_anything_starts(listing: Path, tmp_path: Path, arguments: list[str], message: str) -> None:
    code, output = fleet(str(listing), "--workdir", str(tmp_path / "work"), *arguments)
    assert code == 2 and message in output
    assert not (tmp_path / "work").exists()


def test_a_malformed_list_is_a_usage_error_naming_the_line(tmp_path: Path) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text("# ours\n/a/b.git main extra\n")
    code, output = fleet(str(listing), "--workdir", str(tmp_path / "work"))
    assert code == 2 and f"{listing}:2: expected a repository and optionally a branch, got 3 fields" in output


def test_an_unreachable_scheduler_is_a_usage_error(listing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("codemods.fleet.cluster.CONNECT_TIMEOUT", 2)
    code, output = fleet(str(listing), "--workdir", str(tmp_path / "work"), "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2 and "cannot connect to the Dask scheduler at tcp://127.0.0.1:9" in output


def test_without_a_git_identity_a_local_fleet_refuses_to_start(
    listing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    code, output = fleet(str(listing), "--workdir", str(tmp_path / "work"), "--workers", "1")
    assert code == 2 and "no git identity is configured" in output


def test_without_dask_the_fleet_says_what_to_install(listing: Path, tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["distributed"] = None  # as if the fleet extra were not installed
        from cli import entry
        sys.argv = ["auditfix", "fleet", {str(listing)!r}, "--workdir", {str(tmp_path / "work")!r}, "--dry-run"]
        entry()
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 2
    assert 'fleet mode needs Dask distributed: pip install "auditfix[fleet]"' in result.stderr


def test_single_repository_commands_never_import_dask(tmp_path: Path) -> None:
    # Dask's import costs seconds; only `auditfix fleet` may pay it.
    script = textwrap.dedent(
        f"""
        import subprocess, sys
        from typer.testing import CliRunner
        import cli
        from tests.gitrepo import write_files
        copy = {str(tmp_path / "copy")!r}
        write_files(__import__("pathlib").Path(copy), {TINY!r})
        runner = CliRunner()
        for arguments in (["scan", copy], ["run", copy, "--dry-run", "--no-cache"], ["run", copy, "--check"],
                          ["list"], ["explain", "bare-except"]):
            runner.invoke(cli.app, arguments)
        subprocess.run(["git", "init", "--quiet", copy], check=True)
        subprocess.run(["git", "-C", copy, "add", "--all"], check=True)
        subprocess.run(["git", "-C", copy, "commit", "--quiet", "-m", "x"], check=True)
        result = runner.invoke(cli.app, ["run", copy, "-j", "1"])
        assert result.exit_code == 0, result.output
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed")))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_fleet_help_documents_the_options() -> None:
    code, output = fleet("--help")
    assert code == 0
    for option in ("--workdir", "--dry-run", "--push", "--select", "--ignore", "--scheduler", "--workers", "--no-progress"):
        assert option in output
