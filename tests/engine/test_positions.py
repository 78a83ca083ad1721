"""start_positions: exactly PositionProvider's start for every node it is asked about."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from codemods import speedups
from codemods.speedups import unchanged
from codemods.speedups.positions import TreePositions, start_positions
from codemods.analysis.metadata import parents_of

SAMPLE_REPO = Path(__file__).resolve().parents[2] / "sample_repo"


class _AllNodes(cst.CSTVisitor):
    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.nodes.append(node)
        return True


def all_nodes(module: cst.Module) -> list[cst.CSTNode]:
    collector = _AllNodes()
    module.visit(collector)
    return collector.nodes


def provider_starts(module: cst.Module) -> dict[cst.CSTNode, cst.metadata.CodePosition]:
    ranges = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {node: ranges[node].start for node in all_nodes(module) if node in ranges}


def assert_unpositioned_alike(module: cst.Module, positioned: Collection[cst.CSTNode]) -> None:
    """A node libcst's code generation never reaches (before libcst 1.9, an empty whitespace of
    some match patterns) has no position from the provider, and none from TreePositions."""
    positions = TreePositions(module)
    for node in all_nodes(module):
        if node not in positioned:
            with pytest.raises(KeyError, match="not part of the module"):
                positions.range(node)


def assert_same_as_provider(module: cst.Module) -> None:
    expected = provider_starts(module)
    assert start_positions(module, list(expected)) == expected
    assert_unpositioned_alike(module, expected)


SAMPLE_FILES = sorted(SAMPLE_REPO.rglob("*.py"))


def test_sample_repo_has_python_files():
    assert SAMPLE_FILES


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: str(path.relative_to(SAMPLE_REPO)))
def test_every_node_of_sample_repo_matches_position_provider(path: Path):
    assert_same_as_provider(cst.parse_module(path.read_bytes()))


def assert_subsets_same_as_provider(module: cst.Module) -> None:
    """Asked about a few nodes, start_positions records only theirs (and those of the children
    their starts are hoisted from): every seventh node, and the indented blocks alone, whose
    start is their first statement's."""
    expected = provider_starts(module)
    nodes = list(expected)
    for first in range(7):
        wanted = nodes[first::7]
        assert start_positions(module, wanted) == {node: expected[node] for node in wanted}
    blocks = [node for node in nodes if isinstance(node, cst.IndentedBlock)]
    assert start_positions(module, blocks) == {node: expected[node] for node in blocks}


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: str(path.relative_to(SAMPLE_REPO)))
def test_few_nodes_of_sample_repo_match_position_provider(path: Path):
    assert_subsets_same_as_provider(cst.parse_module(path.read_bytes()))


