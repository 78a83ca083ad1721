"""route-commit specifications.

Each moved case is a route module before and after, plus the service modules that
``RouteCommit.finalize`` generates for it (compared as a tree, with a unified diff on
failure).  ``assert_rewrite`` also checks the rewritten route parses, compiles and is a
fixed point.  The behaviour of rewritten apps is proven in test_route_commit_apps.py.
"""

from __future__ import annotations

import difflib
import textwrap
from collections.abc import Mapping
from typing import Any

import libcst as cst
import pytest

from codemods.engine.config import default_options
from codemods.engine.pipeline import FileOutcome
from codemods.rules.route_commit import RouteCommit
from codemods.rules.route_commit.naming import legacy_location as service_location
from codemods.rules.route_commit.services import ServiceFunctionRequest
from codemods.engine.templating import TemplateSet
from tests.rules.helpers import assert_noop, assert_rewrite, declined, make_plan, run_codemod


def generate(
    outcome: FileOutcome,
    options: Mapping[str, Any] | None = None,
    existing: Mapping[str, str] | None = None,
    templates: TemplateSet | None = None,
) -> dict[str, str]:
    """The files finalize writes for one rewritten route module (path -> content)."""
    merged = {**default_options(RouteCommit), **(options or {})}
    files = dict(existing or {})
    result = RouteCommit.finalize(
        [(outcome.path, extra) for _, extra in outcome.extras], files.get, merged, templates or TemplateSet()
    )
    return {g.path: g.content for g in result.files}


def assert_tree(actual: Mapping[str, str], expected: Mapping[str, str]) -> None:
    if dict(actual) == dict(expected):
        return
    report = []
    for path in sorted(set(actual) | set(expected)):
        old = expected.get(path)
        new = actual.get(path)
        if old == new:
            continue
        report.extend(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (new or "").splitlines(keepends=True),
                f"expected/{path}" if old is not None else "/dev/null",
                f"actual/{path}" if new is not None else "/dev/null",
            )
        )
    pytest.fail("generated files differ:\n" + "".join(report))


def assert_moved(
    path: str,
    before: str,
    after: str,
    services: Mapping[str, str],
    *,
    options: Mapping[str, Any] | None = None,
    other_files: Mapping[str, str] | None = None,
) -> FileOutcome:
    """The route is rewritten to ``after`` and finalize generates ``services`` (``__init__.py`` aside)."""
    outcome = assert_rewrite(RouteCommit, before, after, path=path, options=options, other_files=other_files)
    generated = generate(outcome, options, other_files)
    for content in generated.values():
        compile(content, "<service>", "exec", dont_inherit=True)
    assert_tree({p: c for p, c in generated.items() if not p.endswith("__init__.py")}, services)
    return outcome


def reasons(source: str, path: str = "app/routes/order_routes.py", **kwargs: Any) -> list[str]:
    return declined(assert_noop(RouteCommit, source, path=path, **kwargs))


