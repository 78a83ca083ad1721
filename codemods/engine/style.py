"""The engine's last step on a rewritten file: make the result look as the project's own tools
would have written it, without touching anything the codemods did not add.

- **Imports where the project's isort (or ruff's isort rules) puts them.**  When the original
  file was sorted under the project's configuration (isort leaves it unchanged), the rewritten file
  is sorted with isort under the same configuration: the new imports go into their section in
  sorted position, new names join an existing ``from x import ...`` in order, and since the
  rest of the block was already where isort wants it, nothing else moves.  A file the project
  left unsorted is never re-sorted.
- **New lines within the project's line length.**  A one-line statement the codemods wrote or
  changed that is longer than the limit is split at its call's (or literal's) brackets as
  black would: the arguments on one indented line if they fit, else one per line with a
  trailing comma.  Lines that were already in the original are left as they are, however long.

This runs once, after every codemod, and on the files they generate: the import block depends
on what all of them added, and running one codemod or all of them places each import the same
way (which keeps git mode's branches from conflicting with each other).  Codemods stay pure
and never order imports themselves; they read ``FileContext.style.line_length`` only for the
text they write (comments, docstrings), which no formatter can wrap for them.
"""

from __future__ import annotations

import ast
import collections
import difflib
import io
import re
import tokenize
from collections.abc import Mapping

import libcst as cst
from libcst.metadata import CodePosition

from codemods.analysis.precheck import parse_shared, walk_ast
from codemods.engine.sorter import sort_code
from codemods.options import CodeStyle
from codemods.speedups import traversal
from codemods.speedups.parsing import parse_module
from codemods.speedups.positions import start_positions

_INDENT = "    "


def tidy(original: bytes | None, new: bytes, style: CodeStyle) -> bytes:
    """``new`` with its imports placed by isort (if ``original`` was sorted, or is None: a file
    the run creates) and its new long lines wrapped.  Anything that cannot be done exactly is
    left as the codemods wrote it."""
    new = wrap_new_long_lines(original, new, style.line_length)
    return sort_imports(original, new, style)


# -- imports -------------------------------------------------------------------------------------


def sort_imports(original: bytes | None, new: bytes, style: CodeStyle) -> bytes:
    try:
        encoding = _encoding(new)
        text = new.decode(encoding)
        if original is not None:
            # Sorted means isort leaves it as it is (isort's check_code would say so too, but some
            # releases print an error line on stderr for every unsorted file whatever "quiet" says).
            before = original.decode(_encoding(original))
            if sort_code(before, style) != before:
                return new  # the project keeps this file's imports in its own order
        result = sort_code(text, style)
    except Exception:  # noqa: BLE001 - a file isort cannot handle keeps the codemods' placement
        return new
    return result.encode(encoding) if _only_imports_differ(text, result) else new


_IMPORT_LINE = re.compile(r"\s*(import\s|from\s|\)|#|$)|\s*[\w.]+( as \w+)?,?\s*(#.*)?$")


def _only_imports_differ(before: str, after: str) -> bool:
    """Whether isort changed import lines (and blank lines) only: every other line, its line
    ending included, must come back exactly (isort normalises line endings, for one)."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal" and not all(_IMPORT_LINE.match(line) for line in (*old[i1:i2], *new[j1:j2])):
            return False
    return True


def _encoding(source: bytes) -> str:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    return encoding


# -- long lines ---------------------------------------------------------------------------------


def wrap_new_long_lines(original: bytes | None, new: bytes, limit: int) -> bytes:
    """Wrap the one-line statements of ``new`` that are longer than ``limit`` and are not lines
    of ``original`` (compared as a multiset of lines, so a long line that only moved within the
    file stays as it is; in a file the run creates every line is new)."""
    try:
        encoding = _encoding(new)
        lines = new.decode(encoding).splitlines()
        before = collections.Counter(original.decode(_encoding(original)).splitlines()) if original else collections.Counter()
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return new
    long_lines = set()
    for number, line in enumerate(lines, 1):
        if before[line] > 0:
            before[line] -= 1
        elif len(line) > limit:
            long_lines.add(number)
    if not long_lines:
        return new
    if original is not None:
        alone = _wrap_statements_alone(new, long_lines, limit)
        if alone is not None:
            return alone
    if not _may_wrap(new, long_lines):
        return new
    try:
        # A tree of its own: no copy for metadata, and positions from one code generation.
        tree = parse_module(new, python_parses=parse_shared(new) is not None)  # _may_wrap's parse
        return tree.visit(_LongLineWrapper(long_lines, limit, start_positions(tree, _asked_about(tree)))).bytes
    except Exception:  # noqa: BLE001 - an odd file keeps its long line
        return new


def _may_wrap(source: bytes, lines: set[int]) -> bool:
    """Can :class:`_LongLineWrapper` act on one of ``lines``?  Only where a statement (its
    ``SimpleStatementLine``), an ``if``/``elif`` test or a ``def`` starts on such a line; CPython's
    tree tells without libcst's parse.  True when CPython cannot parse the text."""
    tree = parse_shared(source)
    if tree is None:
        return True
    for node in walk_ast(tree):
        if isinstance(node, ast.If):
            if node.test.lineno in lines:
                return True
        elif isinstance(node, ast.stmt) and node.lineno in lines:
            return True
    return False


