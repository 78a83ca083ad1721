"""codemods.analysis.precheck: CPython's facts about a file, and how they line up with libcst's tree."""

from __future__ import annotations

import ast
import collections
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from codemods.analysis import precheck
from codemods.analysis.precheck import SyntaxFacts, facts_of, parse, statements_without, walk_ast

SAMPLE_REPO = Path(__file__).resolve().parents[2] / "sample_repo"


def is_print(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"


def skipped(source: str) -> list[str] | None:
    """The first lines of the statements ``statements_without`` lets a codemod skip."""
    data = source.encode()
    module = cst.parse_module(data)
    ids = statements_without(data, module, is_print)
    if ids is None:
        return None
    found: list[str] = []

    class _Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if id(node) in ids:
                found.append(module.code_for_node(node).strip().splitlines()[0].strip())
            return True

    module.visit(_Collect())
    return found


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("import os\nprint(1)\nx = 2\n", ["import os", "x = 2"], id="plain-statements"),
        pytest.param("a = 1; print(a); b = 2\nc = 3\nprint(c)\n", ["c = 3"], id="semicolons-share-a-line"),
        pytest.param("@decorate\nasync def f():\n    print(1)\n\nclass C:\n    x = 1\n", ["class C:"], id="decorated-async-def"),
        pytest.param("if x: print(1)\nelse: pass\nwhile y:\n    pass\n", ["while y:"], id="one-line-blocks"),
        pytest.param(
            "match v:\n    case 1:\n        print(v)\ntry:\n    pass\nexcept* E:\n    pass\n", ["try:"], id="match-and-try-star"
        ),
        pytest.param('"""Doc."""\nfrom __future__ import annotations\n', ['"""Doc."""', "from __future__ import annotations"], id="nothing-found"),
        pytest.param("", None, id="empty-text-means-unknown"),  # FileContext.source is b"" when unknown
        # Inside functions and classes, to any depth: the statements without a print.
        pytest.param(
            "class C:\n    x = 1\n\n    def f(self):\n        y = 2\n        print(y)\n\n    def g(self):\n        return 3\n",
            ["x = 1", "y = 2", "def g(self):"],
            id="methods-and-their-statements",
        ),
        pytest.param(
            "def f():\n    def g(): print(1)\n    if x:\n        y = 1\n        print(y)\n    z = 1; w = 2\n",
            ["z = 1; w = 2"],
            id="one-line-def-and-other-blocks-are-not-split",
        ),
        pytest.param("@log(print(1))\ndef f():\n    return 1\n", ["return 1"], id="found-in-a-decorator"),
    ],
)
def test_statements_without_maps_cpython_statements_onto_libcst_ones(source: str, expected: list[str] | None) -> None:
    assert skipped(source) == expected


def test_text_cpython_cannot_parse_gives_none_so_everything_is_visited() -> None:
    data = b"type Alias = int\nprint(1)\n"  # Python 3.12 syntax: libcst reads it, CPython 3.11 does not
    assert parse(data) is None
    assert statements_without(data, cst.parse_module(data), is_print) is None


def test_a_tree_that_is_not_of_the_text_gives_none() -> None:
    data = b"x = 1\nprint(x)\n"
    other = cst.parse_module("def f():\n    pass\n")
    assert statements_without(data, other, is_print) is None
    nested = cst.parse_module("x = 1\ndef f():\n    print(x)\n")  # lines up at module level only
    assert statements_without(b"x = 1\ndef f():\n    print(x); y = 1\n", nested, is_print) is None


def test_facts_of_collects_what_the_prechecks_ask() -> None:
    facts = facts_of(
        parse(
            textwrap.dedent(
                """
                from traceback import print_exc as pe
                try:
                    pass
                except:
                    pe()
                for row in rows:
                    db.session.commit()
                @app.route("/x")
                class View(views.MethodView):
                    class Config:
                        orm_mode = True
                """
            ).encode()
        )
    )
    assert facts.bare_except and facts.config_in_class and facts.commit_in_loop()
    assert facts.statement_call_names == {"pe"} and facts.traceback_imports == {"pe"}
    assert facts.decorator_names == {"route"} and facts.base_names == {"MethodView"}


def test_equality_comparisons_are_counted_with_those_asserts_test() -> None:
    facts = facts_of(ast.parse("assert a == b, c != d\nassert x != y == z\nif p == q or r is s:\n    pass\nt = u < v\n"))
    # The message of an assert is not its test: ``c != d`` counts as outside.
    assert (facts.equality_compares, facts.equality_compares_in_asserts) == (4, 2)


def test_nodes_by_kind_come_from_the_one_walk_or_a_walk_of_the_tree() -> None:
    tree = parse(b"def f(x):\n    return g(x) + h(x)\nclass C:\n    y = f(1)\n")
    assert tree is not None
    from_walk = facts_of(tree).nodes(ast.Call, ast.ClassDef)
    assert [type(n).__name__ for n in from_walk] == ["Call", "Call", "Call", "ClassDef"]
    assert [n.func.id for n in from_walk[:3]] == ["f", "g", "h"]  # ast.walk's order: breadth first
    assert SyntaxFacts(tree=tree).nodes(ast.Call, ast.ClassDef) == from_walk
    assert SyntaxFacts().nodes(ast.Call) == []


