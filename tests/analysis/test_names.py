"""codemods.analysis.names: every fast answer is the answer libcst's scope analysis gives.

Each source below binds names in one of the ways Python allows; for every name and attribute
node in it, every question is asked twice, from the name facts (``Names``) and from the scopes
alone (``Names(..., exact=True)``), and the answers must be equal.  The codemod tests compare
the two paths on every case as well; these sources aim at the binding forms those cases rarely
contain.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper

from codemods.analysis import names
from codemods.analysis.names import Names, name_facts

WANTED = (
    ("logging.getLogger",),
    ("sys.stderr", "sys.stdout"),
    ("traceback.print_exc",),
    ("os.path.join",),
)
NAMES = ("print", "logger", "logging", "log", "Exception", "BaseException", "sys", "x", "getLogger", "_logger")

SOURCES = {
    "plain-imports": """
        import logging
        import sys
        import traceback
        logger = logging.getLogger(__name__)
        def f():
            print("x", file=sys.stderr)
            traceback.print_exc()
    """,
    "aliases-and-from-imports": """
        import logging as lg
        from sys import stderr as err, stdout
        from traceback import print_exc as pe
        from os.path import join
        log = lg.getLogger(__name__)
        pe(); join("a", "b"); print(1, file=err)
    """,
    "dotted-import-without-alias": """
        import os.path
        import logging.handlers
        os.path.join("a")
        logging.getLogger("x")
    """,
    "relative-and-star-imports": """
        from . import logging
        from .sys import stderr
        from ..traceback import print_exc
        from .helpers import merge_slice
        def load():
            from .examples import helper
            helper(); print_exc(); merge_slice()
        from os.path import *
        from logging import *
        getLogger("x"); join("a")
        print(1, file=stderr)
    """,
    "import-inside-function": """
        def f():
            import sys
            from traceback import print_exc
            print("x", file=sys.stderr)
            print_exc()
        def g():
            print("y", file=sys.stderr)
    """,
    "rebound-names": """
        import sys
        import logging
        sys = object()
        logger = logging.getLogger(__name__)
        logger = None
        Exception = ValueError
        def print(*args): pass
    """,
    "global-and-nonlocal": """
        logger = None
        def setup():
            global logger
            logger = make()
        def outer():
            log = 1
            def inner():
                nonlocal log
                log = 2
    """,
    "local-shadows": """
        import logging
        logger = logging.getLogger(__name__)
        def f(logger):
            return logger
        def g():
            for logger in range(3):
                pass
        class C:
            logger = "class attribute"
            def method(self):
                return logger
        h = lambda logger: logger
        values = [logger for logger in range(3)]
    """,
    "binding-forms": """
        import sys
        try:
            pass
        except ValueError as x:
            del x
        with open("f") as (a, b):
            pass
        if (y := 3):
            pass
        match sys.argv:
            case [first, *rest]:
                pass
            case {"k": v, **others}:
                pass
            case str() as whole:
                pass
        async def coroutine(*args, **kwargs):
            async for item in args:
                pass
        total: int
        total += 1
    """,
    "attribute-and-keyword-names": """
        class Holder:
            def __init__(self):
                self.logger = None
        call(logger=1, logging=2)
        value = thing.log
    """,
    "names-only-in-text": """
        # logger logging _logger
        '''logger in a docstring'''
        def f(x: "logger") -> "logging.Logger":
            return "log"
    """,
    "string-annotations": """
        import typing
        value: "sys.stderr"
        def f(a: "Exception") -> "typing.List[logger]":
            pass
    """,
}


def _nodes(module: cst.Module) -> list[cst.CSTNode]:
    """What the codemods ask about: calls, the called expression, the values passed, and the
    names and attributes inside those (never an import's own names or a definition's name)."""
    found: list[cst.CSTNode] = []

    class Collect(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            found.extend([node, node.func, *(arg.value for arg in node.args)])

        def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
            found.append(node)

        def visit_Annotation(self, node: cst.Annotation) -> None:
            found.append(node.annotation)

    module.visit(Collect())
    return list(dict.fromkeys(found))


@pytest.mark.parametrize("source", list(SOURCES.values()), ids=list(SOURCES))
def test_fast_answers_equal_the_scopes(source: str) -> None:
    data = textwrap.dedent(source).encode()
    assert name_facts(data) is not None, "the source must parse, or the facts decide nothing"
    module = cst.parse_module(data)
    fast = Names(data, MetadataWrapper(module, unsafe_skip_copy=True))
    exact = Names(data, MetadataWrapper(module, unsafe_skip_copy=True), exact=True)
    for name in NAMES:
        assert fast.bound_anywhere(name) == exact.bound_anywhere(name), name
        assert fast.in_use(name) == exact.in_use(name), name
        # Asked only about a name the caller found bound at module level.
        if exact.scope_of(module).assignments[name]:
            assert fast.bound_once_globally(module, name) == exact.bound_once_globally(module, name), name
    for node in _nodes(module):
        code = module.code_for_node(node)
        for wanted in WANTED:
            assert fast.refers_to(node, wanted) == exact.refers_to(node, wanted), (code, wanted)
        for name in NAMES:
            assert fast.is_rebound(node, name) == exact.is_rebound(node, name), (code, name)
            assert fast.local_at(node, name) == exact.local_at(node, name), (code, name)


def test_known_answers() -> None:
    """A few answers spelled out, so that both paths being wrong the same way fails too."""
    data = textwrap.dedent(SOURCES["aliases-and-from-imports"]).encode()
    module = cst.parse_module(data)
    names = Names(data, MetadataWrapper(module, unsafe_skip_copy=True))
    by_code = {module.code_for_node(n): n for n in _nodes(module)}
    assert names.refers_to(by_code["lg.getLogger"], ("logging.getLogger",)) == {"logging.getLogger"}
    assert names.refers_to(by_code["err"], ("sys.stderr", "sys.stdout")) == {"sys.stderr"}
    assert names.refers_to(by_code["pe"], ("traceback.print_exc",)) == {"traceback.print_exc"}
    assert not names.bound_anywhere("print")
    assert names.in_use("log") and not names.in_use("logger")
    shadowed = cst.parse_module(textwrap.dedent(SOURCES["local-shadows"]).encode())
    names = Names(shadowed.bytes, MetadataWrapper(shadowed, unsafe_skip_copy=True))
    method = next(n for n in _nodes(shadowed) if module_code(shadowed, n) == "range(3)")
    assert names.local_at(method, "logger")  # inside ``def g()``, whose loop binds logger
    assert not names.local_at(shadowed.body[1], "logger")  # module level


def module_code(module: cst.Module, node: cst.CSTNode) -> str:
    return module.code_for_node(node)


def test_rebinding_is_never_called_a_single_binding() -> None:
    data = textwrap.dedent(SOURCES["rebound-names"]).encode()
    module = cst.parse_module(data)
    names = Names(data, MetadataWrapper(module, unsafe_skip_copy=True))
    assert not names.bound_once_globally(module, "logger")
    assert names.bound_once_globally(module, "logging")
    assert names.bound_anywhere("print")


def test_text_cpython_cannot_parse_is_answered_from_the_scopes() -> None:
    # Python 3.12 type parameters: libcst reads them, CPython 3.11 does not, so there are no
    # facts and every answer must come from libcst's scopes.
    data = b"import sys\ndef first[T](items: list[T]) -> T:\n    print(items, file=sys.stderr)\n    return items[0]\n"
    module = cst.parse_module(data)
    names = Names(data, MetadataWrapper(module, unsafe_skip_copy=True))
    stderr = next(n for n in _nodes(module) if module.code_for_node(n) == "sys.stderr")
    assert names.refers_to(stderr, ("sys.stderr",)) == {"sys.stderr"}
    assert names.local_at(stderr, "items")  # a parameter of first()
    assert not names.local_at(stderr, "sys")
    assert not names.bound_anywhere("print")


def _name_facts_by_iter_child_nodes(source: bytes) -> names.NameFacts:
    """name_facts as written with ``ast.iter_child_nodes``, before its walk shared precheck's."""
    import ast

    facts = names.NameFacts()
    pending: list[tuple[ast.AST, bool]] = [(ast.parse(source), False)]
    while pending:
        node, nested = pending.pop()
        names._record(node, nested, facts)
        inner = nested or isinstance(node, names._SCOPES)
        pending.extend((child, inner) for child in ast.iter_child_nodes(node))
    return facts


@pytest.mark.parametrize("path", sorted(Path(__file__).resolve().parents[2].joinpath("sample_repo").rglob("*.py")), ids=str)
def test_name_facts_walk_as_iter_child_nodes_does(path: Path) -> None:
    source = path.read_bytes()
    assert names.name_facts(source) == _name_facts_by_iter_child_nodes(source)


def test_name_facts_leave_out_only_nodes_record_does_nothing_for() -> None:
    """name_facts calls _record only for names and _BINDERS: for any other kind of CPython node
    _record records nothing."""
    import _ast
    import ast

    # _ast's classes: the parser's (ast's deprecated aliases such as ast.Index are left out)
    kinds = [kind for kind in vars(_ast).values() if isinstance(kind, type) and issubclass(kind, ast.AST)]
    left_out = [kind for kind in kinds if kind is not ast.Name and kind not in names._BINDERS]
    assert ast.Call in left_out and ast.arg not in left_out
    for kind in left_out:
        facts = names.NameFacts()
        names._record(kind(), False, facts)
        assert facts == names.NameFacts(), kind.__name__
