"""sample_repo end to end: its own suite passes as shipped, and again after every codemod.

The rewritten tree is compared with ``tests/expected/sample_repo/``, which holds only the
files the codemods change or create.  After an intended change, refresh it with
``AUDITFIX_UPDATE_EXPECTED=1 python -m pytest tests/test_sample_repo.py`` and review the diff.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from codemods import REGISTRY

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE = PROJECT / "sample_repo"
EXPECTED = PROJECT / "tests" / "expected" / "sample_repo"
IGNORED = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".auditfix_cache", "*.db")
# After pydantic-config and pydantic-api, no warning about the v1 API may remain: neither the
# configuration style nor any other deprecated v1 method, decorator or import.
NO_PYDANTIC_V1_WARNINGS = [
    "-W", "error:Support for class-based `config` is deprecated:pydantic.warnings.PydanticDeprecatedSince20",
    "-W", "error:`pydantic.config.Extra` is deprecated:pydantic.warnings.PydanticDeprecatedSince20",
    "-W", "error:Valid config keys have changed in V2:UserWarning",
    "-W", "error::pydantic.warnings.PydanticDeprecatedSince20",
]  # fmt: skip


def run_suite(folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=folder, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip


def python_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*.py"))
        if "__pycache__" not in p.parts and ".auditfix_cache" not in p.parts
    }


@pytest.fixture(scope="module")
def rewritten(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("sample") / "sample_repo"
    shutil.copytree(SAMPLE, copy, ignore=IGNORED)
    result = CliRunner().invoke(cli.app, ["run", str(copy), "--write", "--no-cache", "--no-progress"])
    assert result.exit_code == 0, result.output
    return copy


def test_registry_is_complete() -> None:
    assert [c.name for c in REGISTRY] == [
        "bare-except", "print-to-logging", "pydantic-config", "pydantic-api", "loop-commit",
        "secret-compare", "request-timeout", "utcnow", "route-commit",
        "asyncio-run", "rate-limit-request", "query-in-loop",
    ]  # fmt: skip


def test_suite_passes_as_shipped(tmp_path: Path) -> None:
    copy = tmp_path / "sample_repo"
    shutil.copytree(SAMPLE, copy, ignore=IGNORED)
    result = run_suite(copy)
    assert result.returncode == 0, result.stdout + result.stderr


def test_suite_passes_after_every_codemod(rewritten: Path) -> None:
    result = run_suite(rewritten, *NO_PYDANTIC_V1_WARNINGS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_shipped_suite_does_warn_about_v1_config(tmp_path: Path) -> None:
    """The warning filters above are not vacuous: before the rewrite they fail the suite, and
    for that reason (a suite that cannot even import its conftest fails for another)."""
    copy = tmp_path / "sample_repo"
    shutil.copytree(SAMPLE, copy, ignore=IGNORED)
    result = run_suite(copy, *NO_PYDANTIC_V1_WARNINGS)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    # The first v1 Config the suite imports (through its conftest) is now an error, and that
    # error is what stops it.
    errors = [line.strip() for line in output.splitlines() if line.startswith("E ")]
    assert errors, output
    assert errors[-1].startswith(
        "E   pydantic.warnings.PydanticDeprecatedSince20: Support for class-based `config` is deprecated"
    ), output


def test_second_run_changes_nothing(rewritten: Path) -> None:
    result = CliRunner().invoke(cli.app, ["run", str(rewritten), "--dry-run", "--no-cache", "--no-progress"])
    assert (result.exit_code, result.stdout) == (0, ""), result.output


def test_output_matches_the_expected_tree(rewritten: Path) -> None:
    original, actual = python_files(SAMPLE), python_files(rewritten)
    changed = {path: data for path, data in actual.items() if original.get(path) != data}
    assert set(original) <= set(actual), "a codemod deleted a file"
    if os.environ.get("AUDITFIX_UPDATE_EXPECTED"):
        shutil.rmtree(EXPECTED, ignore_errors=True)
        for path, data in changed.items():
            (EXPECTED / path).parent.mkdir(parents=True, exist_ok=True)
            (EXPECTED / path).write_bytes(data)
    expected = python_files(EXPECTED) if EXPECTED.exists() else {}
    problems = []
    for path in sorted(set(changed) | set(expected)):
        want = expected.get(path, original.get(path, b"")).decode()
        got = actual.get(path, b"").decode()
        if want != got:
            problems.append("".join(difflib.unified_diff(
                want.splitlines(True), got.splitlines(True), f"expected/{path}", f"actual/{path}"
            )))  # fmt: skip
    assert not problems, "\n".join(problems)
