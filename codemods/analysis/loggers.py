"""The module logger the logging codemods call: an existing one reused, or one created once.

``bare-except`` and ``print-to-logging`` both need a logger to call.  A codemod owns one
:class:`ModuleLogger`: it calls :meth:`ModuleLogger.scan` from ``visit_Module``,
:meth:`ModuleLogger.name_at` for every call it is about to write (which returns the name to
use, or :class:`LoggerUnavailable` with the reason it cannot be used there), and
:meth:`ModuleLogger.finish` from ``leave_Module``, which adds ``import logging`` and
``logger = logging.getLogger(__name__)`` if a new logger was used.

An existing logger is a module-level ``NAME = logging.getLogger(...)`` (however ``logging`` or
``getLogger`` is imported), ``NAME = structlog.get_logger(...)``, ``from loguru import logger``
or the project's own logger imported by a logger's name (``from app.logging_setup import
logger``), bound exactly once in the module.
A new logger is placed right after the module's import header (docstring, ``__future__`` and
other imports, ``if TYPE_CHECKING:`` blocks, ``try: import ... except ImportError:`` blocks,
dunder assignments such as ``__all__``), which is never before the place libcst's
AddImportsVisitor puts ``import logging``.  Because the codemods run one after the other over
the same tree, the second one finds the logger the first one created and reuses it.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import itertools
from collections.abc import Callable, Iterator, Sequence

import libcst as cst

from codemods.analysis.names import Names
from codemods.analysis.nodes import is_import_line, is_name
from codemods.analysis.precheck import statements_without

# What a codemod using ModuleLogger must declare in METADATA_DEPENDENCIES: nothing.  The
# ancestors come from TracksAncestors; what names mean comes from the codemod's Names, which
# computes libcst's scopes only for a question the cheap name facts cannot decide.
METADATA_DEPENDENCIES = ()

# Existing loggers with these names win, in this order; then the first one in the file.
PREFERRED_NAMES = ("logger", "log", "_logger", "LOGGER", "_log", "LOG", "_LOGGER")
# Receivers of logging calls: a module logger by any preferred name, the logging module, and the
# loggers of objects and apps.
LOG_RECEIVERS = (*PREFERRED_NAMES, "logging", "self.logger", "self.log", "current_app.logger", "app.logger")
# A new logger takes the first of these names that the module does not use anywhere.
NEW_LOGGER_NAMES = ("logger", "_logger", "log", "_log", "module_logger", "_module_logger")

_STRUCTLOG_FACTORIES = ("structlog.get_logger", "structlog.getLogger", "structlog.stdlib.get_logger")

_NEW_LOGGER_STATEMENT = "logger = logging.getLogger(__name__)\n"


class LoggingStyle(enum.Enum):
    """How the logger formats its arguments into the message."""

    PERCENT = "percent"  # the standard library: msg % args, only when args are given
    BRACE = "brace"  # loguru: msg.format(*args), only when args are given
    EVENT = "event"  # structlog: an event name and key-value pairs; positional args are not formatted


class LoggerUnavailable(Exception):
    """The module logger cannot be called at this place; the message says why."""


@dataclasses.dataclass(frozen=True)
class _Candidate:
    name: str
    index: int  # position of the defining statement in the module body
    style: LoggingStyle
    uses_module_name: bool  # getLogger(__name__), or loguru's logger


class ModuleLogger:
    """Finds the module logger of one file, or plans and (when used) creates one."""

    def __init__(self, names: Names) -> None:
        self._names = names
        self.name = ""
        self.style = LoggingStyle.PERCENT
        self.created = False  # True when finish() must add the logger
        self._defined_at = 0  # module-level code before this body index cannot call the logger
        self._insert_at = 0
        self._logging_alias = "logging"
        self._logging_imported = False  # a module-level "import logging" (unaliased) exists
        self._unavailable_reason = ""
        self._used = False

    # -- what the codemod calls -----------------------------------------------------------------

    def scan(self, module: cst.Module) -> None:
        """Decide which logger this file uses; call from ``visit_Module`` with the original tree."""
        existing = self._existing_logger(module)
        if existing is not None:
            self.name, self.style = existing.name, existing.style
            self._defined_at = existing.index + 1
            return
        self.created = True
        self.name = next((n for n in NEW_LOGGER_NAMES if not self._names.in_use(n)), "")
        if not self.name:
            self._unavailable_reason = "every name auditfix would give a new module logger is already in use"
            return
        alias = self._logging_module_alias(module)
        if alias is None:
            self._unavailable_reason = "the name 'logging' is bound to something other than the logging module"
            return
        self._logging_alias = alias
        self._insert_at = _creation_index(module)
        # Import-time code inside the header (an optional-import fallback that logs) moves the new
        # logger up, but never above the place "import logging" is or will be.
        self._defined_at = _earliest_creation_index(module)

    def name_at(self, original_node: cst.CSTNode, ancestors: Sequence[cst.CSTNode]) -> str:
        """The logger name to call at ``original_node``, a node at or under ``ancestors[-1]``
        (``ancestors`` runs from the module down); raises LoggerUnavailable with the reason."""
        if self._unavailable_reason:
            raise LoggerUnavailable(self._unavailable_reason)
        statement_index = _module_level_index(ancestors)
        if statement_index is not None and statement_index < self._defined_at:
            raise LoggerUnavailable(f"runs at import time before the module logger {self.name!r} is defined")
        if self._names.local_at(original_node, self.name):
            raise LoggerUnavailable(f"{self.name!r} is a local name here, not the module logger")
        if self.created and statement_index is not None:
            self._insert_at = min(self._insert_at, statement_index)
        self._used = True
        return self.name

    def finish(self, updated_module: cst.Module, add_import: Callable[[str], None]) -> cst.Module:
        """Insert the new logger if one was used; call from ``leave_Module``."""
        if not (self.created and self._used):
            return updated_module
        needs_import = self._logging_alias == "logging" and not self._logging_imported
        if needs_import:
            # Not when "import logging" already exists after some code: add_import would add another.
            add_import("logging")
        statement = cst.parse_statement(_NEW_LOGGER_STATEMENT)
        statement = _renamed(statement, self.name, self._logging_alias)
        body = list(updated_module.body)
        will_follow_an_import = self._insert_at > 0 or needs_import
        if will_follow_an_import:
            statement = statement.with_changes(leading_lines=[cst.EmptyLine()])
        if self._insert_at < len(body) and not body[self._insert_at].leading_lines:
            # Keep the code after the imports apart from them: two blank lines before a def or class.
            following = body[self._insert_at]
            blank_lines = 2 if isinstance(following, (cst.FunctionDef, cst.ClassDef)) else 1
            body[self._insert_at] = following.with_changes(leading_lines=[cst.EmptyLine()] * blank_lines)
        body.insert(self._insert_at, statement)
        return updated_module.with_changes(body=body)

    # -- finding an existing logger ---------------------------------------------------------------

    def _existing_logger(self, module: cst.Module) -> _Candidate | None:
        candidates = []
        for index, statement in enumerate(module.body):
            for candidate in self._candidates_in(statement, index):
                if not self._names.bound_once_globally(module, candidate.name):
                    continue  # rebound somewhere: not provably a logger everywhere
                candidates.append(candidate)
        if not candidates:
            return None

        def preference(c: _Candidate) -> tuple[int, int, int]:
            rank = PREFERRED_NAMES.index(c.name) if c.name in PREFERRED_NAMES else len(PREFERRED_NAMES)
            return (rank, 0 if c.uses_module_name else 1, c.index)

        return min(candidates, key=preference)

    def _candidates_in(self, statement: cst.CSTNode, index: int) -> Iterator[_Candidate]:
        if not isinstance(statement, cst.SimpleStatementLine):
            return
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and _is_module(small.module, "loguru"):
                if isinstance(small.names, cst.ImportStar):
                    continue
                for alias in small.names:
                    if is_name(alias.name, "logger"):
                        name = alias.evaluated_alias or "logger"
                        yield _Candidate(name, index, LoggingStyle.BRACE, True)
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                # ``from app.logging_setup import logger``: the project's own logger, reused
                for alias in small.names:
                    name = alias.evaluated_alias or alias.evaluated_name
                    if alias.evaluated_name in PREFERRED_NAMES and name in PREFERRED_NAMES:
                        yield _Candidate(name, index, LoggingStyle.PERCENT, False)
            target, value = _single_name_assignment(small)
            if target is not None and isinstance(value, cst.Call):
                uses_module_name = bool(value.args) and is_name(value.args[0].value, "__name__")
                if self._is_get_logger(value):
                    yield _Candidate(target, index, LoggingStyle.PERCENT, uses_module_name)
                elif self._names.refers_to(value.func, _STRUCTLOG_FACTORIES):
                    yield _Candidate(target, index, LoggingStyle.EVENT, uses_module_name)

    def _is_get_logger(self, call: cst.Call) -> bool:
        return bool(self._names.refers_to(call.func, ("logging.getLogger",)))

    def _logging_module_alias(self, module: cst.Module) -> str | None:
        """The name to call getLogger on; None when 'logging' means something else here."""
        aliases = []
        for statement in module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        if alias.evaluated_alias is not None and _is_module(alias.name, "logging"):
                            aliases.append(alias.evaluated_alias)
                        elif alias.evaluated_alias is None and alias.evaluated_name.split(".")[0] == "logging":
                            aliases.append("logging")  # import logging.handlers binds logging too
        self._logging_imported = "logging" in aliases
        if "logging" in aliases or (not aliases and not self._names.in_use("logging")):
            return "logging"
        if aliases:
            return aliases[0]
        return None

# -- helpers ------------------------------------------------------------------------------------


def _is_module(node: cst.CSTNode | None, dotted: str) -> bool:
    if node is None:
        return False
    try:
        return cst.helpers.get_full_name_for_node(node) == dotted
    except Exception:  # noqa: BLE001 - unusual nodes are simply not the module
        return False


def _single_name_assignment(small: cst.BaseSmallStatement) -> tuple[str | None, cst.BaseExpression | None]:
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        return small.targets[0].target.value, small.value
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
        return small.target.value, small.value
    return None, None


def _is_dunder_assignment(statement: cst.CSTNode) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        target, _ = _single_name_assignment(small)
        if target is None or not (target.startswith("__") and target.endswith("__")):
            return False
    return True


def _only_imports(block: cst.BaseSuite) -> bool:
    statements = block.body if isinstance(block, cst.IndentedBlock) else [cst.SimpleStatementLine(block.body)]
    return bool(statements) and all(is_import_line(s) for s in statements)


def _is_import_block(statement: cst.CSTNode) -> bool:
    """``if TYPE_CHECKING:`` imports, or ``try: import x`` with a fallback."""
    if isinstance(statement, cst.If):
        test_name = statement.test
        is_type_checking = is_name(test_name, "TYPE_CHECKING") or (
            isinstance(test_name, cst.Attribute) and is_name(test_name.attr, "TYPE_CHECKING")
        )
        return is_type_checking and _only_imports(statement.body)
    if isinstance(statement, cst.Try):
        return _only_imports(statement.body)
    return False


def _is_docstring(statement: cst.CSTNode) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    return isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString))


def _creation_index(module: cst.Module) -> int:
    """Where a new logger goes: after the import header, and after the logging import itself."""
    body = module.body
    index = 1 if body and _is_docstring(body[0]) else 0
    while index < len(body) and (
        is_import_line(body[index]) or _is_import_block(body[index]) or _is_dunder_assignment(body[index])
    ):
        index += 1
    return max(index, _earliest_creation_index(module))


def _imports_logging(statement: cst.CSTNode) -> bool:
    return is_import_line(statement) and any(
        isinstance(s, cst.Import) and any(a.evaluated_name.split(".")[0] == "logging" for a in s.names)
        for s in statement.body
    )


def _earliest_creation_index(module: cst.Module) -> int:
    """The first place a new logger can go: after the module-level ``import logging``, or after
    the leading import block, where libcst's AddImportsVisitor will add it."""
    body = module.body
    for position, statement in enumerate(body):
        if _imports_logging(statement):
            return position + 1
    index = 1 if body and _is_docstring(body[0]) else 0
    while index < len(body) and is_import_line(body[index]):
        index += 1
    return index


