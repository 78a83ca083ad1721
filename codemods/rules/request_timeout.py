"""The ``request-timeout`` codemod: outgoing HTTP calls without a timeout get one."""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import libcst as cst

from codemods.analysis.loggers import TracksAncestors
from codemods.analysis.nodes import dotted_name
from codemods.analysis.precheck import SyntaxFacts, parse_shared, walk_ast
from codemods.base import Codemod, Option
from codemods.speedups import traversal

_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
_CALLED = frozenset((*_METHODS, "urlopen"))
_MODULE_FUNCTIONS = tuple(f"requests.{m}" for m in _METHODS) + tuple(f"requests.api.{m}" for m in _METHODS)
_SESSION_CLASSES = ("requests.Session", "requests.session", "requests.sessions.Session", "requests.sessions.session")
_PLAIN_ADAPTERS = ("requests.adapters.HTTPAdapter", "requests.HTTPAdapter")
_URLOPEN = ("urllib.request.urlopen",)
_HTTP_MODULES = ("requests", "urllib")  # where every name above comes from
# Where the API takes the timeout positionally (0-based, counting from the first argument):
# Session.request(method, url, params, data, headers, cookies, files, auth, timeout, ...) and
# urlopen(url, data, timeout, ...).  The module functions and the other Session methods take
# it as a keyword only.
_SESSION_REQUEST_TIMEOUT_POSITION = 8
_URLOPEN_TIMEOUT_POSITION = 2
# A line importing requests: ``import requests``, ``import os, requests as r``, ``from requests import get``
# (a backslash continuation anywhere in the file is checked by applies_to instead).
_IMPORTS_REQUESTS = re.compile(rb"(?m)^[ \t]*(?:from[ \t]+requests\b|import\b[^\n#]*\brequests\b)")


@dataclasses.dataclass(frozen=True)
class _Target:
    """An HTTP call that may need a timeout: what it is, and where its API takes one positionally."""

    label: str  # for messages: ``requests.get``, ``session.post``, ``urlopen``
    timeout_position: int | None


