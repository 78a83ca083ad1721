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

import libcst as cst
import pytest

from codemods.analysis.routes import DEFAULT_HTTP_NAMES
from codemods.rules.route_commit import RouteCommit
from codemods.rules.route_commit.flow import ImportItem
from codemods.rules.route_commit.service_checks import http_reference
from tests.rules.helpers import run_codemod
from tests.rules.test_route_commit import assert_moved, generate, reasons
from tests.rules.test_route_commit_apps import imported, rewrite_tree, table_rows, write_tree

# These cases are about the values a route passes, not about where its service module goes:
# they keep the file-stem naming (routes.py -> services/routes_service.py) through the option
# that pins it.  Layout and names are specified in test_route_commit_layout.py.
STEM_NAMING = {"module-name": "routes_service"}
# For trees of several route modules: each module's own stem (a pattern other than the
# default's text pins the file-stem naming; the default derives names from the project).
EACH_STEM = {"module-name": "{stem!s}_service"}

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
        routes_service.create_post(form.title.data, form.post.data, current_user)
        return redirect(url_for("main.index"))
    return render_template("index.html", form=form)
''',
        {
            'app/main/services/routes_service.py': '''\
"""Routes services: database writes and their commits."""

from ...extensions import db
from ...models import Post


def create_post(title, form_post, user):
    """Create the post and commit."""
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
    outcome = assert_moved(path, before, after, services, options=STEM_NAMING)
    for source in generate(outcome, STEM_NAMING).values():
        assert http_reference(source, (), DEFAULT_HTTP_NAMES) is None


def test_a_split_route_says_what_stayed_in_it_and_why() -> None:
    split = next(p for p in MOVED if p.id == "a-value-read-after-a-call-splits-the-route")
    path, source = split.values[0], split.values[1]
    messages = [f.message for f in run_codemod(RouteCommit, source, path=path, options=STEM_NAMING).findings]
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
    pytest.param(
        """\
@bp.post("/first")
def first():
    g.user.posts.first_or_404().seen = True
    db.session.commit()
    return "", 204
""",
        # a value inside the chain does not hide the 404 lookup on it
        "it calls `first_or_404`, which answers HTTP itself",
        id="a-404-lookup-on-a-value",
    ),
    pytest.param(
        """\
@bp.post("/rename")
def rename():
    form = PostForm()
    title, form_title = Post.query.get(1), None
    title.name = form.title.data
    db.session.commit()
    return "", 204
""",
        "it reads `form.title.data`, and every parameter name for it is taken",
        id="no-free-parameter-name",
    ),
]


