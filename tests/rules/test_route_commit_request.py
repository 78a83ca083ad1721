"""route-commit: the values a route reads from the HTTP layer go to the service as arguments.

A write on a request-bound object (``current_user.follow(user)``, ``post.title =
form.title.data``, ``Post(author=g.user)``) moves with its commit: the route evaluates the
expression and passes the value, and the service never names the HTTP layer.  A value is passed
only when reading it before the moved code gives what the moved code read; otherwise the
statement that prevents it stays in the route, and the finding says which and why.  The
behaviour of a rewritten Flask-Login app is proven at the end, through Flask's test client.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from codemods.analysis.routes import DEFAULT_HTTP_NAMES
from codemods.rules.route_commit import RouteCommit
from codemods.rules.route_commit.flow import ImportItem
from codemods.rules.route_commit.service_checks import http_reference
from tests.rules.helpers import run_codemod
from tests.rules.test_route_commit import assert_moved, generate, reasons
from tests.rules.test_route_commit_apps import imported, rewrite_tree, table_rows, write_tree

MOVED = [
    pytest.param(
        'app/main/routes.py',
        '''\
from flask import Blueprint
from flask_login import current_user, login_required

from ..extensions import db
from ..models import User

bp = Blueprint("main", __name__)


@bp.post("/follow/<username>")
@login_required
def follow(username):
    user = db.first_or_404(db.select(User).filter_by(username=username))
    current_user.follow(user)
    db.session.commit()
    return "", 204
''',
        '''\
from flask import Blueprint
from flask_login import current_user, login_required

from ..extensions import db
from ..models import User
from .services import routes_service

bp = Blueprint("main", __name__)


@bp.post("/follow/<username>")
@login_required
def follow(username):
    user = db.first_or_404(db.select(User).filter_by(username=username))
    routes_service.follow(current_user, user)
    return "", 204
''',
        {
            'app/main/services/routes_service.py': '''\
"""Routes services: database writes and their commits."""

from ...extensions import db


def follow(current_user, user):
    """Follow and commit."""
    current_user.follow(user)
    db.session.commit()
''',
        },
        id='the-write-on-current-user-moves',
    ),
    pytest.param(
        'app/main/routes.py',
        '''\
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..extensions import db
from .forms import EditProfileForm

bp = Blueprint("main", __name__)


@bp.route("/edit_profile", methods=["GET", "POST"])
@login_required
def edit_profile():
    form = EditProfileForm(current_user.username)
    if form.validate_on_submit():
        current_user.username = form.username.data
        current_user.about_me = form.about_me.data
        db.session.commit()
        flash("Your changes have been saved.")
        return redirect(url_for("main.edit_profile"))
    return render_template("edit_profile.html", form=form)
''',
        '''\
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from .forms import EditProfileForm
from .services import routes_service

bp = Blueprint("main", __name__)


@bp.route("/edit_profile", methods=["GET", "POST"])
@login_required
def edit_profile():
    form = EditProfileForm(current_user.username)
    if form.validate_on_submit():
        routes_service.edit_profile(current_user, form.username.data, form.about_me.data)
        flash("Your changes have been saved.")
        return redirect(url_for("main.edit_profile"))
    return render_template("edit_profile.html", form=form)
''',
        {
            'app/main/services/routes_service.py': '''\
"""Routes services: database writes and their commits."""

from ...extensions import db


def edit_profile(user, username, about_me):
    """Edit the profile and commit."""
    user.username = username
    user.about_me = about_me
    db.session.commit()
''',
        },
        id='form-fields-written-on-current-user',
    ),
    pytest.param(
        'app/main/routes.py',
        '''\
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from ..extensions import db
from ..models import Post
from .forms import PostForm

bp = Blueprint("main", __name__)


@bp.route("/", methods=["GET", "POST"])
def index():
    form = PostForm()
    if form.validate_on_submit():
        post = Post(title=form.title.data, body=form.post.data, author=current_user)
        db.session.add(post)
        db.session.commit()
        return redirect(url_for("main.index"))
    return render_template("index.html", form=form)
''',
        '''\
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from .forms import PostForm
from .services import routes_service

bp = Blueprint("main", __name__)


@bp.route("/", methods=["GET", "POST"])
def index():
    form = PostForm()
    if form.validate_on_submit():
        routes_service.index(form.title.data, form.post.data, current_user)
        return redirect(url_for("main.index"))
    return render_template("index.html", form=form)
''',
        {
            'app/main/services/routes_service.py': '''\
"""Routes services: database writes and their commits."""

from ...extensions import db
from ...models import Post


def index(title, form_post, user):
    """Index and commit."""
    post = Post(title=title, body=form_post, author=user)
    db.session.add(post)
    db.session.commit()
''',
        },
        id='form-fields-into-a-new-row',
    ),
    pytest.param(
        'app/blog/routes.py',
        '''\
from flask import Blueprint, g, request

from ..extensions import db
from ..models import Post

bp = Blueprint("blog", __name__)


@bp.post("/create")
def create():
    post = Post(title=request.form["title"], body=request.form.get("body", ""), author_id=g.user.id)
    db.session.add(post)
    db.session.commit()
    return "", 201
''',
        '''\
from flask import Blueprint, g, request

from .services import routes_service

bp = Blueprint("blog", __name__)


@bp.post("/create")
def create():
    routes_service.create(request.form["title"], request.form.get("body", ""), g.user)
    return "", 201
''',
        {
            'app/blog/services/routes_service.py': '''\
"""Routes services: database writes and their commits."""

from ...extensions import db
from ...models import Post


def create(title, body, user):
    """Create and commit."""
    post = Post(title=title, body=body, author_id=user.id)
    db.session.add(post)
    db.session.commit()
''',
        },
        id='request-form-and-g-user',
    ),
    pytest.param(
        'app/notes/routes.py',
        '''\
from flask import Blueprint, jsonify, request

from ..extensions import db
from ..models import Note

bp = Blueprint("notes", __name__)


@bp.post("/notes")
def add_note():
    data = request.get_json()
    level = "high" if data.get("urgent") else "low"
    text = request.json["text"]
    note = Note(text=text.strip(), level=level)
    db.session.add(note)
    db.session.commit()
    return jsonify(id=note.id)
''',
        '''\
from flask import Blueprint, jsonify, request

from .services import routes_service

bp = Blueprint("notes", __name__)


@bp.post("/notes")
def add_note():
    data = request.get_json()
    note = routes_service.add_note(data, request.json["text"])
    return jsonify(id=note.id)
''',
        {
            'app/notes/services/routes_service.py': '''\
"""Routes services: database writes and their commits."""

from ...extensions import db
from ...models import Note


def add_note(data, text):
    """Add the note and commit."""
    level = "high" if data.get("urgent") else "low"
    note = Note(text=text.strip(), level=level)
    db.session.add(note)
    db.session.commit()
    return note
''',
        },
        id='a-binding-inside-becomes-the-parameter',
    ),
    pytest.param(
        'app/items/routes.py',
        '''\
from flask import Blueprint, request

from ..extensions import db
from ..models import Item

bp = Blueprint("items", __name__)


@bp.post("/items/<int:item_id>/stock")
def restock(item_id):
    item = db.get_or_404(Item, item_id)
    item.stock += request.args.get("count", 1, type=int)
    item.meta = request.get_json(silent=True)
    db.session.commit()
    return "", 204
''',
        '''\
from flask import Blueprint, request

from ..extensions import db
from ..models import Item
from .services import routes_service

bp = Blueprint("items", __name__)


@bp.post("/items/<int:item_id>/stock")
def restock(item_id):
    item = db.get_or_404(Item, item_id)
    routes_service.restock(item, request.args.get("count", 1, type=int), request.get_json(silent=True))
    return "", 204
''',
        {
            'app/items/services/routes_service.py': '''\
"""Routes services: database writes and their commits."""

from ...extensions import db
from ...models import Item


def restock(item: Item, count, data):
    """Restock and commit."""
    item.stock += count
    item.meta = data
    db.session.commit()
''',
        },
        id='request-reads-with-constant-options',
    ),
    pytest.param(
        'app/bills/routes.py',
        '''\
from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user

from ..auth import token_auth
from ..extensions import db
from ..models import Bill

bp = Blueprint("bills", __name__)


@bp.post("/bills/<int:bill_id>/pay")
def pay_bill(bill_id):
    bill = db.get_or_404(Bill, bill_id)
    bill.paid = True
    bill.payer = current_user
    db.session.commit()
    return redirect(url_for("bills.index"))


@bp.post("/api/bills/<int:bill_id>/pay")
def api_pay_bill(bill_id):
    bill = db.get_or_404(Bill, bill_id)
    bill.paid = True
    bill.payer = token_auth.current_user()
    db.session.commit()
    return jsonify(id=bill.id, paid=bill.paid)
''',
        '''\
from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user

from ..auth import token_auth
from ..extensions import db
from ..models import Bill
from .services import routes_service

bp = Blueprint("bills", __name__)


@bp.post("/bills/<int:bill_id>/pay")
def pay_bill(bill_id):
    bill = db.get_or_404(Bill, bill_id)
    routes_service.pay_bill(bill, current_user)
    return redirect(url_for("bills.index"))


@bp.post("/api/bills/<int:bill_id>/pay")
def api_pay_bill(bill_id):
    bill = db.get_or_404(Bill, bill_id)
    routes_service.pay_bill(bill, token_auth.current_user())
    return jsonify(id=bill.id, paid=bill.paid)
''',
        {
            'app/bills/services/routes_service.py': '''\
"""Routes services: database writes and their commits."""

from ...extensions import db
from ...models import Bill


def pay_bill(bill: Bill, user):
    """Pay the bill and commit."""
    bill.paid = True
    bill.payer = user
    db.session.commit()
''',
        },
        id='web-and-api-routes-share-one-function',
    ),
    pytest.param(
        'app/blog/routes.py',
        '''\
from flask import Blueprint, g, request

from ..extensions import db
from ..models import Post
from ..mail import notify, send_welcome

bp = Blueprint("blog", __name__)


@bp.post("/welcome")
def welcome():
    send_welcome(g.user)
    g.user.welcomed = True
    db.session.commit()
    return "", 204


@bp.post("/posts/<int:post_id>/body")
def set_body(post_id):
    post = db.get_or_404(Post, post_id)
    notify(post.author)
    post.body = request.form["body"]
    db.session.commit()
    return "", 204


@bp.post("/posts/<int:post_id>")
def edit(post_id):
    post = db.get_or_404(Post, post_id)
    try:
        post.title = request.form["title"]
        post.body = request.form["body"]
        db.session.commit()
    except KeyError:
        db.session.rollback()
    return "", 204
''',
        '''\
from flask import Blueprint, g, request

from ..extensions import db
from ..models import Post
from ..mail import notify, send_welcome
from .services import routes_service

bp = Blueprint("blog", __name__)


@bp.post("/welcome")
def welcome():
    send_welcome(g.user)
    routes_service.welcome(g.user)
    return "", 204


@bp.post("/posts/<int:post_id>/body")
def set_body(post_id):
    post = db.get_or_404(Post, post_id)
    notify(post.author)
    routes_service.set_body(post, request.form["body"])
    return "", 204


@bp.post("/posts/<int:post_id>")
def edit(post_id):
    post = db.get_or_404(Post, post_id)
    try:
        post.title = request.form["title"]
        routes_service.set_body(post, request.form["body"])
    except KeyError:
        db.session.rollback()
    return "", 204
''',
        {
            'app/blog/services/routes_service.py': '''\
"""Routes services: database writes and their commits."""

from ...extensions import db
from ...models import Post


def welcome(user):
    """Welcome and commit."""
    user.welcomed = True
    db.session.commit()


def set_body(post: Post, body):
    """Set the body and commit."""
    post.body = body
    db.session.commit()
''',
        },
        id='a-value-read-after-a-call-splits-the-route',
    ),
]


@pytest.mark.parametrize(("path", "before", "after", "services"), MOVED)
def test_request_values_are_passed_as_arguments(path: str, before: str, after: str, services: dict[str, str]) -> None:
    outcome = assert_moved(path, before, after, services)
    for source in generate(outcome).values():
        assert http_reference(source, (), DEFAULT_HTTP_NAMES) is None


def test_a_split_route_says_what_stayed_in_it_and_why() -> None:
    split = next(p for p in MOVED if p.id == "a-value-read-after-a-call-splits-the-route")
    path, source = split.values[0], split.values[1]
    messages = [f.message for f in run_codemod(RouteCommit, source, path=path).findings]
    assert messages == [
        "moved the commit and 1 statement before it into welcome in app/blog/services/routes_service.py; "
        "the statement at line 12 stays in the route: it runs `send_welcome(g.user)`, which may change `g.user` "
        "(line 13), read after it",
        "moved the commit and 1 statement before it into set_body in app/blog/services/routes_service.py; "
        "the statement at line 21 stays in the route: it runs `notify(post.author)`, which must happen before "
        '`request.form["body"]` (line 22) is read: reading it may fail, and reading it first would skip this',
        "moved the commit and 1 statement before it into set_body in app/blog/services/routes_service.py, "
        "the function of `set_body`, which does the same; the statement at line 31 stays in the route: it writes "
        '`post.title`, which must happen before `request.form["body"]` (line 32) is read: reading it may fail, '
        "and reading it first would skip this",
    ]


# -- held back: reading the value earlier could give another value, or fail where it did not -------

HEAD = """\
from flask import Blueprint, g, request
from flask_login import current_user