class RequestTimeout(TracksAncestors, Codemod):
    """Give outgoing HTTP calls made with ``requests`` or ``urllib`` a timeout.

    What it does:
        Adds ``timeout=10`` (the ``seconds`` setting) to calls that have none:
        ``requests.get/post/put/patch/delete/head/options/request(...)`` in every import form
        (``import requests as r``, ``from requests import get``), the same methods called on a
        ``requests.Session()`` the module creates (a module or local variable, a
        ``with requests.Session() as s:`` block, or a ``self.<attr>`` a class assigns it to),
        and ``urllib.request.urlopen(...)``.

        Calls that pass a timeout (as a keyword, or positionally where the API takes it so:
        ``urlopen(url, data, 5)``, ``session.request(...)`` with nine positional arguments) are
        left alone, and so are ``httpx`` and ``aiohttp``, whose clients have a default timeout.

    Why is this bad?
        ``requests`` and ``urllib`` wait forever by default: a server that accepts the
        connection and never answers blocks the worker, the request handler or the job for
        good, and a few such calls exhaust a server's workers.  (ruff S113, bandit B113.)

    Example:
        ```python
        import requests

        def fetch_rates():
            return requests.get(RATES_URL, params={"base": "EUR"}).json()
        ```

    Use instead:
        ```python
        import requests

        def fetch_rates():
            return requests.get(RATES_URL, params={"base": "EUR"}, timeout=10).json()
        ```

    Fix safety:
        A call that used to wait indefinitely now raises ``requests.exceptions.Timeout``
        (``urllib``: ``TimeoutError``/``URLError``) after the configured seconds without an
        answer from the server (the timeout bounds the connection and each read, not the whole
        download).  Choose ``seconds`` above the slowest answer your services legitimately
        take.

    Limitations:
        Calls that forward ``**kwargs`` (which may carry a timeout), ``*args`` where the API
        takes the timeout positionally, sessions that mount their own adapter (which may set a
        default timeout) and module functions passed on as callables are reported, not
        changed.  Sessions created in another module, ``Session`` subclasses and wrappers
        around ``requests`` are not recognised.  Long lines are not re-wrapped.
    """

    name = "request-timeout"
    summary = "Add timeout=<seconds> to requests/urllib HTTP calls that would otherwise wait forever"
    safety = (
        "A call that would have waited forever for an unresponsive server now raises a timeout error "
        "after the configured seconds without an answer."
    )
    markers = (b"requests", b"urlopen")
    options = (
        Option(
            "seconds",
            10,
            "the timeout added to calls without one, in seconds (connect and each read)",
            (int, float),
            positive=True,
        ),
    )
    METADATA_DEPENDENCIES: ClassVar = ()

    @classmethod
    def applies_to(cls, source: bytes) -> bool:
        # "requests" is a common word in a web backend's comments; a call this codemod changes
        # needs an import of requests (or urlopen) in the file.
        if b"urlopen" in source:
            return True
        return b"requests" in source and (_IMPORTS_REQUESTS.search(source) is not None or b"\\\n" in source)

    @classmethod
    def may_change(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> bool:
        return facts.tree is None or _may_need_timeout(facts)

    def visit_Module(self, node: cst.Module) -> None:
        self._sessions = _SessionBindings.of(node) if _may_create_sessions(self.file.source) else _SessionBindings()
        aliases = _imported_function_names(self.file.source)
        self.visit_only_statements_containing(
            node,
            lambda n: (isinstance(n, ast.Attribute) and n.attr in _CALLED) or (isinstance(n, ast.Name) and n.id in aliases),
        )

    def visit_Import(self, node: cst.Import) -> bool:
        return False  # the names an import binds are not uses

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        target = self._target(original_node)
        if target is None or _has_keyword(original_node, "timeout"):
            return updated_node
        positional = [a for a in original_node.args if a.keyword is None and a.star == ""]
        if target.timeout_position is not None and len(positional) > target.timeout_position:
            return updated_node  # the timeout is passed positionally
        if any(a.star == "**" for a in original_node.args):
            self.report(original_node, f"{target.label}() forwards **kwargs, which may carry a timeout: none added", fixable=False)
            return updated_node
        if target.timeout_position is not None and any(a.star == "*" for a in original_node.args):
            self.report(original_node, f"{target.label}() takes *args, which may carry the timeout: none added", fixable=False)
            return updated_node
        reason = self._customised_session(original_node)
        if reason is not None:
            self.report(original_node, f"{target.label}(): {reason}: no timeout added", fixable=False)
            return updated_node
        seconds = self.option("seconds")
        value = cst.Integer(str(seconds)) if isinstance(seconds, int) else cst.Float(repr(seconds))
        self.report(original_node, f"{target.label}() had no timeout: timeout={seconds} added")
        return _with_keyword(updated_node, "timeout", value)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        self._report_reference(original_node)
        return updated_node

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        self._report_reference(original_node)
        return updated_node

    # -- what is called ---------------------------------------------------------------------------

    def _target(self, call: cst.Call) -> _Target | None:
        func = call.func
        if isinstance(func, cst.Name):  # from requests import get [as fetch]; from urllib.request import urlopen
            found = sorted(self.names.refers_to(func, (*_MODULE_FUNCTIONS, *_URLOPEN)))
            return _target_of(found[0]) if found else None
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        if method in _METHODS:
            if self.names.refers_to(func, _MODULE_FUNCTIONS):
                return _target_of(f"requests.{method}")
            if self._is_session(func.value):
                position = _SESSION_REQUEST_TIMEOUT_POSITION if method == "request" else None
                return _Target(f"{_label(func.value)}.{method}", position)
        elif method == "urlopen" and self.names.refers_to(func, _URLOPEN):
            return _target_of("urllib.request.urlopen")
        return None

    def _is_session(self, value: cst.BaseExpression) -> bool:
        if isinstance(value, cst.Call):
            return self._creates_session(value)
        if isinstance(value, cst.Name):
            if value.value not in self._sessions.session_like:
                return False  # never bound to anything called Session(): spares the scope analysis
            values = self._sessions.values_of_name(value, self.names)
        elif isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name):
            values = self._sessions.values_of_attribute(value, self.ancestors)
        else:
            return False
        return bool(values) and all(isinstance(v, cst.Call) and self._creates_session(v) for v in values)

    def _creates_session(self, call: cst.Call) -> bool:
        return bool(self.names.refers_to(call.func, _SESSION_CLASSES))

    def _customised_session(self, call: cst.Call) -> str | None:
        func = call.func
        if not isinstance(func, cst.Attribute) or isinstance(func.value, cst.Call):
            return None
        key = dotted_name(func.value)
        for mount in self._sessions.mounts.get(key or "", ()):
            adapter = mount.args[1].value if len(mount.args) > 1 else None
            if not (isinstance(adapter, cst.Call) and self.names.refers_to(adapter.func, _PLAIN_ADAPTERS)):
                return f"`{key}` mounts its own adapter, which may set a default timeout"
        return None

    def _report_reference(self, node: cst.Name | cst.Attribute) -> None:
        """``requests.get`` passed on rather than called: its calls cannot be given a timeout here."""
        last = node.value if isinstance(node, cst.Name) else node.attr.value
        if last not in _METHODS or len(self.ancestors) < 2:
            return
        parent = self.ancestors[-2]
        if isinstance(parent, cst.Call) and parent.func is node:
            return
        if isinstance(parent, cst.Attribute) and parent.value is node:
            return  # ``requests.get.__name__``, or the head of a longer name
        if isinstance(node, cst.Name) and isinstance(parent, cst.Attribute) and parent.attr is node:
            return
        if not self.names.refers_to(node, _MODULE_FUNCTIONS):
            return
        around = next((a for a in reversed(self.ancestors[:-1]) if isinstance(a, cst.Call)), None)
        if around is not None and _has_keyword(around, "timeout"):
            return  # functools.partial(requests.get, timeout=5)
        self.report(node, f"requests.{last} is passed on, not called here: its calls get no timeout", fixable=False)