@pytest.mark.parametrize(("route", "why"), HELD_BACK)
def test_a_value_that_cannot_be_read_earlier_holds_its_statement_back(route: str, why: str) -> None:
    line = (HEAD + route).splitlines().index("    db.session.commit()")  # the line before the commit's
    assert reasons(HEAD + route, path="app/main/routes.py", options=STEM_NAMING) == [
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
    assert reasons(HEAD + route, path="app/main/routes.py", options=STEM_NAMING) == [
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
    # The rule hands over the tree it parsed the rendered text into: the same answer.
    assert http_reference(cst.parse_module(source), imports, DEFAULT_HTTP_NAMES) == used


def test_http_reference_accepts_parameters_named_like_the_http_layer() -> None:
    # a parameter that holds the value the route passed is no reference to flask_login
    source = "def follow(current_user, user):\n    current_user.follow(user)\n    db.session.commit()\n"
    assert http_reference(source, [ImportItem("app.extensions", "db", None)], DEFAULT_HTTP_NAMES) is None


# -- proof: a Flask-Login app behaves the same before and after --------------------------------------


LOGIN_APP = {
    "loginflask/__init__.py": """\
        import os

        from flask import Flask, g
        from flask_login import current_user

        from .extensions import db, login


        def create_app():
            app = Flask(__name__)
            app.config["SECRET_KEY"] = "test"
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.environ["ROUTE_COMMIT_TEST_DB"]
            db.init_app(app)
            login.init_app(app)
            from .routes.api import api
            from .routes.main import bp

            app.register_blueprint(bp)
            app.register_blueprint(api, url_prefix="/api")

            @app.before_request
            def load_user():
                g.user = current_user._get_current_object() if current_user.is_authenticated else None

            with app.app_context():
                db.create_all()
            return app
        """,
    "loginflask/extensions.py": """\
        from flask_login import LoginManager
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()
        login = LoginManager()
        """,
    "loginflask/models.py": """\
        from flask_login import UserMixin

        from .extensions import db, login

        followers = db.Table(
            "followers",
            db.Column("follower_id", db.Integer, db.ForeignKey("user.id"), primary_key=True),
            db.Column("followed_id", db.Integer, db.ForeignKey("user.id"), primary_key=True),
        )


        class User(UserMixin, db.Model):
            id = db.Column(db.Integer, primary_key=True)
            username = db.Column(db.String, unique=True, nullable=False)
            about_me = db.Column(db.String)
            visits = db.Column(db.Integer, default=0)
            followed = db.relationship(
                "User",
                secondary=followers,
                primaryjoin=followers.c.follower_id == id,
                secondaryjoin=followers.c.followed_id == id,
            )

            def follow(self, user):
                if user not in self.followed:
                    self.followed.append(user)


        class Post(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            title = db.Column(db.String, nullable=False)
            body = db.Column(db.String)
            user_id = db.Column(db.Integer, db.ForeignKey("user.id"))
            author = db.relationship(User)


        @login.user_loader
        def load_user(user_id):
            return db.session.get(User, int(user_id))
        """,
    "loginflask/forms.py": """\
        from flask import request


        class Field:
            def __init__(self, name):
                self.data = request.form.get(name)


        class PostForm:
            # what a Flask-WTF form gives a route: fields with .data, validate_on_submit()
            def __init__(self):
                self.title = Field("title")
                self.body = Field("body")

            def validate_on_submit(self):
                return request.method == "POST" and bool(self.title.data)


        class ProfileForm(PostForm):
            def __init__(self):
                self.username = Field("username")
                self.about_me = Field("about_me")

            def validate_on_submit(self):
                return request.method == "POST" and bool(self.username.data)
        """,
    "loginflask/routes/__init__.py": "",
    "loginflask/routes/api.py": """\
        from flask import Blueprint, g, jsonify, request
        from flask_login import login_required

        from ..extensions import db
        from ..models import Post

        api = Blueprint("api", __name__)


        @api.post("/posts")
        @login_required
        def api_create_post():
            post = Post(title=request.json["title"], body=request.json.get("body"), author=g.user)
            db.session.add(post)
            db.session.commit()
            return jsonify(id=post.id), 201
        """,
    "loginflask/routes/main.py": """\
        from flask import Blueprint, g, request
        from flask_login import current_user, login_required, login_user

        from ..extensions import db
        from ..forms import PostForm, ProfileForm
        from ..models import Post, User

        bp = Blueprint("main", __name__)


        def touch(user):
            user.about_me = (user.about_me or "") + "!"


        @bp.post("/users")
        def create_user():
            user = User(username=request.form["username"], about_me=request.form.get("about_me"))
            db.session.add(user)
            db.session.commit()
            return str(user.id), 201


        @bp.post("/login/<int:user_id>")
        def login(user_id):
            login_user(db.get_or_404(User, user_id))
            return "in"


        @bp.post("/follow/<username>")
        @login_required
        def follow(username):
            user = db.first_or_404(db.select(User).filter_by(username=username))
            current_user.follow(user)
            db.session.commit()
            return "", 204


        @bp.post("/profile")
        @login_required
        def edit_profile():
            form = ProfileForm()
            if form.validate_on_submit():
                current_user.username = form.username.data
                current_user.about_me = form.about_me.data
                db.session.commit()
                return "saved"
            return "invalid", 400


        @bp.post("/posts")
        @login_required
        def create_post():
            form = PostForm()
            if form.validate_on_submit():
                post = Post(title=form.title.data, body=form.body.data, author=current_user)
                db.session.add(post)
                db.session.commit()
                return str(post.id), 201
            return "invalid", 400


        @bp.post("/visit")
        @login_required
        def visit():
            touch(g.user)
            g.user.visits += 1
            db.session.commit()
            return str(g.user.visits)


        @bp.post("/posts/<int:post_id>/edit")
        @login_required
        def edit_post(post_id):
            post = db.get_or_404(Post, post_id)
            try:
                post.title = request.form["title"]
                post.body = request.form["body"]
                db.session.commit()
            except KeyError:
                db.session.rollback()
                return "missing", 400
            return "edited"
        """,
}


def login_scenario(package: Any) -> list[Any]:
    client = package.create_app().test_client()
    calls = [
        ("/users", {"username": "alice"}, None),
        ("/users", {"username": "bob", "about_me": "hi"}, None),
        ("/users", {"about_me": "no name"}, None),  # request.form["username"] answers 400
        ("/follow/bob", None, None),  # not logged in: Flask-Login answers 401
        ("/login/1", None, None),
        ("/follow/bob", None, None),
        ("/follow/nobody", None, None),  # the 404 lookup stays in the route
        ("/profile", {"username": "alice2", "about_me": "me"}, None),
        ("/profile", {"about_me": "invalid"}, None),
        ("/posts", {"title": "first", "body": "web"}, None),
        ("/posts", {"body": "no title"}, None),
        ("/api/posts", None, {"title": "second", "body": "api"}),
        ("/api/posts", None, {"body": "no title"}),  # request.json["title"]: a KeyError, 500
        ("/visit", None, None),
        ("/visit", None, None),
        ("/posts/1/edit", {"title": "renamed", "body": "both"}, None),
        ("/posts/1/edit", {"title": "half"}, None),  # the route's handler rolls the title back
    ]
    responses = []
    for url, form, body in calls:
        response = client.post(url, data=form, json=body) if body is not None else client.post(url, data=form)
        responses.append((url, response.status_code, response.get_data(as_text=True)))
    return responses


@pytest.fixture(scope="module")
def rewritten_login_app() -> dict[str, str]:
    return rewrite_tree(LOGIN_APP, EACH_STEM)


def test_a_flask_login_app_behaves_the_same_after_its_request_values_are_passed_in(
    tmp_path: Path, rewritten_login_app: dict[str, str]
) -> None:
    results = []
    original = {path: textwrap.dedent(content) for path, content in LOGIN_APP.items()}
    for name, tree in (("original", original), ("rewritten", rewritten_login_app)):
        root = tmp_path / name
        write_tree(root, tree)
        os.environ["ROUTE_COMMIT_TEST_DB"] = str(root / "app.db")
        with imported(root, "loginflask") as package:
            responses = login_scenario(package)
        results.append((responses, table_rows(root / "app.db")))
    assert results[1][0] == results[0][0], "responses differ after the rewrite"
    assert results[1][1] == results[0][1], "database rows differ after the rewrite"
    statuses = [r[1] for r in results[0][0]]
    assert statuses == [201, 201, 400, 401, 200, 204, 404, 200, 400, 201, 400, 201, 500, 200, 200, 200, 400]
    assert results[0][1]["followers"] == [(1, 2)]


def test_the_flask_login_app_keeps_only_http_in_its_routes(rewritten_login_app: dict[str, str]) -> None:
    routes = rewritten_login_app["loginflask/routes/main.py"]
    service = rewritten_login_app["loginflask/services/main_service.py"]
    assert routes.count(".commit()") == 0
    assert "    main_service.follow(current_user, user)\n" in routes
    assert "main_service.edit_profile(current_user, form.username.data, form.about_me.data)" in routes
    assert "post = main_service.create_post(form.title.data, form.body.data, current_user)" in routes
    assert "    touch(g.user)\n    main_service.visit(g.user)\n" in routes
    assert "flask" not in service and "form" not in service.replace("format", "")
    assert http_reference(service, (), DEFAULT_HTTP_NAMES) is None


def test_the_web_form_and_the_json_api_share_one_function(rewritten_login_app: dict[str, str]) -> None:
    api_routes = rewritten_login_app["loginflask/routes/api.py"]
    assert 'api_service.create_post(\n        request.json["title"], request.json.get("body"), g.user\n    )' in api_routes
    # the function lives once, in the module without "api" in its name; the API's module imports it
    assert rewritten_login_app["loginflask/services/api_service.py"] == textwrap.dedent(
        '''\
        """Api services: database writes and their commits."""

        from .main_service import create_post as create_post
        '''
    )
    assert rewritten_login_app["loginflask/services/main_service.py"].count("def create_post(") == 1


def test_the_rewritten_flask_login_app_is_a_fixed_point(rewritten_login_app: dict[str, str]) -> None:
    assert rewrite_tree(rewritten_login_app, EACH_STEM) == rewritten_login_app


SHARED_ROUTE = """\
    from flask import Blueprint, g

    from .extensions import db
    from .models import Bill

    bp = Blueprint("{name}", __name__)


    @bp.post("/bills/<int:bill_id>/pay")
    def {name}_pay_bill(bill_id):
        bill = db.get_or_404(Bill, bill_id)
        bill.paid = True
        bill.payer = g.user
        db.session.commit()
        return "", 204
    """
SHARED_BASE = {"app/__init__.py": "", "app/extensions.py": "db = None\n", "app/models.py": "Bill = None\n"}


def test_service_modules_share_a_function_through_relative_imports_between_packages() -> None:
    files = {
        **SHARED_BASE,
        "app/views.py": SHARED_ROUTE.format(name="web"),
        "app/api.py": SHARED_ROUTE.format(name="api"),
        "app/admin/__init__.py": "",
        "app/admin/routes.py": SHARED_ROUTE.format(name="admin").replace("from .", "from .."),
    }
    rewritten = rewrite_tree(files, EACH_STEM)
    assert "    api_service.pay_bill(bill, g.user)\n" in rewritten["app/api.py"]
    # the first module by path whose route is no API defines it; the others import it
    assert "def pay_bill(bill: Bill, user):\n" in rewritten["app/admin/services/routes_service.py"]
    assert rewritten["app/services/api_service.py"] == (
        '"""Api services: database writes and their commits."""\n\n'
        "from ..admin.services.routes_service import pay_bill as pay_bill\n"
    )
    assert "from ..admin.services.routes_service import pay_bill as pay_bill\n" in rewritten[
        "app/services/views_service.py"
    ]


def test_a_folder_that_is_no_package_is_not_imported_through() -> None:
    # app/admin has no __init__.py: the services next to it cannot be imported from app/services
    files = {
        **SHARED_BASE,
        "app/views.py": SHARED_ROUTE.format(name="web"),
        "app/api.py": SHARED_ROUTE.format(name="api"),
        "app/admin/routes.py": SHARED_ROUTE.format(name="admin").replace("from .", "from app."),
    }
    rewritten = rewrite_tree(files, EACH_STEM)
    assert "def pay_bill(bill: Bill, user):\n" in rewritten["app/admin/services/routes_service.py"]
    assert "def pay_bill(bill: Bill, user):\n" in rewritten["app/services/views_service.py"]
    assert "from .views_service import pay_bill as pay_bill\n" in rewritten["app/services/api_service.py"]


def test_class_style_services_keep_their_own_function() -> None:
    files = {**SHARED_BASE, "app/views.py": SHARED_ROUTE.format(name="web"), "app/api.py": SHARED_ROUTE.format(name="api")}
    rewritten = rewrite_tree(files, {"style": "class", **EACH_STEM})
    assert "    def pay_bill(bill: Bill, user):" in rewritten["app/services/api_service.py"]


# -- which expressions are request values, and the names their parameters get -----------------------


@pytest.mark.parametrize(
    ("expression", "parameter"),
    [
        pytest.param("current_user", "user", id="current-user"),
        pytest.param("current_user._get_current_object()", "user", id="current-user-object"),
        pytest.param("g.user", "user", id="g-attribute"),
        pytest.param('g.get("tenant")', "tenant", id="g-get"),
        pytest.param('request.form["title"]', "title", id="form-item"),
        pytest.param('request.form.get("title", "")', "title", id="form-get"),
        pytest.param('request.form.getlist("tags")', "tags", id="form-getlist"),
        pytest.param('request.args.get("page", 1, type=int)', "page", id="args-get-with-type"),
        pytest.param('request.headers.get("X-Request-Id")', "x_request_id", id="header"),
        pytest.param('request.files["avatarImage"]', "avatar_image", id="file"),
        pytest.param('request.json["name"]', "name", id="json-item"),
        pytest.param('request.get_json()["name"]', "name", id="get-json-item"),
        pytest.param("request.get_json(silent=True)", "data", id="get-json"),
        pytest.param("request.json", "data", id="json"),
        pytest.param("request.remote_addr", "remote_addr", id="remote-addr"),
        pytest.param("request.form", "form_data", id="whole-form"),
        pytest.param("form.title.data", "title", id="form-field"),
        pytest.param("form.data", "form_data", id="form-data"),
        pytest.param("auth.current_user()", "user", id="httpauth-user"),
    ],
)
def test_request_values_and_their_parameter_names(expression: str, parameter: str) -> None:
    source = f"""\
from flask import Blueprint, g, request
from flask_login import current_user

from ..auth import auth
from ..extensions import db
from ..models import Item
from .forms import ItemForm

bp = Blueprint("items", __name__)


@bp.post("/items/<int:item_id>")
def update_item(item_id):
    form = ItemForm()
    item = db.get_or_404(Item, item_id)
    item.value = {expression}
    db.session.commit()
    return "", 204
"""
    outcome = run_codemod(RouteCommit, source, path="app/items/routes.py", options=EACH_STEM)
    assert f"    routes_service.update_item(item, {expression})\n" in outcome.new_source.decode()
    service = generate(outcome, EACH_STEM)["app/items/services/routes_service.py"]
    assert f"def update_item(item: Item, {parameter}):\n" in service
    assert f"    item.value = {parameter}\n" in service


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param('request.environ["REMOTE_USER"]', id="the-wsgi-environment"),
        pytest.param("request.stream", id="the-body-stream"),
        pytest.param("request", id="the-request-itself"),
        pytest.param("g", id="g-itself"),
        pytest.param('session["cart"]', id="the-flask-session"),
    ],
)
def test_other_http_expressions_stay_in_the_route(expression: str) -> None:
    source = f"""\
from flask import Blueprint, g, request, session

from ..extensions import db
from ..models import Item
from ..parsing import key, parse

bp = Blueprint("items", __name__)


@bp.post("/items/<int:item_id>")
def update_item(item_id):
    item = db.get_or_404(Item, item_id)
    item.value = {expression}
    db.session.commit()
    return "", 204
"""
    (reason,) = reasons(source, path="app/items/routes.py", options=EACH_STEM)
    assert reason.startswith("not moved: the statement before the commit (line 13) stays in the route: it uses `flask.")


