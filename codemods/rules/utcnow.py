"""The ``utcnow`` codemod: ``datetime.utcnow()`` and ``utcfromtimestamp()`` without the deprecation."""

from __future__ import annotations

import ast
import dataclasses
from typing import ClassVar

import libcst as cst

from codemods.analysis.loggers import TracksAncestors
from codemods.analysis.module_helpers import ModuleHelper, names_of, top_level_imports
from codemods.analysis.nodes import dotted_name
from codemods.analysis.wrapping import wrap_docstring
from codemods.base import Codemod, Option

_METHODS = ("utcnow", "utcfromtimestamp")
_DEPRECATED = tuple(f"datetime.datetime.{method}" for method in _METHODS)
# ``.replace(tzinfo=X)`` right after the call, with X one of these: ``now(X)`` is the same value.
_UTC_OBJECTS = ("datetime.timezone.utc", "datetime.UTC", "pytz.utc", "pytz.UTC")
# Names tried, in order, when ``datetime.timezone`` must be imported.
_TIMEZONE_NAMES = ("timezone", "dt_timezone")
# Names of the module helper passed where ``datetime.utcnow`` was passed, in order of preference.
_NAIVE_HELPERS = ("_naive_utcnow", "_utcnow_naive")
_AWARE_HELPERS = ("_utcnow", "_utc_now")
_NAIVE_DOCSTRING = "The current UTC time without tzinfo, as ``datetime.utcnow()`` gave it."
_AWARE_DOCSTRING = "The current time, timezone-aware in UTC."
# Positions where a lambda may replace a name without parentheses.
_VALUE_PARENTS = (cst.Arg, cst.Assign, cst.AnnAssign, cst.Return, cst.Element, cst.Param)
_COLUMN_CALLS = ("Column", "mapped_column")
_ORDERING = (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual, cst.Equal, cst.NotEqual)


@dataclasses.dataclass(frozen=True)
class _Spelling:
    """How ``datetime.timezone`` is written where a replacement goes, and the import it needs."""

    timezone: cst.BaseExpression
    import_as: str | None = None  # the local name of a ``from datetime import timezone`` to add

    @property
    def timezone_utc(self) -> cst.Attribute:
        return cst.Attribute(self.timezone.deep_clone(), cst.Name("utc"))


