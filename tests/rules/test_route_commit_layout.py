"""route-commit: where the service module goes and how the route imports it.

The service of a route goes into the project's existing module for the same resource, else a
new module named the way the project names its service modules; the route imports it the way
it imports its own package, and never by a bare name that a library answers to.  The location
cases run the codemod over a small tree and read where the generated function goes; the proofs
write whole projects to a temporary folder, rewrite them as the engine does, and run them (their
own test suite, or their routes through Flask's test client) in a fresh interpreter.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from codemods.rules.route_commit import RouteCommit
from codemods.rules.route_commit.naming import plural, singular, written_model
from codemods.rules.route_commit.services import UNPARSABLE, ServiceFunctionRequest, blocked_services, package_folders
from tests.rules.helpers import assert_noop, declined, run_codemod
from tests.rules.test_route_commit import generate
from tests.rules.test_route_commit_apps import rewrite_tree, write_tree


def route(blueprint: str = "orders", imports: str = "from ..extensions import db\nfrom ..models import Order\n") -> str:
    return f"""\
from flask import Blueprint

{imports}
bp = Blueprint("{blueprint}", __name__)


@bp.delete("/orders/<int:order_id>")
def delete_order(order_id):
    order = Order.query.get(order_id)
    db.session.delete(order)
    db.session.commit()
    return "", 204
"""


INLINE_ITEM_ROUTE = """\
from flask import Flask, request

from .extensions import db
from .models import Item

app = Flask(__name__)


@app.post("/items")
def create_item():
    name = request.json["name"]
    item = Item(name=name)
    db.session.add(item)
    db.session.commit()
    return {"id": item.id}, 201
