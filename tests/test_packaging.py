"""The wheel carries everything the installed command needs, templates included."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def test_wheel_contains_the_cli_codemods_and_templates(tmp_path: Path) -> None:
    # Build from a copy: setuptools writes build/ and *.egg-info beside the sources.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "cli.py"):
        shutil.copy2(PROJECT / name, source / name)
    for name in ("codemods", "templates"):
        shutil.copytree(PROJECT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("auditfix-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "cli.py" in names
    assert "codemods/engine/runner.py" in names
    templates = {Path(name).name for name in names if name.startswith("templates/") and name.endswith(".j2")}
    packaged = {p.name for p in (PROJECT / "templates").glob("*.j2")}
    assert packaged and templates == packaged
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "auditfix = cli:entry" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert not any(name.startswith(("tests/", "sample_repo/", "benchmarks/")) for name in names)