from ..extensions import db
from ..models import Post
from ..tasks import recount
from .forms import PostForm

bp = Blueprint("main", __name__)

"""

HELD_BACK = [
    pytest.param(
        """\
@bp.post("/visit")
def visit():
    g.user.visits = recount(g.user)
    db.session.commit()
    return "", 204
""",
        # the value is computed before the target is read: recount() could set g.user
        "it runs `recount(g.user)`, which may change `g.user` (line 13), read after it",
        id="g-read-after-a-call-in-the-same-statement",
    ),
    pytest.param(
        """\
@bp.post("/bio")
def bio():
    current_user.bio = request.form.get("bio") if request.args.get("keep") else None
    db.session.commit()
    return "", 204
""",
        # read on one branch only: reading it always could answer 400 where the route did not
        'it reads `request.form.get("bio")` (line 13), which may fail, on some paths only '
        "(the route would read it on all)",
        id="a-value-that-may-fail-read-on-some-paths",
    ),
    pytest.param(
        """\
@bp.post("/posts/<int:post_id>/fill")
def fill(post_id):
    post = db.get_or_404(Post, post_id)
    form = PostForm()
    form.populate_obj(post)
    db.session.commit()
    return "", 204
""",
        "it uses the form object `form`: a service takes its fields' values",
        id="a-form-object-is-not-passed",
    ),
    pytest.param(
        """\