"""

EXISTING = "from ..models import Order\n\n\ndef total(order):\n    return sum(line.amount for line in order.lines)\n"


def located(path: str, source: str, other_files: Mapping[str, str] | None = None, **options: Any) -> tuple[str, str]:
    """(the service module the route's function goes to, the route's import of it)."""
    outcome = run_codemod(RouteCommit, source, path=path, other_files=other_files, options=options or None)
    assert outcome.status == "changed", outcome.findings
    requests = [e for _, e in outcome.extras if isinstance(e, ServiceFunctionRequest)]
    assert len({r.service_path for r in requests}) == 1
    new = outcome.new_source.decode()
    line = next(line for line in new.splitlines() if line.startswith("from ") and "service" in line)
    return requests[0].service_path, line


LOCATIONS = [
    pytest.param(
        "app/routes/orders.py", route(), {"app/services/order_service.py": EXISTING},
        "app/services/order_service.py", "from ..services import order_service",
        id="orders-reuses-existing-order_service",
    ),
    pytest.param(
        "app/routes/order.py", route(), {"app/services/orders_service.py": EXISTING},
        "app/services/orders_service.py", "from ..services import orders_service",
        id="order-reuses-existing-orders_service",
    ),
    pytest.param(
        "app/routes/orders.py", route(), {"app/services/orders.py": EXISTING},
        "app/services/orders.py", "from ..services import orders",
        id="services-folder-module-named-after-the-resource",
    ),
    pytest.param(
        "app/routes/orders.py", route(), {"app/services/order.py": EXISTING},
        "app/services/order.py", "from ..services import order as order_service",
        id="services-folder-module-in-the-singular-aliased-past-a-local-order",
    ),
    pytest.param(
        "app/routes/orders.py", route(), {"app/services.py": "def helper():\n    pass\n"},
        "app/services.py", "from .. import services",
        id="package-level-services-module",
    ),
    pytest.param(
        "app/routes/orders.py", route(), {"app/order_service.py": EXISTING.replace("..models", ".models")},
        "app/order_service.py", "from .. import order_service",
        id="service-module-next-to-the-routes-package",
    ),
    pytest.param(
        "app/routes/orders.py", route(), {"app/services/billing_services.py": "def bill():\n    pass\n"},
        "app/services/orders_services.py", "from ..services import orders_services",
        id="new-module-follows-the-projects-_services-pattern",
    ),
    pytest.param(
        "app/routes/orders.py", route(),
        {"app/services/billing.py": "def bill():\n    pass\n", "app/services/mail.py": "def send():\n    pass\n"},
        "app/services/orders.py", "from ..services import orders",
        id="new-module-follows-the-projects-plain-services-folder",
    ),
    pytest.param(
        "app/routes/import_routes.py", route(),
        {"app/services/billing.py": "def bill():\n    pass\n"},
        "app/services/import_service.py", "from ..services import import_service",
        id="plain-pattern-never-names-a-module-after-a-keyword",
    ),
    pytest.param(
        "app/routes/items.py", route(),
        {"app/services/order_service.py": EXISTING, "app/routes/orders.py": route()},
        "app/services/item_service.py", "from ..services import item_service",
        id="singular-names-when-orders-py-uses-order_service",
    ),
    pytest.param(
        "app/auth/routes.py", route("auth"), {},
        "app/auth/services/auth_service.py", "from .services import auth_service",
        id="blueprint-package-routes-named-after-the-blueprint",
    ),
    pytest.param(
        "app/auth/routes.py", route("auth"), {"app/__init__.py": "", "app/auth/__init__.py": ""},
        "app/services/auth_service.py", "from ..services import auth_service",
        id="blueprint-package-of-the-app-package-uses-its-services-folder",
    ),
    pytest.param(
        "app/auth/views.py", route("auth"), {"app/services/email_service.py": "def send():\n    pass\n"},
        "app/services/auth_service.py", "from ..services import auth_service",
        id="blueprint-package-uses-the-projects-services-folder",
    ),
    pytest.param(
        "app/routes.py", route("main", "from .extensions import db\nfrom .models import Order\n"), {},
        "app/services/order_service.py", "from .services import order_service",
        id="generic-blueprint-name-gives-the-written-model",
    ),
    pytest.param(
        "app/api/routes.py",
        route().replace('from flask import Blueprint', 'from fastapi import APIRouter')
        .replace('bp = Blueprint("orders", __name__)', 'router = APIRouter(prefix="/invoices")')
        .replace("@bp.delete", "@router.delete"),
        {}, "app/services/invoices_service.py", "from ..services import invoices_service",
        id="generic-fastapi-routes-module-named-after-its-router-prefix",
    ),
    pytest.param(
        "shop/flask_app.py", INLINE_ITEM_ROUTE, {},
        "shop/services/item_service.py", "from .services import item_service",
        id="inline-routes-named-after-the-model-they-add",
    ),
    pytest.param(
        "shop/main.py", INLINE_ITEM_ROUTE, {"shop/services/items.py": "def helper():\n    pass\n"},
        "shop/services/items.py", "from .services import items",
        id="inline-routes-reuse-the-plural-module-of-their-model",
    ),
]


CLASS_SERVICE = (
    "from ..models import Order\n\n\nclass OrderService:\n    @staticmethod\n    def total(order):\n"
    "        return sum(line.amount for line in order.lines)\n"
)
LOCATIONS += [
    pytest.param(
        "app/routes/orders.py", route(), {"app/services/order_service.py": CLASS_SERVICE},
        "app/services/order_service.py", "from ..services.order_service import OrderService",
        id="existing-service-class-of-static-methods-is-extended",
    ),
    pytest.param(
        "app/routes/items.py", route(), {"app/services/order_service.py": CLASS_SERVICE},
        "app/services/items_service.py", "from ..services.items_service import ItemsService",
        id="new-module-follows-the-projects-service-classes",
    ),
]


@pytest.mark.parametrize(("path", "source", "other_files", "service_path", "import_line"), LOCATIONS)
def test_service_module_follows_the_projects_layout(
    path: str, source: str, other_files: dict[str, str], service_path: str, import_line: str
) -> None:
    assert located(path, source, other_files) == (service_path, import_line)


@pytest.mark.parametrize(
    "existing_import",
    [
        pytest.param("from app.services import order_service", id="absolute-in-a-relative-module"),
        pytest.param("from ..services import order_service as orders", id="aliased"),
        pytest.param("from app.services import order_service as orders", id="absolute-and-aliased"),
    ],
)
def test_the_routes_own_import_of_a_reused_module_is_used_as_it_is(existing_import: str) -> None:
    source = route(imports=f"from ..extensions import db\nfrom ..models import Order\n{existing_import}\n")
    outcome = run_codemod(
        RouteCommit, source, path="app/routes/orders.py", other_files={"app/services/order_service.py": EXISTING}
    )
    new = outcome.new_source.decode()
    bound = existing_import.rsplit(" ", 1)[-1]
    assert new.count("order_service") == (2 if bound == "order_service" else 1), new
    assert f"    {bound}.delete_order(order_id)\n" in new
    assert f"{existing_import}\n" in new


@pytest.mark.parametrize(
    ("options", "service_path"),
    [
        pytest.param({"module-name": "{stem}_ops"}, "app/services/orders_ops.py", id="module-name-wins"),
        pytest.param({"service-dir": "domain"}, "app/domain/order_service.py", id="service-dir-wins-and-is-searched"),
    ],
)
def test_the_users_options_win(options: dict[str, Any], service_path: str) -> None:
    other = {"app/services/order_service.py": EXISTING, "app/domain/order_service.py": EXISTING}
    assert located("app/routes/orders.py", route(), other, **options)[0] == service_path


def test_no_plural_or_singular_twin_of_an_existing_module_is_created() -> None:
    for existing in ("order_service", "orders_service", "order", "orders", "order_services"):
        other = {f"app/services/{existing}.py": EXISTING}
        for stem in ("order", "orders", "order_routes", "orders_routes", "orders_api"):
            assert located(f"app/routes/{stem}.py", route(), other)[0] == f"app/services/{existing}.py"


def test_the_function_is_appended_to_the_reused_module() -> None:
    other = {"app/services/order_service.py": EXISTING}
    outcome = run_codemod(RouteCommit, route(), path="app/routes/orders.py", other_files=other)
    generated = generate(outcome, existing=other)
    assert set(generated) == {"app/services/order_service.py"}  # no __init__.py next to a reused module
    assert generated["app/services/order_service.py"] == (
        "from ..models import Order\nfrom ..extensions import db\n\n\n"
        "def total(order):\n    return sum(line.amount for line in order.lines)\n\n\n"
        'def delete_order(order_id):\n    """Delete the order and commit."""\n'
        "    order = Order.query.get(order_id)\n    db.session.delete(order)\n    db.session.commit()\n"
    )


def test_a_service_class_gets_the_function_as_a_static_method() -> None:
    other = {"app/services/order_service.py": CLASS_SERVICE}
    outcome = run_codemod(RouteCommit, route(), path="app/routes/orders.py", other_files=other)
    assert "    OrderService.delete_order(order_id)\n" in outcome.new_source.decode()
    service = generate(outcome, existing=other)["app/services/order_service.py"]
    namespace: dict[str, Any] = {}
    body = service.split("class OrderService:", 1)[1]
    assert "    @staticmethod\n    def delete_order(order_id):\n" in body
    exec(compile("class OrderService:" + body, "<service>", "exec"), {"Order": None, "db": None}, namespace)  # noqa: S102
    assert callable(namespace["OrderService"].delete_order)


@pytest.mark.parametrize(
    ("body", "model"),
    [
        pytest.param("db.session.add(Item(name=name))", "item", id="added-constructor"),
        pytest.param("log = AuditLog(x=1)\ndb.session.add(log)", "audit_log", id="added-variable"),
        pytest.param("db.session.add_all([Tag(name=n) for n in names])", None, id="comprehension-not-guessed"),
        pytest.param("order = db.get_or_404(Order, order_id)\norder.status = 'x'", "order", id="changed-after-lookup"),
        pytest.param("cart = Cart.query.get(cart_id)\ncart.items.clear()", "cart", id="method-on-looked-up"),
        pytest.param("db.query(Item).filter(Item.id == i).delete()", "item", id="query-delete"),
        pytest.param("session.execute(update(Stock).values(n=1))", "stock", id="update-statement"),
        pytest.param("for k, v in data.items():\n    setattr(post, k, v)\nsession.add(post)", "post", id="annotated-param"),
        pytest.param("raise HTTPException(404)", None, id="nothing-written"),
    ],
)
def test_the_model_a_route_writes(body: str, model: str | None) -> None:
    source = "def route(post: Post, session: AsyncSession):\n" + textwrap.indent(body, "    ") + "\n"
    assert written_model(ast.parse(source).body[0]) == model


@pytest.mark.parametrize(
    ("word", "one", "many"),
    [("orders", "order", "orders"), ("category", "category", "categories"), ("address", "address", "addresses"),
     ("status", "status", "statuses"), ("boxes", "box", "boxes"), ("auth", "auth", "auths")],
)  # fmt: skip
def test_singular_and_plural(word: str, one: str, many: str) -> None:
    assert singular(word) == one
    assert plural(one) == many


# -- declined -------------------------------------------------------------------------------------


def test_inline_routes_that_name_no_model_are_declined_with_a_reason() -> None:
    # app.py says nothing of what its routes are about and the route writes no model by name:
    # a service called app_service would be no better than the route module itself.
    source = """\
    from flask import Flask

    from .extensions import db

    app = Flask(__name__)


    @app.post("/touch")
    def touch():
        db.session.execute(db.text("update counter set n = n + 1"))
        db.session.commit()
        return "", 204
    """
    assert declined(assert_noop(RouteCommit, source, path="web/app.py")) == [
        (
            "not moved: app.py says nothing of what its routes are about and no model they write names a service "
            "module; set module-name in [tool.auditfix.route-commit]"
        )
    ]


def test_a_service_folder_named_like_a_library_is_not_imported_by_that_name() -> None:
    # A folder run as a script (`from models import Item`): the import root is the folder, so the
    # service would be imported as `logging`, the standard library's module.  No relative import
    # is possible there, so the route stays, with a finding.
    source = """\
    from flask import Flask

    from models import Item, db

    app = Flask(__name__)


    @app.delete("/items/<int:item_id>")
    def delete_item(item_id):
        item = db.session.get(Item, item_id)
        db.session.delete(item)
        db.session.commit()
        return "", 204
    """
    findings = assert_noop(
        RouteCommit, source, path="todo/app.py", other_files={"todo/models.py": "db = None\n"},
        options={"service-dir": "logging"},
    )  # fmt: skip
    assert declined(findings) == [
        (
            "not moved: `from logging import item_service` would import the library `logging`, not the project's "
            "todo/logging/, and the route module uses no relative imports"
        )
    ]


# -- imports spelled the way the module imports its siblings ------------------------------------


def test_a_package_named_like_a_library_is_imported_by_its_full_path() -> None:
    source = route(
        "posts",
        "from sqlalchemy import select\n\nfrom chapter06.sqlalchemy.extensions import db\n"
        "from chapter06.sqlalchemy.models import Order\n",
    )
    other = {"chapter06/sqlalchemy/models.py": "", "chapter06/sqlalchemy/extensions.py": "", "chapter06/__init__.py": ""}
    assert located("chapter06/sqlalchemy/routes.py", source, other) == (
        "chapter06/sqlalchemy/services/posts_service.py",  # the blueprint's name
        "from chapter06.sqlalchemy.services import posts_service",
    )


def test_a_package_named_like_a_library_that_imports_relatively_gets_a_relative_import() -> None:
    source = route("posts", "from sqlalchemy import select\n\nfrom .extensions import db\nfrom .models import Order\n")
    other = {"chapter06/sqlalchemy/models.py": "", "chapter06/sqlalchemy/extensions.py": ""}
    assert located("chapter06/sqlalchemy/routes.py", source, other)[1] == "from .services import posts_service"


def test_a_project_that_imports_its_folder_by_a_library_name_keeps_its_spelling() -> None:
    # The project's own modules say `from sqlalchemy.models import ...`: its import root is
    # chapter06/, where its sqlalchemy/ folder comes first; the service follows that spelling.
    source = route("posts", "from sqlalchemy.extensions import db\nfrom sqlalchemy.models import Order\n")
    other = {"chapter06/sqlalchemy/models.py": "", "chapter06/sqlalchemy/extensions.py": ""}
    assert located("chapter06/sqlalchemy/routes.py", source, other)[1] == "from sqlalchemy.services import posts_service"


def test_each_route_module_of_a_run_spells_the_service_import_its_own_way() -> None:
    # The import root is worked out once per route module and kept for its other routes: in
    # one run, a module importing its package absolutely and one importing it relatively each
    # keep their own spelling, for every route of theirs.
    def two_routes(imports: str) -> str:
        second = "\n\n@bp.post(\"/orders/<int:order_id>/close\")\ndef close_order(order_id):\n"
        second += "    order = Order.query.get(order_id)\n    order.closed = True\n    db.session.commit()\n    return \"\", 204\n"
        return route("orders", imports) + second

    absolute = "from shop.extensions import db\nfrom shop.models import Order\n"
    relative = "from ..extensions import db\nfrom ..models import Order\n"
    files = {
        "shop/__init__.py": "",
        "shop/extensions.py": "db = None\n",
        "shop/models.py": "class Order:\n    query = None\n",
        "shop/orders/__init__.py": "",
        "shop/orders/routes.py": two_routes(absolute),
        "blog/__init__.py": "",
        "blog/extensions.py": "db = None\n",
        "blog/models.py": "class Order:\n    query = None\n",
        "blog/orders/__init__.py": "",
        "blog/orders/routes.py": two_routes(relative),
    }
    rewritten = rewrite_tree(files)
    shop, blog = rewritten["shop/orders/routes.py"], rewritten["blog/orders/routes.py"]
    assert "from shop.services import orders_service\n" in shop
    assert "from ..services import orders_service\n" in blog
    for module in (shop, blog):
        assert "orders_service.delete_order(order_id)" in module
        assert "orders_service.close_order(order_id)" in module


# -- proofs by running code ------------------------------------------------------------------------


def run_python(root: Path, code: str, cwd: Path | None = None) -> Any:
    """Run ``code`` in a fresh interpreter with ``root`` first on sys.path; its last printed line is JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    env["PYTHONPATH"] = str(root)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd or root, capture_output=True, text=True, env=env,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


