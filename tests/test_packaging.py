"""The wheel carries everything the installed command needs, templates included."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

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
    assert "codemods/fleet/task.py" in names  # what Dask workers import
    templates = {Path(name).name for name in names if name.startswith("templates/") and name.endswith(".j2")}
    packaged = {p.name for p in (PROJECT / "templates").glob("*.j2")}
    assert packaged and templates == packaged
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "auditfix = codemods.engine.console:entry" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert not any(name.startswith(("tests/", "sample_repo/", "benchmarks/")) for name in names)


def _top_level_imports(files: list[Path]) -> dict[str, Path]:
    """Each absolutely imported top-level module, with a file importing it."""
    found: dict[str, Path] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path)
    return found


def _normalized(requirement: str) -> str:
    name = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert name is not None, requirement
    return re.sub(r"[-_.]+", "-", name.group()).lower()


def _python_files(*folders: str) -> list[Path]:
    return [
        path
        for folder in folders
        for path in sorted((PROJECT / folder).rglob("*.py"))
        if not {"expected", "__pycache__"} & set(path.relative_to(PROJECT).parts)
    ]


def test_every_third_party_import_is_a_declared_dependency() -> None:
    # Relying on what another package happens to install breaks on a new machine the day it stops
    # (click after typer 0.16, greenlet after SQLAlchemy 2.1): what the code imports is declared.
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    runtime = {_normalized(r) for r in project["dependencies"]}
    testing = runtime | {_normalized(r) for r in project["optional-dependencies"]["test"]}
    fleet = runtime | {_normalized(r) for r in project["optional-dependencies"]["fleet"]}
    distributions = packages_distributions()
    fleet_files = _python_files("codemods/fleet")  # fleet mode may use its optional extra
    groups = {
        "dependencies": ([p for p in _python_files("codemods") if p not in fleet_files] + [PROJECT / "cli.py"], runtime),
        "the fleet extra": (fleet_files, fleet),
        "test extras": (_python_files("tests", "sample_repo", "benchmarks"), testing),
    }
    undeclared = []
    for group, (files, declared) in groups.items():
        for module, path in sorted(_top_level_imports(files).items()):
            owners = {_normalized(name) for name in distributions.get(module, ())} - {"auditfix"}
            if owners and not owners & declared:  # (no owner: the standard library or local code)
                undeclared.append(f"{module} ({', '.join(sorted(owners))}), imported by {path.relative_to(PROJECT)}: not in {group}")
    assert undeclared == []
