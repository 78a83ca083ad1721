"""Named files (as pre-commit passes them) are rewritten exactly as a run on the whole project
rewrites them: they are worked on from their project's root, so relative imports, the logging
set-up, service modules and model indexes are seen as in a full run."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.engine.replay import common_root, project_root

SAMPLE_REPO = Path(__file__).resolve().parents[2] / "sample_repo"
AUDITFIX = [sys.executable, "-c", "import sys; from codemods.engine.commandline import entry; sys.argv[0] = 'auditfix'; entry()"]


def auditfix(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AUDITFIX, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def file_diffs(diff: str) -> dict[str, str]:
    """A unified diff split per file (``b/`` path -> its hunks)."""
    parts = re.split(r"^(?=diff --git |--- )", diff, flags=re.MULTILINE)
    found: dict[str, str] = {}
    for part in parts:
        match = re.search(r"^\+\+\+ b/(\S+)", part, flags=re.MULTILINE)
        if match:
            found[match[1]] = part[part.index("@@") :] if "@@" in part else ""
    return found


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("named") / "sample_repo"
    shutil.copytree(SAMPLE_REPO, copy, ignore=shutil.ignore_patterns(".auditfix_cache", "__pycache__"))
    return copy


def test_a_named_route_file_gets_the_full_runs_rewrite(project: Path) -> None:
    whole = auditfix(project, "run", "--dry-run", "--no-progress", "--no-cache", ".")
    route = "flask_app/routes/job_routes.py"
    named = auditfix(project, "run", "--dry-run", "--no-progress", "--no-cache", route)
    assert whole.returncode == named.returncode == 1, (whole.stderr, named.stderr)
    full, alone = file_diffs(whole.stdout), file_diffs(named.stdout)
    # The route's hunks (a service call, relative imports resolved) and the service module it needs.
    assert route in alone and alone[route] == full[route]
    service = "flask_app/services/job_service.py"
    assert alone.get(service) == full.get(service) and service in full
    # Only the named file (and what its fix creates) is rewritten.
    assert set(alone) == {route, service}


def test_check_from_a_sub_folder_lists_the_same_files(project: Path) -> None:
    # pre-commit runs from the repository's top, a user may run from anywhere: same answer.
    top = auditfix(project, "run", "--check", "--no-progress", "--no-cache", "flask_app/routes/job_routes.py")
    inside = auditfix(project / "flask_app" / "routes", "run", "--check", "--no-progress", "--no-cache", "job_routes.py")
    assert top.returncode == inside.returncode == 1
    resolved = {(project / line).resolve() for line in top.stdout.split()}
    assert resolved == {(project / "flask_app" / "routes" / line).resolve() for line in inside.stdout.split()}


def test_project_root_is_the_nearest_marker(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "svc" / "app").mkdir(parents=True)
    (tmp_path / "svc" / "pyproject.toml").write_text("")
    (tmp_path / "svc" / "app" / "a.py").write_text("")
    (tmp_path / "svc" / "app" / "b.py").write_text("")
    assert project_root(tmp_path / "svc" / "app") == tmp_path / "svc"
    root, only = common_root([tmp_path / "svc" / "app" / "a.py"])
    assert (root, only) == (tmp_path / "svc", ["app/a.py"])
    root, only = common_root([tmp_path / "svc" / "app" / "b.py", tmp_path / "svc" / "app" / "a.py"])
    assert (root, only) == (tmp_path / "svc", ["app/a.py", "app/b.py"])
    # A folder is the root, as always.
    assert common_root([tmp_path / "svc" / "app"]) == (tmp_path / "svc" / "app", None)


def test_without_a_project_marker_a_file_is_its_own_root(tmp_path: Path) -> None:
    # Outside any project there is nothing to see beyond the file: behaviour as before.
    if project_root(tmp_path) is not None:
        pytest.skip("the temporary folder lies inside a project")
    (tmp_path / "a.py").write_text("")
    (tmp_path / "b.py").write_text("")
    assert common_root([tmp_path / "a.py"]) == (tmp_path / "a.py", None)
    assert common_root([tmp_path / "a.py", tmp_path / "b.py"]) == (tmp_path, ["a.py", "b.py"])
