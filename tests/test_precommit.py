"""The pre-commit hooks (.pre-commit-hooks.yaml), run for real with ``pre-commit try-repo``
against a committed copy of this project, on a temporary repository."""

from __future__ import annotations

import inspect
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import cli
import codemods.registry
from tests.reporting_fixtures import NoneCompare

ROOT = Path(__file__).resolve().parents[1]
HOOKS = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "auditfix tests", "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "auditfix tests", "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}  # fmt: skip

BAD = "def lookup(user):\n    if user == None:\n        return 0\n    return user.id\n"
GOOD = "def total(items):\n    return sum(items)\n"


def test_the_two_hooks_run_auditfix_on_the_python_files_they_are_given() -> None:
    assert set(HOOKS) == {"auditfix-check", "auditfix-fix"}
    assert shlex.split(HOOKS["auditfix-check"]["entry"])[:3] == ["auditfix", "run", "--check"]
    assert shlex.split(HOOKS["auditfix-fix"]["entry"])[:3] == ["auditfix", "run", "--write"]
    for hook in HOOKS.values():
        assert hook["language"] == "python"
        assert hook["types"] == ["python"]
        assert hook["require_serial"] is True  # one auditfix process sees all the files
        assert hook.get("pass_filenames", True)


@pytest.mark.parametrize(("hook_id", "exit_code"), [("auditfix-check", 1), ("auditfix-fix", 0)])
def test_hook_entries_are_valid_command_lines(
    hook_id: str, exit_code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What pre-commit runs: the entry followed by the file names, from the repository's top."""
    monkeypatch.setattr(codemods.registry, "REGISTRY", (NoneCompare,))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bad.py").write_text(BAD)
    (tmp_path / "good.py").write_text(GOOD)
    arguments = shlex.split(HOOKS[hook_id]["entry"])[1:] + ["pkg/bad.py", "good.py", "--no-cache"]
    result = CliRunner().invoke(cli.app, arguments, catch_exceptions=False)
    assert result.exit_code == exit_code, result.stderr
    fixed = "user is None" in (tmp_path / "pkg" / "bad.py").read_text()
    assert fixed == (hook_id == "auditfix-fix")


def copy_of_project(destination: Path) -> Path:
    """This working tree, committed, with the test codemod registered (try-repo installs HEAD)."""
    shutil.copytree(
        ROOT,
        destination,
        ignore=shutil.ignore_patterns(
            ".git", "__pycache__", "*.egg-info", ".auditfix_cache", "build", "dist", ".venv", "venv",
            "tests", "sample_repo", "benchmarks", ".benchmarks", "docs",
        ),
    )  # fmt: skip
    module = "import libcst as cst\n\nfrom codemods.base import Codemod\n\n\n" + inspect.getsource(NoneCompare)
    (destination / "codemods" / "none_compare_for_tests.py").write_text(module)
    with (destination / "codemods" / "registry.py").open("a") as handle:
        handle.write("\nfrom codemods.none_compare_for_tests import NoneCompare  # noqa: E402\n\n")
        handle.write("REGISTRY = (*REGISTRY, NoneCompare)\n")
    git(destination, "init", "-q")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "--no-verify", "-m", "auditfix under test")
    return destination


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, env={**os.environ, **GIT_IDENTITY})


@pytest.mark.slow
def test_hooks_with_pre_commit_try_repo(tmp_path: Path) -> None:
    project = copy_of_project(tmp_path / "auditfix")
    target = tmp_path / "target"
    (target / "pkg").mkdir(parents=True)
    (target / "pkg" / "bad.py").write_text(BAD)
    (target / "good.py").write_text(GOOD)
    git(target, "init", "-q")
    git(target, "add", "-A")
    environment = {
        **os.environ,
        **GIT_IDENTITY,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        # Speed: the hook's virtualenv sees this environment's libcst, typer... so pip only builds
        # and installs the committed copy of auditfix.  The test codemod, registered only in that
        # copy, proves the copy is what ran.
        "VIRTUALENV_SYSTEM_SITE_PACKAGES": "true",
    }
    environment.pop("PRE_COMMIT", None)
    # No hook id: both hooks run, in file order (check, then fix), with one environment install.
    result = subprocess.run(
        # pre-commit is a test extra: the one installed beside this Python, whatever PATH says.
        [sys.executable, "-m", "pre_commit", "try-repo", str(project), "--files", "pkg/bad.py", "good.py", "--verbose"],
        cwd=target, capture_output=True, text=True, env=environment, timeout=600, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    check_part, fix_part = output.split("auditfix (fix)", 1)
    assert "auditfix (check)" in check_part and "Failed" in check_part
    assert "- exit code: 1" in check_part
    assert "\npkg/bad.py\n" in check_part and "good.py" not in check_part.split("auditfix (check)", 1)[1]
    assert "Failed" in fix_part and "- files were modified by this hook" in fix_part
    assert (target / "pkg" / "bad.py").read_text() == BAD.replace("user == None", "user is None")
    assert (target / "good.py").read_text() == GOOD