@pytest.mark.parametrize(
    ("expression", "argument", "in_service"),
    [
        pytest.param("request.form[key]", "request.form", "form_data[key]", id="a-key-that-is-not-a-constant"),
        pytest.param('request.args.get("n", type=parse)', "request.args", 'args.get("n", type=parse)', id="a-conversion"),
        pytest.param("current_user.name.upper()", "current_user", "user.name.upper()", id="a-call-on-the-user"),
        pytest.param('request.form["name"].strip()', 'request.form["name"]', "name.strip()", id="a-call-on-a-value"),
    ],
)
def test_the_route_passes_the_largest_value_and_the_service_does_the_rest(
    expression: str, argument: str, in_service: str
) -> None:
    source = f"""\
from flask import Blueprint, request
from flask_login import current_user

from ..extensions import db
from ..models import Item
from ..parsing import key, parse

bp = Blueprint("items", __name__)


@bp.post("/items/<int:item_id>")
def update_item(item_id):
    item = db.get_or_404(Item, item_id)
    item.value = {expression}
    db.session.commit()
    return "", 204
"""
    outcome = run_codemod(RouteCommit, source, path="app/items/routes.py", options=EACH_STEM)
    assert f"    routes_service.update_item(item, {argument})\n" in outcome.new_source.decode()
    assert f"    item.value = {in_service}\n" in generate(outcome, EACH_STEM)["app/items/services/routes_service.py"]