_SIMPLE = (
    ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Delete, ast.Pass, ast.Break,
    ast.Continue, ast.Raise, ast.Assert, ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal,
)  # fmt: skip


def _wrap_statements_alone(new: bytes, lines: set[int], limit: int) -> bytes | None:
    """What the whole-module wrap below returns, found by parsing only the statements that start
    on ``lines``; None when the file is not one this shortcut is exact for (the caller then
    parses the whole module).

    Exact because, for each long line, it asks the same question of an equal node: the line
    holds one whole simple statement alone (CPython's tree: it starts at the line's indentation,
    ends on the line, and nothing else starts there), so libcst's ``SimpleStatementLine`` is that
    line, parsed alone to an equal node; the line before it is code (not blank, not a comment),
    so the node has no ``leading_lines`` in the module either; its start column is the line's
    indentation.  When blank or comment lines come between it and the simple statement before it
    in the same block, they are its ``leading_lines`` (no block ends there to own them), and the
    wrapper leaves a statement with leading lines as it is.  The wrapped node is printed with that indentation before every line, which is
    what the module's code generation writes for the indented breaks it holds.  A long line on
    which no statement, ``if`` test or ``def`` starts is one the wrapper leaves alone.  Anything
    else (an ``if``/``def``/compound statement on a long line, ``;``, line continuations, other
    line endings or encodings than UTF-8 with ``\n``, a text CPython cannot parse, a last line
    without its newline) falls back.  Only for rewritten files: their text is libcst's printing
    of a tree it parsed from the original, with nodes the codemods built from libcst's own node
    types, which libcst parses back (the whole-module path returns the text unchanged when its
    parse fails; a file the run creates comes from a template, so it still goes that way)."""
    try:
        if _encoding(new) != "utf-8" or b"\r" in new or b"\\\n" in new or not new.endswith(b"\n"):
            return None
        text = new.decode("utf-8")
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None
    source_lines = text.split("\n")
    if len(source_lines) - 1 != len(text.splitlines()):
        return None  # a form feed or another character str.splitlines breaks lines at
    tree = parse_shared(new)
    if tree is None:
        return None
    starts: dict[int, list[ast.AST]] = collections.defaultdict(list)
    preceding: dict[ast.AST, ast.stmt] = {}
    for node in walk_ast(tree):
        if isinstance(node, ast.stmt) and node.lineno in lines:
            starts[node.lineno].append(node)
        if isinstance(node, ast.If) and node.test.lineno in lines:
            starts[node.test.lineno].append(node.test)
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                preceding.update(zip(block[1:], block))
    replacements: dict[int, str] = {}
    for number, nodes in starts.items():
        line = source_lines[number - 1]
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        (statement,) = nodes if len(nodes) == 1 else (None,)
        previous = source_lines[number - 2].strip() if number > 1 else ""
        if (
            not isinstance(statement, _SIMPLE)
            or statement.end_lineno != number
            or statement.col_offset != len(indent.encode())
        ):
            return None
        if not previous or previous.startswith("#"):
            if isinstance(preceding.get(statement), _SIMPLE):
                continue  # its blank and comment lines are its leading_lines: the wrapper leaves it
            return None  # they may be a block's footer, or the module's header
        try:
            node = parse_module(line[len(indent) :] + "\n", python_parses=False).body[0]
        except Exception:  # noqa: BLE001 - the whole-module path decides
            return None
        if not isinstance(node, cst.SimpleStatementLine):
            return None
        wrapper = _LongLineWrapper(lines, limit, {node: CodePosition(number, len(indent))})
        wrapped = wrapper.leave_SimpleStatementLine(node, node)
        if wrapped is not node:
            replacements[number] = "".join(indent + part for part in cst.Module(body=[wrapped]).code.splitlines(True))
    if not starts:
        return new  # what _may_wrap answers: no statement starts on a long line
    if not replacements:
        return new
    pieces = [replacements.get(number, line + "\n") for number, line in enumerate(source_lines[:-1], 1)]
    return "".join(pieces).encode("utf-8")


