"""Which expressions codemods.analysis.sessions treats as database sessions."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from codemods.analysis.sessions import SessionMatcher, SessionScope, bound_names, method_calls


def _function_scope(source: str, matcher: SessionMatcher | None = None) -> tuple[SessionMatcher, SessionScope]:
    """The matcher for ``source`` and the scope of its last top-level function."""
    module = cst.parse_module(textwrap.dedent(source))
    matcher = (matcher or SessionMatcher()).for_module(module)
    function = [s for s in module.body if isinstance(s, cst.FunctionDef)][-1]
    return matcher, matcher.scope_sessions(function, matcher.scope_sessions(module))


def _is_session(source: str, expression: str, matcher: SessionMatcher | None = None) -> bool:
    matcher, scope = _function_scope(source, matcher)
    return matcher.is_session(cst.parse_expression(expression), scope)


@pytest.mark.parametrize(
    ("source", "expression"),
    [
        pytest.param("def f(): pass", "db.session", id="flask-sqlalchemy"),
        pytest.param("def f(): pass", "session", id="configured-name"),
        pytest.param("def f(self): pass", "self.session", id="self-session"),
        pytest.param("def f(self): pass", "self.db", id="self-db"),
        pytest.param("from app.extensions import db\ndef f(): pass", "db", id="imported-configured-name"),
        pytest.param("def f():\n    s = Session(engine)", "s", id="session-class"),
        pytest.param("def f():\n    s = orm.Session(engine)", "s", id="dotted-session-class"),
        pytest.param("def f():\n    s = SessionLocal()", "s", id="session-local"),
        pytest.param("def f():\n    s = get_session()", "s", id="get-session"),
        pytest.param("def f():\n    s = sessionmaker(bind=engine)()", "s", id="sessionmaker-called"),
        pytest.param("def f():\n    s = next(get_session())", "s", id="next-of-generator"),
        pytest.param("async def f():\n    s = await get_session()", "s", id="awaited-factory"),
        pytest.param("def f():\n    s: Session = SessionLocal()", "s", id="annotated-assignment"),
        pytest.param("def f():\n    with Session(engine) as s:\n        pass", "s", id="with-session"),
        pytest.param("def f():\n    with Session(engine) as s, s.begin():\n        pass", "s", id="with-begin"),
        pytest.param("def f():\n    with SessionLocal.begin() as s:\n        pass", "s", id="sessionmaker-begin"),
        pytest.param("async def f():\n    async with AsyncSessionLocal() as s:\n        pass", "s", id="async-with"),
        pytest.param("def f(s: Session): pass", "s", id="param-session"),
        pytest.param("def f(s: AsyncSession): pass", "s", id="param-async-session"),
        pytest.param("def f(s: orm.Session): pass", "s", id="param-dotted"),
        pytest.param("def f(s: Optional[Session]): pass", "s", id="param-optional"),
        pytest.param("def f(s: Union[Session, None]): pass", "s", id="param-union"),
        pytest.param("def f(s: Session | None = None): pass", "s", id="param-pipe-none"),
        pytest.param("def f(s: 'Session'): pass", "s", id="param-string-annotation"),
        pytest.param("def f(s: Annotated[Session, Depends(get_db)]): pass", "s", id="param-annotated-depends"),
        pytest.param("def f(s: scoped_session): pass", "s", id="param-scoped-session"),
        pytest.param("def f(*, s: 'AsyncSession | None' = None): pass", "s", id="kwonly-string-union"),
        pytest.param("def f(db=Depends(get_db)): pass", "db", id="depends-default-keeps-name"),
        pytest.param("Local = sessionmaker(bind=engine)\ndef f():\n    s = Local()", "s", id="module-sessionmaker"),
        pytest.param(
            "Local = async_sessionmaker(engine)\nasync def f():\n    async with Local() as s:\n        pass",
            "s",
            id="module-async-sessionmaker",
        ),
        pytest.param(
            "db_session = scoped_session(sessionmaker())\ndef f(): pass", "db_session", id="module-scoped-session"
        ),
        pytest.param("s = Session(engine)\ndef f(): pass", "s", id="module-level-session"),
        pytest.param("def f():\n    s = Session()\n    def g(): pass", "s", id="outer-scope-session"),
        pytest.param("def f(self):\n    s = self.session", "s", id="alias-of-configured-name"),
    ],
)
def test_session(source: str, expression: str) -> None:
    assert _is_session(source, expression)


@pytest.mark.parametrize(
    ("source", "expression"),
    [
        # other objects with a commit() method
        pytest.param("def f():\n    repo = git.Repo('.')", "repo", id="git-repo"),
        pytest.param("def f():\n    repo = Repo('.')", "repo.index", id="repo-index"),
        pytest.param("def f():\n    conn = sqlite3.connect(':memory:')", "conn", id="sqlite3-connection"),
        pytest.param("def f():\n    db = sqlite3.connect(':memory:')", "db", id="configured-name-rebound-to-sqlite3"),
        pytest.param("def f():\n    db = get_db()", "db", id="configured-name-rebound-to-unknown-call"),
        pytest.param("def f(db: sqlite3.Connection): pass", "db", id="configured-name-annotated-otherwise"),
        pytest.param(
            "def f():\n    for session in sessions:\n        pass", "session", id="configured-name-loop-target"
        ),
        pytest.param("def f():\n    session = Session()\n    session = other()", "session", id="bound-twice"),
        pytest.param("def f(s: Iterator[Session]): pass", "s", id="container-of-sessions"),
        pytest.param("def f(s): pass", "s", id="unknown-name"),
        pytest.param("def f(): pass", "self.repo", id="unknown-attribute"),
        pytest.param("def f(): pass", "get_session()", id="call-is-not-a-name"),
        pytest.param("def f():\n    s = Session()\ndef g(): pass", "s", id="other-function-scope"),
        # the same words in other libraries
        pytest.param("def f():\n    s = requests.Session()", "s", id="requests-session"),
        pytest.param("from requests import Session\ndef f():\n    s = Session()", "s", id="requests-session-imported"),
        pytest.param("import tensorflow as tf\ndef f():\n    s = tf.compat.v1.Session()", "s", id="tensorflow-session"),
        pytest.param("def f(s: requests.Session): pass", "s", id="annotated-requests-session"),
    ],
)
def test_not_a_session(source: str, expression: str) -> None:
    assert not _is_session(source, expression)


def test_configured_factories_and_names() -> None:
    matcher = SessionMatcher(names=("conn",), factories=("sqlite3.connect",))
    assert _is_session("def f():\n    c = sqlite3.connect(':memory:')", "c", matcher)
    assert _is_session("def f(): pass", "conn", matcher)
    assert not _is_session("def f(): pass", "session", matcher)
    assert not _is_session("def f():\n    c = psycopg2.connect()", "c", matcher)


def test_session_call_sync_and_awaited() -> None:
    matcher = SessionMatcher()
    sync = matcher.session_call(cst.parse_statement("db.session.commit()\n"))
    assert sync is not None and (sync.session_name, sync.method, sync.awaited) == ("db.session", "commit", False)
    awaited = matcher.session_call(cst.parse_statement("await session.commit()\n"))
    assert awaited is not None and (awaited.session_name, awaited.awaited) == ("session", True)
    rollback = matcher.session_call(cst.parse_statement("db.rollback()\n"), methods=("rollback",))
    assert rollback is not None and rollback.method == "rollback"


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("repo.index.commit('message')", id="git-index-commit"),
        pytest.param("conn.commit()", id="sqlite3-style-connection"),
        pytest.param("session.flush()", id="other-method"),
        pytest.param("x = session.commit()", id="not-an-expression-statement"),
        pytest.param("session.commit(); session.close()", id="two-statements-on-a-line"),
        pytest.param("session.commit", id="not-called"),
        pytest.param("get_session().commit()", id="receiver-is-a-call"),
    ],
)
def test_not_a_session_commit(statement: str) -> None:
    assert SessionMatcher().session_call(cst.parse_statement(statement + "\n")) is None


def test_session_calls_skip_nested_scopes_and_other_receivers() -> None:
    body = cst.parse_module(
        textwrap.dedent(
            """\
            for item in items:
                session.add(item)
                log(await db.rollback())
                conn.rollback()
                def later():
                    session.close()
                callback = lambda: session.close()
            """
        )
    )
    found = [(c.session_name, c.method, c.awaited) for c in SessionMatcher().session_calls(body)]
    assert found == [("session", "add", False), ("db", "rollback", True)]
    anyone = [(c.session_name, c.method) for c in method_calls(body, ("rollback",))]
    assert anyone == [("db", "rollback"), ("conn", "rollback")]


def test_bound_names() -> None:
    block = cst.parse_module(
        textwrap.dedent(
            """\
            a = 1
            self.b, (c, *d) = pair
            for e in f:
                pass
            with open(x) as g, lock:
                pass
            del h
            if (i := 2):
                pass
            def k():
                hidden = 1
            """
        )
    )
    assert bound_names(block) == {"a", "self.b", "c", "d", "e", "g", "h", "i", "k"}


@pytest.mark.parametrize(
    ("expression", "plain", "through_calls"),
    [
        pytest.param("db.session.commit", "db.session.commit", "db.session.commit", id="attribute-chain"),
        pytest.param("request.get_json().get", None, "request.get_json.get", id="call-in-chain"),
        pytest.param("rows[0].name", None, "rows.name", id="subscript-in-chain"),
        pytest.param("f()", None, "f", id="call"),
        pytest.param("(a or b).c", None, None, id="not-a-chain"),
        pytest.param("'text'.upper", None, None, id="string-head"),
    ],
)
def test_dotted_name_reads_calls_and_subscripts_only_when_asked(expression: str, plain: str | None, through_calls: str | None) -> None:
    from codemods.analysis.nodes import dotted_name

    node = cst.parse_expression(expression)
    assert dotted_name(node) == plain
    assert dotted_name(node, through_calls=True) == through_calls