MOVED = [
    pytest.param(
        "app/routes/candidate_routes.py",
        """\
from flask import Blueprint, jsonify

from ..extensions import db
from ..models import Candidate

bp = Blueprint("candidates", __name__, url_prefix="/candidates")


@bp.route("/<int:candidate_id>/delete", methods=["POST"])
def delete_candidate(candidate_id):
    candidate = Candidate.query.get(candidate_id)
    if candidate is None:
        return jsonify(error="not found"), 404
    db.session.delete(candidate)
    db.session.commit()
    return "", 204
""",
        """\
from flask import Blueprint, jsonify

from ..models import Candidate
from ..services import candidate_service

bp = Blueprint("candidates", __name__, url_prefix="/candidates")


@bp.route("/<int:candidate_id>/delete", methods=["POST"])
def delete_candidate(candidate_id):
    candidate = Candidate.query.get(candidate_id)
    if candidate is None:
        return jsonify(error="not found"), 404
    candidate_service.delete_candidate(candidate)
    return "", 204
""",
        {
            "app/services/candidate_service.py": '''\
"""Candidate services: database writes and their commits."""

from ..extensions import db
from ..models import Candidate


def delete_candidate(candidate: Candidate):
    """Delete the candidate and commit."""
    db.session.delete(candidate)
    db.session.commit()
''',
        },
        id="flask-delete",
    ),
    pytest.param(
        "app/routes/candidate_routes.py",
        """\
from flask import Blueprint, abort, jsonify, request

from ..extensions import db
from ..models import Candidate

bp = Blueprint("candidates", __name__, url_prefix="/candidates")


@bp.post("/<int:candidate_id>/status")
def update_status(candidate_id):
    new_status = request.json.get("status")
    if not new_status:
        abort(400)
    candidate = db.get_or_404(Candidate, candidate_id)
    candidate.status = new_status
    db.session.commit()
    return jsonify(candidate.to_dict())
""",
        """\
from flask import Blueprint, abort, jsonify, request

from ..extensions import db
from ..models import Candidate
from ..services import candidate_service

bp = Blueprint("candidates", __name__, url_prefix="/candidates")


@bp.post("/<int:candidate_id>/status")
def update_status(candidate_id):
    new_status = request.json.get("status")
    if not new_status:
        abort(400)
    candidate = db.get_or_404(Candidate, candidate_id)
    candidate_service.update_status(candidate, new_status)
    return jsonify(candidate.to_dict())
""",
        {
            "app/services/candidate_service.py": '''\
"""Candidate services: database writes and their commits."""

from ..extensions import db
from ..models import Candidate


def update_status(candidate: Candidate, new_status):
    """Update the status and commit."""
    candidate.status = new_status
    db.session.commit()
''',
        },
        id="flask-update-status-returns-value",
    ),
    pytest.param(
        "app/routes/auth_routes.py",
        """\
from flask import Blueprint, jsonify, request
from werkzeug.security import generate_password_hash

from ..extensions import db
from ..models import User

bp = Blueprint("auth", __name__)


@bp.post("/reset-password")
def reset_password():
    token = request.json["token"]
    password = request.json["password"]
    user = User.query.filter_by(reset_token=token).first()
    if user is None:
        return jsonify(error="invalid token"), 400
    user.password_hash = generate_password_hash(password)
    user.reset_token = None
    db.session.commit()
    return jsonify(ok=True)
""",
        """\
from flask import Blueprint, jsonify, request

from ..models import User
from ..services import auth_service

bp = Blueprint("auth", __name__)


@bp.post("/reset-password")
def reset_password():
    token = request.json["token"]
    password = request.json["password"]
    user = User.query.filter_by(reset_token=token).first()
    if user is None:
        return jsonify(error="invalid token"), 400
    auth_service.reset_password(user, password)
    return jsonify(ok=True)
""",
        {
            "app/services/auth_service.py": '''\
"""Auth services: database writes and their commits."""

from werkzeug.security import generate_password_hash

from ..extensions import db


def reset_password(user, password):
    """Reset the password and commit."""
    user.password_hash = generate_password_hash(password)
    user.reset_token = None
    db.session.commit()
''',
        },
        id="password-reset",
    ),
    pytest.param(
        "app/routes/orders.py",
        """\
from flask import Blueprint, jsonify, request

from ..extensions import db
from ..models import AuditLog, Order

bp = Blueprint("orders", __name__)


@bp.post("/orders")
def create_order():
    data = request.get_json()
    order = Order(customer=data["customer"])
    db.session.add(order)
    db.session.commit()
    audit = AuditLog(order_id=order.id)
    db.session.add(audit)
    db.session.commit()
    return jsonify(id=order.id), 201
""",
        """\
from flask import Blueprint, jsonify, request

from ..services import orders_service

bp = Blueprint("orders", __name__)


@bp.post("/orders")
def create_order():
    data = request.get_json()
    order = orders_service.create_order(data)
    return jsonify(id=order.id), 201
""",
        {
            "app/services/orders_service.py": '''\
"""Orders services: database writes and their commits."""

from ..extensions import db
from ..models import AuditLog, Order


def create_order(data):
    """Create the order and commit."""
    order = Order(customer=data["customer"])
    db.session.add(order)
    db.session.commit()
    audit = AuditLog(order_id=order.id)
    db.session.add(audit)
    db.session.commit()
    return order
''',
        },
        id="commits-twice",
    ),
    pytest.param(
        "app/routes/orders.py",
        """\
from flask import Blueprint, jsonify, request

from ..extensions import db
from ..models import Order

bp = Blueprint("orders", __name__)


@bp.post("/orders/split")
def split_order():
    data = request.get_json()
    left = Order(customer=data["left"])
    right = Order(customer=data["right"])
    db.session.add_all([left, right])
    db.session.commit()
    return jsonify(left=left.id, right=right.id)
""",
        """\
from flask import Blueprint, jsonify, request

from ..services import orders_service

bp = Blueprint("orders", __name__)


@bp.post("/orders/split")
def split_order():
    data = request.get_json()
    left, right = orders_service.split_order(data)
    return jsonify(left=left.id, right=right.id)
""",
        {
            "app/services/orders_service.py": '''\
"""Orders services: database writes and their commits."""

from ..extensions import db
from ..models import Order


def split_order(data):
    """Split the order and commit."""
    left = Order(customer=data["left"])
    right = Order(customer=data["right"])
    db.session.add_all([left, right])
    db.session.commit()
    return left, right
''',
        },
        id="two-values-returned-as-tuple",
    ),
    pytest.param(
        "app/routes/orders.py",
        """\
from flask import Blueprint, jsonify
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Order

bp = Blueprint("orders", __name__)


@bp.post("/orders/<int:order_id>/ship")
def ship_order(order_id):
    order = db.get_or_404(Order, order_id)
    try:
        order.status = "shipped"
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return jsonify(error="conflict"), 409
    return jsonify(status=order.status)
""",
        """\
from flask import Blueprint, jsonify
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Order
from ..services import orders_service

bp = Blueprint("orders", __name__)


@bp.post("/orders/<int:order_id>/ship")
def ship_order(order_id):
    order = db.get_or_404(Order, order_id)
    try:
        orders_service.ship_order(order)
    except IntegrityError:
        db.session.rollback()
        return jsonify(error="conflict"), 409
    return jsonify(status=order.status)
""",
        {
            "app/services/orders_service.py": '''\
"""Orders services: database writes and their commits."""

from ..extensions import db
from ..models import Order


def ship_order(order: Order):
    """Ship the order and commit."""
    order.status = "shipped"
    db.session.commit()
''',
        },
        id="commit-in-try-with-rollback",
    ),
    pytest.param(
        "app/routes/orders.py",
        """\
from flask import Blueprint, request

from ..extensions import db
from ..models import Order

bp = Blueprint("orders", __name__)


@bp.post("/orders/<int:order_id>/notify")
def notify(order_id):
    order = db.get_or_404(Order, order_id)
    if request.args.get("mark"):
        order.notified = True
        db.session.commit()
    return "", 204
""",
        """\
from flask import Blueprint, request

from ..extensions import db
from ..models import Order
from ..services import orders_service

bp = Blueprint("orders", __name__)


@bp.post("/orders/<int:order_id>/notify")
def notify(order_id):
    order = db.get_or_404(Order, order_id)
    if request.args.get("mark"):
        orders_service.notify(order)
    return "", 204
""",
        {
            "app/services/orders_service.py": '''\
"""Orders services: database writes and their commits."""

from ..extensions import db
from ..models import Order


def notify(order: Order):
    """Notify and commit."""
    order.notified = True
    db.session.commit()
''',
        },
        id="commit-in-if",
    ),
    pytest.param(
        "app/routers/items.py",
        """\
from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.orm import Session

from app.database import get_db
from app.models import Item

router = APIRouter(prefix="/items")


@router.delete("/{item_id}", status_code=204)
def delete_item(item_id: int, db: Session = Depends(get_db)):
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404)
    db.delete(item)
    db.commit()
""",
        """\
from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.orm import Session

from app.database import get_db
from app.models import Item
from app.services import items_service

router = APIRouter(prefix="/items")


@router.delete("/{item_id}", status_code=204)
def delete_item(item_id: int, db: Session = Depends(get_db)):
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404)
    items_service.delete_item(db, item)
""",
        {
            "app/services/items_service.py": '''\
"""Items services: database writes and their commits."""

from app.models import Item
from sqlalchemy.orm import Session


def delete_item(db: Session, item: Item):
    """Delete the item and commit."""
    db.delete(item)
    db.commit()
''',
        },
        id="fastapi-sync-depends",
    ),
    pytest.param(
        "app/routers/items.py",
        """\
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession

from ..database import get_async_db
from ..models import Item
from ..schemas import ItemUpdate

router = APIRouter(prefix="/items")


@router.put("/{item_id}")
async def update_item(
    item_id: int, payload: ItemUpdate, request: Request, db: Annotated[AsyncSession, Depends(get_async_db)]
):
    item = await db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404)
    item.updated_by = request.client.host
    item.name = payload.name
    await db.commit()
    return {"id": item.id}
""",
        """\
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession

from ..database import get_async_db
from ..models import Item
from ..schemas import ItemUpdate
from ..services import items_service

router = APIRouter(prefix="/items")


@router.put("/{item_id}")
async def update_item(
    item_id: int, payload: ItemUpdate, request: Request, db: Annotated[AsyncSession, Depends(get_async_db)]
):
    item = await db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404)
    await items_service.update_item(db, item, request.client, payload)
    return {"id": item.id}
""",
        {
            "app/services/items_service.py": '''\
"""Items services: database writes and their commits."""

from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Item
from ..schemas import ItemUpdate


async def update_item(db: AsyncSession, item: Item, client, payload: ItemUpdate):
    """Update the item and commit."""
    item.updated_by = client.host
    item.name = payload.name
    await db.commit()
''',
        },
        id="fastapi-async-annotated",
    ),
    pytest.param(
        "app/routers/items.py",
        """\
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from ..database import get_db
from ..models import Item

router = APIRouter()


@router.post("/items/{item_id}/archive")
async def archive_item(item_id: int, db: Session = Depends(get_db)):
    item = db.get(Item, item_id)
    item.archived = True
    db.commit()
    return {"archived": item_id}
""",
        """\
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from ..database import get_db
from ..services import items_service

router = APIRouter()


@router.post("/items/{item_id}/archive")
async def archive_item(item_id: int, db: Session = Depends(get_db)):
    items_service.archive_item(db, item_id)
    return {"archived": item_id}
""",
        {
            "app/services/items_service.py": '''\
"""Items services: database writes and their commits."""

from sqlalchemy.orm import Session

from ..models import Item


def archive_item(db: Session, item_id: int):
    """Archive the item and commit."""
    item = db.get(Item, item_id)
    item.archived = True
    db.commit()
''',
        },
        id="async-route-without-await-in-run",
    ),
    pytest.param(
        "app/views.py",
        """\
from flask import jsonify, request
from flask.views import MethodView
from flask_restful import Resource

from .extensions import db
from .models import Application, Note


class ApplicationAPI(MethodView):
    def post(self, application_id):
        application = db.get_or_404(Application, application_id)
        stage = request.json["stage"]
        application.stage = stage
        db.session.commit()
        return jsonify(application.to_dict())

    def refresh(self):
        db.session.commit()


class NoteResource(Resource):
    def delete(self, note_id):
        note = Note.query.get_or_404(note_id)
        db.session.delete(note)
        db.session.commit()
        return "", 204
""",
        """\
from flask import jsonify, request
from flask.views import MethodView
from flask_restful import Resource

from .extensions import db
from .models import Application, Note
from .services import application_service, note_service


class ApplicationAPI(MethodView):
    def post(self, application_id):
        application = db.get_or_404(Application, application_id)
        stage = request.json["stage"]
        application_service.post_application(application, stage)
        return jsonify(application.to_dict())

    def refresh(self):
        db.session.commit()


class NoteResource(Resource):
    def delete(self, note_id):
        note = Note.query.get_or_404(note_id)
        note_service.delete_note(note)
        return "", 204
""",
        {
            "app/services/application_service.py": '''\
"""Application services: database writes and their commits."""

from ..extensions import db
from ..models import Application


def post_application(application: Application, stage):
    """Create the application and commit."""
    application.stage = stage
    db.session.commit()
''',
            "app/services/note_service.py": '''\
"""Note services: database writes and their commits."""

from ..extensions import db
from ..models import Note


def delete_note(note: Note):
    """Delete the note and commit."""
    db.session.delete(note)
    db.session.commit()
''',
        },
        id="methodview-and-resource",
    ),
    pytest.param(
        "src/shop/api/cart_api.py",
        """\
from flask import Blueprint

from shop.extensions import db
from shop.models import Cart

bp = Blueprint("carts", __name__)


@bp.delete("/carts/<int:cart_id>")
def clear_cart(cart_id):
    cart = Cart.query.get(cart_id)
    cart.items.clear()
    db.session.commit()
    return "", 204
""",
        """\
from flask import Blueprint

from shop.services import cart_service

bp = Blueprint("carts", __name__)


@bp.delete("/carts/<int:cart_id>")
def clear_cart(cart_id):
    cart_service.clear_cart(cart_id)
    return "", 204
""",
        {
            "src/shop/services/cart_service.py": '''\
"""Cart services: database writes and their commits."""

from shop.extensions import db
from shop.models import Cart


def clear_cart(cart_id):
    """Clear the cart and commit."""
    cart = Cart.query.get(cart_id)
    cart.items.clear()
    db.session.commit()
''',
        },
        id="absolute-imports-of-own-package",
    ),
    pytest.param(
        "app/routes/cart_routes.py",
        """\
import logging

from flask import Blueprint

from ..extensions import db
from ..models import Cart

logger = logging.getLogger(__name__)
bp = Blueprint("carts", __name__)


@bp.delete("/carts/<int:cart_id>")
def clear_cart(cart_id):
    cart = Cart.query.get(cart_id)
    logger.info("clearing cart %s", cart_id)
    cart.items.clear()
    db.session.commit()
    return "", 204
""",
        """\
import logging

from flask import Blueprint

from ..services import cart_service

logger = logging.getLogger(__name__)
bp = Blueprint("carts", __name__)


@bp.delete("/carts/<int:cart_id>")
def clear_cart(cart_id):
    cart_service.clear_cart(cart_id)
    return "", 204
""",
        {
            "app/services/cart_service.py": '''\
"""Cart services: database writes and their commits."""

import logging

from ..extensions import db
from ..models import Cart

logger = logging.getLogger(__name__)


def clear_cart(cart_id):
    """Clear the cart and commit."""
    cart = Cart.query.get(cart_id)
    logger.info("clearing cart %s", cart_id)
    cart.items.clear()
    db.session.commit()
''',
        },
        id="module-logger-becomes-service-logger",
    ),
    pytest.param(
        "app/routes/tags.py",
        """\
from flask import Blueprint

from ..database import session
from ..models import Tag

bp = Blueprint("tags", __name__)


@bp.post("/tags/<name>")
def create_tag(name):
    session.add(Tag(name=name))
    session.commit()
    return "", 201
""",
        """\
from flask import Blueprint

from ..services import tags_service

bp = Blueprint("tags", __name__)


@bp.post("/tags/<name>")
def create_tag(name):
    tags_service.create_tag(name)
    return "", 201
""",
        {
            "app/services/tags_service.py": '''\
"""Tags services: database writes and their commits."""

from ..database import session
from ..models import Tag


def create_tag(name):
    """Create the tag and commit."""
    session.add(Tag(name=name))
    session.commit()
''',
        },
        id="sqlalchemy-session-is-not-flask-session",
    ),
    pytest.param(
        "app/routes/orders.py",
        """\
from flask import Blueprint, request

from ..extensions import db
from ..models import Order

bp = Blueprint("orders", __name__)


@bp.post("/orders/<int:order_id>/close")
def close_order(order_id):
    reason = request.json["reason"]
    order = db.get_or_404(Order, order_id)
    if order.open:
        order.open = False
        db.session.commit()
    order.reason = reason
    db.session.commit()
    return "", 204
""",
        """\
from flask import Blueprint, request

from ..extensions import db
from ..models import Order
from ..services import orders_service

bp = Blueprint("orders", __name__)


@bp.post("/orders/<int:order_id>/close")
def close_order(order_id):
    reason = request.json["reason"]
    order = db.get_or_404(Order, order_id)
    orders_service.close_order(order, reason)
    return "", 204
""",
        {
            "app/services/orders_service.py": '''\
"""Orders services: database writes and their commits."""

from ..extensions import db
from ..models import Order


def close_order(order: Order, reason):
    """Close the order and commit."""
    if order.open:
        order.open = False
        db.session.commit()
    order.reason = reason
    db.session.commit()
''',
        },
        id="nested-commit-moves-with-the-outer-run",
    ),
    pytest.param(
        "app/routes/orders.py",
        """\
from flask import Blueprint, jsonify, session

from ..extensions import db
from ..models import Order

bp = Blueprint("orders", __name__)


@bp.post("/orders")
def create_or_reuse():
    order = Order.query.filter_by(ref=session["ref"]).first()
    if order is None:
        order = Order(ref="new")
        db.session.add(order)
    db.session.commit()
    return jsonify(id=order.id)
""",
        """\
from flask import Blueprint, jsonify, session

from ..models import Order
from ..services import orders_service

bp = Blueprint("orders", __name__)


@bp.post("/orders")
def create_or_reuse():
    order = Order.query.filter_by(ref=session["ref"]).first()
    order = orders_service.create_or_reuse(order)
    return jsonify(id=order.id)
""",
        {
            "app/services/orders_service.py": '''\
"""Orders services: database writes and their commits."""

from ..extensions import db
from ..models import Order


def create_or_reuse(order):
    """Create or reuse and commit."""
    if order is None:
        order = Order(ref="new")
        db.session.add(order)
    db.session.commit()
    return order
''',
        },
        id="value-reassigned-on-some-paths-is-passed-in",
    ),
    pytest.param(
        "app/routes/lines.py",
        """\
from flask import Blueprint, jsonify, request

from ..extensions import db
from ..models import Line

bp = Blueprint("lines", __name__)


@bp.post("/lines")
def add_lines():
    total = 0
    for row in request.json["rows"]:
        line = Line(amount=row["amount"])
        total = total + line.amount
        db.session.add(line)
        db.session.commit()
    return jsonify(total=total)
""",
        """\
from flask import Blueprint, jsonify, request

from ..services import lines_service

bp = Blueprint("lines", __name__)


@bp.post("/lines")
def add_lines():
    total = 0
    for row in request.json["rows"]:
        total = lines_service.add_lines(row, total)
    return jsonify(total=total)
""",
        {
            "app/services/lines_service.py": '''\
"""Lines services: database writes and their commits."""

from ..extensions import db
from ..models import Line


def add_lines(row, total):
    """Add the lines and commit."""
    line = Line(amount=row["amount"])
    total = total + line.amount
    db.session.add(line)
    db.session.commit()
    return total
''',
        },
        id="loop-total-passed-and-returned",
    ),]