WALKED = """\
def f(a, /, b=1, *c, d, **e):
    global g, h
    match a:
        case Point(x=0, y=[1, *rest]) | {"k": v, **kw}:
            return [i async for i in b if i], f"{a!r:>{b}}"
    try:
        del a[1:2, ::3]
    except* (ValueError, TypeError) as err:
        raise E from err
    lambda q: (yield q)
"""


@pytest.mark.parametrize(
    "source",
    [pytest.param(WALKED, id="every-kind-of-field"), pytest.param("", id="empty-module")]
    + [
        pytest.param(path.read_text(), id=str(path.relative_to(SAMPLE_REPO)))
        for path in sorted(SAMPLE_REPO.rglob("*.py"))[:40]
    ],
)
def test_walk_ast_yields_what_ast_walk_yields_in_its_order(source: str) -> None:
    tree = ast.parse(source)
    assert [id(node) for node in walk_ast(tree)] == [id(node) for node in ast.walk(tree)]


def test_a_functions_own_nodes_are_those_iter_child_nodes_reaches_outside_nested_scopes() -> None:
    from codemods.analysis.session_index import _NESTED, _ast_own_nodes

    def reference(function: ast.AST) -> list[ast.AST]:
        pending, found = list(function.body), []  # type: ignore[attr-defined]
        while pending:
            node = pending.pop()
            found.append(node)
            pending.extend(child for child in ast.iter_child_nodes(node) if type(child) not in _NESTED)
        return found

    functions = [
        node
        for path in sorted(SAMPLE_REPO.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    functions += [ast.parse(WALKED).body[0]]
    assert len(functions) > 100
    for function in functions:
        assert [id(n) for n in _ast_own_nodes(function)] == [id(n) for n in reference(function)]


# -- facts_of's walk leaves out the expression contexts ------------------------------------------


def _facts_by_walk_ast(tree: ast.Module) -> SyntaxFacts:
    """facts_of as it was written over walk_ast (every node, contexts included)."""
    by_kind: collections.defaultdict[type[ast.AST], list[ast.AST]] = collections.defaultdict(list)
    facts = SyntaxFacts(tree=tree, by_kind=by_kind)
    for node in walk_ast(tree):
        kind = type(node)
        by_kind[kind].append(node)
        if kind is ast.ExceptHandler:
            if node.type is None:  # type: ignore[attr-defined]
                facts.bare_except = True
        elif kind is ast.Expr:
            value = node.value  # type: ignore[attr-defined]
            if type(value) is ast.Call:
                func = value.func
                if type(func) is ast.Name:
                    facts.statement_call_names.add(func.id)
                elif type(func) is ast.Attribute:
                    facts.statement_call_attributes.add(func.attr)
        elif kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            if type(func) is ast.Attribute and func.attr == "commit":
                facts.commit_lines.append(node.lineno)  # type: ignore[attr-defined]
            elif not facts.commit_helper_call:
                name = func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else ""
                facts.commit_helper_call = "commit" in name or "save" in name
        elif kind in precheck._COMPREHENSIONS:
            facts.comprehension = True
        elif kind in precheck._LOOPS:
            facts.loop_spans.append((node.lineno, node.end_lineno or node.lineno))  # type: ignore[attr-defined]
        elif kind in precheck._DEFINITIONS:
            precheck._definition(node, facts)  # type: ignore[arg-type]
        elif kind is ast.ImportFrom and node.module == "traceback":  # type: ignore[attr-defined]
            facts.traceback_imports.update(alias.asname or alias.name for alias in node.names)  # type: ignore[attr-defined]
        elif kind is ast.Compare:
            if precheck.is_equality(node):
                facts.equality_compares += 1
        elif kind is ast.Assert:
            facts.equality_compares_in_asserts += sum(1 for n in walk_ast(node.test) if precheck.is_equality(n))  # type: ignore[attr-defined]
    return facts



TRICKY = [
    "try:\n    pass\nexcept:\n    print(x)\nassert a == b and c != d, [i for i in y]\n",
    "from traceback import print_exc as pe\nclass A(b.Base):\n    class Config:\n        x = 1\n"
    "@app.route('/')\ndef f():\n    while x:\n        db.session.commit()\n    store.save_all(y)\n",
    "x, *y = z = {k: v for k, v in w}\ndel a[1], b.c\n(lambda q: q)(1)\nasync def g():\n    async for i in j: await k\n",
]


@pytest.mark.parametrize(
    "source",
    [*(path.read_bytes() for path in sorted(SAMPLE_REPO.rglob("*.py"))), *(text.encode() for text in TRICKY)],
)
def test_facts_of_equal_those_of_a_walk_with_every_node(source: bytes) -> None:
    tree = ast.parse(source)
    facts, reference = facts_of(tree), _facts_by_walk_ast(tree)
    assert facts == reference
    contexts = (ast.Load, ast.Store, ast.Del)
    assert dict(facts.by_kind) == {kind: nodes for kind, nodes in reference.by_kind.items() if kind not in contexts}
