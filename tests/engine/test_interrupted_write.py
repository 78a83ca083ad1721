"""A `run --write` killed with SIGKILL at any moment of its write phase is finished by the next
`run --write`, and the tree is then byte for byte what an uninterrupted run leaves.

The killed runs are real processes: ``tests.fuzz.trees.KILL_LAUNCHER`` replaces ``os.replace``
with one that sends the process SIGKILL just before or just after its Nth call (the journal is
the first replace, each file one more), then runs the console script as usual.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.engine.journal import journal_path
from tests.fuzz.checks import read_tree, write_tree
from tests.fuzz.trees import REPOSITORY, run_write

APP = {
    "app/__init__.py": (
        "import logging\n\nfrom flask import Flask\n\nfrom app.extensions import db\n\n\n"
        "def create_app():\n    logging.basicConfig(level=logging.INFO)\n    app = Flask(__name__)\n"
        "    db.init_app(app)\n    return app\n"
    ),
    "app/extensions.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
    "app/models.py": (
        "from app.extensions import db\n\n\nclass Item(db.Model):\n"
        "    id = db.Column(db.Integer, primary_key=True)\n    name = db.Column(db.String)\n"
    ),
    "app/routes/__init__.py": "",
    "app/routes/items.py": (
        "from flask import Blueprint, jsonify, request\n\nfrom app.extensions import db\nfrom app.models import Item\n\n"
        'bp = Blueprint("items", __name__)\n\n\n@bp.post("/items")\ndef create_item():\n'
        '    name = request.json["name"]\n    item = Item(name=name)\n    db.session.add(item)\n'
        '    print("created item", name)\n    db.session.commit()\n    return jsonify(id=item.id)\n\n\n'
        '@bp.delete("/items/<int:item_id>")\ndef delete_item(item_id):\n    item = db.get_or_404(Item, item_id)\n'
        '    db.session.delete(item)\n    db.session.commit()\n    return "", 204\n'
    ),
    "app/routes/orders.py": (
        "from flask import Blueprint, request\n\nfrom app.extensions import db\nfrom app.models import Item\n\n"
        'bp = Blueprint("orders", __name__)\n\n\n@bp.post("/orders")\ndef create_order():\n'
        '    item = Item(name=request.form["name"])\n    db.session.add(item)\n    db.session.commit()\n'
        '    return "ok"\n'
    ),
    "app/services/__init__.py": "",
    "app/services/orders_service.py": '"""Order services."""\n\n\ndef count_orders(db):\n    return 0\n',
    "app/tasks.py": (
        "from app.extensions import db\n\n\ndef load(path):\n    try:\n        return open(path).read()\n"
        "    except:\n        return None\n\n\ndef rename_all(items):\n    for item in items:\n"
        '        item.name = item.name.upper()\n        db.session.commit()\n    print("renamed", len(items))\n'
    ),
}

def auditfix(folder: Path, *kill: str) -> subprocess.CompletedProcess[str]:
    return run_write(folder, kill=(int(kill[0]), kill[1]) if kill else None, timeout=300)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("uninterrupted")
    write_tree(folder, APP)
    result = auditfix(folder)
    assert result.returncode == 0, result.stderr
    assert "0 failed" in result.stderr
    return read_tree(folder)


def test_the_example_writes_enough_files_for_the_kill_moments(uninterrupted: dict[str, bytes]) -> None:
    changed = [path for path in uninterrupted if uninterrupted[path] != APP.get(path, "").encode() or path not in APP]
    # Two services (one created, one merged into), two routes, the tasks module: five replaces
    # after the journal's, so the moments below are all inside the write phase.
    assert len(changed) >= 5, changed
    assert b"logger.info" in uninterrupted["app/services/items_service.py"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kill_at", "when"),
    [
        pytest.param(1, "before", id="before-the-journal-is-in-place"),
        pytest.param(1, "after", id="journal-written-no-file-yet"),
        pytest.param(3, "before", id="one-file-written-second-half-written"),
        pytest.param(4, "after", id="three-files-written-services-but-not-all-routes"),
        pytest.param(6, "after", id="every-file-written-journal-still-there"),
    ],
)
def test_a_killed_write_is_finished_by_the_next_run_to_the_byte(
    tmp_path: Path, uninterrupted: dict[str, bytes], kill_at: int, when: str
) -> None:
    write_tree(tmp_path, APP)
    killed = auditfix(tmp_path, str(kill_at), when)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    halfway = read_tree(tmp_path)
    if (kill_at, when) != (1, "before"):
        assert journal_path(tmp_path).is_file()
        recorded = {c["path"] for c in json.loads(journal_path(tmp_path).read_text())["changes"]}
        assert recorded == {p for p in uninterrupted if uninterrupted[p] != APP.get(p, "").encode() or p not in APP}
    if kill_at > 1 and kill_at < 6:
        assert halfway != uninterrupted  # the run really stopped half-way

    finished = auditfix(tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert "0 failed" in finished.stderr
    if (kill_at, when) != (1, "before"):
        assert "finished an interrupted run --write" in finished.stderr
    assert read_tree(tmp_path) == uninterrupted  # temporary files of the killed run included
    assert not journal_path(tmp_path).exists()


def test_a_file_changed_after_the_kill_is_left_alone_and_so_are_the_files_that_need_it(
    tmp_path: Path, uninterrupted: dict[str, bytes]
) -> None:
    write_tree(tmp_path, APP)
    killed = auditfix(tmp_path, "1", "after")  # journal written, no file yet
    assert killed.returncode == -signal.SIGKILL
    (tmp_path / "app/services/orders_service.py").write_text('"""Edited by hand meanwhile."""\n')
    from codemods.engine.runner import finish_interrupted_write

    finished = finish_interrupted_write(tmp_path)
    assert finished is not None
    assert {p.path for p in finished.problems} == {"app/services/orders_service.py", "app/routes/orders.py"}
    assert (tmp_path / "app/routes/orders.py").read_text() == APP["app/routes/orders.py"]
    assert (tmp_path / "app/routes/items.py").read_bytes() == uninterrupted["app/routes/items.py"]
    assert not journal_path(tmp_path).exists()


def test_a_damaged_journal_stops_the_run_with_a_reason(tmp_path: Path) -> None:
    write_tree(tmp_path, APP)
    journal_path(tmp_path).parent.mkdir()
    journal_path(tmp_path).write_text('{"format": 1, "pid": 0, "changes": [{"path": "../outside.py"}]}')
    result = auditfix(tmp_path)
    assert result.returncode == 2
    assert "damaged" in result.stderr
    assert read_tree(tmp_path) == {p: c.encode() for p, c in APP.items()}


def test_dry_run_says_an_interrupted_write_is_waiting(tmp_path: Path) -> None:
    write_tree(tmp_path, APP)
    assert auditfix(tmp_path, "1", "after").returncode == -signal.SIGKILL
    command = [sys.executable, "-c", "import cli; cli.entry()", "run", str(tmp_path), "--dry-run", "--no-cache", "--no-progress", "-j", "1"]
    result = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=300)
    assert "a run --write was interrupted here" in result.stderr