@pytest.mark.parametrize(("path", "before", "after", "services"), MOVED)
def test_moves_the_write_and_commit_into_a_service(path: str, before: str, after: str, services: dict[str, str]) -> None:
    assert_moved(path, before, after, services)


def test_variables_the_moved_loop_assigns_are_not_passed_in_even_if_bound_before() -> None:
    # The route binds field_id and value in a loop of its own first; the moved loop assigns them
    # before reading them, so they are no input of the service (when the first loop runs zero
    # times, passing them would raise UnboundLocalError in the route).
    source = """\
    from flask import Blueprint, abort, jsonify, request

    from ..extensions import db
    from ..models import Field, User

    bp = Blueprint("auth", __name__)


    @bp.post("/register")
    def register():
        data = request.get_json()
        for field_id, value in data.get("checks", {}).items():
            if not value:
                abort(400)
        user = User(email=data["email"])
        db.session.add(user)
        for field_id, value in data.get("fields", {}).items():
            db.session.add(Field(owner=user, name=field_id, value=value))
        db.session.commit()
        return jsonify(id=user.id)
    """
    outcome = run_codemod(RouteCommit, source, path="app/routes/auth_routes.py")
    assert "    user = auth_service.register(data)\n" in outcome.new_source.decode()
    (request,) = [extra for _, extra in outcome.extras]
    assert "def register(data):" in request.source