class Utcnow(TracksAncestors, Codemod):
    """Replace ``datetime.utcnow()`` and ``datetime.utcfromtimestamp()``, deprecated since Python 3.12.

    What it does:
        Rewrites ``datetime.utcnow()`` to ``datetime.now(timezone.utc).replace(tzinfo=None)``
        and ``datetime.utcfromtimestamp(ts)`` to
        ``datetime.fromtimestamp(ts, timezone.utc).replace(tzinfo=None)``: the same naive UTC
        values, without the deprecated calls.  Every import form is recognised
        (``from datetime import datetime``, ``import datetime``, ``import datetime as dt``,
        aliases).  A reference that is called later, such as
        ``Column(DateTime, default=datetime.utcnow)``, becomes a module helper,
        ``_naive_utcnow``, defined once above its first use (a lambda where the datetime class
        is imported inside a function; ``utcfromtimestamp`` references become
        ``lambda timestamp: ...``).  ``timezone`` is taken
        from an existing import or from the module the call already names (``dt.timezone``);
        otherwise ``from datetime import timezone`` is added (as ``dt_timezone`` when the
        module uses the name ``timezone`` for something else, such as Django's or pytz's).

        A call followed by ``.replace(tzinfo=timezone.utc)`` (or ``datetime.UTC``,
        ``pytz.utc``) was already made aware by hand and becomes ``datetime.now(timezone.utc)``.

        With ``aware = true`` the results keep their UTC time zone instead
        (``datetime.now(timezone.utc)``, helper ``_utcnow``), and each use that is compared with, or subtracted
        from, another value that may be naive, or that is a column default, is reported:
        comparing an aware datetime with a naive one raises ``TypeError``.

    Why is this bad?
        ``datetime.utcnow()`` and ``datetime.utcfromtimestamp()`` are deprecated since Python
        3.12 (a ``DeprecationWarning`` on every call, an error under ``-W error``) and will be
        removed.  They return naive datetimes that many libraries take for local time:
        ``datetime.utcnow().timestamp()`` is wrong by the machine's UTC offset.

    Example:
        ```python
        from datetime import datetime

        class Token(Base):
            created_at = Column(DateTime, default=datetime.utcnow)

            def expired(self):
                return datetime.utcnow() > self.expires_at
        ```

    Use instead:
        ```python
        from datetime import timezone, datetime


        def _naive_utcnow():
            \"\"\"The current UTC time without tzinfo, as ``datetime.utcnow()`` gave it.\"\"\"
            return datetime.now(timezone.utc).replace(tzinfo=None)


        class Token(Base):
            created_at = Column(DateTime, default=_naive_utcnow)

            def expired(self):
                return datetime.now(timezone.utc).replace(tzinfo=None) > self.expires_at
        ```

    Fix safety:
        The default rewrite returns exactly the values the deprecated calls returned (naive,
        in UTC; the same rounding of fractional timestamps), so comparisons with naive values
        from the database keep working and nothing else changes.  ``aware = true`` changes
        the values: they carry ``tzinfo=timezone.utc``, ``isoformat()`` ends in ``+00:00``,
        ``timestamp()`` becomes correct on machines not set to UTC, and comparing them with
        naive datetimes raises ``TypeError`` (each such place is reported).

    Limitations:
        A reference used anywhere but as a value (``f is datetime.utcnow``,
        ``datetime.utcnow.__name__``) and calls with unusual arguments (``*args``, keywords)
        are reported, not rewritten.  Subclasses of ``datetime`` and names auditfix cannot
        resolve to the standard library (``from myproject.compat import datetime``) are left
        alone.  Long lines are not re-wrapped.
    """

    name = "utcnow"
    summary = "Replace deprecated datetime.utcnow()/utcfromtimestamp() with calls returning the same naive UTC values"
    safety = (
        "The replacement returns the same naive UTC datetimes (same values, same rounding); only "
        "`aware = true` changes them to timezone-aware ones, and reports each comparison that may mix the two."
    )
    markers = (b"utcnow", b"utcfromtimestamp")
    options = (
        Option(
            "aware",
            False,
            "return timezone-aware UTC datetimes instead of naive ones (reports uses compared with naive values)",
            bool,
        ),
    )
    METADATA_DEPENDENCIES: ClassVar = ()

    def visit_Module(self, node: cst.Module) -> None:
        self._module = node
        self._called: set[int] = set()  # the ``func`` of every call
        self._fused: dict[int, cst.Call] = {}  # deprecated call -> the ``.replace(tzinfo=X)`` call around it
        self._imports = top_level_imports(node)
        self._new_timezone_name: str | None = None
        self._helper: ModuleHelper | None = None
        self.visit_only_statements_containing(node, lambda n: isinstance(n, ast.Attribute) and n.attr in _METHODS)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if self._helper is not None:
            updated_node = self._helper.finish(updated_node)
        if self._new_timezone_name is not None:
            name = self._new_timezone_name
            self.add_import("datetime", "timezone", None if name == "timezone" else name)
        return updated_node

    def visit_Call(self, node: cst.Call) -> None:
        self._called.add(id(node.func))
        inner = _replaced_tzinfo(node)
        if inner is not None:
            self._fused[id(inner)] = node

    # -- calls ------------------------------------------------------------------------------------

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        inner = _replaced_tzinfo(original_node)
        if inner is not None and self._fused.get(id(inner)) is original_node and self._deprecated(inner.func):
            updated_inner = cst.ensure_type(cst.ensure_type(updated_node.func, cst.Attribute).value, cst.Call)
            tzinfo = (original_node.args[0].value, updated_node.args[0].value)
            return self._rewrite_call(inner, updated_inner, updated_node, tzinfo)
        if id(original_node) in self._fused or not self._deprecated(original_node.func):
            return updated_node
        return self._rewrite_call(original_node, updated_node, updated_node)

    def _rewrite_call(
        self,
        original: cst.Call,
        call: cst.Call,
        replaced: cst.Call,
        tzinfo: tuple[cst.BaseExpression, cst.BaseExpression] | None = None,
    ) -> cst.BaseExpression:
        """``call`` (the updated ``original``) rewritten.  ``replaced`` is the node the result
        replaces: the call itself, or the ``.replace(tzinfo=X)`` call around it, whose X
        (original and updated) is ``tzinfo``."""
        func = cst.ensure_type(call.func, cst.Attribute)
        method = func.attr.value
        if method == "utcnow" and call.args:
            self.report(original, "datetime.utcnow() with arguments: not rewritten", fixable=False)
            return replaced
        if method == "utcfromtimestamp" and not _one_plain_argument(call):
            self.report(original, "datetime.utcfromtimestamp() without one plain argument: not rewritten", fixable=False)
            return replaced
        spelling = self._spelling(original, cst.ensure_type(original.func, cst.Attribute).value)
        if spelling is None:
            return replaced
        given_utc = tzinfo is not None and bool(self.names.refers_to(tzinfo[0], _UTC_OBJECTS))
        zone = tzinfo[1] if tzinfo is not None and given_utc else spelling.timezone_utc
        new: cst.BaseExpression = _aware_call(func, method, list(call.args), zone, call)
        if tzinfo is not None and not given_utc:
            new = _replace_tzinfo(new, tzinfo[1])
        elif tzinfo is None and not self.option("aware"):
            new = _replace_tzinfo(new, cst.Name("None"))
        new = new.with_changes(lpar=replaced.lpar, rpar=replaced.rpar)
        self._use(spelling)
        self.report(original, f"{_one_line(original)} → {_one_line(new)}")
        if self.option("aware") and tzinfo is None:
            self._report_naive_neighbours(original)
        return new

    # -- references -------------------------------------------------------------------------------

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if id(original_node) in self._called or not self._deprecated(original_node):
            return updated_node
        method = original_node.attr.value
        parent = self.ancestors[-2] if len(self.ancestors) > 1 else None
        if isinstance(parent, (cst.AssignTarget, cst.Del)) or _is_target(parent, original_node):
            return updated_node  # assigned to (a test double), not called
        is_value = isinstance(parent, _VALUE_PARENTS) or (isinstance(parent, cst.DictElement) and parent.value is original_node)
        if not is_value:
            self.report(original_node, f"datetime.{method} used as a value here: not rewritten", fixable=False)
            return updated_node
        spelling = self._spelling(original_node, original_node.value)
        if spelling is None:
            return updated_node
        func = updated_node.with_changes(lpar=(), rpar=())
        helper = self._helper_name(original_node, original_node.value, spelling) if method == "utcnow" else None
        new: cst.BaseExpression
        if helper is not None:
            new = cst.Name(helper, lpar=updated_node.lpar, rpar=updated_node.rpar)
        elif method == "utcnow":
            new = cst.Lambda(cst.Parameters(), self._now(func, spelling), lpar=updated_node.lpar, rpar=updated_node.rpar)
        else:
            timestamp = cst.Name("timestamp")
            body = _aware_call(func, method, [cst.Arg(timestamp)], spelling.timezone_utc)
            if not self.option("aware"):
                body = _replace_tzinfo(body, cst.Name("None"))
            params = cst.Parameters(params=[cst.Param(timestamp)])
            new = cst.Lambda(params, body, lpar=updated_node.lpar, rpar=updated_node.rpar)
        self._use(spelling)
        self.report(original_node, f"{_one_line(original_node)} → {_one_line(new)}")
        if self.option("aware"):
            self._report_column_default(original_node)
        return new

    def _now(self, func: cst.Attribute, spelling: _Spelling) -> cst.BaseExpression:
        """``D.now(timezone.utc)``, made naive unless ``aware``; ``func`` is ``D.utcnow``."""
        now = _aware_call(func, "utcnow", [], spelling.timezone_utc)
        return now if self.option("aware") else _replace_tzinfo(now, cst.Name("None"))

    def _helper_name(self, reference: cst.Attribute, owner: cst.BaseExpression, spelling: _Spelling) -> str | None:
        """The module helper that returns the current time, when its code can live at module level."""
        heads = [_head(owner), _head(spelling.timezone)]
        if any(head is None or self.names.local_at(reference, head) for head in heads):
            return None  # a name imported inside a function: not visible to a module-level helper
        if self._helper is None:
            aware = self.option("aware")
            now = _code(self._now(cst.Attribute(owner.with_changes(lpar=(), rpar=()), cst.Name("utcnow")), spelling))
            indent = self._module.default_indent
            text = _AWARE_DOCSTRING if aware else _NAIVE_DOCSTRING
            # The closing quotes go on the last line of a one-line docstring: leave room for them.
            docstring = wrap_docstring(text, indent=indent, limit=self.file.style.line_length - 3)

            def definition(name: str) -> str:
                return self.render("utcnow.py.j2", name=name, now=now, indent=indent, docstring=docstring)

            self._helper = ModuleHelper(self.names, self._module, _AWARE_HELPERS if aware else _NAIVE_HELPERS, definition)
        return self._helper.name_at(self.ancestors)

    # -- decisions --------------------------------------------------------------------------------

    def _deprecated(self, func: cst.BaseExpression) -> bool:
        if not isinstance(func, cst.Attribute) or func.attr.value not in ("utcnow", "utcfromtimestamp"):
            return False
        return bool(self.names.refers_to(func, _DEPRECATED))

    def _spelling(self, node: cst.CSTNode, owner: cst.BaseExpression) -> _Spelling | None:
        """How to write ``datetime.timezone`` at ``node``, whose datetime class is ``owner``."""
        # ``dt.datetime.utcnow()``: the call already names the module.
        if isinstance(owner, cst.Attribute) and owner.attr.value == "datetime" and self.names.refers_to(owner.value, ("datetime",)):
            return _Spelling(cst.Attribute(owner.value.deep_clone(), cst.Name("timezone")))
        for local in names_of(self._imports, "datetime.timezone"):
            if self._usable(node, local):
                return _Spelling(cst.Name(local))
        for local in names_of(self._imports, "datetime"):
            if self._usable(node, local):
                return _Spelling(cst.Attribute(cst.Name(local), cst.Name("timezone")))
        name = self._new_timezone_name or next((n for n in _TIMEZONE_NAMES if not self.names.bound_anywhere(n)), None)
        if name is None:
            self.report(node, "no free name to import datetime.timezone under: not rewritten", fixable=False)
            return None
        return _Spelling(cst.Name(name), import_as=name)

    def _usable(self, node: cst.CSTNode, local: str) -> bool:
        """An import's name means the import at ``node``: bound once, and not by a function there."""
        return self.names.bound_once_globally(self._module, local) and not self.names.local_at(node, local)

    def _use(self, spelling: _Spelling) -> None:
        if spelling.import_as is not None:
            self._new_timezone_name = spelling.import_as

    def _report_naive_neighbours(self, call: cst.Call) -> None:
        """``aware = true``: report a use compared with (or subtracted from) a value that may be naive."""
        operand: cst.CSTNode = call
        for parent in reversed(self.ancestors[:-1]):
            if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, (cst.Add, cst.Subtract)):
                other = parent.right if parent.left is operand else parent.left
                if isinstance(parent.operator, cst.Subtract) and not _is_timedelta(other):
                    self._report_mixed(call, other)
                    return
                operand = parent
                continue
            if isinstance(parent, cst.ComparisonTarget):
                continue
            if isinstance(parent, cst.Comparison):
                others = [parent.left, *(t.comparator for t in parent.comparisons)]
                if any(isinstance(t.operator, _ORDERING) for t in parent.comparisons):
                    for other in others:
                        if other is not operand and not self._is_aware_now(other):
                            self._report_mixed(call, other)
                            return
            return

    def _report_mixed(self, call: cst.Call, other: cst.CSTNode) -> None:
        self.report(
            call,
            f"now timezone-aware, and compared with `{_code(other)}`: if that value is naive "
            "(a DateTime column without timezone=True), the comparison raises TypeError",
            fixable=False,
        )

    def _is_aware_now(self, node: cst.CSTNode) -> bool:
        return isinstance(node, cst.Call) and self._deprecated(node.func)

    def _report_column_default(self, reference: cst.Attribute) -> None:
        call = next((a for a in reversed(self.ancestors[:-1]) if isinstance(a, cst.Call)), None)
        if call is None or (dotted_name(call.func) or "").rpartition(".")[2] not in _COLUMN_CALLS:
            return
        if "timezone=True" in _code(call).replace(" ", ""):
            return
        self.report(
            reference,
            "now timezone-aware: this column is not declared with DateTime(timezone=True), so the values "
            "read back are naive and comparing them with aware ones raises TypeError",
            fixable=False,
        )