CHAPTER06 = {
    "chapter06/__init__.py": "",
    "chapter06/sqlalchemy/__init__.py": "",
    "chapter06/sqlalchemy/models.py": """\
        import os

        from sqlalchemy import Column, Integer, String, create_engine
        from sqlalchemy.orm import declarative_base, sessionmaker

        Base = declarative_base()
        engine = create_engine("sqlite:///" + os.environ["LAYOUT_TEST_DB"])
        SessionLocal = sessionmaker(engine)


        class Post(Base):
            __tablename__ = "post"
            id = Column(Integer, primary_key=True)
            title = Column(String, nullable=False)
        """,
    "chapter06/sqlalchemy/app.py": """\
        from flask import Flask, jsonify, request
        from sqlalchemy import select

        from chapter06.sqlalchemy.models import Base, Post, SessionLocal, engine

        app = Flask(__name__)
        Base.metadata.create_all(engine)


        @app.post("/posts")
        def create_post():
            title = request.json["title"]
            session = SessionLocal()
            post = Post(title=title)
            session.add(post)
            session.commit()
            created = post.id
            session.close()
            return jsonify(id=created), 201


        @app.get("/posts")
        def list_posts():
            with SessionLocal() as session:
                return jsonify([p.title for p in session.scalars(select(Post).order_by(Post.id))])
        """,
}