def test_names_an_except_handler_reads_are_assigned_in_the_route() -> None:
    # If the commit raises, the service returns nothing: the handler must still see `order`.
    assert_moved(
        "app/routes/orders.py",
        """\
        import logging

        from flask import Blueprint, jsonify
        from sqlalchemy.exc import IntegrityError

        from ..extensions import db
        from ..models import Order

        logger = logging.getLogger(__name__)
        bp = Blueprint("orders", __name__)


        @bp.post("/orders/<ref>")
        def create_order(ref):
            try:
                order = Order(ref=ref)
                order.total = 0
                db.session.add(order)
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                logger.warning("duplicate %s", order.ref)
                return jsonify(error="duplicate"), 409
            return jsonify(id=order.id)
        """,
        """\
        import logging

        from flask import Blueprint, jsonify
        from sqlalchemy.exc import IntegrityError

        from ..extensions import db
        from ..models import Order
        from ..services import orders_service

        logger = logging.getLogger(__name__)
        bp = Blueprint("orders", __name__)


        @bp.post("/orders/<ref>")
        def create_order(ref):
            try:
                order = Order(ref=ref)
                orders_service.create_order(order)
            except IntegrityError:
                db.session.rollback()
                logger.warning("duplicate %s", order.ref)
                return jsonify(error="duplicate"), 409
            return jsonify(id=order.id)
        """,
        {
            "app/services/orders_service.py": '''\
"""Orders services: database writes and their commits."""

from ..extensions import db
from ..models import Order


def create_order(order: Order):
    """Create the order and commit."""
    order.total = 0
    db.session.add(order)
    db.session.commit()
''',
        },
    )


def test_names_read_after_a_try_that_may_swallow_the_error_are_assigned_in_the_route() -> None:
    source = """\
    from flask import Blueprint, jsonify

    from ..extensions import db
    from ..models import Order

    bp = Blueprint("orders", __name__)


    @bp.post("/orders/<ref>")
    def create_order(ref):
        total = 0
        try:
            order = Order(ref=ref)
            total = 5
            db.session.add(order)
            db.session.commit()
        except Exception:
            pass
        return jsonify(total=total)
    """
    outcome = run_codemod(RouteCommit, source, path="app/routes/orders.py")
    route = outcome.new_source.decode()
    assert "        total = 5\n        orders_service.create_order(order)\n" in route
    assert "def create_order(order: Order):" in generate(outcome)["app/services/orders_service.py"]


def test_names_read_after_a_with_that_may_suppress_the_error_are_assigned_in_the_route() -> None:
    source = """\
    from contextlib import suppress

    from flask import Blueprint, jsonify

    from ..extensions import db
    from ..models import Order

    bp = Blueprint("orders", __name__)


    @bp.post("/orders/<ref>")
    def create_order(ref):
        with suppress(Exception):
            order = Order(ref=ref)
            db.session.add(order)
            db.session.commit()
        return jsonify(ok=order is not None)
    """
    outcome = run_codemod(RouteCommit, source, path="app/routes/orders.py")
    assert "        order = Order(ref=ref)\n        orders_service.create_order(order)\n" in outcome.new_source.decode()


def test_route_docstring_and_view_instance_stay_in_the_route() -> None:
    assert_moved(
        "app/views/jobs.py",
        """\
        from flask_appbuilder import BaseView, expose

        from ..extensions import db
        from ..models import Job


        class JobView(BaseView):
            @expose("/close/<int:job_id>", methods=["POST"])
            def close_job(self, job_id):
                \"\"\"Close a job.\"\"\"
                job = Job.query.get(job_id)
                job.closed = True
                self.audit(job)
                job.audited = True
                db.session.commit()
                return self.render_template("ok.html")
        """,
        """\
        from flask_appbuilder import BaseView, expose

        from ..models import Job
        from ..services import jobs_service


        class JobView(BaseView):
            @expose("/close/<int:job_id>", methods=["POST"])
            def close_job(self, job_id):
                \"\"\"Close a job.\"\"\"
                job = Job.query.get(job_id)
                job.closed = True
                self.audit(job)
                jobs_service.close_job(job)
                return self.render_template("ok.html")
        """,
        {
            "app/services/jobs_service.py": '''\
"""Jobs services: database writes and their commits."""

from ..extensions import db
from ..models import Job


def close_job(job: Job):
    """Close the job and commit."""
    job.audited = True
    db.session.commit()
''',
        },
    )


# -- the generated package ---------------------------------------------------------------------


DELETE_ROUTE = """\
from flask import Blueprint

from ..extensions import db
from ..models import Cart

bp = Blueprint("carts", __name__)


@bp.delete("/carts/<int:cart_id>")
def clear_cart(cart_id):
    cart = Cart.query.get(cart_id)
    cart.items.clear()
    db.session.commit()
    return "", 204
"""


def test_a_new_service_package_gets_an_init_module() -> None:
    outcome = run_codemod(RouteCommit, DELETE_ROUTE, path="app/routes/cart_routes.py")
    assert sorted(generate(outcome)) == ["app/services/__init__.py", "app/services/cart_service.py"]
    assert generate(outcome)["app/services/__init__.py"] == ""


def test_an_existing_init_module_is_left_alone() -> None:
    outcome = run_codemod(RouteCommit, DELETE_ROUTE, path="app/routes/cart_routes.py")
    assert sorted(generate(outcome, existing={"app/services/__init__.py": "x = 1\n"})) == [
        "app/services/cart_service.py"
    ]


def test_finalize_is_deterministic_whatever_the_order_of_the_extras() -> None:
    first = run_codemod(RouteCommit, DELETE_ROUTE, path="app/routes/cart_routes.py")
    second = run_codemod(RouteCommit, DELETE_ROUTE.replace("clear_cart", "empty_cart"), path="app/routes/basket.py")
    extras = [(o.path, e) for o in (first, second) for _, e in o.extras]
    options = default_options(RouteCommit)
    forward = RouteCommit.finalize(extras, lambda p: None, options, TemplateSet())
    backward = RouteCommit.finalize(extras[::-1], lambda p: None, options, TemplateSet())
    assert forward == backward
    assert [g.path for g in forward.files] == [
        "app/services/__init__.py",
        "app/services/basket_service.py",
        "app/services/cart_service.py",
    ]


def test_extras_are_picklable_requests_with_parsed_source() -> None:
    import pickle

    outcome = run_codemod(RouteCommit, DELETE_ROUTE, path="app/routes/cart_routes.py")
    (request,) = [extra for _, extra in outcome.extras]
    assert isinstance(request, ServiceFunctionRequest)
    assert pickle.loads(pickle.dumps(request)) == request
    assert request.service_path == "app/services/cart_service.py"
    cst.parse_module(request.source)


# -- an existing service module ------------------------------------------------------------------


EXISTING_CART_SERVICE = '''\
"""Cart rules."""
import logging

from ..extensions import db


def clear_cart(cart):
    cart.items.clear()
'''


def test_existing_service_module_gets_the_function_appended_and_imports_merged() -> None:
    # The module has a clear_cart already: the new function is named for what it writes.
    other_files = {"app/services/cart_service.py": EXISTING_CART_SERVICE}
    route = DELETE_ROUTE.replace("    cart.items.clear()\n", "    cart.items.clear()\n    cart.cleared = True\n")
    assert_moved(
        "app/routes/cart_routes.py",
        route,
        route.replace(
            "    cart = Cart.query.get(cart_id)\n    cart.items.clear()\n    cart.cleared = True\n    db.session.commit()\n",
            "    cart_service.update_cart(cart_id)\n",
        ).replace("from ..extensions import db\nfrom ..models import Cart\n", "from ..services import cart_service\n"),
        {
            "app/services/cart_service.py": '''\
"""Cart rules."""
import logging

from ..extensions import db
from ..models import Cart


def clear_cart(cart):
    cart.items.clear()


def update_cart(cart_id):
    """Update the cart and commit."""
    cart = Cart.query.get(cart_id)
    cart.items.clear()
    cart.cleared = True
    db.session.commit()
''',
        },
        other_files=other_files,
    )


def test_a_second_function_of_the_same_name_is_never_numbered() -> None:
    # Nothing says what clearing a cart writes: declined rather than named clear_cart_2.
    other_files = {"app/services/cart_service.py": EXISTING_CART_SERVICE}
    assert reasons(DELETE_ROUTE, path="app/routes/cart_routes.py", other_files=other_files) == [
        "not moved: app/services/cart_service.py already has a `clear_cart` and no other name says what this code writes"
    ]