@bp.post("/title")
def title():
    if request.method == "POST":
        form = PostForm()
    current_user.title = form.title.data
    db.session.commit()
    return "", 204
""",
        "it reads `form.title.data` (line 15), and `form` may be unassigned before it",
        id="a-form-bound-on-some-paths",
    ),
    pytest.param(
        """\
@bp.post("/later")
def later():
    current_user.hooks.append(lambda: g.user)
    db.session.commit()
    return "", 204
""",
        "it reads `g.user` (line 13) in a function that may run later",
        id="a-value-read-in-a-lambda",
    ),
]


@pytest.mark.parametrize(("route", "why"), HELD_BACK)
def test_a_value_that_cannot_be_read_earlier_holds_its_statement_back(route: str, why: str) -> None:
    line = (HEAD + route).splitlines().index("    db.session.commit()")  # the line before the commit's
    assert reasons(HEAD + route, path="app/main/routes.py") == [
        f"not moved: the statement before the commit (line {line}) stays in the route: {why}; "
        "only the commit would move, and a service that only commits is no unit of work"
    ]


def test_writing_the_http_layer_is_not_a_value() -> None:
    # ``g.user = ...`` writes the request's state: the statement stays in the route
    route = """\
@bp.post("/switch")
def switch():
    g.user = Post.query.get(1).author
    db.session.commit()
    return "", 204
