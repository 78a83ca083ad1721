"""The ``print-to-logging`` codemod: ``print()`` in library code becomes a module logger call."""

from __future__ import annotations

import ast
import dataclasses
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import libcst as cst

from codemods.analysis import interfaces, precheck
from codemods.analysis.logging_setup import INDEX_MARKERS as LOGGING_MARKERS
from codemods.analysis.logging_setup import FileLogging, LoggingSetup, file_logging, logging_setup
from codemods.analysis.format_specs import percent_spec
from codemods.analysis.nodes import dotted_name, is_name, mentions_name
from codemods.speedups import traversal
from codemods.base import Codemod, Option
from codemods.analysis.loggers import (
    METADATA_DEPENDENCIES,
    LoggerUnavailable,
    LoggingStyle,
    ModuleLogger,
    TracksAncestors,
    enclosing_name,
    guards_optional_import,
    logger_call,
    string_literal,
)
from codemods.analysis.paths import is_test_path
from codemods.analysis.precheck import SyntaxFacts, walk_ast

_ERROR_WORDS = {"error", "errors", "fail", "fails", "failed", "failure", "failures", "exception", "fatal", "critical"}
_WARNING_WORDS = {"warn", "warning", "warnings", "deprecated", "deprecation", "caution"}
_FIRST_WORD = re.compile(r"[\W_]*(?P<word>[A-Za-z]+)")
_PRINT_KEYWORDS = {"sep", "end", "file", "flush"}
# A prefix the level now carries: "Warning: x" logged at WARNING says "x".
_LEVEL_PREFIX = re.compile(r"(?i)(?P<word>warning|warn|error|fatal|critical)\s*(?::|!|-)\s+")
_PREFIX_LEVELS = {"warning": ("warning",), "warn": ("warning",), "error": ("error", "exception"),
                  "fatal": ("error", "exception", "critical"), "critical": ("error", "exception", "critical")}  # fmt: skip
# Exceptions a handler catching them expects nothing in particular: an unexpected error.
_BROAD_EXCEPTIONS = ("Exception", "BaseException", "builtins.Exception", "builtins.BaseException")
_DECORATION = re.compile(r"[-=*_#~+.\s]*")

# One conversion of a %-format string: %[flags][width][.precision][length]type
_PERCENT_CONVERSION = re.compile(
    r"%(?P<key>\([^)]*\))?(?P<spec>[-#0 +]*(?:\*|[0-9]+)?(?:\.(?:\*|[0-9]*))?[hlL]?(?P<type>[diouxXeEfFgGcrsa%]))"
)


class Decline(Exception):
    """This print cannot be converted exactly; the message says why."""


@dataclasses.dataclass(frozen=True)
class _Text:
    text: str


@dataclasses.dataclass(frozen=True)
class _Value:
    expr: cst.BaseExpression
    conversion: str | None = None  # "r", "s" or "a", from an f-string
    spec: str = ""  # an f-string format spec without nested fields
    percent: str = ""  # a conversion of a "..." % (...) operand, such as ".2f"
    # The f-string field this value came from, to fall back to f"{field}" when no placeholder fits.
    field: cst.FormattedStringExpression | None = None
    fstring: cst.FormattedString | None = None


_Piece = _Text | _Value


_PRINT_SOURCE = re.compile(rb"(?<![\w.])print[ \t]*\(|print_exc")