def test_existing_service_module_gets_a_logger_when_the_moved_code_logs() -> None:
    route = DELETE_ROUTE.replace("import Cart\n", "import Cart\n\nlogger = logging.getLogger(__name__)\n").replace(
        "    cart.items.clear()\n", '    cart.items.clear()\n    logger.info("cleared %s", cart_id)\n'
    )
    route = "import logging\n\n" + route
    existing = {"app/services/cart_service.py": '"""Cart rules."""\nfrom ..extensions import db\n'}
    outcome = run_codemod(RouteCommit, route, path="app/routes/cart_routes.py", other_files=existing)
    service = generate(outcome, existing=existing)["app/services/cart_service.py"]
    assert service.startswith(
        '"""Cart rules."""\nfrom ..extensions import db\nimport logging\nfrom ..models import Cart\n\n'
        "logger = logging.getLogger(__name__)\n"
    )
    assert '    logger.info("cleared %s", cart_id)\n' in service


def test_finalize_refuses_a_name_the_index_did_not_know_about() -> None:
    outcome = run_codemod(RouteCommit, DELETE_ROUTE, path="app/routes/cart_routes.py")
    existing = {"app/services/cart_service.py": "def clear_cart():\n    pass\n"}
    with pytest.raises(ValueError, match="already defines clear_cart"):
        generate(outcome, existing=existing)


def test_existing_service_module_binding_a_needed_name_differently_is_declined() -> None:
    existing = {"app/services/cart_service.py": "from ..legacy import Cart\n"}
    findings = assert_noop(RouteCommit, DELETE_ROUTE, path="app/routes/cart_routes.py", other_files=existing)
    assert declined(findings) == [
        "not moved: app/services/cart_service.py already defines `Cart` as something else"
    ]


# -- an existing service module that already defines the route's name ---------------------------
# (each found by the 500-program write runs; benchmarks/write_runs.py)

TAKES_CREATE_ITEM = "def create_item(item):\n    return item\n"

FACTORY_ROUTE = """\
from flask import Flask

from app.extensions import db
from app.models import AuditLog, Item


def create_app():
    app = Flask(__name__)

    @app.post("/items")
    def create_item():
        {write}
        db.session.commit()
        return "", 201

    return app
"""

TWO_CREATE_ROUTES = """\
from flask import Blueprint

from app.extensions import db
from app.models import Item

bp = Blueprint("items", __name__)


@bp.post("/items")
def create():
    item = Item(name="a")
    db.session.add(item)
    db.session.commit()
    return "", 201


@bp.post("/items/default")
def create_item():
    item = Item(name="b")
    db.session.add(item)
    db.session.commit()
    return "", 201
"""

NAME_TAKEN = [
    # A route inside an app factory claims its service module like a module-level one: the
    # index knows the module's names, and the function is named for what the code writes.
    pytest.param(
        FACTORY_ROUTE.format(write='db.session.add(AuditLog(action="create"))'),
        FACTORY_ROUTE.format(write='audit_log_service.create_audit_log()')
        .replace("        db.session.commit()\n", "")
        .replace("from app.extensions import db\nfrom app.models import AuditLog, Item\n", "from app.models import Item\nfrom app.services import audit_log_service\n"),
        {
            "app/services/audit_log_service.py": '''\
from app.extensions import db
from app.models import AuditLog

def create_item(item):
    return item


def create_audit_log():
    """Create the audit log and commit."""
    db.session.add(AuditLog(action="create"))
    db.session.commit()
''',
        },
        {"app/services/audit_log_service.py": TAKES_CREATE_ITEM},
        id="factory-route-named-for-what-it-writes",
    ),
    # create() takes create_item, so create_item() has no name left and stays. The second pass
    # (over the rewritten module, with an index built before create_item existed) must see the
    # call to items_service.create_item and not take the name again.
    pytest.param(
        TWO_CREATE_ROUTES,
        TWO_CREATE_ROUTES.replace(
            """def create():
    item = Item(name="a")
    db.session.add(item)
    db.session.commit()
""",
            """def create():
    items_service.create_item()
""",
        ).replace("from app.models import Item\n", "from app.models import Item\nfrom app.services import items_service\n"),
        {
            "app/services/items_service.py": '''\
from app.extensions import db
from app.models import Item

def create(item):
    return item


def create_item():
    """Create the item and commit."""
    item = Item(name="a")
    db.session.add(item)
    db.session.commit()
''',
        },
        {"app/services/items_service.py": "def create(item):\n    return item\n"},
        id="a-name-an-earlier-route-took-stays-taken-on-the-second-pass",
    ),
]


@pytest.mark.parametrize(("before", "after", "services", "existing"), NAME_TAKEN)
def test_a_name_the_service_module_defines_is_never_reused(
    before: str, after: str, services: dict[str, str], existing: dict[str, str]
) -> None:
    assert_moved("app/views.py", before, after, services, other_files=existing)


NAME_TAKEN_DECLINED = [
    # The route's name and the name for what it writes are one (create_item): no name is
    # left that a reviewer would accept (never create_item_create_item, never create_item_2).
    pytest.param(
        FACTORY_ROUTE.format(write='db.session.add(Item(name="x"))'),
        {"app/services/item_service.py": TAKES_CREATE_ITEM},
        "not moved: app/services/item_service.py already has a `create_item` and no other name says what this code writes",
        id="factory-route-whose-write-is-named-like-it",
    ),
]


@pytest.mark.parametrize(("before", "existing", "reason"), NAME_TAKEN_DECLINED)
def test_a_name_the_service_module_defines_declines_when_no_other_name_fits(
    before: str, existing: dict[str, str], reason: str
) -> None:
    findings = assert_noop(RouteCommit, before, path="app/views.py", other_files=existing)
    assert declined(findings) == [reason]


# -- names --------------------------------------------------------------------------------------


def test_function_name_avoids_names_the_existing_service_module_binds() -> None:
    existing = {"app/services/cart_service.py": "from ..legacy import clear_cart\n"}
    route = DELETE_ROUTE.replace("    cart.items.clear()\n", "    cart.items.clear()\n    cart.cleared = True\n")
    outcome = run_codemod(RouteCommit, route, path="app/routes/cart_routes.py", other_files=existing)
    assert "cart_service.update_cart(cart_id)" in outcome.new_source.decode()
    assert "def update_cart(cart_id):" in generate(outcome, existing=existing)["app/services/cart_service.py"]


def test_route_module_name_already_bound_to_something_else_is_declined() -> None:
    route = DELETE_ROUTE.replace("from ..models import Cart\n", "from ..models import Cart\nfrom .. import legacy as cart_service\n")
    assert reasons(route, path="app/routes/cart_routes.py") == [
        "not moved: the route module already uses the name `cart_service` for something else"
    ]


def test_a_folder_of_sibling_modules_gets_an_import_from_that_folder() -> None:
    # backend/ is run as a script folder (`from database import ...`): no relative imports there.
    source = """\
    from fastapi import Depends, FastAPI
    from sqlalchemy.orm import Session

    from database import get_db
    from models import Item

    app = FastAPI()


    @app.delete("/items/{item_id}")
    def delete_item(item_id: int, db: Session = Depends(get_db)):
        db.query(Item).filter(Item.id == item_id).delete()
        db.commit()
    """
    siblings = {"backend/database.py": "def get_db():\n    pass\n", "backend/models.py": "class Item:\n    pass\n"}
    outcome = run_codemod(RouteCommit, source, path="backend/main.py", other_files=siblings)
    assert "from services import item_service\n" in outcome.new_source.decode()
    service = generate(outcome)["backend/services/item_service.py"]
    assert "from models import Item\n" in service


def test_route_module_already_importing_the_service_module_reuses_the_import() -> None:
    route = DELETE_ROUTE.replace("from ..models import Cart\n", "from ..models import Cart\nfrom ..services import cart_service\n")
    outcome = run_codemod(RouteCommit, route, path="app/routes/cart_routes.py")
    assert outcome.new_source.decode().count("import cart_service") == 1


def test_two_route_modules_mapping_to_one_service_module_only_the_first_gets_it() -> None:
    other = {"app/views/carts.py": DELETE_ROUTE}
    first = run_codemod(RouteCommit, DELETE_ROUTE, path="app/routes/carts.py", other_files=other)
    assert first.status == "changed"
    second = reasons(DELETE_ROUTE, path="app/views/carts.py", other_files={"app/routes/carts.py": DELETE_ROUTE})
    assert second == [
        "not moved: app/services/carts_service.py is generated from app/routes/carts.py, "
        "which maps to the same service module"
    ]


