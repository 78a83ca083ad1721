"""libcst's code generation without its per-node bookkeeping where nothing is recorded.

libcst generates a node's code through ``CSTNode._codegen``: the state's ``before_codegen``, the
node's ``_codegen_impl`` and the state's ``after_codegen``, and most ``_codegen_impl`` open a
``record_syntactic_position`` context, many through the ``_parenthesize`` generator context.
Those hooks exist for position recording; a plain ``CodegenState`` (``Module.code``,
``Module.bytes``, ``code_for_node``) does nothing in any of them, and the few-nodes state of
:func:`codemods.speedups.positions.start_positions` does nothing in them for a node it does not
want.  Yet they are about half of what a code generation costs (about 160,000 generator contexts
over the 120 files of apache-superset auditfix parses).

For the node classes that make up almost all of a module (whitespace, names, attributes, calls,
arguments, strings, simple statements, assignments, blocks: 95% of the nodes), :func:`install`
gives the class its own ``_codegen`` that, for a state that records nothing for this node,
emits exactly the tokens libcst's ``_codegen_impl`` emits (one by one, in the same order, so
token indexes keep their meaning) without the hooks and contexts; for any other state (libcst's
PositionProvider, :class:`~codemods.speedups.positions.TreePositions`, a wanted node) it is
libcst's own ``CSTNode._codegen``.  Children are generated through their own ``_codegen``, so each
node decides for itself.  tests/engine/test_codegen.py compares the tokens and positions with
libcst's on every sample_repo module and the tricky sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import libcst as cst
from libcst import MaybeSentinel
from libcst._nodes.base import CSTNode
from libcst._nodes.internal import CodegenState

from codemods.speedups import ENABLED

_LIBCST_CODEGEN = CSTNode._codegen
_DEFAULT = MaybeSentinel.DEFAULT
_NOTHING: frozenset[int] = frozenset()

# The state classes that record nothing for a node whose id is not in their ``wanted`` set
# (``positions._WantedStartsState`` registers itself); a plain CodegenState records nothing at all.
# Each shortcut starts with the test "does the state record nothing for this node?", written out
# (``type(state) is CodegenState or ...  # quiet``): a call per node would cost a tenth of the work.
_SELECTIVE: set[type] = set()


# The shortcuts of the trivia classes (whitespace, comments, punctuation) also serve the states
# that record nothing for a trivia node whose id is not in their ``wanted`` set, but record every
# other node (``positions._AllButTriviaState`` registers itself).
_SELECTIVE_FOR_TRIVIA: set[type] = set()


def register_selective_state(kind: type) -> None:
    """Let the shortcuts serve ``kind``: a CodegenState whose hooks do nothing for a node whose id
    is not in its ``wanted`` set, and whose ``add_token`` is CodegenState's."""
    _SELECTIVE.add(kind)
    _SELECTIVE_FOR_TRIVIA.add(kind)


def register_trivia_selective_state(kind: type) -> None:
    """Let the trivia classes' shortcuts serve ``kind``: a CodegenState whose hooks do nothing for
    a node of :data:`codemods.speedups.unchanged.TRIVIA` whose id is not in its ``wanted`` set,
    and whose ``add_token`` is CodegenState's (the other shortcuts leave it to libcst's code)."""
    _SELECTIVE_FOR_TRIVIA.add(kind)


def _is_comma(value: Any) -> bool:
    """``isinstance(value, cst.Comma)``, without the ABC's check for the common answers."""
    return type(value) is cst.Comma or (value is not _DEFAULT and isinstance(value, cst.Comma))


# -- leaves --------------------------------------------------------------------------------------


