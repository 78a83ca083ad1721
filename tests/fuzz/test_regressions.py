"""Bugs the fuzzing and the real-code runs found, one named test each.

A bug in a codemod owned by someone else stays here as ``xfail(strict=True)`` until its fix
lands, so the fix is noticed (the test then passes and strict xfail fails the suite).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codemods import REGISTRY
from codemods.engine.config import resolve
from codemods.engine.runner import Engine, write_changes
from tests.fuzz.checks import check_tree, codemod_by_name, write_tree

ROUTE = """\
from flask import Flask, request

from app.extensions import db
from app.models import Item

app = Flask(__name__)


@app.route("/items", methods=["POST"])
def create():
    item = Item(**request.json)
    db.session.add(item)
    db.session.commit()
    return "ok"
"""


def run_write(root: Path, *names: str):
    codemods = tuple(codemod_by_name(n) for n in names) if names else REGISTRY
    report = Engine(root, resolve(root, codemods, jobs=1, cache=False)).run()
    assert write_changes(root, report.changes) == []
    return report


def test_route_commit_existing_service_module_that_does_not_parse_is_declined_not_a_crash(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/__init__.py": "", "app/views.py": ROUTE, "app/services/item_service.py": "def (:\n"})
    report = run_write(tmp_path, "route-commit")
    assert not [p for p in report.failed if "internal error" in p.message], report.failed
    assert (tmp_path / "app/views.py").read_text() == ROUTE
    assert any(not f.fixable and "item_service.py" in f.message for f in report.findings)


def test_route_commit_keeps_an_existing_services_module_importable(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/extensions.py": "db = None\n",
            "app/models.py": "class Item:\n    pass\n",
            "app/services.py": "X = 1\n",
            "app/views.py": ROUTE,
        },
    )
    run_write(tmp_path, "route-commit")
    probe = subprocess.run(
        [sys.executable, "-c", "from app.services import X; print(X)"], cwd=tmp_path, capture_output=True, text=True
    )
    assert probe.stdout == "1\n", probe.stderr



def test_generated_service_path_taken_by_a_folder_refuses_and_leaves_the_route_unchanged(tmp_path: Path) -> None:
    """The engine used to rewrite the route, then fail to create the service ("created by someone
    else"), leaving a route that imports a module that does not exist."""
    write_tree(tmp_path, {"app/__init__.py": "", "app/views.py": ROUTE, "app/services/item_service.py/notes.txt": "x"})
    report = run_write(tmp_path, "route-commit")
    assert [(p.path, p.message) for p in report.failed] == [
        (
            "app/views.py",
            "route-commit: generated app/services/item_service.py: a folder or special file is already there; "
            "file left unchanged",
        )
    ]
    assert (tmp_path / "app/views.py").read_text() == ROUTE


def test_route_is_not_rewritten_when_its_generated_service_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codemods.engine import runner as engine

    write_tree(tmp_path, {"app/__init__.py": "", "app/views.py": ROUTE})
    report = Engine(tmp_path, resolve(tmp_path, (codemod_by_name("route-commit"),), jobs=1, cache=False)).run()
    write_one = engine._write_one

    def no_new_files(target: Path, change: engine.Change) -> None:
        if change.old is None:
            raise OSError(28, "No space left on device")
        write_one(target, change)

    monkeypatch.setattr(engine, "_write_one", no_new_files)
    problems = {p.path: p.message for p in engine.write_changes(tmp_path, report.changes)}
    assert (tmp_path / "app/views.py").read_text() == ROUTE
    assert problems["app/views.py"] == (
        "not written: it needs app/services/__init__.py, app/services/item_service.py, which could not be written"
    )


# -- found by benchmarks/write_runs.py (500 programs, seed 0): route-commit, an existing service
# module that already defines the route's name. Fixed: the index counts routes in app factories
# (it did not know the module's names, so finalize met the clash), a name taken twice is no name,
# and the names the route module already calls on its service are taken (the second pass).

_SERVICE_TAKES_THE_NAME_FINALIZE = {'app/__init__.py': '', 'app/services/__init__.py': '', 'app/services/item_service.py': 'def create_item(item):\n    return item\n', 'app/views.py': 'from __future__ import annotations\nimport logging\nimport os\nimport sys\nfrom datetime import datetime\nfrom functools import cached_property\n\nimport pydantic\nfrom fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException\nfrom flask import Blueprint, Flask, abort, flash, jsonify, redirect, request, url_for\nfrom flask.views import MethodView\nfrom flask_restful import Resource\nfrom pydantic import BaseConfig, BaseModel, BaseSettings, Extra, Field\nfrom sqlalchemy import update\nfrom sqlalchemy.ext.asyncio import AsyncSession\nfrom sqlalchemy.orm import Session, scoped_session, sessionmaker\n\nfrom app.database import AsyncSessionLocal, SessionLocal, engine, get_db, get_session\nfrom app.extensions import db\nfrom app.models import Item, Tag\n\nlogger = logging.getLogger(__name__)\napp = Flask(__name__)\nrouter = APIRouter()\nT = TypeVar("T")\n\n\ndef create_app(config=None):\n    app = Flask(__name__)\n    @app.api_route("/items/{item_id}", methods=["POST"])\n    async def create_item(item_id: int, payload: ItemIn, db: Annotated[AsyncSession, Depends(get_session)]):\n        item = Item(**payload.model_dump())\n        db.add(item)\n        for tag in payload.tags:\n            db.add(Tag(name=tag, item=item))\n            await db.commit()\n        await db.commit()\n        return None\n    return app\n\nif __name__ == "__main__":\n    main()\n'}

_SERVICE_TAKES_THE_NAME_SECOND_PASS = {'app/__init__.py': '', 'app/services/item_service.py': 'def create_item(item):\n    return item\n', 'app/views.py': 'import logging\nimport sqlite3\nfrom datetime import datetime\nfrom functools import cached_property\n\nimport pydantic\nfrom fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException\nfrom flask.views import MethodView\nfrom flask_restful import Resource\nfrom pydantic.generics import GenericModel\nfrom sqlalchemy.exc import IntegrityError, SQLAlchemyError\nfrom sqlalchemy.ext.asyncio import AsyncSession\nfrom sqlalchemy.orm import Session, scoped_session, sessionmaker\n\nfrom app.database import AsyncSessionLocal, SessionLocal, engine, get_db, get_session\nfrom app.models import Item, Tag\n\napp = Flask(__name__)\nbp = Blueprint("items", __name__)\nT = TypeVar("T")\n\n\n@router.post("/items/{item_id}")\ndef create_item(item_id: int, payload: ItemIn, db: Session = Depends(get_session)):\n  existing = db.get(Item, item_id)\n  if existing is None:\n    raise HTTPException(status_code=404, detail="not found")\n  item = Item(name=payload.name)\n  db.add(item)\n  for tag in payload.tags:\n    db.add(Tag(name=tag, item=item))\n    db.commit()\n  db.commit()\n  return {"id": item.id}\n\n\n@router.post("/items/{item_id}")\ndef create_item(item_id: int, payload: ItemIn, db: Session = Depends(get_session)):\n  existing = db.get(Item, item_id)\n  if existing is None:\n    raise HTTPException(status_code=404, detail="not found")\n  item = Item(name=payload.name)\n  db.add(item)\n  for tag in payload.tags:\n    db.add(Tag(name=tag, item=item))\n    db.commit()\n  db.commit()\n  return {"id": item.id}\n\n\nif not TYPE_CHECKING:\n  def create_app(config=None):\n    app = Flask(__name__)\n    @app.post("/items/{item_id}", status_code=201)\n    async def upsert(item_id: int, payload: ItemIn, db: Annotated[AsyncSession, Depends(get_db)]):\n      existing = await db.get(Item, item_id)\n      if existing is None:\n        raise HTTPException(status_code=404, detail="not found")\n      item = Item(**payload.model_dump())\n      db.add(item)\n      await db.commit()\n      return {"id": item.id}\n    return app\n'}


def test_route_commit_existing_service_defining_the_route_name_is_declined_not_a_crash() -> None:
    # The route sits in an app factory: the index now counts it, so it knows the module's names.
    check_tree(_SERVICE_TAKES_THE_NAME_FINALIZE, REGISTRY)


# Fixed by sharing: the two identical routes now call one function instead of generating two.
def test_route_commit_existing_service_defining_the_route_name_is_a_fixed_point() -> None:
    check_tree(_SERVICE_TAKES_THE_NAME_SECOND_PASS, REGISTRY)