def test_a_packages_services_module_is_reused_not_hidden_by_a_new_services_package() -> None:
    other = {"app/services.py": "def helper():\n    pass\n"}
    outcome = run_codemod(RouteCommit, DELETE_ROUTE, path="app/routes/carts.py", other_files=other)
    route = outcome.new_source.decode()
    assert "from .. import services\n" in route and "    services.clear_cart(cart_id)\n" in route
    generated = generate(outcome, existing=other)
    assert set(generated) == {"app/services.py"}
    assert generated["app/services.py"].startswith("from .extensions import db\nfrom .models import Cart\n")
    assert "def helper():\n    pass\n\n\ndef clear_cart(cart_id):\n" in generated["app/services.py"]


def test_a_package_named_like_the_service_module_is_declined() -> None:
    other = {"app/services/carts_service/__init__.py": "from .core import *\n"}
    assert reasons(DELETE_ROUTE, path="app/routes/carts.py", other_files=other) == [
        "not moved: app/services/carts_service/ is a package, which would hide a carts_service.py next to it"
    ]


# -- declined: the code stays, with a finding that says why ----------------------------------------


DECLINED = [
    pytest.param(
        """\
        @bp.post("/a")
        def lambda_commit():
            callback = lambda: db.session.commit()
            callback()
            return "", 204
        """,
        "not moved: the commit is inside a lambda in the route",
        id="inside-lambda",
    ),
    pytest.param(
        """\
        @bp.post("/b")
        def comprehension_commit(ids):
            [db.session.commit() for _ in ids]
            return "", 204
        """,
        "not moved: the commit is inside a comprehension",
        id="inside-comprehension",
    ),
    pytest.param(
        """\
        @bp.post("/c")
        def nested_commit():
            def save():
                db.session.commit()
            save()
            return "", 204
        """,
        "not moved: the commit is inside a nested function in the route",
        id="inside-nested-function",
    ),
    pytest.param(
        """\
        @bp.post("/d")
        def result_returned():
            return db.session.commit()
        """,
        "not moved: the commit's result is used, so it is not a statement of its own",
        id="return-of-the-commit",
    ),
    pytest.param(
        """\
        @bp.post("/e")
        def one_line(flag):
            if flag: db.session.commit()
            return "", 204
        """,
        "not moved: the commit is in a one-line block (`if x: db.commit()`)",
        id="one-line-block",
    ),
    pytest.param(
        """\
        @bp.post("/f")
        def shares_line():
            db.session.commit(); x = 1
            return "", x
        """,
        "not moved: the commit shares its line with statements after it",
        id="statement-after-the-commit-on-its-line",
    ),
    pytest.param(
        """\
        @bp.post("/g")
        def uses_global():
            global counter
            counter += 1
            db.session.commit()
            return "", 204
        """,
        "not moved: the route uses `global` or `nonlocal`",
        id="global",
    ),
    pytest.param(
        """\
        @bp.post("/h")
        def deletes(order_id):
            order = Order.query.get(order_id)
            total = order.total
            del total
            db.session.commit()
            return "", 204
        """,
        "not moved: `total` is deleted in the statements that would move",
        id="name-deleted-in-the-run",
    ),
    pytest.param(
        """\
        @bp.post("/i")
        def module_constant(order_id):
            order = Order.query.get(order_id)
            order.limit = LIMIT
            db.session.commit()
            return "", 204
        """,
        "not moved: `LIMIT` is defined in this module; importing it into the service would be an import cycle",
        id="name-defined-in-the-route-module-import-cycle",
    ),
    pytest.param(
        """\
        @bp.post("/j")
        def star_import(order_id):
            order = Order.query.get(order_id)
            order.total = compute_total(order)
            db.session.commit()
            return "", 204
        """,
        "not moved: `compute_total` is not defined in this module (a star import?)",
        id="name-from-a-star-import",
    ),
    pytest.param(
        """\
        @bp.post("/k")
        def conditional(flag):
            if flag:
                order = Order()
                db.session.add(order)
            db.session.commit()
            if flag:
                return jsonify(id=order.id)
            return "", 204
        """,
        "not moved: `order` is used after the commit but only assigned on some paths",
        id="value-needed-after-assigned-on-some-paths",
    ),
    pytest.param(
        """\
        @bp.post("/k2")
        def assigned_on_one_branch_before(flag, payload):
            if flag:
                kind = "rush"
            note = session.get("note")
            order = Order(kind=kind, payload=payload)
            db.session.add(order)
            db.session.commit()
            return "", 204
        """,
        "not moved: `kind` is read by the moved statements but may be unassigned when they start",
        id="value-read-by-the-moved-code-assigned-on-one-branch-before",
    ),
    pytest.param(
        """\
        @bp.post("/l")
        def read_before_assignment_in_loop(items):
            for item in items:
                if item.first:
                    print(previous)
                previous = Order(item=item)
                db.session.add(previous)
                db.session.commit()
            return "", 204
        """,
        "not moved: `previous` is read by the moved statements but may be unassigned when they start",
        id="loop-carried-value-read-before-the-run",
    ),
    pytest.param(
        """\
        @bp.post("/l2")
        def carried_inside_run(items):
            for item in items:
                print(last)
                last = Order(item=item)
                db.session.add(last)
                db.session.commit()
            return "", 204
        """,
        "not moved: `last` is read by the moved statements but may be unassigned when they start",
        id="loop-carried-value-read-in-the-run",
    ),
    pytest.param(
        """\
        @bp.post("/m")
        def flask_session_commit():
            session["seen"] = True
            session.commit()
            return "", 204
        """,
        "not moved: the commit itself uses `flask.session`, which belongs to the HTTP layer",
        id="flask-session-is-not-a-database-session",
    ),
    pytest.param(
        """\
        @bp.post("/n")
        def bound_twice(order_id):
            order = Order.query.get(order_id)
            order.payload = json.dumps(order.data)
            db.session.commit()
            return "", 204
        """,
        "not moved: `json` is bound more than once at module level",
        id="module-name-bound-twice",
    ),
]

DECLINED += [
    pytest.param(
        """\
        @bp.post("/o")
        def uses_module_name(order_id):
            order = Order.query.get(order_id)
            order.origin = __name__
            db.session.commit()
            return "", 204
        """,
        "not moved: `__name__` would mean the service module there",
        id="module-dunder",
    ),
    pytest.param(
        """\
        @bp.post("/p")
        def type_checking_only(order_id):
            order = Order.query.get(order_id)
            order.kind = OrderKind.LARGE
            db.session.commit()
            return "", 204
        """,
        "not moved: `OrderKind` is imported conditionally (under `if` or `try`)",
        id="name-imported-under-type-checking",
    ),
    pytest.param(
        """\
        @bp.post("/q")
        def shadows_the_service(order_id, order_service):
            order = Order.query.get(order_id)
            order.handled_by = order_service.name
            db.session.commit()
            return "", 204
        """,
        "not moved: the route has a local named `order_service`, which would hide the service",
        id="route-local-hides-the-service-module",
    ),
]

DECLINED_MODULE = """\
from typing import TYPE_CHECKING

from flask import Blueprint, jsonify, session
from ..extensions import db
from ..models import Order
from .helpers import *

if TYPE_CHECKING:
    from ..kinds import OrderKind

try:
    import ujson as json
except ImportError:
    import json

bp = Blueprint("orders", __name__)
LIMIT = 10
counter = 0


"""


@pytest.mark.parametrize(("route", "reason"), DECLINED)
def test_declined_with_reason(route: str, reason: str) -> None:
    assert reasons(DECLINED_MODULE + textwrap.dedent(route)) == [reason]


def test_route_in_an_app_factory_using_the_factorys_locals_is_declined() -> None:
    source = """\
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy
    from .models import Note


    def create_app():
        app = Flask(__name__)
        db = SQLAlchemy(app)

        @app.post("/notes")
        def add_note():
            note = Note(text="x")
            db.session.add(note)
            db.session.commit()
            return "", 201

        return app
    """
    assert reasons(source, path="app/factory.py") == [
        "not moved: `db` is a local of the function around the route (an app factory?)"
    ]


def test_commit_using_a_request_scoped_object_configured_as_session_is_declined() -> None:
    source = DECLINED_MODULE.replace("session\n", "g, session\n") + textwrap.dedent(
        """\
        @bp.post("/g-db")
        def request_scoped():
            g.db.commit()
            return "", 204
        """
    )
    options = {"session-names": ["db.session", "g.db"]}
    # ``g.db`` is a value the route could pass in, but nothing else would move with the commit
    assert reasons(source, options=options) == [
        "not moved: nothing before the commit in its block can move with it, "
        "and a service that only commits is no unit of work"
    ]