def _value_token(self: Any, state: Any, **kwargs: Any) -> None:  # SimpleWhitespace, Comment
    if type(state) is CodegenState or (type(state) in _SELECTIVE_FOR_TRIVIA and id(self) not in state.wanted):  # quiet
        state.tokens.append(self.value)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _newline(self: cst.Newline, state: Any, **kwargs: Any) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE_FOR_TRIVIA and id(self) not in state.wanted):  # quiet
        value = self.value
        state.tokens.append(state.default_newline if value is None else value)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _one_token_operator(token: str) -> Any:
    """Comma, Dot, AssignEqual, Colon, Semicolon: whitespace, the token, whitespace."""

    def codegen(self: Any, state: Any, **kwargs: Any) -> None:
        if type(state) is CodegenState or (type(state) in _SELECTIVE_FOR_TRIVIA and id(self) not in state.wanted):  # quiet
            self.whitespace_before._codegen(state)
            state.tokens.append(token)
            self.whitespace_after._codegen(state)
        else:
            _LIBCST_CODEGEN(self, state, **kwargs)

    return codegen


def _opening(token: str) -> Any:
    """LeftParen, LeftSquareBracket, LeftCurlyBrace: the token, then its whitespace."""

    def codegen(self: Any, state: Any, **kwargs: Any) -> None:
        if type(state) is CodegenState or (type(state) in _SELECTIVE_FOR_TRIVIA and id(self) not in state.wanted):  # quiet
            state.tokens.append(token)
            self.whitespace_after._codegen(state)
        else:
            _LIBCST_CODEGEN(self, state, **kwargs)

    return codegen


def _closing(token: str) -> Any:
    """RightParen, RightSquareBracket, RightCurlyBrace: the whitespace, then the token."""

    def codegen(self: Any, state: Any, **kwargs: Any) -> None:
        if type(state) is CodegenState or (type(state) in _SELECTIVE_FOR_TRIVIA and id(self) not in state.wanted):  # quiet
            self.whitespace_before._codegen(state)
            state.tokens.append(token)
        else:
            _LIBCST_CODEGEN(self, state, **kwargs)

    return codegen


# -- whitespace owners ---------------------------------------------------------------------------


def _trailing_whitespace(self: cst.TrailingWhitespace, state: Any, **kwargs: Any) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE_FOR_TRIVIA and id(self) not in state.wanted):  # quiet
        self.whitespace._codegen(state)
        comment = self.comment
        if comment is not None:
            comment._codegen(state)
        self.newline._codegen(state)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _empty_line(self: cst.EmptyLine, state: Any, **kwargs: Any) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE_FOR_TRIVIA and id(self) not in state.wanted):  # quiet
        if self.indent:
            state.tokens.extend(state.indent_tokens)
        self.whitespace._codegen(state)
        comment = self.comment
        if comment is not None:
            comment._codegen(state)
        self.newline._codegen(state)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _parenthesized_whitespace(self: cst.ParenthesizedWhitespace, state: Any, **kwargs: Any) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE_FOR_TRIVIA and id(self) not in state.wanted):  # quiet
        self.first_line._codegen(state)
        for line in self.empty_lines:
            line._codegen(state)
        if self.indent:
            state.tokens.extend(state.indent_tokens)
        self.last_line._codegen(state)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


# -- expressions (``_parenthesize``: left parentheses, the node, right parentheses) ---------------


def _value_expression(self: Any, state: Any, **kwargs: Any) -> None:  # Name, SimpleString, Integer
    if type(state) is CodegenState or (type(state) in _SELECTIVE and id(self) not in state.wanted):  # quiet
        for lpar in self.lpar:
            lpar._codegen(state)
        state.tokens.append(self.value)
        for rpar in self.rpar:
            rpar._codegen(state)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _attribute(self: cst.Attribute, state: Any, **kwargs: Any) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE and id(self) not in state.wanted):  # quiet
        for lpar in self.lpar:
            lpar._codegen(state)
        self.value._codegen(state)
        self.dot._codegen(state)
        self.attr._codegen(state)
        for rpar in self.rpar:
            rpar._codegen(state)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _call(self: cst.Call, state: Any, **kwargs: Any) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE and id(self) not in state.wanted):  # quiet
        for lpar in self.lpar:
            lpar._codegen(state)
        self.func._codegen(state)
        self.whitespace_after_func._codegen(state)
        state.tokens.append("(")
        self.whitespace_before_args._codegen(state)
        args = self.args
        last = len(args) - 1
        for index, arg in enumerate(args):
            arg._codegen(state, default_comma=(index != last))
        state.tokens.append(")")
        for rpar in self.rpar:
            rpar._codegen(state)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _arg(self: cst.Arg, state: Any, default_comma: bool = False) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE and id(self) not in state.wanted):  # quiet
        state.tokens.append(self.star)
        self.whitespace_after_star._codegen(state)
        keyword = self.keyword
        if keyword is not None:
            keyword._codegen(state)
        equal = self.equal
        if equal is _DEFAULT and keyword is not None:
            state.tokens.append(" = ")
        elif type(equal) is cst.AssignEqual or (equal is not _DEFAULT and isinstance(equal, cst.AssignEqual)):
            equal._codegen(state)
        self.value._codegen(state)
        comma = self.comma
        if comma is _DEFAULT and default_comma:
            state.tokens.append(", ")
        elif _is_comma(comma):
            comma._codegen(state)
        self.whitespace_after_arg._codegen(state)
    else:
        _LIBCST_CODEGEN(self, state, default_comma=default_comma)


