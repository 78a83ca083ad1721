"""auditfix's changes add no lint diagnostic: ruff over every golden output of sample_repo.

Each file of ``tests/expected/sample_repo/`` (what the codemods change or create) is linted in
place of the original, in a copy of sample_repo (so ruff reads sample_repo's own settings and
sees its packages as first party), and compared with ruff's diagnostics on the original files:
import order (I001), unused imports (F401), line length at the project's limit (E501),
leftover ``pass`` (PIE790), the exception repeated in ``logger.exception`` (TRY401), logging
style (G004, LOG015), and ruff's default pycodestyle/pyflakes rules.  A diagnostic the original
file did not have, with the same code and message, is new.
"""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE = PROJECT / "sample_repo"
EXPECTED = PROJECT / "tests" / "expected" / "sample_repo"
RULES = "E,F,I001,F401,E501,PIE790,TRY401,G004,LOG015"
IGNORED = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".auditfix_cache", "*.db", ".ruff_cache")

Diagnostics = dict[str, collections.Counter[tuple[str, str]]]


def ruff(folder: Path) -> Diagnostics:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", RULES, "--output-format", "json", "--exit-zero", "."],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found: Diagnostics = collections.defaultdict(collections.Counter)
    for diagnostic in json.loads(result.stdout):
        path = Path(diagnostic["filename"]).resolve().relative_to(folder.resolve()).as_posix()
        found[path][diagnostic["code"], diagnostic["message"]] += 1
    return found


def golden_paths() -> list[str]:
    return sorted(p.relative_to(EXPECTED).as_posix() for p in EXPECTED.rglob("*.py"))


@pytest.fixture(scope="module")
def diagnostics(tmp_path_factory: pytest.TempPathFactory) -> tuple[Diagnostics, Diagnostics]:
    before = tmp_path_factory.mktemp("before") / "sample_repo"
    after = tmp_path_factory.mktemp("after") / "sample_repo"
    shutil.copytree(SAMPLE, before, ignore=IGNORED)
    shutil.copytree(SAMPLE, after, ignore=IGNORED)
    for path in golden_paths():
        (after / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(EXPECTED / path, after / path)
    return ruff(before), ruff(after)


def test_the_golden_outputs_are_there() -> None:
    assert len(golden_paths()) >= 20


def test_no_new_diagnostics_in_any_golden_output(diagnostics: tuple[Diagnostics, Diagnostics]) -> None:
    before, after = diagnostics
    new = {
        f"{path}: {code} {message}" + (f" (x{count})" if count > 1 else "")
        for path in golden_paths()
        for (code, message), count in (after[path] - before[path]).items()
    }
    assert not new, "new lint diagnostics:\n" + "\n".join(sorted(new))


def test_ruff_does_see_problems_it_is_asked_about(tmp_path: Path) -> None:
    """The check is not vacuous: the same ruff call reports what an unfixed rewrite had."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "m.py").write_text(
        "import os\nfrom pydantic import ConfigDict, BaseModel\n\n\n"
        "def f(x):\n    try:\n        g()\n    except ValueError as exc:\n"
        "        logger.exception('failed %s', exc)\n        pass\n"
    )
    codes = {code for code, _ in ruff(tmp_path)["m.py"]}
    assert {"I001", "F401", "TRY401", "PIE790"} <= codes
