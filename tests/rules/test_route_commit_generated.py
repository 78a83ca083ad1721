"""route-commit: each generated text is parsed once, and a kept result equals a fresh one.

The rule parses every service function it renders (to check it); finalize composes the service
module from the same text, and takes the tree the rule parsed (``services.parsed_text``, keyed by
the exact text).  ``body_shape`` renames names while it generates the code instead of building a
renamed tree.  Neither may change anything generated.
"""

from __future__ import annotations

import pickle
import textwrap
from concurrent.futures import ThreadPoolExecutor

import libcst as cst
import pytest

from codemods.rules.route_commit import RouteCommit, services
from codemods.rules.route_commit.flow import Parameter
from codemods.rules.route_commit.service_checks import _Rename, body_shape
from codemods.rules.route_commit.services import parsed_text, statement_nodes
from tests.rules.helpers import run_codemod
from tests.rules.test_route_commit import generate

ROUTES = """\
from flask import Blueprint, jsonify

from ..extensions import db
from ..models import Candidate, Note

bp = Blueprint("candidates", __name__, url_prefix="/candidates")


@bp.route("/<int:candidate_id>/delete", methods=["POST"])
def delete_candidate(candidate_id):
    candidate = Candidate.query.get(candidate_id)
    if candidate is None:
        return jsonify(error="not found"), 404
    db.session.delete(candidate)
    db.session.commit()
    return "", 204


@bp.route("/<int:candidate_id>/notes", methods=["POST"])
def add_note(candidate_id):
    note = Note(candidate_id=candidate_id, text="x")
    db.session.add(note)
    db.session.commit()
    return jsonify(id=note.id), 201
"""
PATH = "app/routes/candidate_routes.py"


@pytest.fixture
def no_parsed_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that has parsed nothing yet (the cache is restored after the test)."""
    monkeypatch.setattr(services, "_PARSED", type(services._PARSED)())


# -- parsed_text -----------------------------------------------------------------------------------


def test_a_kept_tree_is_the_tree_a_fresh_parse_gives(no_parsed_texts: None):
    text = 'def f(db):\n    """Do it."""\n    db.commit()\n'
    first = parsed_text(text)
    again = parsed_text(text)
    assert again is first
    assert again.deep_equals(cst.parse_module(text))
    assert again.code == text


@pytest.mark.parametrize(
    "other",
    [
        pytest.param('def f(db):\n    """Do it."""\n    db.commit()\n\n', id="a-trailing-blank-line"),
        pytest.param('def f(db):\n    """Do it."""\n    db.flush()\n', id="one-word"),
        pytest.param('def f(db):\n\t"""Do it."""\n\tdb.commit()\n', id="indentation"),
        pytest.param('def f(db):\r\n    """Do it."""\r\n    db.commit()\r\n', id="line-endings"),
    ],
)
def test_different_texts_never_share_a_tree(no_parsed_texts: None, other: str):
    text = 'def f(db):\n    """Do it."""\n    db.commit()\n'
    tree = parsed_text(text)
    other_tree = parsed_text(other)
    assert other_tree is not tree
    assert (tree.code, other_tree.code) == (text, other)
    assert other_tree.deep_equals(cst.parse_module(other))


def test_the_texts_kept_are_bounded_and_the_oldest_go_first(no_parsed_texts: None, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(services, "PARSED_KEPT", 3)
    texts = [f"x = {i}\n" for i in range(5)]
    trees = [parsed_text(text) for text in texts[:3]]
    assert parsed_text(texts[0]) is trees[0]  # used again: now the newest
    parsed_text(texts[3])  # one too many: texts[1], the oldest used, goes
    assert list(services._PARSED) == [texts[2], texts[0], texts[3]]
    again = parsed_text(texts[1])
    assert again is not trees[1] and again.deep_equals(trees[1])


def test_threads_parsing_at_once_each_get_their_texts_tree(no_parsed_texts: None, monkeypatch: pytest.MonkeyPatch):
    # A fleet worker may run route-commit in threads: evictions meanwhile must not break a lookup.
    monkeypatch.setattr(services, "PARSED_KEPT", 4)
    texts = [f"def f{i}(db):\n    db.commit()\n" for i in range(12)]

    def parse_all(offset: int) -> list[bool]:
        return [parsed_text(text).code == text for _ in range(20) for text in texts[offset:] + texts[:offset]]

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(all(found) for found in pool.map(parse_all, range(4)))
    assert len(services._PARSED) <= 4


# -- finalize takes the rule's trees ---------------------------------------------------------------


def test_finalize_composes_from_the_trees_the_rule_parsed(no_parsed_texts: None):
    outcome = run_codemod(RouteCommit, ROUTES, path=PATH)
    sources = [extra.source for _, extra in outcome.extras if getattr(extra, "source", "")]
    assert len(sources) == 2 and all(source in services._PARSED for source in sources)
    kept = generate(outcome)
    services._PARSED.clear()  # what finalize gives in a process that parsed nothing
    assert generate(outcome) == kept
    module = kept["app/services/candidate_service.py"]
    assert all(source in module for source in sources)  # each function as the rule rendered it


def test_a_request_pickled_to_another_process_gives_the_same_module(no_parsed_texts: None):
    outcome = run_codemod(RouteCommit, ROUTES, path=PATH)
    kept = generate(outcome)
    travelled = pickle.loads(pickle.dumps(outcome))
    services._PARSED.clear()
    assert generate(travelled) == kept


# -- body_shape --------------------------------------------------------------------------------------


def _transformed_shape(statements, parameters, returns, kept) -> str:
    """body_shape as a transformer computes it: the renamed tree's code."""
    names = {p.name: f"_p{i}" for i, p in enumerate(parameters)}
    body = cst.Module(list(statements)).visit(_Rename(names, set(kept)))
    returned = ", ".join(names.get(r, r) for r in returns)
    annotations = ", ".join(
        cst.Module([]).code_for_node(p.annotation) if p.annotation is not None else "" for p in parameters
    )
    return f"({annotations}) -> ({returned})\n{body.code}"


