"""analysis.nodes.node_types: a set of classes that answers what isinstance answers."""

from __future__ import annotations

import libcst as cst
import pytest

from codemods.analysis import dataflow
from codemods.analysis.nodes import node_types
from codemods.rules.route_commit import request_values


def _every_node_class() -> list[type[cst.CSTNode]]:
    found: list[type[cst.CSTNode]] = []
    pending: list[type[cst.CSTNode]] = [cst.CSTNode]
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return found


@pytest.mark.parametrize(
    "classes",
    [
        pytest.param((cst.Name,), id="concrete"),
        pytest.param((cst.BaseSuite, cst.Lambda), id="abstract-and-concrete"),
        pytest.param((cst.BaseCompoundStatement,), id="abstract"),
        pytest.param((cst.BaseExpression, cst.BaseStatement), id="wide"),
    ],
)
def test_membership_is_isinstance_for_every_libcst_node_class(classes: tuple[type[cst.CSTNode], ...]) -> None:
    kinds = node_types(*classes)
    for kind in _every_node_class():
        assert (kind in kinds) == issubclass(kind, classes), kind


def test_the_hot_walks_sets_cover_what_their_isinstance_chains_covered() -> None:
    assert dataflow._WALRUS_BARRIERS == node_types(
        cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.Lambda, cst.FunctionDef, cst.ClassDef, cst.BaseSuite
    )
    assert {cst.IndentedBlock, cst.SimpleStatementSuite} <= dataflow._WALRUS_BARRIERS
    # Every class a case of _Order.walk tests (the rest are walked child by child, as before).
    for kind in (cst.Try, cst.TryStar, cst.Match, cst.ClassDef, cst.If, cst.While, cst.For, cst.With, cst.Call):
        assert kind in request_values._ORDERED
    for kind in (cst.Name, cst.Attribute, cst.Subscript, cst.SimpleStatementLine, cst.Expr, cst.Return):
        assert kind not in request_values._ORDERED