CHAPTER06_CLIENT = """\
    import json

    from chapter06.sqlalchemy.app import app

    client = app.test_client()
    created = [client.post("/posts", json={"title": t}) for t in ("one", "two")]
    listed = client.get("/posts")
    print(json.dumps([[r.status_code, r.get_json()] for r in created] + [listed.get_json()]))
"""


def test_a_package_named_sqlalchemy_still_imports_and_runs_after_the_rewrite(tmp_path: Path) -> None:
    rewritten = rewrite_tree(CHAPTER06)
    app = rewritten["chapter06/sqlalchemy/app.py"]
    assert "from chapter06.sqlalchemy.services import post_service\n" in app
    assert "    session, post = post_service.create_post(title)\n" in app
    results = []
    for name, tree in (("original", {p: textwrap.dedent(c) for p, c in CHAPTER06.items()}), ("rewritten", rewritten)):
        root = tmp_path / name
        write_tree(root, tree)
        os.environ["LAYOUT_TEST_DB"] = str(root / "posts.db")
        results.append(run_python(root, CHAPTER06_CLIENT))
    assert results[0] == results[1] == [[201, {"id": 1}], [201, {"id": 2}], ["one", "two"]]


SCRIPT_FOLDER = {
    "todo/models.py": """\
        import os

        from sqlalchemy import Column, Integer, String, create_engine
        from sqlalchemy.orm import declarative_base, sessionmaker

        Base = declarative_base()
        engine = create_engine("sqlite:///" + os.environ["LAYOUT_TEST_DB"])
        SessionLocal = sessionmaker(engine)


        class Item(Base):
            __tablename__ = "item"
            id = Column(Integer, primary_key=True)
            name = Column(String, nullable=False)
        """,
    "todo/app.py": """\
        from flask import Flask, request

        from models import Base, Item, SessionLocal, engine

        app = Flask(__name__)
        Base.metadata.create_all(engine)


        @app.post("/items")
        def create_item():
            name = request.json["name"]
            with SessionLocal() as session:
                item = Item(name=name)
                session.add(item)
                session.commit()
                return {"id": item.id}, 201


        @app.delete("/items/<int:item_id>")
        def delete_item(item_id):
            with SessionLocal() as session:
                item = session.get(Item, item_id)
                if item is None:
                    return "", 404
                session.delete(item)
                session.commit()
                return "", 204
        """,
}