SHAPED = [
    pytest.param(ROUTES, id="routes"),
    pytest.param(
        """\
        def f(order_id, db: Session):
            order = db.get(Order, order_id)
            order.total = sum(line.amount for line in order.lines)
            log.info("total %s", order.total, extra=dict(order=order_id))
            items = [(item) for item in order.items if item.kept]
            db.commit()
            return order, items
        """,
        id="locals-comprehensions-keywords",
    ),
    pytest.param(
        """\
        async def f(x):
            async with lock:
                y = await (fetch)(x, key=x.key)
            def inner(z=y):
                global total
                return lambda w: w + z
            del y
        """,
        id="nested-definitions",
    ),
]


@pytest.mark.parametrize("source", SHAPED)
def test_body_shape_is_the_renamed_trees_code(source: str):
    module = cst.parse_module(textwrap.dedent(source))
    for function in (s for s in module.body if isinstance(s, cst.FunctionDef)):
        parameters = [Parameter(p.name.value, p.annotation.annotation if p.annotation else None) for p in function.params.params]
        statements = list(function.body.body)
        assigned = [n.value for n in statement_nodes(statements) if isinstance(n, cst.Name)][-2:]
        for returns in ([], [p.name for p in parameters[:1]], assigned):  # a parameter, the locals
            for kept in (set(), {"log", "db"}):
                expected = _transformed_shape(statements, parameters, returns, kept)
                assert body_shape(statements, parameters, returns, kept) == expected


def test_body_shape_of_a_name_node_in_the_tree_twice():
    # Hand-built trees may hold one node in two places: renamed where a transformer renames it
    # (the attribute's name stays, the variable is renamed once its first use is seen).
    shared = cst.Name("total")
    statements = [
        cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(shared)], cst.Integer("1"))]),
        cst.SimpleStatementLine([cst.Expr(cst.Attribute(cst.Name("order"), shared))]),
        cst.SimpleStatementLine([cst.Expr(cst.Call(cst.Name("f"), [cst.Arg(shared, keyword=shared)]))]),
    ]
    parameters = [Parameter("order", None)]
    expected = _transformed_shape(statements, parameters, ["total"], set())
    assert body_shape(statements, parameters, ["total"], set()) == expected
    assert "_l1 = 1" in expected and "-> (_l1)" in expected