class _Statements(traversal.Visitor):
    """The nodes whose start _LongLineWrapper asks: every statement line, ``if`` (and its test)
    and ``def`` (and its name), found by the same visit (no statement is inside a simple one)."""

    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        self.nodes.append(node)
        return False

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> bool:
        return False

    def visit_If(self, node: cst.If) -> None:
        self.nodes += (node, node.test)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.nodes += (node, node.name)


def _asked_about(tree: cst.Module) -> list[cst.CSTNode]:
    statements = _Statements()
    tree.visit(statements)
    return statements.nodes


class _LongLineWrapper(cst.CSTTransformer):
    """Long new lines split where a statement line, an ``if`` test or a ``def`` starts on one.
    Nothing below a simple statement is visited: only whole statements are rewritten."""

    def __init__(self, lines: set[int], limit: int, positions: Mapping[cst.CSTNode, CodePosition]) -> None:
        super().__init__()
        self.lines = lines
        self.limit = limit
        self.positions = positions

    def _start(self, node: cst.CSTNode) -> CodePosition:
        """Where ``node`` (of the tree the positions were taken of) starts, as PositionProvider says."""
        return self.positions[node]

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        return False

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> bool:
        return False

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        position = self._start(original_node)
        if position.line not in self.lines or len(updated_node.body) != 1:
            return updated_node
        code = cst.Module(body=[updated_node]).code
        if code.count("\n") != 1:
            return updated_node  # already spans lines
        small = updated_node.body[0]
        call = _wrappable_value(small)
        if isinstance(small, cst.Assert) and not small.test.lpar and small.msg is None:
            # ``assert (`` / the test on its own indented line / ``)``
            test = small.test.with_changes(
                lpar=[cst.LeftParen(whitespace_after=_newline(1))], rpar=[cst.RightParen(whitespace_before=_newline(0))]
            )
            return updated_node.with_changes(body=[small.with_changes(test=test, whitespace_after_assert=cst.SimpleWhitespace(" "))])
        if call is None:
            return self._wrap_collection(updated_node, small, position.column)
        indent = position.column
        statement = updated_node
        for candidate in _call_splits(call):
            new_small = small.with_changes(value=_replace_value(small.value, call, candidate))
            statement = updated_node.with_changes(body=[new_small])
            rendered = cst.Module(body=[statement]).code
            if all(indent + len(line) <= self.limit for line in rendered.splitlines()):
                break
        return statement  # the last, most split form when none fits

    def _wrap_collection(
        self, line: cst.SimpleStatementLine, small: cst.BaseSmallStatement, indent: int
    ) -> cst.SimpleStatementLine:
        """``x = {...}`` / ``x = [...]`` over the limit: one element per line, as black writes it."""
        value = getattr(small, "value", None)
        if not isinstance(value, (cst.Dict, cst.List)) or not value.elements or value.lpar:
            return line
        elements = list(value.elements)
        exploded = [
            element.with_changes(comma=cst.Comma(whitespace_after=_newline(1 if index < len(elements) - 1 else 0)))
            for index, element in enumerate(elements)
        ]
        brackets = "lbrace" if isinstance(value, cst.Dict) else "lbracket"
        opening = getattr(value, brackets).with_changes(whitespace_after=_newline(1))
        return line.with_changes(
            body=[small.with_changes(value=value.with_changes(elements=exploded, **{brackets: opening}))]
        )

    def leave_If(self, original_node: cst.If, updated_node: cst.If) -> cst.If:
        """``if f(...):`` or ``if not f(...):`` over the limit: the call's arguments split."""
        header = self._start(original_node.test).line
        if header not in self.lines:
            return updated_node
        test = updated_node.test
        inner = test.expression if isinstance(test, cst.UnaryOperation) else test
        if not isinstance(inner, cst.Call) or not inner.args or inner.lpar:
            return updated_node
        indent = self._start(original_node).column
        result = updated_node
        for candidate in _splits(inner, 0):
            new_test = test.with_changes(expression=candidate) if test is not inner else candidate
            result = updated_node.with_changes(test=new_test)
            code = cst.Module(body=[result.with_changes(body=cst.SimpleStatementSuite([cst.Pass()]), orelse=None)]).code
            if all(indent + len(line) <= self.limit for line in code.splitlines()):
                break
        return result

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        """A new ``def`` line over the limit: its parameters split as black splits them."""
        header = self._start(original_node.name).line
        params = list(updated_node.params.params)
        if header not in self.lines or not params or updated_node.params.star_arg is not cst.MaybeSentinel.DEFAULT:
            return updated_node
        if updated_node.params.kwonly_params or updated_node.params.star_kwarg or updated_node.params.posonly_params:
            return updated_node
        indent = self._start(original_node).column
        function = updated_node
        for candidate in _parameter_splits(params):
            function = updated_node.with_changes(
                whitespace_before_params=_newline(1), params=updated_node.params.with_changes(params=candidate)
            )
            header_code = cst.Module(body=[function.with_changes(body=cst.SimpleStatementSuite([cst.Pass()]), decorators=[])]).code
            if all(indent + len(line) <= self.limit for line in header_code.splitlines()):
                break
        return function