def _subscript(self: cst.Subscript, state: Any, **kwargs: Any) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE and id(self) not in state.wanted):  # quiet
        for lpar in self.lpar:
            lpar._codegen(state)
        self.value._codegen(state)
        self.whitespace_after_value._codegen(state)
        self.lbracket._codegen(state)
        elements = self.slice
        last = len(elements) - 1
        for index, element in enumerate(elements):
            element._codegen(state, default_comma=(index != last))
        self.rbracket._codegen(state)
        for rpar in self.rpar:
            rpar._codegen(state)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _subscript_element(self: cst.SubscriptElement, state: Any, default_comma: bool = False) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE and id(self) not in state.wanted):  # quiet
        self.slice._codegen(state)
        comma = self.comma
        if comma is _DEFAULT and default_comma:
            state.tokens.append(", ")
        elif _is_comma(comma):
            comma._codegen(state)
    else:
        _LIBCST_CODEGEN(self, state, default_comma=default_comma)


def _index(self: cst.Index, state: Any, **kwargs: Any) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE and id(self) not in state.wanted):  # quiet
        star = self.star
        if star is not None:
            state.tokens.append(star)
        whitespace = self.whitespace_after_star
        if whitespace is not None:
            whitespace._codegen(state)
        self.value._codegen(state)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _element_comma(self: Any, state: Any, default_comma: bool, default_comma_whitespace: bool) -> None:
    """``_BaseElementImpl._codegen_comma``."""
    comma = self.comma
    if comma is _DEFAULT and default_comma:
        state.tokens.append(", " if default_comma_whitespace else ",")
    elif _is_comma(comma):
        comma._codegen(state)


def _element(self: cst.Element, state: Any, default_comma: bool = False, default_comma_whitespace: bool = False) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE and id(self) not in state.wanted):  # quiet
        self.value._codegen(state)
        _element_comma(self, state, default_comma, default_comma_whitespace)
    else:
        _LIBCST_CODEGEN(self, state, default_comma=default_comma, default_comma_whitespace=default_comma_whitespace)


def _dict_element(
    self: cst.DictElement, state: Any, default_comma: bool = False, default_comma_whitespace: bool = False
) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE and id(self) not in state.wanted):  # quiet
        self.key._codegen(state)
        self.whitespace_before_colon._codegen(state)
        state.tokens.append(":")
        self.whitespace_after_colon._codegen(state)
        self.value._codegen(state)
        _element_comma(self, state, default_comma, default_comma_whitespace)
    else:
        _LIBCST_CODEGEN(self, state, default_comma=default_comma, default_comma_whitespace=default_comma_whitespace)


# -- statements ----------------------------------------------------------------------------------


def _semicolon(self: Any, state: Any, default_semicolon: bool) -> None:
    """The end of a small statement's ``_codegen_impl``."""
    semicolon = self.semicolon
    if isinstance(semicolon, MaybeSentinel):
        if default_semicolon:
            state.tokens.append("; ")
    elif isinstance(semicolon, cst.Semicolon):
        semicolon._codegen(state)