def _replaced_tzinfo(node: cst.Call) -> cst.Call | None:
    """The call ``C`` in ``C.replace(tzinfo=X)`` (only that keyword), or None."""
    func = node.func
    if not isinstance(func, cst.Attribute) or func.attr.value != "replace" or not isinstance(func.value, cst.Call):
        return None
    if len(node.args) != 1 or node.args[0].keyword is None or node.args[0].keyword.value != "tzinfo":
        return None
    return func.value


def _aware_call(
    func: cst.Attribute, method: str, args: list[cst.Arg], zone: cst.BaseExpression, call: cst.Call | None = None
) -> cst.Call:
    """``D.now(zone)`` for utcnow, ``D.fromtimestamp(ts, zone)`` for utcfromtimestamp."""
    if method == "utcnow":
        new_args = [cst.Arg(zone)]
        name = "now"
    else:
        last = args[-1]
        new_args = [*args[:-1], last.with_changes(comma=_comma()), cst.Arg(zone, comma=last.comma)]
        name = "fromtimestamp"
    new_func = func.with_changes(attr=cst.Name(name))
    if call is None:
        return cst.Call(func=new_func, args=new_args)
    return call.with_changes(func=new_func, args=new_args, lpar=(), rpar=())


def _replace_tzinfo(value: cst.BaseExpression, tzinfo: cst.BaseExpression) -> cst.Call:
    return cst.Call(
        func=cst.Attribute(value, cst.Name("replace")),
        args=[cst.Arg(tzinfo, keyword=cst.Name("tzinfo"), equal=_ASSIGN_EQUAL)],
    )


_ASSIGN_EQUAL = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))


def _comma() -> cst.Comma:
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _is_target(parent: cst.CSTNode | None, node: cst.CSTNode) -> bool:
    return isinstance(parent, (cst.AugAssign, cst.AnnAssign)) and parent.target is node


def _is_timedelta(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Call) and (dotted_name(node.func) or "").rpartition(".")[2] == "timedelta"


def _one_plain_argument(call: cst.Call) -> bool:
    return len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star


def _head(expr: cst.BaseExpression) -> str | None:
    """``a`` of ``a.b.c``."""
    dotted = dotted_name(expr)
    return None if dotted is None else dotted.partition(".")[0]


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _one_line(node: cst.CSTNode) -> str:
    """The code of ``node`` on one line, for a message."""
    text = " ".join(_code(node).split())
    return text.replace("( ", "(").replace(" )", ")").replace(", )", ")").replace(",)", ")")