# The plain visit hooks (codemods.speedups.traversal): this transformer walks the statements of
# a rewritten file, and uses no matcher decorators or attribute hooks.
traversal.install(_LongLineWrapper, cst.CSTTransformer)


def _parameter_splits(params: list[cst.Param]) -> list[list[cst.Param]]:
    """Every parameter on one indented line, then one parameter per line (with a trailing comma)."""
    hugged = [*params[:-1], params[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_param=_newline(0))]
    exploded = [
        param.with_changes(
            comma=cst.Comma(whitespace_after=_newline(1 if index < len(params) - 1 else 0)),
            whitespace_after_param=cst.SimpleWhitespace(""),
        )
        for index, param in enumerate(params)
    ]
    return [hugged, exploded]


def _call_splits(call: cst.Call) -> list[cst.Call]:
    """The splits of ``call``, and, for a method called on a call's result
    (``f(a, b).replace(c)``), the splits of that inner call first, as black prefers."""
    options = []
    func = call.func
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call) and func.value.args and not func.value.lpar:
        inner = func.value
        options += [call.with_changes(func=func.with_changes(value=split)) for split in _splits(inner, 0)]
    return [*options, *_splits(call, 0)]


def _wrappable_value(small: cst.BaseSmallStatement) -> cst.Call | None:
    """The call a statement line ends with: ``f(...)``, ``x = f(...)``, ``return await f(...)``."""
    if not isinstance(small, (cst.Expr, cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Return)):
        return None
    value = small.value
    if isinstance(value, cst.Await):
        value = value.expression
    if isinstance(value, cst.Call) and value.args and not value.lpar:
        return value
    return None


def _replace_value(value: cst.BaseExpression, call: cst.Call, new_call: cst.Call) -> cst.BaseExpression:
    if isinstance(value, cst.Await) and value.expression is call:
        return value.with_changes(expression=new_call)
    return new_call


def _newline(depth: int) -> cst.ParenthesizedWhitespace:
    """A line break inside brackets, continuing ``depth`` indents deeper than the statement."""
    return cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace(_INDENT * depth))


def _splits(call: cst.Call, depth: int) -> list[cst.Call]:
    """The ways black would split ``call``, best first: every argument on one indented line
    (unless a trailing comma asks for one per line), then one argument per line."""
    args = list(call.args)
    options = []
    if args[-1].comma is cst.MaybeSentinel.DEFAULT:
        hugged = [*args[:-1], args[-1].with_changes(whitespace_after_arg=_newline(depth))]
        options.append(call.with_changes(whitespace_before_args=_newline(depth + 1), args=hugged))
    exploded = [
        arg.with_changes(
            comma=cst.Comma(whitespace_after=_newline(depth + 1 if index < len(args) - 1 else depth)),
            whitespace_after_arg=cst.SimpleWhitespace(""),
        )
        for index, arg in enumerate(args)
    ]
    options.append(call.with_changes(whitespace_before_args=_newline(depth + 1), args=exploded))
    return options