def _expr(self: cst.Expr, state: Any, default_semicolon: bool = False) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE and id(self) not in state.wanted):  # quiet
        self.value._codegen(state)
        _semicolon(self, state, default_semicolon)
    else:
        _LIBCST_CODEGEN(self, state, default_semicolon=default_semicolon)


def _assign(self: cst.Assign, state: Any, default_semicolon: bool = False) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE and id(self) not in state.wanted):  # quiet
        for target in self.targets:
            target._codegen(state)
        self.value._codegen(state)
        _semicolon(self, state, default_semicolon)
    else:
        _LIBCST_CODEGEN(self, state, default_semicolon=default_semicolon)


def _assign_target(self: cst.AssignTarget, state: Any, **kwargs: Any) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE and id(self) not in state.wanted):  # quiet
        self.target._codegen(state)
        self.whitespace_before_equal._codegen(state)
        state.tokens.append("=")
        self.whitespace_after_equal._codegen(state)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _simple_statement_line(self: cst.SimpleStatementLine, state: Any, **kwargs: Any) -> None:
    if type(state) is CodegenState or (type(state) in _SELECTIVE and id(self) not in state.wanted):  # quiet
        for line in self.leading_lines:
            line._codegen(state)
        state.tokens.extend(state.indent_tokens)
        body = self.body
        if body:
            last = len(body) - 1
            for index, statement in enumerate(body):
                statement._codegen(state, default_semicolon=(index != last))
        else:
            state.tokens.append("pass")
        self.trailing_whitespace._codegen(state)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _indented_block(self: cst.IndentedBlock, state: Any, **kwargs: Any) -> None:
    # A wanted block makes its first statement wanted (positions._WantedStartsState): libcst's way.
    if type(state) is CodegenState or (type(state) in _SELECTIVE and id(self) not in state.wanted):  # quiet
        self.header._codegen(state)
        indent = self.indent
        state.indent_tokens.append(state.default_indent if indent is None else indent)
        if self.body:
            for statement in self.body:
                statement._codegen(state)
        else:
            state.tokens.extend(state.indent_tokens)
            state.tokens.append("pass")
            state.tokens.append(state.default_newline)
        for line in self.footer:
            line._codegen(state)
        state.indent_tokens.pop()
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _plain_codegen(self: CSTNode, state: Any, **kwargs: Any) -> None:
    """``CSTNode._codegen`` for the other classes: a plain CodegenState's hooks do nothing."""
    if type(state) is CodegenState:
        self._codegen_impl(state, **kwargs)
    else:
        state.before_codegen(self)
        self._codegen_impl(state, **kwargs)
        state.after_codegen(self)


def code_with_names(module: cst.Module, names: Mapping[int, str]) -> str:
    """``module.code`` as if each ``Name`` node whose id is in ``names`` had that value: the code
    of the tree a transformer renaming those nodes would build, without building it."""
    state = _RenamingState(module, names)
    module._codegen(state)
    return "".join(state.tokens)