def _renamed(statement: cst.BaseStatement, name: str, logging_alias: str) -> cst.BaseStatement:
    """The parsed ``logger = logging.getLogger(__name__)`` with its two names replaced."""
    line = cst.ensure_type(statement, cst.SimpleStatementLine)
    assign = cst.ensure_type(line.body[0], cst.Assign)
    call = cst.ensure_type(assign.value, cst.Call)
    func = cst.ensure_type(call.func, cst.Attribute)
    new_assign = assign.with_changes(
        targets=[assign.targets[0].with_changes(target=cst.Name(name))],
        value=call.with_changes(func=func.with_changes(value=cst.Name(logging_alias))),
    )
    return line.with_changes(body=[new_assign])


def enclosing_name(ancestors: Sequence[cst.CSTNode], module_name: str) -> str:
    """``Class.method``, ``outer.inner``, ``function``, or the module's name at module level."""
    names = [
        parent.name.value
        for parent, child in itertools.pairwise(ancestors)
        if isinstance(parent, (cst.FunctionDef, cst.ClassDef)) and child is parent.body
    ]
    return ".".join(names) if names else module_name


def _module_level_index(ancestors: Sequence[cst.CSTNode]) -> int | None:
    """The module body index of the statement around the node if it runs at import time."""
    for parent, child in itertools.pairwise(ancestors):
        if isinstance(parent, (cst.FunctionDef, cst.Lambda)) and child is parent.body:
            return None  # runs when called, after the whole module ran
    if len(ancestors) < 2 or not isinstance(ancestors[0], cst.Module):
        return None
    top = ancestors[1]
    return next(i for i, statement in enumerate(ancestors[0].body) if statement is top)