@dataclasses.dataclass
class _SessionBindings:
    """Assignments that may bind a ``requests.Session()``, found in one pass over the module."""

    # id(Name bound by a plain assignment or ``with ... as``) -> the value it is bound to
    names: dict[int, cst.BaseExpression] = dataclasses.field(default_factory=dict)
    # id(ClassDef) -> attribute -> every value ``self.<attribute>`` (or the class body) assigns
    attributes: dict[int, dict[str, list[cst.BaseExpression | None]]] = dataclasses.field(default_factory=dict)
    # Names bound somewhere to a call of something named ``Session``/``session``
    session_like: set[str] = dataclasses.field(default_factory=set)
    # dotted receiver (``session``, ``self.http``) -> its ``.mount(...)`` calls
    mounts: dict[str, list[cst.Call]] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, module: cst.Module) -> _SessionBindings:
        collector = _BindingCollector()
        module.visit(collector)
        return collector.bindings

    def values_of_name(self, name: cst.Name, names: object) -> list[cst.BaseExpression]:
        """Every value ``name`` may be bound to where it is read; empty when one is unknown."""
        scope = names.scope_of(name)  # type: ignore[attr-defined]
        if scope is None:
            return []
        values = []
        for assignment in scope[name.value]:
            value = self.names.get(id(getattr(assignment, "node", None)))
            if value is None:
                return []  # a parameter, an import, a loop variable, ...: not known to be a session
            values.append(value)
        return values

    def values_of_attribute(self, attribute: cst.Attribute, ancestors: Sequence[cst.CSTNode]) -> list[cst.BaseExpression]:
        """Every value ``self.<attr>`` is assigned in the class of the method ``attribute`` is in."""
        receiver = cst.ensure_type(attribute.value, cst.Name).value
        method, owner = _enclosing_method(ancestors)
        if method is None or owner is None or _first_parameter(method) != receiver:
            return []
        values = self.attributes.get(id(owner), {}).get(attribute.attr.value, [])
        if any(v is None for v in values):
            return []
        return [v for v in values if v is not None]