TRICKY_SOURCES = [
        # records hoisted from a punctuation node (ImportFrom ends at its right parenthesis)
        pytest.param(
            "from a import (b)\nfrom a import (\n    b,\n    c as d,\n)\nfrom . import *\nfrom .x import y, z\n"
            "import p.q as r, s\n",
            id="parenthesized-and-star-imports",
        ),
        pytest.param(
            "if a:\n    pass\nelif b:\n    pass\nelse:\n    pass\ntry:\n    pass\nexcept E:\n    pass\nelse:\n    pass\n"
            "finally:\n    pass\nwhile x: y()\nfor i in j: k(i); l(i)\nwith (a as b, c): pass\n",
            id="compound-statement-ends",
        ),
        pytest.param("def f(a):\r\n    return a\r\n\r\nx = f(1)\r\n", id="crlf-line-endings"),
        pytest.param("def f(a):\r    return a\r\rx = f(1)\r", id="lone-cr-line-endings"),
        pytest.param("x = 1\r\ny = 2\nz = 3\r", id="mixed-line-endings"),
        pytest.param("if x:\n\ty = 1\n\tif y:\n\t\tz = 'a\\tb'  # \ttab\n", id="tabs"),
        pytest.param("größe = 'äöü €'\nnäme = größe + \"日本語\"  # ünïcode\n", id="non-ascii"),
        pytest.param("", id="empty-module"),
        pytest.param("\n", id="only-a-newline"),
        pytest.param("# one\n\n# two\n", id="only-comments"),
        pytest.param("# one\n# two", id="only-comments-no-trailing-newline"),
        pytest.param("x = 1\ny = [\n    2,\n]", id="no-trailing-newline"),
        pytest.param("if x:\n    y = 1", id="no-trailing-newline-in-block"),
        pytest.param("x = 1\r\ny = 2", id="crlf-no-trailing-newline"),
        pytest.param(
            "@decorator\n@other(arg=1)\n\n# between\n@third\ndef f():\n    pass\n\n@dataclass\nclass C:\n    x: int\n",
            id="decorators",
        ),
        pytest.param("a = 1; b = 2 ;  c = a + b;\nif a: b; c\n", id="semicolon-statements"),
        pytest.param("total = 1 + \\\n    2 + \\\n        3\nif a and \\\n   b:\n    pass\n", id="backslash-continuations"),
        pytest.param(
            'x = """one\ntwo\n  three"""\ny = f"""a {x!r:>{10}}\nb {x}"""\nz = f"{x}" f\'{y}\' "plain"\n',
            id="multi-line-strings-and-f-strings",
        ),
        pytest.param("x = '''a\r\nb'''\r\ny = 1\r\n", id="multi-line-string-crlf"),
        pytest.param(
            "class A:\n    class B:\n        def f(self):\n            def g():\n                class C:\n"
            "                    pass\n            return g\n",
            id="nested-functions-and-classes",
        ),
        pytest.param(
            "match command.split():\n    case [action]:\n        pass\n    case [\"go\", direction] if direction:\n"
            "        go(direction)\n    case Point(x=0, y=0) | {\"k\": _, **rest}:\n        pass\n    case _:\n"
            "        pass\n",
            id="match-statement",
        ),
        pytest.param(
            "try:\n    run()\nexcept* ValueError as group:\n    handle(group)\nexcept* (TypeError, KeyError):\n"
            "    pass\nelse:\n    done()\nfinally:\n    close()\n",
            id="try-except-star",
        ),
        pytest.param(
            "with (\n    open(a) as f,\n    open(b) as g,  # trailing comma\n):\n    pass\n",
            id="parenthesized-with-items",
        ),
        pytest.param(
            "# header\n\n# before x\nx = [  # open\n    1,  # one\n    # alone\n    2,\n]  # after\n"
            "def f():\n    # before body\n    return (  # inside\n        x\n    )\n# footer\n",
            id="comments-before-and-inside",
        ),
        pytest.param('"""Module docstring."""\n\nimport os\n', id="module-docstring"),
        pytest.param(
            "lambda a, /, b=1, *c, d, **e: (yield from a)\nx = [i async for i in y if i]\n"
            "del a[1:2, ::3], b.c\nglobal g\nassert x, 'msg'\nraise E from None\n",
            id="assorted-expressions",
        ),
        pytest.param("x = 'a\0b'\ny = 1\n", id="nul-inside-a-string"),
        pytest.param(
            "async def f[T](x: T, *args: *Ts) -> list[T]:\n    async with a as (b, c), d:\n"
            "        await (y := g(x))\n    type Alias = dict[str, T]\n    return [*args, {**k}]\n",
            id="async-generics-walrus-unpacking",
        ),
]


@pytest.mark.parametrize("source", TRICKY_SOURCES)
def test_every_node_matches_position_provider(source: str):
    assert_same_as_provider(cst.parse_module(source))
    assert_subsets_same_as_provider(cst.parse_module(source))


class _JoinCrWithLf(cst.CSTTransformer):
    """A "\\r" newline token followed by a "\\n" one: two newlines for libcst, not one."""

    def leave_EmptyLine(self, original_node: cst.EmptyLine, updated_node: cst.EmptyLine) -> cst.EmptyLine:
        return updated_node.with_changes(newline=cst.Newline("\n"))


def test_hand_built_cr_token_then_lf_token_counts_two_newlines():
    module = cst.parse_module("x = 1\r\ry = 2\r").visit(_JoinCrWithLf())
    assert "\r\n" in module.code
    assert_same_as_provider(module)


def test_subset_of_nodes_returns_exactly_those_keys():
    module = cst.parse_module("def f(a, b):\n    return a + b\n\nx = f(1, 2)\n")
    names = [node for node in all_nodes(module) if isinstance(node, cst.Name)]
    wanted = names[1::2]

    positions = start_positions(module, wanted)

    assert list(positions) == wanted
    expected = provider_starts(module)
    assert positions == {node: expected[node] for node in wanted}