class TracksAncestors(cst.CSTTransformer):
    """Mixin for a codemod: ``self.ancestors`` holds the original nodes from the module down to
    the node being visited (it is still the last one in its ``leave_*``).

    A codemod may call :meth:`visit_only_statements_containing` from ``visit_Module``: the
    statements without such a node (at module level, and in the bodies of functions and classes
    that have one) are then not entered at all (their ``leave_*`` still run, on the unchanged
    statement)."""

    _skipped: frozenset[int] = frozenset()

    def visit_only_statements_containing(self, module: cst.Module, contains: Callable[[ast.AST], bool]) -> None:
        """Skip the statements of ``module`` where CPython's tree has no node ``contains`` accepts
        (a method of a large class, not the whole class, is entered for a node in it)."""
        file = getattr(self, "file", None)
        if file is None or not file.shortcuts:
            return
        skipped = statements_without(file.source, module, contains)
        if skipped is not None:
            self._skipped = frozenset(skipped)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if not hasattr(self, "ancestors"):
            self.ancestors: list[cst.CSTNode] = []
        self.ancestors.append(node)
        if self._skipped and id(node) in self._skipped:
            return False
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> object:
        try:
            return super().on_leave(original_node, updated_node)
        finally:
            self.ancestors.pop()


def string_literal(text: str) -> cst.SimpleString:
    """A double-quoted literal whose value is ``text``."""
    body = repr(text)[1:-1]
    if repr(text).startswith("'"):
        body = body.replace("\\'", "'").replace('"', '\\"')
    return cst.SimpleString(f'"{body}"')