"""
    assert reasons(HEAD + route, path="app/main/routes.py") == [
        "not moved: the statement before the commit (line 13) stays in the route: it uses `flask.g`; "
        "only the commit would move, and a service that only commits is no unit of work"
    ]


# -- the safety net: a service function that names the HTTP layer is never generated -----------------


@pytest.mark.parametrize(
    ("source", "imports", "used"),
    [
        pytest.param("def f(x):\n    x.name = request.form['a']\n", [ImportItem("flask", "request", None)], "`flask.request`", id="flask-request"),
        pytest.param("def f(x):\n    x.owner = cu\n", [ImportItem("flask_login", "current_user", "cu")], "`flask_login.current_user`", id="aliased-current-user"),
        pytest.param("def f():\n    flask.abort(404)\n", [ImportItem("flask", None, None)], "`flask.abort`", id="module-attribute"),
        pytest.param("def f(i):\n    Item.query.get_or_404(i)\n", [ImportItem("models", "Item", None)], "`get_or_404`", id="a-404-lookup"),
        pytest.param("def f(o):\n    o.by = auth.current_user()\n", [ImportItem("auth", "auth", None)], "`current_user`", id="an-auth-helper"),
    ],
)
def test_http_reference_finds_the_http_layer(source: str, imports: list[ImportItem], used: str) -> None:
    assert http_reference(source, imports, DEFAULT_HTTP_NAMES) == used


def test_http_reference_accepts_parameters_named_like_the_http_layer() -> None:
    # a parameter that holds the value the route passed is no reference to flask_login
    source = "def follow(current_user, user):\n    current_user.follow(user)\n    db.session.commit()\n"
    assert http_reference(source, [ImportItem("app.extensions", "db", None)], DEFAULT_HTTP_NAMES) is None