# -- FastAPI: the attributes of a ``request: Request`` parameter ---------------------------------------

FASTAPI_APP = {
    "viewapi/__init__.py": "",
    "viewapi/database.py": """\
        import os

        from sqlalchemy import create_engine
        from sqlalchemy.orm import DeclarativeBase, sessionmaker

        engine = create_engine("sqlite:///" + os.environ["ROUTE_COMMIT_TEST_DB"])
        SessionLocal = sessionmaker(bind=engine)


        class Base(DeclarativeBase):
            pass


        def get_db():
            db = SessionLocal()
            try:
                yield db
            finally:
                db.close()
        """,
    "viewapi/models.py": """\
        from sqlalchemy import Integer, String
        from sqlalchemy.orm import Mapped, mapped_column

        from .database import Base


        class Item(Base):
            __tablename__ = "item"
            id: Mapped[int] = mapped_column(Integer, primary_key=True)
            views: Mapped[int] = mapped_column(Integer, default=0)


        class AuditLog(Base):
            __tablename__ = "audit_log"
            id: Mapped[int] = mapped_column(Integer, primary_key=True)
            ip: Mapped[str] = mapped_column(String)
            agent: Mapped[str | None] = mapped_column(String, nullable=True)
            path: Mapped[str] = mapped_column(String)
        """,
    "viewapi/main.py": """\
        from fastapi import FastAPI

        from .database import Base, engine
        from .routers.items import router


        def create_app():
            Base.metadata.create_all(engine)
            app = FastAPI()
            app.include_router(router)
            return app
        """,
    "viewapi/routers/__init__.py": "",
    "viewapi/routers/items.py": """\
        from fastapi import APIRouter, Depends, HTTPException, Request
        from sqlalchemy.orm import Session

        from ..database import get_db
        from ..models import AuditLog, Item

        router = APIRouter()


        @router.post("/items")
        def create_item(db: Session = Depends(get_db)):
            item = Item(views=0)
            db.add(item)
            db.commit()
            return {"id": item.id}


        @router.post("/items/{item_id}/view")
        def view_item(item_id: int, request: Request, db: Session = Depends(get_db)):
            item = db.get(Item, item_id)
            if item is None:
                raise HTTPException(status_code=404)
            item.views += 1
            db.add(AuditLog(ip=request.client.host, agent=request.headers.get("user-agent"), path=request.url.path))
            db.commit()
            return {"views": item.views}
        """,
}