class _BindingCollector(traversal.Visitor):
    def __init__(self) -> None:
        self.bindings = _SessionBindings()
        self._classes: list[cst.ClassDef] = []
        self._methods: list[tuple[cst.FunctionDef, cst.ClassDef | None]] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append(node)
        self.bindings.attributes.setdefault(id(node), {})

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        owner = self._classes[-1] if self._classes and self._directly_in(node, self._classes[-1]) else None
        self._methods.append((node, owner))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._methods.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, node.item)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "mount":
            receiver = dotted_name(func.value)
            if receiver is not None:
                self.bindings.mounts.setdefault(receiver, []).append(node)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            if value is not None:
                self.bindings.names[id(target)] = value
                if isinstance(value, cst.Call) and (dotted_name(value.func) or "").rpartition(".")[2] in ("Session", "session"):
                    self.bindings.session_like.add(target.value)
            if self._classes and not self._methods:  # a class attribute, also read as self.<name>
                self._attribute(self._classes[-1], target.value, value)
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and self._methods:
            method, owner = self._methods[-1]
            if owner is not None and _first_parameter(method) == target.value.value:
                self._attribute(owner, target.attr.value, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value, None)

    def _attribute(self, owner: cst.ClassDef, name: str, value: cst.BaseExpression | None) -> None:
        self.bindings.attributes.setdefault(id(owner), {}).setdefault(name, []).append(value)

    @staticmethod
    def _directly_in(function: cst.FunctionDef, owner: cst.ClassDef) -> bool:
        body = owner.body
        return isinstance(body, cst.IndentedBlock) and any(s is function for s in body.body)


def _enclosing_method(ancestors: Sequence[cst.CSTNode]) -> tuple[cst.FunctionDef | None, cst.ClassDef | None]:
    """The innermost function around the node, and the class whose body defines it (if any)."""
    for index in range(len(ancestors) - 1, 0, -1):
        node = ancestors[index]
        if isinstance(node, cst.FunctionDef):
            parents = ancestors[index - 2 : index]
            owner = parents[0] if len(parents) == 2 and isinstance(parents[0], cst.ClassDef) else None
            return node, owner
        if isinstance(node, (cst.Lambda, cst.ClassDef)):
            return None, None
    return None, None


def _imported_function_names(source: bytes) -> frozenset[str]:
    """Local names ``from requests import get [as x]`` / ``from urllib.request import urlopen`` bind."""
    tree = parse_shared(source) if source else None
    if tree is None:
        return frozenset()
    return frozenset(
        alias.asname or alias.name
        for node in walk_ast(tree)
        if isinstance(node, ast.ImportFrom) and node.module in ("requests", "requests.api", "urllib.request")
        for alias in node.names
    )


