"""speedups.parsing: libcst's parse without validating the parser's own nodes gives libcst's tree,
raises libcst's errors, and leaves validation on for every node built afterwards."""

from __future__ import annotations

import threading
from pathlib import Path

import libcst as cst
import pytest
from libcst._nodes.base import CSTNode

from codemods.speedups import parsing
from tests.engine.test_positions import TRICKY_SOURCES

SAMPLE_FILES = sorted((Path(__file__).resolve().parents[2] / "sample_repo").rglob("*.py"))

# Nodes whose checks reject hand-built values the parser never produces.
ODD_SOURCES = [
    pytest.param("x = (a)  \\\n  + b\n", id="continuation-and-parentheses"),
    pytest.param("lambda a, /, b=1, *c, d, **e: (a, b, c, d, e)\n", id="lambda-parameters"),
    pytest.param("def f[T](x: T, *, y: 'T' = ...) -> T:\n    return x\n", id="type-parameters"),
    pytest.param("match p:\n    case [1, *rest] | {'k': _} if rest:\n        pass\n", id="match"),
    pytest.param("s = f'{a!r:>{w}}' 'x' r'y'\n", id="string-concatenation"),
    pytest.param("\ufeff# coding: utf-8\r\nx = 1\r\n", id="bom-and-crlf"),
    pytest.param("with (open(a) as f, open(b) as g):\n    pass\n", id="parenthesised-with"),
]


def test_sample_repo_has_python_files() -> None:
    assert len(SAMPLE_FILES) > 20


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_tree_equals_libcsts_on_sample_repo(path: Path) -> None:
    source = path.read_bytes()
    tree = parsing.parse_module(source, python_parses=True)
    assert tree.deep_equals(cst.parse_module(source))
    assert tree.bytes == source


@pytest.mark.parametrize("source", [*TRICKY_SOURCES, *ODD_SOURCES])
def test_tree_equals_libcsts_on_tricky_sources(source: str) -> None:
    tree, libcsts = parsing.parse_module(source, python_parses=True), cst.parse_module(source)
    assert tree.deep_equals(libcsts)
    assert tree.code == libcsts.code


def invalid_node() -> CSTNode:
    """A hand-built node libcst's validation rejects (whitespace that is not whitespace)."""
    return cst.SimpleWhitespace("not whitespace")


def test_validation_is_on_after_a_parse() -> None:
    parsing.parse_module("x = 1\n", python_parses=True)
    with pytest.raises(cst.CSTValidationError):
        invalid_node()


def test_a_syntax_error_is_libcsts_and_validation_is_on_after_it() -> None:
    with pytest.raises(cst.ParserSyntaxError) as ours:
        parsing.parse_module("def f(:\n", python_parses=True)
    with pytest.raises(cst.ParserSyntaxError) as libcsts:
        cst.parse_module("def f(:\n")
    assert str(ours.value) == str(libcsts.value)
    with pytest.raises(cst.CSTValidationError):
        invalid_node()


@pytest.fixture
def hooks_seen(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The node hook (``CSTNode.__post_init__``) in place while libcst's parser runs, per parse."""
    seen: list[object] = []

    def recording_parse(source: str | bytes) -> cst.Module:
        seen.append(CSTNode.__post_init__)
        return cst.Module(body=())

    monkeypatch.setattr(parsing.cst, "parse_module", recording_parse)
    return seen


def test_checks_are_off_during_the_parse_only(hooks_seen: list[object]) -> None:
    parsing.parse_module("x = 1\n", python_parses=True)
    assert hooks_seen == ([parsing._unchecked] if parsing.ENABLED else [parsing._VALIDATING])
    assert CSTNode.__post_init__ is parsing._VALIDATING


def test_another_thread_parses_with_validation_on(hooks_seen: list[object]) -> None:
    # A node a second thread builds while the main thread parses must still be checked, so only
    # the main thread switches the checks off.
    thread = threading.Thread(target=parsing.parse_module, args=("x = 1\n",), kwargs={"python_parses": True})
    thread.start()
    thread.join()
    assert hooks_seen == [parsing._VALIDATING]


def test_speedups_off_is_libcsts_parse(hooks_seen: list[object], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "ENABLED", False)
    parsing.parse_module("x = 1\n", python_parses=True)
    assert hooks_seen == [parsing._VALIDATING]


# CPython rejects these, libcst's grammar reads them, and only libcst's checks catch them.
LOOSER_THAN_CPYTHON = [
    pytest.param("s = b'x' 'y'\n", id="bytes-then-str"),
    pytest.param("s = f'{a}' rb'x'\n", id="f-string-then-bytes"),
]


@pytest.mark.parametrize("source", LOOSER_THAN_CPYTHON)
def test_text_cpython_rejects_keeps_libcsts_checks(source: str) -> None:
    with pytest.raises(SyntaxError):
        compile(source, "<test>", "exec")
    with pytest.raises(cst.CSTValidationError) as libcsts:
        cst.parse_module(source)
    with pytest.raises(cst.CSTValidationError) as ours:
        parsing.parse_module(source, python_parses=False)
    assert str(ours.value) == str(libcsts.value)


def test_checks_stay_on_when_cpython_did_not_parse_the_text(hooks_seen: list[object]) -> None:
    parsing.parse_module("x = 1\n", python_parses=False)
    assert hooks_seen == [parsing._VALIDATING]