SCRIPT_CLIENT = """\
    import json
    import sqlite3
    import os

    import app

    client = app.app.test_client()
    codes = [client.post("/items", json={"name": n}).status_code for n in ("a", "b")]
    codes += [client.delete("/items/1").status_code, client.delete("/items/9").status_code]
    rows = sqlite3.connect(os.environ["LAYOUT_TEST_DB"]).execute("select id, name from item").fetchall()
    print(json.dumps([codes, rows]))
"""


def test_a_folder_of_inline_routes_run_as_a_script_gets_a_service_named_after_its_model(tmp_path: Path) -> None:
    rewritten = rewrite_tree(SCRIPT_FOLDER)
    assert "from services import item_service\n" in rewritten["todo/app.py"]
    assert "todo/services/item_service.py" in rewritten
    results = []
    for name, tree in (("original", {p: textwrap.dedent(c) for p, c in SCRIPT_FOLDER.items()}), ("rewritten", rewritten)):
        root = tmp_path / name
        write_tree(root, tree)
        os.environ["LAYOUT_TEST_DB"] = str(root / "todo.db")
        results.append(run_python(root / "todo", SCRIPT_CLIENT))  # run from its folder, as a script is
    assert results[0] == results[1] == [[201, 201, 204, 404], [[2, "b"]]]