# -- left alone: no route, or no commit in a route ----------------------------------------------------


NOT_ROUTES = [
    pytest.param(
        """\
        from .extensions import db

        def save(order):
            db.session.add(order)
            db.session.commit()
        """,
        id="plain-function",
    ),
    pytest.param(
        """\
        from .extensions import db

        @cache.memoize
        def save(order):
            db.session.commit()
        """,
        id="decorator-that-is-not-a-route",
    ),
    pytest.param(
        """\
        from .extensions import db

        class Repository(Base):
            def post(self, order):
                db.session.add(order)
                db.session.commit()
        """,
        id="http-verb-method-of-a-class-that-is-not-a-view",
    ),
    pytest.param(
        """\
        from .services import order_service

        @bp.post("/orders")
        def create_order():
            order_service.create(request.json)
            return "", 201
        """,
        id="route-that-already-delegates",
    ),
    pytest.param(
        """\
        import git

        @bp.post("/deploy")
        def deploy():
            repo = git.Repo(".")
            repo.index.commit("deploy")
            return "", 204
        """,
        id="commit-that-is-not-a-database-session",
    ),
    pytest.param(
        """\
        from unittest import mock
        from .extensions import db

        @mock.patch("app.mailer.send")
        def save_and_mail(send):
            db.session.commit()
        """,
        id="mock-patch-is-not-an-http-patch",
    ),
]


@pytest.mark.parametrize("source", NOT_ROUTES)
def test_left_alone(source: str) -> None:
    assert assert_noop(RouteCommit, source, path="app/routes/order_routes.py") == []


@pytest.mark.parametrize("path", ["tests/test_orders.py", "app/tests/helpers.py", "conftest.py", "app/orders_test.py"])
def test_test_modules_are_left_alone(path: str) -> None:
    assert assert_noop(RouteCommit, DELETE_ROUTE, path=path) == []


# -- options ------------------------------------------------------------------------------------


def test_route_decorators_are_configurable() -> None:
    source = """\
    from ..extensions import db
    from ..models import Order

    @api.endpoint("/orders/<int:order_id>")
    def close(order_id):
        order = Order.query.get(order_id)
        order.closed = True
        db.session.commit()
        return "", 204
    """
    assert assert_noop(RouteCommit, source, path="app/routes/orders.py") == []
    outcome = run_codemod(RouteCommit, source, path="app/routes/orders.py", options={"route-decorators": ["endpoint"]})
    assert outcome.status == "changed"


def test_view_bases_are_configurable() -> None:
    source = """\
    from ..extensions import db
    from ..models import Order

    class OrderHandler(BaseHandler):
        def post(self, order_id):
            order = Order.query.get(order_id)
            order.status = "paid"
            db.session.commit()
    """
    assert assert_noop(RouteCommit, source, path="app/routes/orders.py") == []
    outcome = run_codemod(RouteCommit, source, path="app/routes/orders.py", options={"view-bases": ["BaseHandler"]})
    assert "orders_service.post_order(" in outcome.new_source.decode()


def test_http_names_are_configurable() -> None:
    source = """\
    from ..extensions import db
    from ..models import Order
    from ..tenancy import tenant

    @bp.post("/orders/<int:order_id>")
    def close(order_id):
        order = Order.query.get(order_id)
        order.tenant = tenant.id
        order.closed = True
        db.session.commit()
        return "", 204
    """
    options = {"http-names": ["app.tenancy.tenant"]}
    outcome = run_codemod(RouteCommit, source, path="app/routes/orders.py", options=options)
    assert "order.tenant = tenant.id" in outcome.new_source.decode()


@pytest.mark.parametrize(
    ("route_path", "options", "service_path"),
    [
        ("app/routes/candidate_routes.py", {}, "app/services/candidate_service.py"),
        ("app/routes/candidates.py", {}, "app/services/candidates_service.py"),
        ("app/views.py", {}, "app/services/views_service.py"),
        ("app/routers/orders_router.py", {}, "app/services/orders_service.py"),
        ("app/api/users_api.py", {}, "app/services/users_service.py"),
        ("app/endpoints/__init__.py", {}, "app/services/endpoints_service.py"),
        ("views.py", {}, "services/views_service.py"),
        ("app/routes/candidates.py", {"service-dir": "domain/services"}, "app/domain/services/candidates_service.py"),
        ("app/routes/candidates.py", {"module-name": "{stem}_ops"}, "app/services/candidates_ops.py"),
        ("app/web/candidates.py", {"route-packages": ["web"]}, "app/services/candidates_service.py"),
    ],
)
def test_service_location(route_path: str, options: dict[str, Any], service_path: str) -> None:
    location = service_location(route_path, {**default_options(RouteCommit), **options})
    assert location is not None and location.path == service_path


def test_module_name_pattern_that_is_not_an_identifier_is_declined() -> None:
    assert reasons(DELETE_ROUTE, path="app/routes/carts.py", options={"module-name": "{stem}-service"}) == [
        "not moved: the module name pattern '{stem}-service' gives no valid module name"
    ]


# -- templates ------------------------------------------------------------------------------------


def test_user_templates_override_the_packaged_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "service_function.py.j2").write_text(
        "{% if fn.is_async %}async {% endif %}def {{ fn.name }}({{ fn.parameters | join(', ') }}):\n"
        '    """Our house style."""\n{{ fn.body }}'
        "{% if fn.returns %}    return {{ fn.returns | join(', ') }}\n{% endif %}"
    )
    (tmp_path / "service_module.py.j2").write_text('"""Services."""\n{% for g in module.import_groups %}{% for line in g %}{{ line }}\n{% endfor %}{% endfor %}')
    templates = TemplateSet(tmp_path)
    outcome = run_codemod(RouteCommit, DELETE_ROUTE, path="app/routes/carts.py", templates=templates)
    service = generate(outcome, templates=templates)["app/services/carts_service.py"]
    assert service == (
        '"""Services."""\nfrom ..extensions import db\nfrom ..models import Cart\n\n\n'
        'def clear_cart(cart_id):\n    """Our house style."""\n'
        "    cart = Cart.query.get(cart_id)\n    cart.items.clear()\n    db.session.commit()\n"
    )


def test_a_template_that_does_not_render_the_function_fails_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "service_function.py.j2").write_text("x = 1\n")
    outcome = run_codemod(RouteCommit, DELETE_ROUTE, path="app/routes/carts.py", templates=TemplateSet(tmp_path))
    assert outcome.status == "failed"
    assert "service_function.py.j2 must render exactly one function" in outcome.message


# -- the whole-tree index ---------------------------------------------------------------------------


def test_index_records_top_level_names_of_service_modules_only() -> None:
    sources = {
        "app/routes/carts.py": DELETE_ROUTE,
        "app/services/carts_service.py": "from ..extensions import db\n\n\ndef clear_cart(cart):\n    pass\n",
        "app/models.py": "class Cart:\n    pass\n",
    }
    plan = make_plan(RouteCommit, sources)
    index = plan.indexes["route-commit"]
    assert sorted(index.services) == ["app/services/carts_service.py"]
    facts = index.services["app/services/carts_service.py"]
    assert facts.bindings["clear_cart"] == "def"
    assert facts.bindings["db"] == ImportItemSignature("..extensions", "db")


@pytest.mark.parametrize(
    "wrapper",
    [
        pytest.param("def create_app():\n    app = Flask(__name__)\n\n{route}", id="app-factory"),
        pytest.param("if not TESTING:\n{route}", id="if-block"),
        pytest.param("try:\n    import flask\nexcept ImportError:\n    pass\nelse:\n{route}", id="try-else"),
    ],
)
def test_index_keeps_the_service_module_of_routes_that_are_not_at_module_level(wrapper: str) -> None:
    # The service module's names must be known, or finalize meets a name it already defines.
    route = textwrap.indent('@app.post("/items")\ndef create_item():\n    db.session.add(Item(name="x"))\n    db.session.commit()\n', "    ")
    sources = {"app/views.py": "from app.models import Item\n" + wrapper.format(route=route), "app/services/item_service.py": TAKES_CREATE_ITEM}
    index = make_plan(RouteCommit, sources).indexes["route-commit"]
    assert sorted(index.services) == ["app/services/item_service.py"]
    assert index.services["app/services/item_service.py"].bindings["create_item"] == "def"