class PrintToLogging(TracksAncestors, Codemod):
    """Turn ``print()`` in library code into calls on the module logger.

    What it does:
        Rewrites a ``print(...)`` statement to ``logger.<level>(...)`` on the module logger
        (an existing ``logging.getLogger(...)`` or loguru logger is reused; otherwise
        ``logger = logging.getLogger(__name__)`` is added after the imports), with lazy
        formatting: ``print("Saved", n, "rows")`` becomes ``logger.info("Saved %s rows", n)``,
        ``print(f"Failed: {err!r}")`` becomes ``logger.error("Failed: %r", err)``.

        The level follows what the message says.  In an ``except`` handler it is ``exception``
        (with the traceback) only for an unexpected error: a bare ``except:`` or one catching
        ``Exception`` / ``BaseException``; a handler for specific exceptions is an expected
        fallback and logs ``warning`` (``error`` when the message starts with an error word), and
        the handler of a ``try`` that only imports (a missing optional package) uses the
        message's own level.  Otherwise ``error`` for a message starting with error / failed /
        failure / exception / fatal / critical, ``warning`` for one starting with warn / warning /
        caution (even on stderr), ``error`` for any other ``file=sys.stderr``, and ``info`` for
        the rest.  At ``exception`` level the caught exception at the end of the text is
        dropped (``logger.exception`` logs it, with its traceback: ``print(f"Failed: {exc}")``
        becomes ``logger.exception("Failed")``; a message that names it in mid-sentence stays
        as printed, at ``error`` level).  A ``Warning:`` / ``Error:`` prefix the level now
        carries is dropped, and ``repr(x)`` arguments become ``%r``.  ``traceback.print_exc()`` in a handler becomes
        ``logger.exception("Unexpected error in <function>")`` and an unused ``traceback``
        import is removed.

        Prints that are the program's interface stay, each with a finding that says why:
        modules that are command-line programs (a ``__main__`` guard or ``__main__.py``,
        ``manage.py``, argparse / optparse / click / typer / docopt / fire imports,
        ``sys.argv``, anything under ``scripts/``, ``bin/`` or ``tools/``), commands (functions
        decorated ``@app.cli.command``, ``@bp.cli.command``, ``@<AppGroup>.command``,
        ``@cli.command``, ``@click.option``..., functions passed to ``add_command``, methods of
        Django ``BaseCommand`` classes), prints right before a prompt (``input()``,
        ``getpass()``, ``click.confirm()``), and deprecation notices (which belong in
        ``warnings.warn(..., DeprecationWarning)``).  Migrations (Django ``migrations/``,
        Alembic ``versions/``) are never edited.  Empty ``print()`` and separator lines
        (``"-" * 40``) are left alone.

        Only prints whose output stays visible are converted: when no file of the project
        configures logging (``basicConfig``, ``dictConfig``, ``fileConfig``, ``addHandler``,
        ``setLevel``, Django's ``LOGGING``, ``structlog.configure``, Flask's ``app.logger``,
        loguru), nothing is converted and the project gets one finding (option
        ``assume-logging-configured = true`` converts anyway).

        Message text is preserved exactly: ``sep`` is honoured, ``%`` is escaped when arguments
        follow, ``{x!r}`` becomes ``%r``, ``{x=}`` becomes ``x=%r``, format specs that
        %-formatting renders identically (``.2f``, ``5d``, ``+.3e``, ``x``, ``>10s``...) become
        placeholders and any other spec keeps the value as ``f"{x:spec}"`` in a ``%s``.
        ``"..." % (a, b)`` is folded into the message when the operand is a tuple literal (or a
        literal that cannot be a tuple).  ``end`` (when only whitespace) and ``flush`` are
        dropped; comments inside the call move to the line above it.

    Why is this bad?
        Library code that prints cannot be silenced, filtered, routed or given a level, and
        output to stdout mixes with the application's own.  A logger lets the application
        decide, and lazy formatting costs nothing when the level is disabled.

    Example:
        ```python
        def sync(rows):
            print("Syncing", len(rows), "rows")
        ```

    Use instead:
        ```python
        import logging

        logger = logging.getLogger(__name__)


        def sync(rows):
            logger.info("Syncing %s rows", len(rows))
        ```

    Fix safety:
        The logged message text equals what ``print`` wrote (without the trailing newline), but
        where it goes changes: to the logging configuration instead of stdout, which is the
        point.  Code that relies on library output on stdout (doctests, output parsers) must
        configure a handler.  Format specs are translated only where %-formatting gives the same
        text for ``str``, ``int``, ``float`` and ``bool`` values; types with their own
        ``__format__`` for these specs (``Decimal`` rounding, for example) may render differently,
        as may ``{x}`` for types whose ``format(x, "")`` differs from ``str(x)`` (mixed-in enums
        before Python 3.12).  Prints that build one line over several calls (``end=""``) become
        one record each.

    Limitations:
        Left alone on purpose, without findings: test files (``test_*.py``, ``*_test.py``,
        ``conftest.py``, anything under ``tests/`` or ``test/``), modules that rebind ``print``, prints to another ``file=``,
        and prints used as a value (``x = print(...)``, ``lambda: print(x)``).  Declined with a
        finding: ``print(*args)`` / ``print(**kwargs)``, a ``sep`` / ``end`` / ``flush`` that is
        not a literal, and places where the module logger cannot be called.  Commands are
        recognised by their decorators and registrations in the same module; a function made
        a command elsewhere is converted.  Whether logging is configured is read from the text
        of the project's files, not from what runs.
    """

    name = "print-to-logging"
    summary = "Replace print() in library code with calls on the module logger"
    safety = (
        "Output moves from stdout to logging with the same text; code reading the library's stdout "
        "must configure a logging handler."
    )
    markers = (b"print(", b"print (", b"print_exc")
    options = (
        Option(
            "assume-logging-configured",
            False,
            "convert even when no file of the project configures logging (the records would reach no handler)",
            bool,
        ),
    )

    # -- the whole-tree pass: does the project configure logging anywhere? ---------------------

    index_markers = LOGGING_MARKERS

    @classmethod
    def index_file(cls, path: str, source: bytes) -> FileLogging:
        return file_logging(path, source)

    @classmethod
    def build_index(cls, facts: Mapping[str, Any], options: Mapping[str, Any]) -> LoggingSetup:
        return logging_setup(facts)

    @classmethod
    def applies_to(cls, source: bytes) -> bool:
        # ``pprint(``, ``self.print(`` and ``console.print(`` contain the markers but are not
        # the builtin; skipping those files saves a parse and a scope analysis each.
        return super().applies_to(source) and _PRINT_SOURCE.search(source) is not None

    @classmethod
    def may_change(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> bool:
        # Only whole-statement calls are converted: print(...), <module>.print_exc(), or a name
        # imported from traceback (print_exc, perhaps under an alias).
        names = facts.statement_call_names
        return "print" in names or "print_exc" in facts.statement_call_attributes or bool(names & facts.traceback_imports)
    METADATA_DEPENDENCIES: ClassVar = METADATA_DEPENDENCIES

    def visit_Module(self, node: cst.Module) -> bool:
        # Handlers whose printed exception a log call no longer repeats (see _without_unused_name).
        self._dropped_exception: set[cst.CSTNode] = set()
        self.logger = ModuleLogger(self.names)
        self.logger.scan(node)
        if self._leave_module_alone(node):
            return False
        self._interface = interfaces.command_reasons(node, self.names.qualified_names, self.file.source)
        traceback_names = _traceback_imports(self.file.source)
        self.visit_only_statements_containing(node, lambda n: _may_be_print_statement(n, traceback_names))
        return True

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return self.logger.finish(updated_node, self.add_import)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        body, comments = self._convert_statements(original_node.body, updated_node.body, comments_allowed=True)
        if body is None:
            return updated_node
        leading = [*updated_node.leading_lines, *(cst.EmptyLine(comment=c) for c in comments)]
        return updated_node.with_changes(body=body, leading_lines=leading)

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler, updated_node: cst.ExceptHandler) -> cst.ExceptHandler:
        return self._without_unused_name(original_node, updated_node)

    def leave_ExceptStarHandler(
        self, original_node: cst.ExceptStarHandler, updated_node: cst.ExceptStarHandler
    ) -> cst.ExceptStarHandler:
        return self._without_unused_name(original_node, updated_node)

    def _without_unused_name(self, original_node: Any, updated_node: Any) -> Any:
        """``except E as exc:`` loses ``as exc`` when the only use was a printed exception that the
        log call no longer repeats (a name bound and never read is a lint warning)."""
        if original_node not in self._dropped_exception or not isinstance(updated_node.name, cst.AsName):
            return updated_node
        name = updated_node.name.name
        if not isinstance(name, cst.Name) or mentions_name(updated_node.body, name.value):
            return updated_node
        return updated_node.with_changes(name=None)

    def leave_SimpleStatementSuite(
        self, original_node: cst.SimpleStatementSuite, updated_node: cst.SimpleStatementSuite
    ) -> cst.SimpleStatementSuite:
        body, _ = self._convert_statements(original_node.body, updated_node.body, comments_allowed=False)
        return updated_node if body is None else updated_node.with_changes(body=body)

    # -- module-level decisions -------------------------------------------------------------------

    def _leave_module_alone(self, module: cst.Module) -> bool:
        """Tests print on purpose; command-line programs and migrations are declined with one
        finding; a rebound print is not the builtin; nothing converts where logging is not set up."""
        if is_test_path(self.file.path):
            return True
        reason = interfaces.path_reason(self.file.path, self.file.source)
        if reason is None:
            reason = interfaces.program_reason(module, self.file.source)
        if reason is not None:
            self._report_once(module, f"print() not converted: {reason}")
            return True
        if self.names.bound_anywhere("print"):
            return True
        setup = self.file.index
        if isinstance(setup, LoggingSetup) and setup.configured_by is None and not self.option("assume-logging-configured"):
            if setup.reporter == self.file.path:
                self._report_once(
                    module,
                    "print() not converted anywhere: the project configures no logging (no basicConfig, "
                    "dictConfig or fileConfig, no handler, no level, no framework logger), so the converted "
                    "prints would show nothing below WARNING; configure logging, or set "
                    "assume-logging-configured = true",
                )
            return True
        return False

    def _report_once(self, module: cst.Module, message: str) -> None:
        """One finding for the module, at its first print (a module without one gets none)."""
        first = next(interfaces.all_print_calls(module), None)
        if first is not None:
            self.report(first, message, fixable=False)

    # -- statements -------------------------------------------------------------------------------

    def _convert_statements(
        self,
        originals: Sequence[cst.BaseSmallStatement],
        updated: Sequence[cst.BaseSmallStatement],
        *,
        comments_allowed: bool,
    ) -> tuple[list[cst.BaseSmallStatement] | None, list[cst.Comment]]:
        new_body = list(updated)
        all_comments: list[cst.Comment] = []
        changed = False
        for position, original in enumerate(originals):
            if not (isinstance(original, cst.Expr) and isinstance(original.value, cst.Call)):
                continue
            try:
                converted = self._convert_call(original.value, comments_allowed)
                if converted is None:
                    continue
                call, comments, message = converted
            except Decline as reason:
                self.report(original.value, f"print() not converted: {reason}", fixable=False)
                continue
            new_body[position] = updated[position].with_changes(value=call)
            all_comments.extend(comments)
            self.report(original.value, message)
            changed = True
        return (new_body if changed else None), all_comments

    def _convert_call(
        self, call: cst.Call, comments_allowed: bool
    ) -> tuple[cst.Call, list[cst.Comment], str] | None:
        """The logger call, the comments to move above it and the finding's message; None when
        ``call`` is left alone; raises Decline.  The logger is asked for last, once the
        conversion is certain, because asking for a new one creates it."""
        if is_name(call.func, "print"):
            return self._convert_print(call, comments_allowed)
        if self._is_print_exc(call):
            return self._convert_print_exc(call, comments_allowed)
        return None

    # -- print() ----------------------------------------------------------------------------------

    def _convert_print(self, call: cst.Call, comments_allowed: bool) -> tuple[cst.Call, list[cst.Comment], str] | None:
        file_arg = next((a for a in call.args if is_name(a.keyword, "file")), None)
        stream = self._stream(file_arg)
        if stream is None:
            return None  # printing to a file or buffer is not console output
        if id(call) in self._interface:
            raise Decline(self._interface[id(call)])
        positional, keywords = _split_arguments(call)
        if not positional or (len(positional) == 1 and _is_decoration(positional[0].value)):
            return None  # a blank line or a separator: layout for a reader of the output, not a message
        if "deprecat" in _leading_text(positional[0].value).lower():
            raise Decline(
                "a deprecation notice; it should be warnings.warn(..., DeprecationWarning), which the caller can see"
            )
        sep = _literal_keyword(keywords.get("sep"), "sep", default=" ")
        end = _literal_keyword(keywords.get("end"), "end", default="\n")
        _check_flush(keywords.get("flush"))
        style = self.logger.style
        pieces: list[_Piece] = []
        repr_free = not self.names.bound_anywhere("repr")
        for index, arg in enumerate(positional):
            if index:
                pieces.append(_Text(sep))
            pieces.extend(_pieces_of(arg.value, style, repr_free))
        if end.strip():
            pieces.append(_Text(end.rstrip("\r\n")))  # printed text, not just the line break
        level = self._level(positional, stream)
        written_as_one = len(pieces) == 1
        merged = _merged(pieces)
        as_printed = list(merged)
        if level == "exception":
            # logger.exception logs the exception with its traceback: not a second time in the text.
            caught = self._caught_name()
            shorter = _without_caught_exception(merged, caught)
            if len(shorter) < len(merged) or not shorter:
                self._dropped_exception.add(self._handler_around()[0])
            merged = shorter
            if any(isinstance(p, _Value) and is_name(p.expr, caught or "") for p in merged):
                level = "error"  # the exception is part of the sentence: the text as printed, no traceback
            if not merged:  # print(exc): the traceback says it all
                where = enclosing_name(self.ancestors, self.file.module_name or self.file.path)
                merged = [_Text(f"Unexpected error in {where}")]
            pieces = [piece for piece in pieces if not isinstance(piece, _Value) or piece in merged]
        unprefixed = _without_level_prefix(merged, level)
        message, arguments = _render(unprefixed, style)
        if style is LoggingStyle.EVENT and arguments:
            raise Decline(
                "the module logger is structlog's: it logs an event and key-value pairs, not formatted text; "
                "convert by hand"
            )
        reused = [piece.expr for piece in pieces if isinstance(piece, _Value)]
        literal = _string_value(positional[0].value) if len(positional) == 1 else None
        if written_as_one and literal is not None and unprefixed == as_printed:
            # print("...") keeps its literal as written (quotes, triple quotes, escapes, comments).
            message = positional[0].value
            reused.append(message)
        comments = _comments_to_move(call, reused, comments_allowed)
        logger_name = self._logger_name(call)
        if file_arg is not None:
            self._remove_stream_import(file_arg.value)
        new_call = logger_call(call, logger_name, level, [message, *arguments])
        return new_call, comments, f"print() → {logger_name}.{level}()"

    def _stream(self, file_arg: cst.Arg | None) -> str | None:
        """"stdout" or "stderr" for console output, None for any other file."""
        if file_arg is None or is_name(file_arg.value, "None"):
            return "stdout"
        names = self.names.refers_to(file_arg.value, ("sys.stderr", "sys.stdout"))
        if "sys.stderr" in names:
            return "stderr"
        if "sys.stdout" in names:
            return "stdout"
        return None

    def _remove_stream_import(self, stream: cst.BaseExpression) -> None:
        """``import sys`` / ``from sys import stderr`` go when the dropped file= was their last use."""
        if isinstance(stream, cst.Attribute) and isinstance(stream.value, cst.Name):
            alias = stream.value.value
            self.remove_import("sys", asname=None if alias == "sys" else alias)
        elif isinstance(stream, cst.Name) and stream.value != "None":
            for qualified in self.names.qualified_names(stream):
                obj = qualified.rsplit(".", 1)[-1]
                self.remove_import("sys", obj, asname=None if stream.value == obj else stream.value)

    def _level(self, positional: Sequence[cst.Arg], stream: str) -> str:
        handler, try_node = self._handler_around()
        first = _FIRST_WORD.match(_leading_text(positional[0].value)) if positional else None
        word = first["word"].lower() if first else ""
        if handler is not None and not guards_optional_import(try_node):  # an optional package is expected
            if self._catches_anything(handler):
                return "exception"  # an unexpected error: its traceback is what a reader needs
            # ``except ValueError: print("not a number, using 0")``: an expected failure, handled
            return "error" if word in _ERROR_WORDS else "warning"
        if word in _ERROR_WORDS:
            return "error"
        if word in _WARNING_WORDS:
            return "warning"  # also on stderr: the text says what it is
        return "error" if stream == "stderr" else "info"

    def _caught_name(self) -> str | None:
        """The name the enclosing handler binds its exception to (``except E as exc``)."""
        handler = self._handler_around()[0]
        name = getattr(handler, "name", None)
        if isinstance(name, cst.AsName) and isinstance(name.name, cst.Name):
            return name.name.value
        return None

    def _catches_anything(self, handler: cst.CSTNode) -> bool:
        """A bare ``except:`` or one catching ``Exception`` / ``BaseException``."""
        kind = getattr(handler, "type", None)
        if kind is None:
            return True
        kinds = [e.value for e in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
        return any(
            dotted_name(k) in _BROAD_EXCEPTIONS or self.names.refers_to(k, _BROAD_EXCEPTIONS) for k in kinds
        )

    def _handler_around(self) -> tuple[cst.CSTNode | None, cst.CSTNode | None]:
        """The except handler (and its try) handling an exception while the current statement runs."""
        pairs = list(itertools.pairwise(self.ancestors))
        for position in range(len(pairs) - 1, -1, -1):
            parent, child = pairs[position]
            if isinstance(parent, (cst.FunctionDef, cst.Lambda)) and child is parent.body:
                return None, None  # runs when called, not while the handler runs
            if isinstance(parent, (cst.ExceptHandler, cst.ExceptStarHandler)) and child is parent.body:
                return parent, self.ancestors[position - 1] if position else None
        return None, None

    def _logger_name(self, node: cst.CSTNode) -> str:
        try:
            return self.logger.name_at(node, self.ancestors)
        except LoggerUnavailable as reason:
            raise Decline(str(reason)) from None

    # -- traceback.print_exc() --------------------------------------------------------------------

    def _is_print_exc(self, call: cst.Call) -> bool:
        return bool(self.names.refers_to(call.func, ("traceback.print_exc",)))

    def _convert_print_exc(
        self, call: cst.Call, comments_allowed: bool
    ) -> tuple[cst.Call, list[cst.Comment], str] | None:
        if self._handler_around()[0] is None:
            return None  # outside a handler it prints "NoneType: None"; nothing to log
        for arg in call.args:
            if not (is_name(arg.keyword, "file") and self._stream(arg) == "stderr"):
                raise Decline("print_exc() with limit/chain/file arguments; convert by hand")
        comments = _comments_to_move(call, [], comments_allowed)
        logger_name = self._logger_name(call)
        where = enclosing_name(self.ancestors, self.file.module_name or self.file.path)
        new_call = logger_call(call, logger_name, "exception", [string_literal(f"Unexpected error in {where}")])
        self._remove_traceback_import(call.func)
        return new_call, comments, f"traceback.print_exc() → {logger_name}.exception()"

    def _remove_traceback_import(self, func: cst.BaseExpression) -> None:
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            alias = func.value.value
            self.remove_import("traceback", asname=None if alias == "traceback" else alias)
        elif isinstance(func, cst.Name):
            self.remove_import("traceback", "print_exc", asname=None if func.value == "print_exc" else func.value)


# -- what the module is -------------------------------------------------------------------------


def _traceback_imports(source: bytes) -> set[str]:
    """Names any ``from traceback import ...`` of the text binds (print_exc, perhaps aliased)."""
    tree = precheck.parse_shared(source) if source else None
    if tree is None:
        return set()
    return {
        alias.asname or alias.name
        for node in walk_ast(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "traceback"
        for alias in node.names
    }


def _may_be_print_statement(node: ast.AST, traceback_names: set[str]) -> bool:
    """A CPython node this codemod might convert: a statement calling print, X.print_exc, or a
    name imported from traceback."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    func = node.value.func
    if isinstance(func, ast.Name):
        return func.id == "print" or func.id in traceback_names
    return isinstance(func, ast.Attribute) and func.attr == "print_exc"


def _is_decoration(node: cst.BaseExpression) -> bool:
    """``"-" * 40``, ``"=" * width`` or ``"----------"``: a separator line."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply):
        node = node.left if isinstance(node.left, (cst.SimpleString, cst.ConcatenatedString)) else node.right
    text = _string_value(node)
    return text is not None and _DECORATION.fullmatch(text) is not None


def _without_level_prefix(pieces: list[_Piece], level: str) -> list[_Piece]:
    """``Warning: `` / ``Error: `` dropped from the start of the message when the level says it."""
    if not pieces or not isinstance(pieces[0], _Text):
        return pieces
    found = _LEVEL_PREFIX.match(pieces[0].text)
    if found is None or level not in _PREFIX_LEVELS[found["word"].lower()]:
        return pieces
    rest = pieces[0].text[found.end() :]
    if not rest and len(pieces) == 1:
        return pieces
    return ([_Text(rest)] if rest else []) + pieces[1:]


# -- arguments of print() -----------------------------------------------------------------------


def _split_arguments(call: cst.Call) -> tuple[list[cst.Arg], dict[str, cst.Arg]]:
    positional: list[cst.Arg] = []
    keywords: dict[str, cst.Arg] = {}
    for arg in call.args:
        if arg.star:
            raise Decline(f"print({arg.star}...) unpacks arguments; convert by hand")
        if arg.keyword is None:
            positional.append(arg)
        elif arg.keyword.value in _PRINT_KEYWORDS:
            keywords[arg.keyword.value] = arg
        else:
            raise Decline(f"unknown print() argument {arg.keyword.value!r}")
    return positional, keywords


def _literal_keyword(arg: cst.Arg | None, name: str, *, default: str) -> str:
    if arg is None or is_name(arg.value, "None"):
        return default
    text = _string_value(arg.value)
    if text is None:
        raise Decline(f"{name}= is not a string literal")
    return text


def _check_flush(arg: cst.Arg | None) -> None:
    """``flush`` is dropped, so evaluating it must not matter."""
    if arg is not None and not isinstance(arg.value, (cst.Name, cst.Integer)):
        raise Decline("flush= is an expression that would no longer be evaluated")


def _string_value(node: cst.BaseExpression) -> str | None:
    """The value of a str literal (not bytes, not an f-string), or None."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _leading_text(node: cst.BaseExpression) -> str:
    """The literal text a message starts with, as far as it is known."""
    text = _string_value(node)
    if text is not None:
        return text
    if isinstance(node, cst.FormattedString):
        leading = []
        for part in node.parts:
            if not isinstance(part, cst.FormattedStringText):
                break
            leading.append(part.value)
        return "".join(leading)
    if isinstance(node, cst.ConcatenatedString):
        return _leading_text(node.left)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Modulo, cst.Add)):
        return _leading_text(node.left)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
        return _leading_text(node.func.value)
    return ""


def _pieces_of(node: cst.BaseExpression, style: LoggingStyle, repr_free: bool = False) -> list[_Piece]:
    """The text and values one print() argument contributes to the message.

    ``repr_free``: ``repr`` is the builtin, so ``repr(x)`` is ``x`` with a ``%r`` placeholder."""
    text = _string_value(node)
    if text is not None:
        return [_Text(text)]
    if isinstance(node, cst.FormattedString):
        pieces = _fstring_pieces(node)
        return [_unrepr(p) if repr_free else p for p in pieces]
    if isinstance(node, cst.ConcatenatedString) and not _is_bytes(node):
        return _pieces_of(node.left, style, repr_free) + _pieces_of(node.right, style, repr_free)
    if repr_free and _repr_argument(node) is not None:
        return [_Value(_repr_argument(node), conversion="r")]
    if style is LoggingStyle.PERCENT and isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        folded = _percent_operation_pieces(node)
        if folded is not None:
            return folded
    return [_Value(node)]


def _repr_argument(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """``x`` of ``repr(x)``."""
    if isinstance(node, cst.Call) and is_name(node.func, "repr") and len(node.args) == 1:
        arg = node.args[0]
        if arg.keyword is None and not arg.star:
            return arg.value
    return None


def _unrepr(piece: _Piece) -> _Piece:
    """``f"{repr(x)}"`` is ``f"{x!r}"``."""
    if isinstance(piece, _Value) and piece.conversion is None and not piece.spec and piece.field is None:
        inner = _repr_argument(piece.expr)
        if inner is not None:
            return dataclasses.replace(piece, expr=inner, conversion="r")
    return piece


def _is_bytes(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.ConcatenatedString):
        return _is_bytes(node.left)
    return isinstance(node, cst.SimpleString) and "b" in node.prefix.lower()


def _fstring_pieces(node: cst.FormattedString) -> list[_Piece]:
    pieces: list[_Piece] = []
    prefix = node.prefix.lower().replace("f", "")
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            pieces.append(_Text(_fstring_text(part.value, prefix, node.quote)))
            continue
        conversion = part.conversion
        if part.equal is not None:
            equal = part.equal
            source = (
                part.whitespace_before_expression.value
                + cst.Module([]).code_for_node(part.expression)
                + part.whitespace_after_expression.value
                + equal.whitespace_before.value
                + "="
                + equal.whitespace_after.value
            )
            pieces.append(_Text(source))
            if conversion is None and part.format_spec is None:
                conversion = "r"  # f"{x=}" shows repr(x)
        spec = _plain_spec(part.format_spec)
        pieces.append(
            _Value(
                part.expression,
                conversion=conversion,
                spec=spec if spec is not None else "",
                field=part if spec is None else None,
                fstring=node,
            )
        )
    return pieces


def _fstring_text(raw: str, prefix: str, quote: str) -> str:
    """The value of a literal part of an f-string, as written between the quotes."""
    unescaped_braces = raw.replace("{{", "{").replace("}}", "}")
    try:
        value = ast.literal_eval(f"{prefix}{quote}{unescaped_braces}{quote}")
    except (SyntaxError, ValueError):
        raise Decline("an f-string literal part auditfix cannot read") from None
    if not isinstance(value, str):
        raise Decline("an f-string literal part auditfix cannot read")
    return value


def _plain_spec(spec: Sequence[cst.BaseFormattedStringContent] | None) -> str | None:
    """The format spec text, or None when it has nested fields such as ``{x:{width}}``."""
    if spec is None:
        return ""
    if all(isinstance(p, cst.FormattedStringText) for p in spec):
        text = "".join(p.value for p in spec)
        return None if any(c in text for c in "\\{}") else text
    return None


def _percent_operation_pieces(node: cst.BinaryOperation) -> list[_Piece] | None:
    """``"a %s b %d" % (x, y)`` as pieces, when logging's own %-formatting gives the same text."""
    template = _string_value(node.left)
    if template is None:
        return None
    right = node.right
    if isinstance(right, cst.Tuple):
        if not all(isinstance(e, cst.Element) for e in right.elements):
            return None
        values = [e.value for e in right.elements]
    elif _cannot_be_tuple_or_mapping(right):
        values = [right]
    else:
        return None  # a name could hold a tuple or a dict: "%s" % name differs from logging's args
    pieces: list[_Piece] = []
    position = 0
    consumed = 0
    for found in _PERCENT_CONVERSION.finditer(template):
        if found.start() != template.find("%", position):
            return None  # a % that starts no valid conversion: the original raises
        pieces.append(_Text(template[position : found.start()]))
        position = found.end()
        if found["type"] == "%":
            if found["spec"] != "%":
                return None
            pieces.append(_Text("%"))
            continue
        if found["key"] is not None or "*" in found["spec"] or consumed >= len(values):
            return None
        pieces.append(_Value(values[consumed], percent=found["spec"]))
        consumed += 1
    if "%" in template[position:] or consumed != len(values):
        return None
    pieces.append(_Text(template[position:]))
    return pieces


def _cannot_be_tuple_or_mapping(node: cst.BaseExpression) -> bool:
    return isinstance(
        node,
        (
            cst.SimpleString,
            cst.ConcatenatedString,
            cst.FormattedString,
            cst.Integer,
            cst.Float,
            cst.Imaginary,
            cst.List,
            cst.Set,
            cst.ListComp,
            cst.SetComp,
        ),
    )


_SEPARATOR_TAIL = re.compile(r"[\s:;,\-–—=>(\[]*$")


def _without_caught_exception(pieces: list[_Piece], name: str | None) -> list[_Piece]:
    """``pieces`` without the caught exception when the message ends with it (``f"Failed: {exc}"``
    becomes ``"Failed"``; logger.exception adds the exception and its traceback), and without
    the separator text before it; empty when the exception was the whole message.  An exception
    in the middle of the text stays (dropping it would leave a sentence with a hole): the
    caller logs that text at ``error`` level, as printed, without a traceback."""
    if name is None:
        return pieces
    end = len(pieces)
    while end and isinstance(pieces[end - 1], _Text) and not _SEPARATOR_TAIL.sub("", pieces[end - 1].text.strip(" .)]!")):
        end -= 1  # closing punctuation after the exception: "failed ({exc})."
    last = pieces[end - 1] if end else None
    if not (isinstance(last, _Value) and is_name(last.expr, name)):
        return pieces
    kept = list(pieces[: end - 1])
    if kept and isinstance(kept[-1], _Text):
        text = _SEPARATOR_TAIL.sub("", kept[-1].text)
        kept[-1:] = [_Text(text)] if text else []
    return kept


def _merged(pieces: list[_Piece]) -> list[_Piece]:
    merged: list[_Piece] = []
    for piece in pieces:
        if isinstance(piece, _Text) and merged and isinstance(merged[-1], _Text):
            merged[-1] = _Text(merged[-1].text + piece.text)
        elif not (isinstance(piece, _Text) and not piece.text):
            merged.append(piece)
    return merged


# -- the message --------------------------------------------------------------------------------


def _render(pieces: list[_Piece], style: LoggingStyle) -> tuple[cst.BaseExpression, list[cst.BaseExpression]]:
    """The message expression and the arguments that the logger formats into it."""
    values = [p for p in pieces if isinstance(p, _Value)]
    if not values:
        # Without arguments neither logging nor loguru formats the message: no escaping.
        return string_literal("".join(p.text for p in pieces if isinstance(p, _Text))), []
    if style is LoggingStyle.PERCENT and len(pieces) == 1 and _is_plain(pieces[0]):
        return _as_argument(pieces[0].expr, sole=True), []  # print(message) -> logger.info(message): str(message), unformatted
    template = []
    arguments = []
    for piece in pieces:
        if isinstance(piece, _Text):
            template.append(_escape(piece.text, style))
            continue
        placeholder = _placeholder(piece, style)
        if placeholder is None:
            placeholder = "%s" if style is LoggingStyle.PERCENT else "{}"
            arguments.append(_single_field_fstring(piece))
        else:
            arguments.append(_as_argument(piece.expr))
        template.append(placeholder)
    return string_literal("".join(template)), arguments


def _as_argument(expr: cst.BaseExpression, *, sole: bool = False) -> cst.BaseExpression:
    """``expr`` as a call argument: ``f"{a, b}"`` holds a bare tuple, and a generator written as
    ``print(x for x in y)`` needs its own parentheses once other arguments come first."""
    needs_parentheses = (cst.Tuple,) if sole else (cst.Tuple, cst.GeneratorExp)
    if isinstance(expr, needs_parentheses) and not expr.lpar:
        return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return expr


def _is_plain(piece: _Piece) -> bool:
    return isinstance(piece, _Value) and piece.conversion in (None, "s") and not piece.spec and not piece.percent


def _escape(text: str, style: LoggingStyle) -> str:
    if style is LoggingStyle.PERCENT:
        return text.replace("%", "%%")
    return text.replace("{", "{{").replace("}", "}}")


def _placeholder(piece: _Value, style: LoggingStyle) -> str | None:
    if piece.field is not None:
        return None  # nested format spec
    if style is LoggingStyle.BRACE:
        conversion = f"!{piece.conversion}" if piece.conversion else ""
        spec = f":{piece.spec}" if piece.spec else ""
        return "{" + conversion + spec + "}"
    if piece.percent:
        return "%" + piece.percent
    if not piece.spec:
        return "%" + (piece.conversion or "s")
    translated = percent_spec(piece.spec, piece.conversion)
    return None if translated is None else "%" + translated


def _single_field_fstring(piece: _Value) -> cst.BaseExpression:
    """``f"{x:spec}"`` for a value whose spec no placeholder renders the same way."""
    field = piece.field
    if field is None:
        spec = [cst.FormattedStringText(piece.spec)] if piece.spec else None
        field = cst.FormattedStringExpression(piece.expr, conversion=piece.conversion, format_spec=spec)
    else:
        field = field.with_changes(equal=None)
    assert piece.fstring is not None
    start = piece.fstring.start
    return cst.FormattedString(parts=[field], start=start, end=piece.fstring.end)


class _CommentCollector(traversal.Visitor):
    def __init__(self, kept: Sequence[cst.CSTNode]) -> None:
        self.kept = {id(node) for node in kept}
        self.comments: list[cst.Comment] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.kept:
            return False  # this expression is reused whole, with its comments
        if isinstance(node, cst.Comment):
            self.comments.append(node)
        return True


def _comments_to_move(call: cst.Call, kept: Sequence[cst.CSTNode], comments_allowed: bool) -> list[cst.Comment]:
    """Comments in ``call`` that the rebuilt call would lose: they move above the statement,
    which a one-line block (``if x: print(...)``) does not have."""
    collector = _CommentCollector(kept)
    call.visit(collector)
    if collector.comments and not comments_allowed:
        raise Decline("comments inside a one-line block's print(); convert by hand")
    return collector.comments