SHOP = {
    "shop/__init__.py": """\
        import os

        from flask import Flask

        from .extensions import db


        def create_app():
            app = Flask(__name__)
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.environ["LAYOUT_TEST_DB"]
            db.init_app(app)
            from .auth.routes import bp as auth_bp
            from .routes.items import bp as items_bp
            from .routes.orders import bp as orders_bp

            for bp in (auth_bp, items_bp, orders_bp):
                app.register_blueprint(bp)
            with app.app_context():
                db.create_all()
            return app
        """,
    "shop/extensions.py": """\
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()
        """,
    "shop/models.py": """\
        from .extensions import db


        class User(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            email = db.Column(db.String, unique=True, nullable=False)


        class Item(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            name = db.Column(db.String, nullable=False)


        class Order(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            item_id = db.Column(db.ForeignKey("item.id"))
            status = db.Column(db.String, default="new")
        """,
    "shop/services/__init__.py": "",
    "shop/services/order_service.py": """\
        from ..models import Order


        def open_orders():
            return Order.query.filter_by(status="new").count()
        """,
    "shop/routes/__init__.py": "",
    "shop/routes/orders.py": """\
        from flask import Blueprint, jsonify, request

        from ..extensions import db
        from ..models import Order
        from ..services import order_service

        bp = Blueprint("orders", __name__)


        @bp.post("/orders")
        def create_order():
            item_id = request.json["item_id"]
            order = Order(item_id=item_id)
            db.session.add(order)
            db.session.commit()
            return jsonify(id=order.id, open=order_service.open_orders()), 201


        @bp.post("/orders/<int:order_id>/cancel")
        def cancel_order(order_id):
            order = db.get_or_404(Order, order_id)
            order.status = "cancelled"
            db.session.commit()
            return jsonify(status=order.status)
        """,
    "shop/routes/items.py": """\
        from flask import Blueprint, jsonify, request

        from ..extensions import db
        from ..models import Item

        bp = Blueprint("items", __name__)


        @bp.post("/items")
        def create_item():
            name = request.json["name"]
            item = Item(name=name)
            db.session.add(item)
            db.session.commit()
            return jsonify(id=item.id), 201
        """,
    "shop/auth/__init__.py": "",
    "shop/auth/routes.py": """\
        from flask import Blueprint, jsonify, request

        from ..extensions import db
        from ..models import User

        bp = Blueprint("auth", __name__, url_prefix="/auth")


        @bp.post("/register")
        def register():
            email = request.json["email"]
            user = User(email=email)
            db.session.add(user)
            db.session.commit()
            return jsonify(id=user.id), 201
        """,
    "tests/__init__.py": "",
    "tests/test_shop.py": """\
        import os
        import sqlite3

        import pytest

        from shop import create_app


        @pytest.fixture
        def client(tmp_path):
            os.environ["LAYOUT_TEST_DB"] = str(tmp_path / "shop.db")
            return create_app().test_client()


        def rows(table):
            with sqlite3.connect(os.environ["LAYOUT_TEST_DB"]) as connection:
                return connection.execute(f"select * from {table} order by id").fetchall()


        def test_register(client):
            assert client.post("/auth/register", json={"email": "a@example.com"}).status_code == 201
            assert rows("user") == [(1, "a@example.com")]


        def test_order_lifecycle(client):
            assert client.post("/items", json={"name": "lamp"}).get_json() == {"id": 1}
            assert client.post("/orders", json={"item_id": 1}).get_json() == {"id": 1, "open": 1}
            assert client.post("/orders/1/cancel").get_json() == {"status": "cancelled"}
            assert client.post("/orders/7/cancel").status_code == 404
            assert rows("item") == [(1, "lamp")]
            assert rows("\\"order\\"") == [(1, 1, "cancelled")]
        """,
}