def guards_optional_import(try_node: cst.CSTNode | None) -> bool:
    """``try: import x`` + handler: a missing optional package is expected, not an error to log.

    The body may also set flags to constants after its imports (``HAS_X = True``), as
    optional-dependency blocks often do; anything else it runs may fail for other reasons.
    """
    if not isinstance(try_node, (cst.Try, cst.TryStar)):
        return False
    body = try_node.body
    statements = body.body if isinstance(body, cst.IndentedBlock) else [cst.SimpleStatementLine(body.body)]
    imports = 0
    while imports < len(statements) and is_import_line(statements[imports]):
        imports += 1
    return imports > 0 and all(_sets_a_flag(s) for s in statements[imports:])


def _sets_a_flag(statement: cst.BaseStatement) -> bool:
    """``NAME = True`` (a constant: ``True``/``False``/``None``, a number or a string)."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    return (
        isinstance(small, cst.Assign)
        and all(isinstance(target.target, cst.Name) for target in small.targets)
        and (isinstance(small.value, (cst.Integer, cst.Float, cst.SimpleString)) or (
            isinstance(small.value, cst.Name) and small.value.value in ("True", "False", "None")
        ))
    )


def logger_call(
    original: cst.Call, logger_name: str, level: str, arguments: Sequence[cst.BaseExpression]
) -> cst.Call:
    """The logger call, laid out like ``original``: one line, or one argument per line."""
    separator: cst.BaseParenthesizableWhitespace = cst.SimpleWhitespace(" ")
    for arg in original.args:
        if isinstance(arg.comma, cst.Comma) and isinstance(arg.comma.whitespace_after, cst.ParenthesizedWhitespace):
            separator = without_comments(arg.comma.whitespace_after)
            break
    else:
        if isinstance(original.whitespace_before_args, cst.ParenthesizedWhitespace):
            separator = without_comments(original.whitespace_before_args)
    args = [cst.Arg(value, comma=cst.Comma(whitespace_after=separator)) for value in arguments]
    last_original = original.args[-1] if original.args else None
    last = args[-1]
    if last_original is not None and isinstance(last_original.comma, cst.Comma):
        last = last.with_changes(comma=cst.Comma(whitespace_after=without_comments(last_original.comma.whitespace_after)))
    else:
        last = last.with_changes(comma=cst.MaybeSentinel.DEFAULT)
    if last_original is not None:
        last = last.with_changes(whitespace_after_arg=without_comments(last_original.whitespace_after_arg))
    args[-1] = last
    return original.with_changes(
        func=cst.Attribute(cst.Name(logger_name), cst.Name(level)),
        args=args,
        whitespace_before_args=without_comments(original.whitespace_before_args),
    )


def without_comments(whitespace: cst.BaseParenthesizableWhitespace) -> cst.BaseParenthesizableWhitespace:
    if isinstance(whitespace, cst.ParenthesizedWhitespace):
        return whitespace.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return whitespace
