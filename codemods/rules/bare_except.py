"""The ``bare-except`` codemod: name the exception a bare ``except:`` catches."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import libcst as cst

from codemods.base import Codemod, Option
from codemods.analysis.loggers import (
    METADATA_DEPENDENCIES,
    LoggerUnavailable,
    LoggingStyle,
    ModuleLogger,
    TracksAncestors,
    enclosing_name,
    guards_optional_import,
    string_literal,
)
from codemods.analysis.precheck import SyntaxFacts

# Lint codes that only flag the bare except itself; they are dropped from the comment.
_BARE_EXCEPT_CODES = {"E722", "B001", "W0702", "bare-except"}
_NOQA = re.compile(r"#\s*noqa\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)(?P<rest>.*)$", re.IGNORECASE)
_PYLINT = re.compile(r"#\s*pylint\s*:\s*disable\s*=\s*(?P<codes>[\w-]+(?:\s*,\s*[\w-]+)*)(?P<rest>.*)$")
_BARE_EXCEPT_SOURCE = re.compile(rb"\bexcept[ \t\f]*(?:\\\r?\n[ \t\f]*)*:")
# Functions whose failure is an answer: a token that does not verify, text that does not parse,
# a key that is not found.  Their handler returning a fallback is expected, not an error.
_ANSWERING_VERBS = (
    "verify", "validate", "check", "is", "has", "can", "parse", "load", "loads", "decode", "deserialize",
    "lookup", "look", "find", "get", "fetch", "read", "resolve", "convert", "to", "try", "guess", "detect",
    "match", "confirm", "authenticate", "authorize", "coerce", "from", "as", "safe",
)  # fmt: skip
_LEVELS = ("auto", "debug", "info", "warning", "error", "exception")


class BareExcept(TracksAncestors, Codemod):
    """Name the exception a bare ``except:`` catches, and log errors it swallows.

    What it does:
        Rewrites ``except:`` to ``except BaseException:`` when the handler ends with a bare
        ``raise`` (it only cleans up and re-raises), and to ``except Exception:`` otherwise.
        A handler that swallows the error silently (its body is only ``pass``, ``continue``,
        ``break``, ``return``, ``...`` or assignments of plain fallback values) also gets a log
        call as its first statement, at a level that fits the handler (option ``log-level``,
        ``"auto"`` by default): a handler that turns an expected failure into an answer (it
        returns or assigns a fallback in a function that verifies, validates, checks, parses,
        loads, decodes, looks up, finds, gets, reads or converts something, or ``continue``s
        past one input item) logs ``logger.debug("Handled error in <function>",
        exc_info=True)``: visible when debugging, no ERROR record or error mail for every bad
        token a client sends.  An error swallowed with no answer (``pass``) logs
        ``logger.exception("Unexpected error in <function>")``.  A ``pass`` or ``...`` that
        only held the place of the log call is removed.

        The module's own logger is reused: ``NAME = logging.getLogger(...)``,
        ``structlog.get_logger()``, loguru's ``logger`` (``logger.opt(exception=True)`` for a
        traceback at debug level), or the project's logger imported by a logger's name
        (``from app.logging_setup import logger``); otherwise
        ``logger = logging.getLogger(__name__)`` is added after the imports.  Set
        ``log-swallowed = false`` to only name the exception.

        A ``# noqa: E722`` / ``B001`` or ``# pylint: disable=bare-except`` on the ``except`` line
        is removed (other codes on the same comment stay), since nothing left violates it.

    Why is this bad?
        A bare ``except:`` also catches ``KeyboardInterrupt``, ``SystemExit`` and
        ``GeneratorExit``: Ctrl-C is swallowed, ``sys.exit()`` does not exit, and a silently
        swallowed error leaves no trace to debug from.

    Example:
        ```python
        def load_config(path):
            try:
                return read(path)
            except:
                return {}


        def refresh(cache):
            try:
                cache.reload()
            except:
                pass
        ```

    Use instead:
        ```python
        def load_config(path):
            try:
                return read(path)
            except Exception:
                logger.debug("Handled error in load_config", exc_info=True)
                return {}


        def refresh(cache):
            try:
                cache.reload()
            except Exception:
                logger.exception("Unexpected error in refresh")
        ```

    Fix safety:
        ``except BaseException:`` followed by a bare ``raise`` is exactly equivalent to the
        bare handler.  ``except Exception:`` no longer catches ``KeyboardInterrupt``,
        ``SystemExit``, ``GeneratorExit`` and ``asyncio.CancelledError``: Ctrl-C and
        ``sys.exit()`` now stop the program, generators close normally and cancelled tasks stop,
        which is what the code almost always meant (code that really wants to survive those
        re-raises, and keeps ``BaseException``).  The added log call only writes a log record;
        the ``pass`` it replaces did nothing.  No ``as exc`` name is added: ``logger.exception`` and
        ``sys.exc_info()`` find the exception without one.

    Limitations:
        Handlers of a ``try`` whose body only imports (the optional-dependency idiom), or imports
        then sets flags to constants (``HAS_X = True``), are not logged: a missing optional
        package is expected, not an error.  No log call is added where the module logger
        cannot be called: at import time before the logger is defined, or
        where a local variable has the logger's name (a finding says so).  If ``Exception`` or
        ``BaseException`` is rebound in the module the handler is left alone, with a finding.
        Whether a failure is expected is read from the function's name and the handler's
        shape; a function named otherwise gets ``exception`` (set ``log-level`` to choose).
    """

    name = "bare-except"
    summary = "Rewrite bare `except:` to `except Exception:` (or `BaseException` when it re-raises)"
    safety = (
        "`except Exception:` no longer catches KeyboardInterrupt, SystemExit and GeneratorExit, so "
        "Ctrl-C and sys.exit() work again; a handler that re-raises keeps BaseException and is unchanged."
    )
    markers = (b"except:", b"except :")
    options = (
        Option(
            "log-swallowed",
            True,
            "add a log call to bare handlers that swallow the error silently",
            bool,
        ),
        Option(
            "log-level",
            "auto",
            'the level of the added log call: "auto" (debug with exc_info for an expected failure turned into '
            "an answer, exception otherwise) or a fixed level",
            str,
            choices=_LEVELS,
        ),
    )
    METADATA_DEPENDENCIES: ClassVar = METADATA_DEPENDENCIES

    @classmethod
    def applies_to(cls, source: bytes) -> bool:
        # The markers miss unusual spacing such as ``except\t:``; the pre-filter must not.  The
        # regular expression only runs on files that have an ``except`` at all.
        if b"except" not in source:
            return False
        return super().applies_to(source) or _BARE_EXCEPT_SOURCE.search(source) is not None

    @classmethod
    def may_change(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> bool:
        return facts.bare_except  # it only ever touches handlers without a type

    def visit_Module(self, node: cst.Module) -> None:
        self.logger = ModuleLogger(self.names)
        self.logger.scan(node)
        self.visit_only_statements_containing(node, lambda n: isinstance(n, ast.ExceptHandler) and n.type is None)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return self.logger.finish(updated_node, self.add_import)

    def leave_ExceptHandler(
        self, original_node: cst.ExceptHandler, updated_node: cst.ExceptHandler
    ) -> cst.ExceptHandler:
        if original_node.type is not None:
            return updated_node
        exception = "BaseException" if _ends_with_bare_raise(original_node.body) else "Exception"
        if self._is_rebound(original_node, exception):
            self.report(original_node, f"bare except: not rewritten, {exception!r} is rebound in this module", fixable=False)
            return updated_node
        new_node = updated_node.with_changes(
            type=cst.Name(exception),
            whitespace_after_except=cst.SimpleWhitespace(" "),
            body=_without_bare_except_suppression(updated_node.body),
        )
        message = f"bare except: → except {exception}:"
        if exception == "Exception" and self.option("log-swallowed") and self._swallows(original_node):
            try:
                logger_name = self.logger.name_at(original_node, self.ancestors)
            except LoggerUnavailable as reason:
                self.report(original_node, f"bare except swallows errors; no log call added: {reason}", fixable=False)
            else:
                level = self._level(original_node)
                new_node = new_node.with_changes(body=self._with_log_call(new_node.body, logger_name, level))
                message += f" + {logger_name}.{level}()"
        self.report(original_node, message)
        return new_node

    # -- decisions --------------------------------------------------------------------------------

    def _is_rebound(self, node: cst.CSTNode, name: str) -> bool:
        return self.names.is_rebound(node, name)

    def _swallows(self, handler: cst.ExceptHandler) -> bool:
        if not all(_is_silent(s) for s in _small_statements(handler.body)):
            return False
        return not guards_optional_import(self.ancestors[-2])  # the try statement

    def _level(self, handler: cst.ExceptHandler) -> str:
        """``debug`` for an expected failure the handler turns into an answer, else ``exception``."""
        fixed = self.option("log-level")
        if fixed != "auto":
            return fixed
        statements = _small_statements(handler.body)
        if any(isinstance(s, cst.Continue) for s in statements):
            return "debug"  # one input item skipped: the loop goes on with the others
        function = self._function()
        answers = (cst.Return, cst.Assign, cst.AnnAssign)  # a fallback value (silent: plain values only)
        answered = any(isinstance(s, answers) for s in statements) or self._returns_after_the_try()
        if function is not None and answered:
            words = function.name.value.lstrip("_").lower().split("_")
            if words[0] in _ANSWERING_VERBS:
                return "debug"  # verify_token() -> False: the caller asked a question, this is the answer
        return "exception"

    def _returns_after_the_try(self) -> bool:
        """``try: return int(v) except: pass`` then ``return 0``: the default is the answer."""
        if len(self.ancestors) < 3 or not isinstance(self.ancestors[-3], cst.IndentedBlock):
            return False
        block, try_node = self.ancestors[-3], self.ancestors[-2]
        position = next((i for i, s in enumerate(block.body) if s is try_node), None)
        if position is None or position + 1 >= len(block.body):
            return False
        following = block.body[position + 1]
        return isinstance(following, cst.SimpleStatementLine) and isinstance(following.body[0], cst.Return)

    def _function(self) -> cst.FunctionDef | None:
        return next((a for a in reversed(self.ancestors) if isinstance(a, cst.FunctionDef)), None)

    def _with_log_call(self, body: cst.BaseSuite, logger_name: str, level: str) -> cst.BaseSuite:
        where = enclosing_name(self.ancestors, self.file.module_name or self.file.path)
        log_line = cst.SimpleStatementLine([cst.Expr(self._log_call(logger_name, level, where))])
        if isinstance(body, cst.SimpleStatementSuite):
            # ``except: pass`` on one line becomes an indented block; its comment moves to the header.
            rest = [s for s in body.body if not _is_placeholder(s)]
            lines = [log_line, cst.SimpleStatementLine(rest)] if rest else [log_line]
            return cst.IndentedBlock(body=lines, header=body.trailing_whitespace)
        kept, comments = _without_placeholders(body.body)
        if not kept:  # ``pass  # why``: the comment now stands above the log call
            return body.with_changes(body=[log_line.with_changes(leading_lines=comments)])
        return body.with_changes(body=[log_line, *kept], footer=[*comments, *body.footer])

    def _log_call(self, logger_name: str, level: str, where: str) -> cst.Call:
        # Called without arguments, neither logging nor loguru formats the message: no escaping.
        text = f"Unexpected error in {where}" if level in ("exception", "error") else f"Handled error in {where}"
        receiver: cst.BaseExpression = cst.Name(logger_name)
        args = [cst.Arg(string_literal(text))]
        with_traceback = level != "exception"
        if with_traceback and self.logger.style is LoggingStyle.BRACE:  # loguru
            receiver = cst.parse_expression(f"{logger_name}.opt(exception=True)")
        elif with_traceback:
            args.append(cst.Arg(cst.Name("True"), keyword=cst.Name("exc_info"), equal=_EQUAL))
        return cst.Call(func=cst.Attribute(receiver, cst.Name(level)), args=args)


def _is_placeholder(statement: cst.BaseSmallStatement) -> bool:
    """``pass`` or ``...``: there only because the block needed a statement (the log call is one)."""
    return isinstance(statement, cst.Pass) or (isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Ellipsis))


def _without_placeholders(
    statements: Sequence[cst.BaseStatement],
) -> tuple[list[cst.BaseStatement], list[cst.EmptyLine]]:
    """``statements`` less the placeholders, and the comments of removed lines that no kept
    statement follows (each other comment moves above the statement after it)."""
    kept: list[cst.BaseStatement] = []
    carried: list[cst.EmptyLine] = []
    for statement in statements:
        if isinstance(statement, cst.SimpleStatementLine):
            rest = [s for s in statement.body if not _is_placeholder(s)]
            if not rest:
                carried.extend(statement.leading_lines)
                if statement.trailing_whitespace.comment is not None:
                    carried.append(cst.EmptyLine(comment=statement.trailing_whitespace.comment))
                continue
            if len(rest) != len(statement.body):
                rest[-1] = rest[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
                statement = statement.with_changes(body=rest)
        if carried:
            statement = statement.with_changes(leading_lines=[*carried, *statement.leading_lines])
            carried = []
        kept.append(statement)
    return kept, [line for line in carried if line.comment is not None]


def _small_statements(body: cst.BaseSuite) -> list[cst.CSTNode]:
    if isinstance(body, cst.SimpleStatementSuite):
        return list(body.body)
    statements: list[cst.CSTNode] = []
    for statement in body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            statements.append(statement)  # a compound statement is never silent
        else:
            statements.extend(statement.body)
    return statements


_EQUAL = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))


def _ends_with_bare_raise(body: cst.BaseSuite) -> bool:
    statements = _small_statements(body)
    return bool(statements) and isinstance(statements[-1], cst.Raise) and statements[-1].exc is None


_PLAIN_VALUE = (
    cst.Name, cst.Attribute, cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis
)


def _is_plain_value(node: cst.BaseExpression | None) -> bool:
    """A fallback value: a literal, a name, or an empty or literal container; never a call."""
    if node is None:
        return True
    if isinstance(node, _PLAIN_VALUE):
        return True
    if isinstance(node, cst.UnaryOperation) and isinstance(node.expression, (cst.Integer, cst.Float)):
        return True
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return all(isinstance(e, cst.Element) and _is_plain_value(e.value) for e in node.elements)
    if isinstance(node, cst.Dict):
        return all(
            isinstance(e, cst.DictElement) and _is_plain_value(e.key) and _is_plain_value(e.value)
            for e in node.elements
        )
    return False


def _is_silent(statement: cst.CSTNode) -> bool:
    """Statements that drop the error without a trace."""
    if isinstance(statement, (cst.Pass, cst.Continue, cst.Break, cst.Return)):
        return True
    if isinstance(statement, cst.Expr) and isinstance(statement.value, (cst.Ellipsis, cst.SimpleString)):
        return True
    if isinstance(statement, (cst.Assign, cst.AnnAssign)):
        return _is_plain_value(statement.value)
    return False


def _without_bare_except_suppression(body: cst.BaseSuite) -> cst.BaseSuite:
    """Drop lint codes that silenced the bare except from the comment on the ``except`` line."""
    trailing = body.header if isinstance(body, cst.IndentedBlock) else body.trailing_whitespace
    if trailing.comment is None:
        return body
    new_text = _strip_codes(trailing.comment.value)
    if new_text == trailing.comment.value:
        return body
    if new_text:
        new_trailing = trailing.with_changes(comment=cst.Comment(new_text))
    else:
        new_trailing = trailing.with_changes(comment=None, whitespace=cst.SimpleWhitespace(""))
    if isinstance(body, cst.IndentedBlock):
        return body.with_changes(header=new_trailing)
    return body.with_changes(trailing_whitespace=new_trailing)


def _strip_codes(comment: str) -> str:
    """``# noqa: E722, BLE001`` -> ``# noqa: BLE001``; ``# noqa: E722`` -> ``''``; other text stays."""
    for pattern, prefix, separator in ((_NOQA, "# noqa: ", ", "), (_PYLINT, "# pylint: disable=", ",")):
        found = pattern.search(comment)
        if found is None:
            continue
        codes = [c.strip() for c in found["codes"].split(",")]
        kept = [c for c in codes if c not in _BARE_EXCEPT_CODES]
        if len(kept) == len(codes):
            continue
        replacement = prefix + separator.join(kept) if kept else ""
        before = comment[: found.start()].rstrip()
        rest = found["rest"].strip()
        if not kept and not before and rest and not rest.startswith("#"):
            rest = "# " + rest.lstrip("-:; ")  # the explanation that followed the codes stays a comment
        comment = "  ".join(part for part in (before, replacement, rest) if part)
    return comment