def test_no_nodes_returns_empty_dict():
    assert start_positions(cst.parse_module("x = 1\n"), []) == {}


def test_node_of_another_module_raises_key_error():
    stranger = cst.parse_module("y = 2\n").body[0]
    with pytest.raises(KeyError):
        start_positions(cst.parse_module("x = 1\n"), [stranger])


def test_start_is_first_character_of_node_in_source():
    """Independent of libcst: the position is where the node's own text begins."""
    source = "import os\n\n\ndef load(path):\n    # read it\n    return open(path).read()\n"
    module = cst.parse_module(source)
    call = next(node for node in all_nodes(module) if isinstance(node, cst.Call))
    offset = source.index("open(path)")
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1)

    position = start_positions(module, [call])[call]

    assert (position.line, position.column) == (line, column)
    assert source.splitlines()[position.line - 1][position.column :].startswith("open(path)")


def test_decorated_function_starts_at_def_keyword_not_decorator():
    source = "x = 1\n\n@cache\ndef f():\n    pass\n"
    module = cst.parse_module(source)
    function = module.body[1]
    offset = source.index("def f")

    position = start_positions(module, [function])[function]

    assert (position.line, position.column) == (source.count("\n", 0, offset) + 1, 0)


def test_tree_positions_answer_like_start_positions_one_node_at_a_time_and_are_shared() -> None:
    from codemods.speedups.positions import TreePositions, positions_of

    source = "import os\r\n\r\ndef f(a):\r\n    return [a,\r\n            os.sep]\r\n"
    module = cst.parse_module(source)
    nodes = all_nodes(module)
    positions = TreePositions(module)
    expected = start_positions(module, nodes)
    assert {node: positions.start(node) for node in nodes} == expected
    assert positions.starts(reversed(nodes)) == expected
    assert positions_of(module) is positions_of(module)
    assert positions_of(cst.parse_module(source)) is not positions_of(module)


def provider_parents(module: cst.Module) -> dict[cst.CSTNode, cst.CSTNode]:
    parents = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ParentNodeProvider)
    return {node: parents[node] for node in all_nodes(module) if node in parents}


@pytest.mark.parametrize("source", TRICKY_SOURCES)
def test_parents_are_those_of_parent_node_provider(source: str) -> None:
    module = cst.parse_module(source)
    parents = parents_of(module)
    assert parents == provider_parents(module)
    assert module not in parents  # the root has none


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: str(path.relative_to(SAMPLE_REPO)))
def test_parents_of_every_node_of_sample_repo_are_those_of_parent_node_provider(path: Path) -> None:
    module = cst.parse_module(path.read_bytes())
    assert parents_of(module) == provider_parents(module)


def assert_ranges_same_as_provider(module: cst.Module) -> None:
    ranges = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = TreePositions(module)
    nodes = [node for node in reversed(all_nodes(module)) if node in ranges]  # any order: each answer is a lookup
    # First every node but whitespace, comments and punctuation: the first recording's answers
    # (it leaves those out), then those (from the full recording made when one is asked about).
    for node in sorted(nodes, key=lambda node: type(node) in unchanged.TRIVIA):
        if speedups.ENABLED and type(node) not in unchanged.TRIVIA:
            assert not positions._complete
        assert positions.range(node) == ranges[node], node
    assert_unpositioned_alike(module, ranges)


@pytest.mark.parametrize("source", TRICKY_SOURCES)
def test_tree_position_ranges_are_those_of_position_provider(source: str) -> None:
    assert_ranges_same_as_provider(cst.parse_module(source))


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: str(path.relative_to(SAMPLE_REPO)))
def test_tree_position_ranges_of_sample_repo_are_those_of_position_provider(path: Path) -> None:
    assert_ranges_same_as_provider(cst.parse_module(path.read_bytes()))


def test_tree_position_range_of_a_node_of_another_module_raises_key_error() -> None:
    with pytest.raises(KeyError, match="not part of the module"):
        TreePositions(cst.parse_module("x = 1\n")).range(cst.Name("x"))