def test_a_projects_own_suite_passes_after_its_services_follow_its_layout(tmp_path: Path) -> None:
    rewritten = rewrite_tree(SHOP)
    created = sorted(set(rewritten) - set(SHOP))
    # orders.py's writes join the existing order_service.py (no orders_service.py twin); items.py
    # follows its singular naming; the auth blueprint package uses the project's services/ folder.
    assert created == ["shop/services/auth_service.py", "shop/services/item_service.py"]
    assert "def create_order(item_id):" in rewritten["shop/services/order_service.py"]
    assert "def open_orders():" in rewritten["shop/services/order_service.py"]
    assert "from ..services import auth_service\n" in rewritten["shop/auth/routes.py"]
    for name, tree in (("original", {p: textwrap.dedent(c) for p, c in SHOP.items()}), ("rewritten", rewritten)):
        root = tmp_path / name
        write_tree(root, tree)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=root, capture_output=True,
            text=True, env=env, timeout=300, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"
        assert "2 passed" in result.stdout


# The real failure: a FastAPI app in a package chapter06/sqlalchemy/ that imports its siblings as
# chapter06.sqlalchemy.*, with an async session from a dependency, and its own test suite.
ASYNC_CHAPTER = {
    "chapter06/__init__.py": "",
    "chapter06/sqlalchemy/__init__.py": "",
    "chapter06/sqlalchemy/models.py": """\
        from sqlalchemy import Integer, String
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


        class Base(DeclarativeBase):
            pass


        class Post(Base):
            __tablename__ = "posts"

            id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
            title: Mapped[str] = mapped_column(String(255), nullable=False)
        """,
    "chapter06/sqlalchemy/schemas.py": """\
        from pydantic import BaseModel


        class PostCreate(BaseModel):
            title: str


        class PostRead(PostCreate):
            id: int
        """,
    "chapter06/sqlalchemy/database.py": """\
        import os

        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        from chapter06.sqlalchemy.models import Base

        engine = create_async_engine("sqlite+aiosqlite:///" + os.environ["LAYOUT_TEST_DB"])
        async_session_maker = async_sessionmaker(engine, expire_on_commit=False)


        async def get_async_session():
            async with async_session_maker() as session:
                yield session


        async def create_all_tables():
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
        """,
    "chapter06/sqlalchemy/app.py": """\
        import contextlib

        from fastapi import Depends, FastAPI, HTTPException, status
        from sqlalchemy import select
        from sqlalchemy.ext.asyncio import AsyncSession

        from chapter06.sqlalchemy import schemas
        from chapter06.sqlalchemy.database import create_all_tables, get_async_session
        from chapter06.sqlalchemy.models import Post


        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI):
            await create_all_tables()
            yield


        app = FastAPI(lifespan=lifespan)


        @app.post("/posts", status_code=status.HTTP_201_CREATED, response_model=schemas.PostRead)
        async def create_post(post_create: schemas.PostCreate, session: AsyncSession = Depends(get_async_session)):
            post = Post(**post_create.model_dump())
            session.add(post)
            await session.commit()
            return post


        @app.get("/posts", response_model=list[schemas.PostRead])
        async def list_posts(session: AsyncSession = Depends(get_async_session)):
            return (await session.scalars(select(Post).order_by(Post.id))).all()


        @app.delete("/posts/{id}", status_code=status.HTTP_204_NO_CONTENT)
        async def delete_post(id: int, session: AsyncSession = Depends(get_async_session)):
            post = await session.get(Post, id)
            if post is None:
                raise HTTPException(status_code=404)
            await session.delete(post)
            await session.commit()
        """,
    "tests/__init__.py": "",
    "tests/test_chapter06.py": """\
        import os
        import sqlite3

        import pytest
        from fastapi.testclient import TestClient


        @pytest.fixture
        def client(tmp_path, monkeypatch):
            monkeypatch.setenv("LAYOUT_TEST_DB", str(tmp_path / "posts.db"))
            from chapter06.sqlalchemy.app import app

            with TestClient(app) as client:
                yield client


        def test_posts(client):
            assert client.post("/posts", json={"title": "one"}).json() == {"id": 1, "title": "one"}
            assert client.post("/posts", json={"title": "two"}).status_code == 201
            assert client.delete("/posts/1").status_code == 204
            assert client.delete("/posts/1").status_code == 404
            assert client.get("/posts").json() == [{"id": 2, "title": "two"}]
            with sqlite3.connect(os.environ["LAYOUT_TEST_DB"]) as connection:
                assert connection.execute("select id, title from posts").fetchall() == [(2, "two")]
        """,
}


