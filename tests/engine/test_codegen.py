"""speedups.codegen: the tokens libcst's code generation emits, one by one, and its positions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import libcst as cst
import pytest
from libcst._nodes.internal import CodegenState

from codemods.speedups import ENABLED, codegen
from codemods.speedups.positions import start_positions
from tests.engine.test_positions import TRICKY_SOURCES, all_nodes, provider_starts

pytestmark = pytest.mark.skipif(not ENABLED, reason="the shortcuts are installed only with the speed-ups on")

SAMPLE_REPO = Path(__file__).resolve().parents[2] / "sample_repo"
SAMPLE_FILES = sorted(SAMPLE_REPO.rglob("*.py"))


@contextmanager
def libcsts_own_codegen() -> Iterator[None]:
    codegen.uninstall()
    try:
        yield
    finally:
        codegen.install()


def tokens(module: cst.Module, node: cst.CSTNode | None = None) -> list[str]:
    """The tokens a plain CodegenState collects for ``node`` (the module by default)."""
    state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
    (module if node is None else node)._codegen(state)
    return state.tokens


def assert_same_tokens(module: cst.Module) -> None:
    shortcut = tokens(module)
    with libcsts_own_codegen():
        expected = tokens(module)
    assert shortcut == expected


def test_every_shortcut_mirrors_the_installed_libcst_and_is_installed():
    for kind, (_, shortcut) in codegen.SHORTCUTS.items():
        assert vars(kind).get("_codegen") is shortcut, kind.__name__


def test_a_class_whose_libcst_codegen_changed_keeps_libcsts():
    with libcsts_own_codegen():
        assert not codegen._mirrors(cst.Name, "Name._other_codegen_impl")
        assert codegen._mirrors(cst.Comma, "_BaseOneTokenOp._codegen_impl")


def test_uninstall_gives_back_libcsts_codegen():
    with libcsts_own_codegen():
        assert all("_codegen" not in vars(kind) for kind in codegen.SHORTCUTS)
        assert cst.CSTNode._codegen is codegen._LIBCST_CODEGEN
    assert cst.CSTNode._codegen is codegen._plain_codegen


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: str(path.relative_to(SAMPLE_REPO)))
def test_tokens_of_sample_repo_are_libcsts(path: Path):
    module = cst.parse_module(path.read_bytes())
    assert_same_tokens(module)
    assert module.bytes == path.read_bytes()


@pytest.mark.parametrize("source", TRICKY_SOURCES)
def test_tokens_of_tricky_sources_are_libcsts(source: str):
    assert_same_tokens(cst.parse_module(source))


def _call(*args: cst.Arg) -> cst.Call:
    return cst.Call(func=cst.Attribute(value=cst.Name("log"), attr=cst.Name("info")), args=args)


# Trees as codemods build them: default commas, equals and semicolons, empty bodies, parentheses
# and newlines that no parse produces.
HAND_BUILT = [
    pytest.param(
        cst.Module(body=[cst.SimpleStatementLine([cst.Expr(_call(cst.Arg(cst.Name("a")), cst.Arg(cst.Integer("1"), keyword=cst.Name("k"))))])]),
        id="call-default-comma-and-keyword-equal",
    ),
    pytest.param(
        cst.Module(body=[cst.SimpleStatementLine([cst.Expr(_call(cst.Arg(cst.Name("a"), star="*"), cst.Arg(cst.Name("k"), star="**")))])]),
        id="starred-arguments",
    ),
    pytest.param(
        cst.Module(
            body=[
                cst.SimpleStatementLine(
                    [
                        cst.Assign([cst.AssignTarget(cst.Name("x")), cst.AssignTarget(cst.Name("y"))], cst.Name("z")),
                        cst.Expr(cst.Name("x", lpar=[cst.LeftParen()], rpar=[cst.RightParen()])),
                        cst.Expr(cst.SimpleString("'s'"), semicolon=cst.Semicolon()),
                    ]
                )
            ]
        ),
        id="default-semicolons-and-parentheses",
    ),
    pytest.param(cst.Module(body=[cst.SimpleStatementLine([])]), id="empty-statement-line-is-pass"),
    pytest.param(
        cst.Module(
            body=[
                cst.FunctionDef(name=cst.Name("f"), params=cst.Parameters(), body=cst.IndentedBlock([])),
                cst.If(test=cst.Name("a"), body=cst.IndentedBlock([cst.SimpleStatementLine([cst.Pass()])], indent="\t")),
            ],
            default_newline="\r\n",
            default_indent="  ",
        ),
        id="empty-block-and-own-indent-and-crlf",
    ),
    pytest.param(
        cst.Module(
            body=[
                cst.SimpleStatementLine(
                    [
                        cst.Expr(cst.List([cst.Element(cst.Name("a")), cst.Element(cst.Name("b"))])),
                        cst.Expr(cst.Tuple([cst.Element(cst.Name("a"))])),
                        cst.Expr(cst.Dict([cst.DictElement(cst.Name("a"), cst.Integer("1")), cst.DictElement(cst.Name("b"), cst.Integer("2"))])),
                        cst.Expr(cst.Set([cst.Element(cst.Name("a")), cst.Element(cst.Name("b"), comma=cst.Comma())])),
                    ]
                )
            ]
        ),
        id="collections-with-default-commas",
    ),
    pytest.param(
        cst.Module(
            body=[
                cst.SimpleStatementLine(
                    [
                        cst.Expr(
                            cst.Subscript(
                                cst.Name("x"),
                                [cst.SubscriptElement(cst.Index(cst.Name("a"))), cst.SubscriptElement(cst.Index(cst.Name("b"), star="*"))],
                            )
                        )
                    ],
                    leading_lines=[cst.EmptyLine(), cst.EmptyLine(indent=False, comment=cst.Comment("# c"))],
                )
            ]
        ),
        id="subscript-default-commas-and-starred-index",
    ),
    pytest.param(
        cst.Module(
            body=[
                cst.SimpleStatementLine(
                    [
                        cst.Expr(
                            _call(
                                cst.Arg(
                                    cst.Name("a"),
                                    comma=cst.Comma(
                                        whitespace_after=cst.ParenthesizedWhitespace(
                                            empty_lines=[cst.EmptyLine()], indent=True, last_line=cst.SimpleWhitespace("    ")
                                        )
                                    ),
                                ),
                                cst.Arg(cst.Name("b"), keyword=cst.Name("k"), equal=cst.AssignEqual()),
                            )
                        )
                    ],
                    trailing_whitespace=cst.TrailingWhitespace(comment=cst.Comment("# t"), newline=cst.Newline("\r\n")),
                )
            ],
            has_trailing_newline=False,
        ),
        id="parenthesized-whitespace-explicit-newline-no-trailing-newline",
    ),
]


@pytest.mark.parametrize("module", HAND_BUILT)
def test_tokens_of_hand_built_trees_are_libcsts(module: cst.Module):
    assert_same_tokens(module)


@pytest.mark.parametrize("module", HAND_BUILT)
def test_positions_in_hand_built_trees_are_position_providers(module: cst.Module):
    expected = provider_starts(module)
    nodes = list(expected)
    assert start_positions(module, nodes) == expected
    for first in range(3):
        wanted = nodes[first::3]
        assert start_positions(module, wanted) == {node: expected[node] for node in wanted}


def test_code_for_one_node_is_libcsts():
    module = cst.parse_module("def f(a, b=1):\n    if a:\n        return [a, b][0]  # c\n")
    for node in all_nodes(module):
        shortcut = module.code_for_node(node)
        with libcsts_own_codegen():
            assert shortcut == module.code_for_node(node)


# -- code_with_names: the code of a renamed tree, without building it -----------------------------


class _RenameByIdentity(cst.CSTTransformer):
    """The tree code_with_names stands for: the Name nodes of ``names`` (by id) renamed."""

    def __init__(self, names: dict[int, str]) -> None:
        super().__init__()
        self.names = names

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = self.names.get(id(original_node))
        return updated_node if new is None else updated_node.with_changes(value=new)


def _every_other_name(module: cst.Module, offset: int) -> dict[int, str]:
    names = [node for node in all_nodes(module) if isinstance(node, cst.Name)]
    return {id(node): f"{node.value}_{i}" for i, node in enumerate(names[offset::2])}


RENAMED_SOURCES = [
    *TRICKY_SOURCES,
    pytest.param("x = ((a)) + ( b )\nf((c), d=(e))\n", id="parenthesized-names"),
    pytest.param("@deco(a)\ndef f(a: T, *b, c=d, **e) -> R:\n    global g\n    return lambda h: h + a\n", id="definitions"),
    pytest.param("y = [a for a in b if a]\nz = f'{a!r:>{w}} {b.c}'\n", id="comprehension-and-f-string"),
    pytest.param("a.b.c = d[e:f, g]\ndel a, b\n", id="attributes-and-subscripts"),
]


@pytest.mark.parametrize("source", RENAMED_SOURCES)
def test_code_with_names_is_the_code_of_the_renamed_tree(source: str):
    module = cst.parse_module(source)
    for offset in (0, 1):
        names = _every_other_name(module, offset)
        expected = module.visit(_RenameByIdentity(names)).code
        assert codegen.code_with_names(module, names) == expected
        with libcsts_own_codegen():
            assert codegen.code_with_names(module, names) == expected


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: str(path.relative_to(SAMPLE_REPO)))
def test_code_with_names_of_sample_repo(path: Path):
    module = cst.parse_module(path.read_bytes())
    names = _every_other_name(module, 0)
    assert codegen.code_with_names(module, names) == module.visit(_RenameByIdentity(names)).code
    assert codegen.code_with_names(module, {}) == module.code  # nothing renamed: the module's own code