def _may_need_timeout(facts: SyntaxFacts) -> bool:
    """Whether the rule may change or report anything in ``facts.tree`` (CPython's): a call without a
    ``timeout`` keyword of a name imported from requests or urllib, of a method named like an
    HTTP verb or ``urlopen`` on something reached from such a name (``requests.get``,
    ``requests.Session().post``, ``request.urlopen``), or of an HTTP verb on a name or
    ``self.<attribute>`` when the module calls something reached from such a name (it may
    create a session there); or such a module function referred to but not called.

    A necessary condition: every name the rule resolves to ``requests.*`` or
    ``urllib.request.*`` is imported from there, or spelled so (a name ``requests`` bound in
    the module is taken for the module)."""
    imported = {"requests", "urllib"}
    calls: list[ast.Call] = []
    called: set[int] = set()  # functions of calls and heads of attributes: not references
    references: list[ast.expr] = []
    for node in facts.nodes(ast.Import, ast.ImportFrom, ast.Call, ast.Attribute, ast.Name):
        kind = type(node)
        if kind is ast.Import:
            imported.update(
                alias.asname or alias.name.partition(".")[0]
                for alias in node.names  # type: ignore[attr-defined]
                if alias.name.startswith(_HTTP_MODULES)
            )
        elif kind is ast.ImportFrom:
            if (node.module or "").startswith(_HTTP_MODULES):  # type: ignore[attr-defined]
                imported.update(alias.asname or alias.name for alias in node.names)  # type: ignore[attr-defined]
        elif kind is ast.Call:
            calls.append(node)  # type: ignore[arg-type]
            called.add(id(node.func))  # type: ignore[attr-defined]
        if kind is ast.Attribute:
            called.add(id(node.value))  # type: ignore[attr-defined]  # ``request.urlopen``: the head of a longer name
        name = node.attr if kind is ast.Attribute else node.id if kind is ast.Name else None  # type: ignore[attr-defined]
        if name in _METHODS:
            references.append(node)  # type: ignore[arg-type]
    if any(id(node) not in called and _root_name(node) in imported for node in references):
        return True
    creates = any(_root_name(call.func) in imported for call in calls)
    for call in calls:
        if any(keyword.arg == "timeout" for keyword in call.keywords):
            continue
        func = call.func
        if type(func) is ast.Name:
            if func.id in imported:
                return True
        elif type(func) is ast.Attribute and func.attr in _CALLED:
            if _root_name(func.value) in imported:
                return True
            receiver = func.value
            named = type(receiver) is ast.Name or (type(receiver) is ast.Attribute and type(receiver.value) is ast.Name)
            if creates and named:  # a session bound to a name or to self.<attribute>
                return True
    return False


def _root_name(node: ast.expr) -> str | None:
    """``requests`` of ``requests.Session().get``: through attributes and calls."""
    while True:
        kind = type(node)
        if kind is ast.Attribute:
            node = node.value  # type: ignore[attr-defined]
        elif kind is ast.Call:
            node = node.func  # type: ignore[attr-defined]
        elif kind is ast.Name:
            return node.id  # type: ignore[attr-defined]
        else:
            return None


def _target_of(qualified: str) -> _Target:
    """The target for a module function's qualified name (``requests.api.get`` -> requests.get)."""
    if qualified in _URLOPEN:
        return _Target("urlopen", _URLOPEN_TIMEOUT_POSITION)
    return _Target(f"requests.{qualified.rpartition('.')[2]}", None)


def _first_parameter(function: cst.FunctionDef) -> str | None:
    params = [*function.params.posonly_params, *function.params.params]
    return params[0].name.value if params else None


def _may_create_sessions(source: bytes) -> bool:
    return not source or b"Session(" in source or b"session(" in source


def _has_keyword(call: cst.Call, name: str) -> bool:
    return any(a.keyword is not None and a.keyword.value == name for a in call.args)


def _label(receiver: cst.BaseExpression) -> str:
    """``session``, ``self.http``, or ``requests.Session()`` for a session made on the spot."""
    plain = dotted_name(receiver)
    if plain is not None:
        return plain
    called = dotted_name(receiver, through_calls=True)
    return f"{called}()" if called else "Session()"


def _with_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with ``name=value`` as its last argument, laid out like the arguments before it."""
    new = cst.Arg(
        value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )
    args = list(call.args)
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    separator = _separator(call)
    if isinstance(last.comma, cst.Comma):
        # A trailing comma: the new argument takes it (and the line break before ``)``).
        args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=separator))
        args.append(new.with_changes(comma=last.comma))
    else:
        # No trailing comma: what followed the last argument (before ``)``) now follows the new one.
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=separator), whitespace_after_arg=cst.SimpleWhitespace(""))
        args.append(new.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=args)


def _separator(call: cst.Call) -> cst.BaseParenthesizableWhitespace:
    """The whitespace between two arguments of ``call``: as between its existing ones, or one line
    per argument when its first argument starts on a new line, else a space."""
    for arg in call.args[:-1]:
        if isinstance(arg.comma, cst.Comma):
            return arg.comma.whitespace_after
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        return call.whitespace_before_args
    return cst.SimpleWhitespace(" ")