def test_the_chapter06_sqlalchemy_fastapi_app_and_its_suite_still_work_after_the_rewrite(tmp_path: Path) -> None:
    rewritten = rewrite_tree(ASYNC_CHAPTER)
    app = rewritten["chapter06/sqlalchemy/app.py"]
    assert "from chapter06.sqlalchemy.services import post_service\n" in app
    assert "from sqlalchemy.services" not in app
    assert "    await post_service.delete_post(session, post)\n" in app
    assert "chapter06/sqlalchemy/services/post_service.py" in rewritten
    for name, tree in (("original", {p: textwrap.dedent(c) for p, c in ASYNC_CHAPTER.items()}), ("rewritten", rewritten)):
        root = tmp_path / name
        write_tree(root, tree)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=root, capture_output=True,
            text=True, env=env, timeout=300, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"
        assert "1 passed" in result.stdout


# -- which service modules cannot be written (read from a set of folders, not every path) ----------

TREE_PATHS = [
    "app/views.py", "app/services.py", "app/api/routes.py", "app/api/services/orders.py", "setup.py",
    "pkg/sub/deep/mod.py", "pkg.py", "svc/x.py", "broken/services.py",
]  # fmt: skip


def test_package_folders_answer_what_a_scan_of_every_path_answers() -> None:
    folders = package_folders(TREE_PATHS)
    # Every folder-like prefix (shadowing asks for `<service path without .py>/`), present or not.
    candidates = {p[: i + 1] + "/" for p in TREE_PATHS for i in range(len(p))} | {"nope/", "/", "pkg/sub/"}
    candidates |= {p[: i + 1] for p in TREE_PATHS for i in range(len(p)) if p[i] == "/"}
    for package in candidates:
        assert (package in folders) == any(path.startswith(package) for path in TREE_PATHS), package
    assert folders == {"app/", "app/api/", "app/api/services/", "pkg/", "pkg/sub/", "pkg/sub/deep/", "svc/", "broken/"}


def test_blocked_services_give_each_reason() -> None:
    indexed = {path: None for path in TREE_PATHS} | {"broken/services.py": UNPARSABLE}
    claimed = ["app/api/services.py", "pkg/sub.py", "pkg/new/services.py", "svc/orders.py", "broken/services.py"]
    assert blocked_services(claimed, indexed) == {
        "app/api/services.py": "app/api/services/ is a package, which would hide a services.py next to it",
        "pkg/sub.py": "pkg/sub/ is a package, which would hide a sub.py next to it",
        "broken/services.py": "broken/services.py exists but does not parse, so the function cannot be added to it",
    }
    assert blocked_services(["pkg/services/orders.py"], {"pkg/services.py": None}) == {
        "pkg/services/orders.py": "pkg/services.py exists; a services/ package next to it would hide it"
    }