def test_a_fastapi_app_passes_its_request_attributes_and_behaves_the_same(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    rewritten = rewrite_tree(FASTAPI_APP, EACH_STEM)
    routes = rewritten["viewapi/routers/items.py"]
    assert 'db, item, request.client, request.headers.get("user-agent"), request.url' in routes
    service = rewritten["viewapi/services/items_service.py"]
    assert "    db.add(AuditLog(ip=client.host, agent=user_agent, path=url.path))\n" in service
    assert http_reference(service, (), DEFAULT_HTTP_NAMES) is None
    results = []
    original = {path: textwrap.dedent(content) for path, content in FASTAPI_APP.items()}
    for name, tree in (("original", original), ("rewritten", rewritten)):
        root = tmp_path / name
        write_tree(root, tree)
        os.environ["ROUTE_COMMIT_TEST_DB"] = str(root / "app.db")
        with imported(root, "viewapi") as package:
            import importlib

            client = TestClient(importlib.import_module("viewapi.main").create_app())
            calls = [("/items", {}), ("/items/1/view", {"User-Agent": "a"}), ("/items/1/view", {}), ("/items/9/view", {})]
            responses = [(url, client.post(url, headers=headers).status_code) for url, headers in calls]
            client.close()
            package.database.engine.dispose()
        results.append((responses, table_rows(root / "app.db")))
    assert results[1] == results[0]
    assert [r[1] for r in results[0][0]] == [200, 200, 200, 404]
    assert len(results[0][1]["audit_log"]) == 2
