"""The pre-commit hook's path (``auditfix run --check FILE``): a changed file no codemod can act
on is checked without importing libcst, the codemods or the CLI's libraries.

Run in a subprocess, as the console script runs, because what matters is what the process does
*not* import.  The first run in a folder reads the codemods' markers from their classes (and
keeps them in ``.auditfix_cache/``); every later run, as after each commit, reads them from there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.engine.test_engine import make_tree

REPO = Path(__file__).resolve().parent.parent.parent
HEAVY = (
    "libcst", "libcst.matchers", "libcst.codemod", "codemods.base", "codemods.registry", "typer", "click", "rich", "pydantic", "jinja2", "isort",
    "multiprocessing", "concurrent.futures", "pathspec",
)  # fmt: skip
PROGRAM = (
    "import sys\n"
    "from codemods.engine.commandline import entry\n"
    "sys.argv[0] = 'auditfix'\n"
    "code = 0\n"
    "try:\n"
    "    entry()\n"
    "except SystemExit as stop:\n"
    "    code = stop.code\n"
    f"print('imported:', ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def check(path: str, cwd: Path, *options: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **variables}
    command = [sys.executable, "-c", PROGRAM, "run", *(options or ["--check"]), "--no-progress", path]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)


def imported(result: subprocess.CompletedProcess[str]) -> str:
    return next(line for line in result.stderr.splitlines() if line.startswith("imported:"))


def test_a_changed_file_without_markers_is_checked_without_libcst_or_the_cli(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "app/util.py": "def double(x):\n    return 2 * x\n",
            "app/jobs.py": "def run():\n    try:\n        work()\n    except:\n        pass\n",
        },
    )
    check("app/util.py", tmp_path)  # the previous commit's run
    (tmp_path / "app/util.py").write_text("def double(x):\n    return x + x\n")
    result = check("app/util.py", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == "imported: \n"  # nothing to change, nothing heavy


def test_a_changed_file_a_codemod_acts_on_is_still_checked_in_full(tmp_path: Path) -> None:
    make_tree(tmp_path, {"app/jobs.py": "def run():\n    try:\n        work()\n    except:\n        pass\n"})
    check("app/jobs.py", tmp_path)
    (tmp_path / "app/jobs.py").write_text("def run():\n    try:\n        work(1)\n    except:\n        pass\n")
    result = check("app/jobs.py", tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.split() == ["app/jobs.py"]
    assert "libcst" in imported(result) and "typer" not in imported(result)



ROUTES = """\
from flask import Flask, request

from app.db import db
from app.models import Item

app = Flask(__name__)


@app.post("/items")
def create_item():
    item = Item(name=request.json["name"])
    db.session.add(item)
    db.session.commit()
    return {"id": item.id}
"""

# A Flask project whose route file route-commit rewrites (its unit of work moves to a service).
ROUTE_PROJECT = {
    "pyproject.toml": "",
    "app/__init__.py": "",
    "app/db.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
    "app/models.py": "from app.db import db\n\n\nclass Item(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n",
    "app/routes.py": ROUTES,
}


def test_a_route_file_route_commit_rewrites_is_checked_without_libcsts_codemod_framework(tmp_path: Path) -> None:
    # Its unit of work moves to a service module and its imports change: libcst, route-commit
    # and the import edits all run, but not libcst.codemod and the libcst.matchers it brings
    # (codemods.speedups.imports).
    make_tree(tmp_path, ROUTE_PROJECT)
    check("app/routes.py", tmp_path)
    (tmp_path / "app/routes.py").write_text(ROUTES + "# edited\n")
    result = check("app/routes.py", tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.split() == ["app/routes.py", "app/services/__init__.py", "app/services/item_service.py"]
    # The service function's text comes from the previous run's renders (engine/templating.py).
    # isort places the new imports: imported by a second process beside libcst when the machine
    # has two cores (codemods.engine.sorter), else here.
    beside = hasattr(os, "fork") and len(os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)) > 1
    assert imported(result) == ("imported: libcst,codemods.base" if beside else "imported: libcst,codemods.base,isort")
    (tmp_path / "app/routes.py").write_text(ROUTES + "# edited again\n")
    alone = check("app/routes.py", tmp_path, AUDITFIX_ISORT_PROCESS="0")
    assert alone.stdout == result.stdout
    assert imported(alone) == "imported: libcst,codemods.base,isort"


def test_no_registered_codemod_imports_libcsts_matchers_or_codemod_framework() -> None:
    # libcst.matchers takes longer to import than libcst itself; a blueprint file (the marker
    # ``print(`` occurs in ``Blueprint(``) must not pay it on every commit, nor a full run.
    program = (
        "import sys\n"
        "import codemods.registry, codemods.engine.runner, codemods.engine.pipeline, codemods.engine.style\n"
        "print(','.join(m for m in ('libcst.matchers', 'libcst.codemod') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