class _RenamingState(CodegenState):
    """A plain CodegenState but for the ``Name`` nodes of ``wanted``: a Name generates its
    parentheses and its value (libcst's ``Name._codegen_impl``), and the value is replaced."""

    __slots__ = ("_open", "names", "wanted")

    def __init__(self, module: cst.Module, names: Mapping[int, str]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.names = names
        self.wanted = names.keys()
        self._open: list[int] = []

    def before_codegen(self, node: CSTNode) -> None:
        if id(node) in self.wanted:
            self._open.append(len(self.tokens))

    def after_codegen(self, node: CSTNode) -> None:
        if id(node) in self.wanted:
            assert type(node) is cst.Name, f"only names are renamed, not {type(node).__name__}"
            tokens, start = self.tokens, self._open.pop()
            # Parentheses and whitespace, the value, parentheses: no other token is an identifier.
            index = tokens.index(node.value, start)
            tokens[index] = self.names[id(node)]


register_selective_state(_RenamingState)


# class -> (the name of libcst's ``_codegen_impl`` the shortcut mirrors, the shortcut)
SHORTCUTS: dict[type, tuple[str, Any]] = {
    cst.SimpleWhitespace: ("BaseValueToken._codegen_impl", _value_token),
    cst.Comment: ("BaseValueToken._codegen_impl", _value_token),
    cst.Newline: ("Newline._codegen_impl", _newline),
    cst.TrailingWhitespace: ("TrailingWhitespace._codegen_impl", _trailing_whitespace),
    cst.EmptyLine: ("EmptyLine._codegen_impl", _empty_line),
    cst.ParenthesizedWhitespace: ("ParenthesizedWhitespace._codegen_impl", _parenthesized_whitespace),
    cst.Comma: ("_BaseOneTokenOp._codegen_impl", _one_token_operator(",")),
    cst.Dot: ("_BaseOneTokenOp._codegen_impl", _one_token_operator(".")),
    cst.AssignEqual: ("_BaseOneTokenOp._codegen_impl", _one_token_operator("=")),
    cst.Colon: ("_BaseOneTokenOp._codegen_impl", _one_token_operator(":")),
    cst.Semicolon: ("_BaseOneTokenOp._codegen_impl", _one_token_operator(";")),
    cst.LeftParen: ("LeftParen._codegen_impl", _opening("(")),
    cst.LeftSquareBracket: ("LeftSquareBracket._codegen_impl", _opening("[")),
    cst.LeftCurlyBrace: ("LeftCurlyBrace._codegen_impl", _opening("{")),
    cst.RightParen: ("RightParen._codegen_impl", _closing(")")),
    cst.RightSquareBracket: ("RightSquareBracket._codegen_impl", _closing("]")),
    cst.RightCurlyBrace: ("RightCurlyBrace._codegen_impl", _closing("}")),
    cst.Name: ("Name._codegen_impl", _value_expression),
    cst.SimpleString: ("SimpleString._codegen_impl", _value_expression),
    cst.Integer: ("Integer._codegen_impl", _value_expression),
    cst.Attribute: ("Attribute._codegen_impl", _attribute),
    cst.Call: ("Call._codegen_impl", _call),
    cst.Arg: ("Arg._codegen_impl", _arg),
    cst.Subscript: ("Subscript._codegen_impl", _subscript),
    cst.SubscriptElement: ("SubscriptElement._codegen_impl", _subscript_element),
    cst.Index: ("Index._codegen_impl", _index),
    cst.Element: ("Element._codegen_impl", _element),
    cst.DictElement: ("DictElement._codegen_impl", _dict_element),
    cst.Expr: ("Expr._codegen_impl", _expr),
    cst.Assign: ("Assign._codegen_impl", _assign),
    cst.AssignTarget: ("AssignTarget._codegen_impl", _assign_target),
    cst.SimpleStatementLine: ("SimpleStatementLine._codegen_impl", _simple_statement_line),
    cst.IndentedBlock: ("IndentedBlock._codegen_impl", _indented_block),
}


def _token_of(kind: type) -> str | None:
    getter = getattr(kind, "_get_token", None)
    return None if getter is None else getter(kind())


def _mirrors(kind: type, implementation: str) -> bool:
    """Is ``kind``'s code generation still the libcst code its shortcut was written from?"""
    if kind._codegen_impl.__qualname__ != implementation or "_codegen" in vars(kind):
        return False
    expected = {cst.Comma: ",", cst.Dot: ".", cst.AssignEqual: "=", cst.Colon: ":", cst.Semicolon: ";"}.get(kind)
    return expected is None or _token_of(kind) == expected


def install() -> None:
    """Give each class of :data:`SHORTCUTS` its shortcut (those whose libcst code generation is
    not the one mirrored keep libcst's), and every other class the plain-state ``_codegen``."""
    for kind, (implementation, shortcut) in SHORTCUTS.items():
        if _mirrors(kind, implementation):
            kind._codegen = shortcut  # type: ignore[attr-defined]
    CSTNode._codegen = _plain_codegen  # type: ignore[method-assign]


def uninstall() -> None:
    for kind, (_, shortcut) in SHORTCUTS.items():
        if vars(kind).get("_codegen") is shortcut:
            del kind._codegen  # type: ignore[attr-defined]
    CSTNode._codegen = _LIBCST_CODEGEN  # type: ignore[method-assign]


if ENABLED:
    install()