def ImportItemSignature(module: str, name: str) -> str:  # noqa: N802 - reads like the value it builds
    return f"{module}|{name}|{name}"


def test_generated_code_says_what_it_does_not_where_it_came_from() -> None:
    # Provenance belongs in the commit message and the pull request, not in the code.
    outcome = run_codemod(RouteCommit, DELETE_ROUTE, path="app/routes/carts.py")
    service = generate(outcome)["app/services/carts_service.py"]
    namespace: dict[str, Any] = {}
    exec(compile(service.replace("from ..", "# from .."), "<service>", "exec"), namespace)
    assert namespace["clear_cart"].__doc__ == "Clear the cart and commit."
    assert namespace["__doc__"] == "Carts services: database writes and their commits."
    assert "auditfix" not in service and "routes" not in service


@pytest.mark.parametrize(
    ("wrapper", "depth"),
    [
        pytest.param("{route}", 0, id="module-level"),
        pytest.param("def create_app():\n{route}", 1, id="app-factory"),
        pytest.param("if FEATURE:\n    pass\nelif OTHER:\n{route}", 1, id="elif"),
        pytest.param("try:\n    pass\nexcept ImportError:\n    pass\nelse:\n{route}", 1, id="try-else"),
        pytest.param("try:\n    pass\nexcept ImportError:\n{route}", 1, id="except-handler"),
        pytest.param("with app.app_context():\n{route}", 1, id="with-block"),
        pytest.param("match MODE:\n    case 'api':\n{route}", 2, id="match-case"),
    ],
)
def test_route_decorators_are_found_wherever_the_definition_sits(wrapper: str, depth: int) -> None:
    # The pre-check walks statements only; every block kind must still be searched.
    from codemods.rules.route_commit.syntax import may_have_routes as _may_have_routes

    route = textwrap.indent("@bp.post('/x')\ndef create():\n    pass\n", "    " * depth)
    module = cst.parse_module(wrapper.format(route=route))
    assert _may_have_routes(module, ["post"], ["MethodView"])
    assert not _may_have_routes(module, ["get"], ["MethodView"])


# -- sessions as projects write them -------------------------------------------------------------


FASTAPI_DEPS = """\
from collections.abc import Generator
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from app.core.db import engine


def get_db() -> Generator[Session, None, None]:
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]
"""

FASTAPI_ITEMS = """\
from fastapi import APIRouter, Depends, HTTPException

from app.api.deps import SessionDep, get_db
from app.models import Item, ItemCreate

router = APIRouter(prefix="/items")


@router.post("/")
def create_item(*, session: SessionDep, item_in: ItemCreate):
    item = Item.model_validate(item_in)
    session.add(item)
    session.commit()
    session.refresh(item)
    return item


@router.delete("/{id}")
def delete_item(id: int, database=Depends(get_db)):
    item = database.get(Item, id)
    if not item:
        raise HTTPException(status_code=404)
    database.delete(item)
    database.commit()
    return {"ok": True}
"""


def test_a_session_alias_and_a_provider_defined_in_another_module_are_sessions() -> None:
    other = {"app/api/deps.py": FASTAPI_DEPS, "app/api/__init__.py": "", "app/api/routes/__init__.py": ""}
    outcome = run_codemod(RouteCommit, FASTAPI_ITEMS, path="app/api/routes/items.py", other_files=other)
    route = outcome.new_source.decode()
    assert "    item = items_service.create_item(session, item_in)\n" in route
    assert "    items_service.delete_item(database, item)\n" in route
    service = generate(outcome, existing=other)["app/api/services/items_service.py"]
    # the dependency stays in the route: the service takes the plain session type
    assert "from sqlmodel import Session\n" in service
    assert "def create_item(session: Session, item_in: ItemCreate):" in service
    assert "def delete_item(database, item: Item):" in service


def test_a_session_alias_nobody_can_resolve_is_a_finding() -> None:
    # deps.py is not in the tree: the alias cannot be typed, and that is said, not kept silent.
    assert reasons(FASTAPI_ITEMS, path="app/api/routes/items.py") == [
        "not moved: session of unknown type: `session` is annotated `SessionDep`, which auditfix cannot resolve "
        "to a session type; add it to session-names",
        "not moved: session of unknown type: `database` comes from `Depends(get_db)`, which does not say it gives "
        "a session; add it to session-names",
    ]


STORE = """\
from sqlalchemy.orm import scoped_session, sessionmaker

from .database import engine

session = scoped_session(sessionmaker(bind=engine))


def session_commit():
    try:
        session.commit()
    except Exception:
        session.rollback()
        raise
"""


@pytest.mark.parametrize(
    ("statement", "call"),
    [
        pytest.param("store.session.commit()", 'posts_service.add_post(request.form["title"])', id="module-session"),
        pytest.param("store.session_commit()", 'posts_service.add_post(request.form["title"])', id="commit-helper"),
    ],
)
def test_a_module_session_and_a_projects_commit_helper_are_commits(statement: str, call: str) -> None:
    route = f"""\
from flask import Blueprint, request

from . import store
from .models import Post

bp = Blueprint("posts", __name__)


@bp.post("/posts")
def add_post():
    post = Post(title=request.form["title"])
    store.session.add(post)
    post.published = True
    {statement}
    return "", 201
"""
    other = {"blog/store.py": STORE, "blog/__init__.py": ""}
    outcome = run_codemod(RouteCommit, route, path="blog/routes.py", other_files=other)
    assert f"    {call}\n" in outcome.new_source.decode()
    service = generate(outcome, existing=other)["blog/services/posts_service.py"]
    assert f"    {statement}\n" in service and "from .. import store\n" in service


def test_a_package_import_only_the_moved_code_used_is_removed() -> None:
    # `from .. import db` binds a name of the package itself; libcst's import remover leaves
    # such lines, and pyflakes then reports F401 in the route module.
    route = """\
    from flask import jsonify, request

    from .. import db
    from ..models import Post
    from . import api


    @api.route("/posts/", methods=["POST"])
    def new_post():
        post = Post(body=request.json["body"])
        db.session.add(post)
        db.session.commit()
        return jsonify({"id": post.id}), 201
    """
    other = {"app/__init__.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n", "app/api/__init__.py": ""}
    new = run_codemod(RouteCommit, route, path="app/api/posts.py", other_files=other).new_source.decode()
    assert "from .. import db\n" not in new and "from . import api\n" in new
    assert "_service.create_post(request.json[\"body\"])" in new


def test_a_package_import_the_route_still_uses_stays() -> None:
    # The route reads db after the moved block: the import is still needed.
    route = """\
    from flask import jsonify, request

    from .. import db
    from ..models import Post
    from . import api


    @api.route("/posts/", methods=["POST"])
    def new_post():
        post = Post(body=request.json["body"])
        db.session.add(post)
        db.session.commit()
        return jsonify({"id": post.id, "count": db.session.query(Post).count()}), 201
    """
    other = {"app/__init__.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n", "app/api/__init__.py": ""}
    new = run_codemod(RouteCommit, route, path="app/api/posts.py", other_files=other).new_source.decode()
    assert "from .. import db\n" in new and ".commit()" not in new


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        pytest.param("close_job", True, id="verb-led"),
        pytest.param("restock", True, id="a-verb-of-its-own"),
        pytest.param("post_audit", True, id="http-verb-with-an-object"),
        pytest.param("index", False, id="index"),
        pytest.param("new_post", False, id="new-page"),
        pytest.param("post", False, id="bare-http-verb"),
        pytest.param("item_detail", False, id="detail-page"),
    ],
)
def test_which_view_names_can_name_their_service_function(view: str, expected: bool) -> None:
    from codemods.rules.route_commit.services import says_what_it_does

    assert says_what_it_does(view) is expected


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        pytest.param("api_pay_bill", "pay_bill", id="api"),
        pytest.param("web_pay_bill", "pay_bill", id="web"),
        pytest.param("api", "api", id="nothing-left"),
        pytest.param("apply_to_job", "apply_to_job", id="no-channel"),
        pytest.param("v2_2fa", "v2_2fa", id="not-a-name-after-it"),
    ],
)
def test_the_calling_channel_is_not_part_of_the_name(view: str, expected: str) -> None:
    from codemods.rules.route_commit.services import without_channel

    assert without_channel(view) == expected
