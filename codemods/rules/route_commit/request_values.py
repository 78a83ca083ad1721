"""Request-bound values that a route evaluates and passes to its service as plain arguments.

A write on a request-bound object (``current_user.follow(user)``, ``post.title =
form.title.data``, ``Post(body=request.form["body"], author=g.user)``) belongs to the unit of
work as much as the commit after it.  The service cannot read the HTTP layer, so the route
evaluates each such expression and passes its value: ``post_service.follow(current_user,
user)`` with ``def follow(user, other)`` in the service.

Which expressions (:class:`RequestValues`): ``current_user`` (Flask-Login's proxy itself, so
every attribute read still happens when the original code made it), ``g.<attr>`` and
``g.get(<constant>)``, Flask's ``request.<attr>`` for the attributes fixed for a request
(``form``, ``args``, ``json``, ``headers``, ``remote_addr``...), one ``[<constant>]``,
``.get(<constants>)`` or ``.getlist(<constant>)`` on its mappings, ``request.get_json(...)``,
Flask-HTTPAuth's ``auth.current_user()``, the attributes of FastAPI's ``request: Request``
parameter that do not read the body (``headers``, ``cookies``, ``query_params``,
``path_params``, one ``[<constant>]`` or ``.get(<constants>)`` on them, ``method``, ``url``,
``client``), and ``form.<field>.data`` / ``form.data`` of a form
object (a local made by a ``...Form(...)`` call, annotated with a ``...Form`` class, or
validated with ``validate_on_submit()``).  Any other use of a form object keeps its statement
in the route: services take values, not forms.

When (:func:`hoist_values`): the value is computed once, before the call, instead of where the
moved code read it.  That is exact only if nothing between the start of the moved code and
that read could make it differ, so:

* a value that may fail (``request.form["x"]`` answers 400, ``request.json`` 415, ``g.user``
  raises ``AttributeError``) must be read on every path of the moved code (not under ``if``,
  in a loop, a ``try``, a conditional expression or a lambda), and nothing that leaves a trace
  when the request then fails may run before it: only local assignments, constructors, pure
  builtins, changes to objects of the route and calls of the database session (the
  transaction is not committed when the request fails); in a ``try`` of the route, whose
  handler sees the session, nothing but local assignments, constructors and pure builtins;
* a value of mutable request state (``g``, ``auth.current_user()``) must have no call before
  its last read other than those, logging and ``print``;
* a form must be bound on every path to the call;
* values that may fail are passed in the order the original code read them.

A statement that breaks a rule stays in the route with the statements before it (the moved
code starts after it); the finding of a route that is left with only its commit says which.
Statements at the start of the moved code that only bind a request value to a name
(``title = request.form["title"]``) stay in the route: reading the request is its job.  Such
a binding further down becomes the parameter of that name when nothing else uses the name
before it or assigns it after it, and the route does not read it afterwards.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import libcst as cst

from codemods.analysis.dataflow import defined_before, effects, live_after, local_names
from codemods.analysis.metadata import Metadata
from codemods.analysis.nodes import NESTED_SCOPES, dotted_name, node_types
from codemods.analysis.routes import snake_case
from codemods.speedups import traversal
from codemods.speedups.walk import children, children_but_trivia, walk

if TYPE_CHECKING:
    from codemods.rules.route_commit.flow import Run

# The HTTP-layer objects whose values a route can pass on, by qualified name.
_ROOTS = {"flask.request": "request", "flask.g": "g", "flask_login.current_user": "current_user"}

# Flask request attributes that hold one value per request; True: reading it parses the body,
# which may fail (400, 413, 415).
_REQUEST_ATTRIBUTES = {
    "form": True,
    "files": True,
    "values": True,
    "json": True,
    "data": True,
    "args": False,
    "headers": False,
    "cookies": False,
    "view_args": False,
    "method": False,
    "path": False,
    "full_path": False,
    "url": False,
    "base_url": False,
    "url_root": False,
    "host": False,
    "host_url": False,
    "scheme": False,
    "remote_addr": False,
    "access_route": False,
    "endpoint": False,
    "blueprint": False,
    "mimetype": False,
    "content_type": False,
    "content_length": False,
    "is_json": False,
    "is_secure": False,
    "user_agent": False,
    "referrer": False,
}
_MAPPINGS = ("form", "files", "values", "json", "args", "headers", "cookies", "view_args")
# FastAPI's (Starlette's) ``request: Request`` parameter: attributes fixed for the request, none
# of which reads the body; the first four are mappings.
_STARLETTE_ATTRIBUTES = ("headers", "cookies", "query_params", "path_params", "method", "url", "base_url", "client")
_STARLETTE_TYPES = ("fastapi.Request", "fastapi.requests.Request", "starlette.requests.Request")
_REQUEST_NAMES = {"form": "form_data", "json": "data", "data": "raw_data", "values": "request_values"}

_PURE_BUILTINS = frozenset(
    "abs all any bool bytes dict divmod enumerate float format frozenset hash int isinstance issubclass len list "
    "max min ord chr range repr reversed round set sorted str sum tuple zip".split()
)
# Methods whose calls change nothing outside the route's objects and the uncommitted transaction.
_INERT_METHODS = frozenset(
    "add add_all delete merge expunge flush refresh append extend insert remove discard setdefault "
    "get items keys values copy strip lstrip rstrip lower upper title split rsplit join replace format "
    "startswith endswith isoformat encode decode query filter filter_by order_by limit offset first one "
    "one_or_none all scalar scalars scalar_one scalar_one_or_none execute count where select_from".split()
)
_LOG_METHODS = frozenset("debug info warning warn error exception critical log".split())


@dataclasses.dataclass(frozen=True)
class RequestValue:
    """One request-bound expression the route can evaluate for the service."""

    key: str  # equal for expressions that give the same value
    names: tuple[str, ...]  # parameter names to try, best first
    may_raise: bool  # reading it may fail (an HTTP 400, an AttributeError)
    mutable: bool  # it reads state that a call could change (``flask.g``)
    form: str | None = None  # the route's form object it reads


@dataclasses.dataclass(frozen=True)
class Hoisted:
    """A value the route passes: ``name`` in the service, ``expression`` in the route's call."""

    name: str
    expression: cst.BaseExpression
    nodes: tuple[cst.CSTNode, ...]  # every occurrence in the moved statements (original tree)
    binding: cst.BaseStatement | None = None  # ``name = <value>``: the service has it as its parameter
    may_raise: bool = False


INSIDE = "inside"  # classify(): a request value sits deeper in this node's chain


class RequestValues:
    """Which expressions of one route are request values (see the module docstring)."""

    def __init__(self, function: cst.FunctionDef, meta: Metadata, http_names: Sequence[str]) -> None:
        self.function = function
        self.meta = meta
        self.roots = {name: kind for name, kind in _ROOTS.items() if _configured(name, http_names)}
        self.forms = form_names(function)
        self.requests = request_parameters(function, meta) if any(_configured(t, http_names) for t in _STARLETTE_TYPES) else frozenset()
        # id -> (node, match(node)): the walks ask again of the same nodes (a chain's inner parts).
        self._matches: dict[int, tuple[cst.CSTNode, RequestValue | None]] = {}

    # -- recognising ---------------------------------------------------------------------------

    def classify(self, node: cst.CSTNode) -> RequestValue | str | None:
        """The value ``node`` is; INSIDE when one is further down its chain (``current_user`` in
        ``current_user.follow``); "form" for any other use of a form object; else None."""
        if not self.roots and not self.forms and not self.requests:
            return None
        value = self.match(node)
        if value is not None:
            return value
        inner = _chain_inner(node)
        while inner is not None:
            if self.match(inner) is not None:
                return INSIDE
            inner = _chain_inner(inner)
        if isinstance(node, cst.Name) and node.value in self.forms:
            return "form"
        return None

    def match(self, node: cst.CSTNode) -> RequestValue | None:
        known = self._matches.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        value = self._shape(node)
        if value is not None and not self._loaded(node):
            value = None
        self._matches[id(node)] = (node, value)
        return value

    def _shape(self, node: cst.CSTNode) -> RequestValue | None:
        if type(node) not in _SHAPED:
            return None
        if isinstance(node, cst.Name):
            if self._root(node) == "current_user":
                return RequestValue("current_user", ("user", "current_user"), False, False)
            return None
        if isinstance(node, cst.Attribute):
            return self._attribute(node)
        if isinstance(node, cst.Subscript):
            return self._subscript(node)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            return self._call(node, node.func)
        return None

    def _attribute(self, node: cst.Attribute) -> RequestValue | None:
        attr = node.attr.value
        if isinstance(node.value, cst.Name):
            base = node.value.value
            kind = self._root(node.value)
            if kind == "g" and not attr.startswith("_") and attr not in ("get", "pop", "setdefault"):
                return RequestValue(f"g.{attr}", (attr, f"current_{attr}"), True, True)
            if kind == "request" and attr in _REQUEST_ATTRIBUTES:
                names = (_REQUEST_NAMES.get(attr, attr), f"request_{attr}")
                return RequestValue(f"request.{attr}", names, _REQUEST_ATTRIBUTES[attr], False)
            if kind == "starlette" and attr in _STARLETTE_ATTRIBUTES:
                return RequestValue(f"{base}.{attr}", (attr, f"request_{attr}"), False, False)
            if base in self.forms and attr == "data":
                return RequestValue(f"{base}.data", (f"{base}_data",), False, False, base)
            return None
        inner = node.value
        if attr == "data" and isinstance(inner, cst.Attribute) and isinstance(inner.value, cst.Name):
            form, field = inner.value.value, inner.attr.value
            if form in self.forms:
                return RequestValue(f"{form}.{field}.data", (field, f"{form}_{field}"), False, False, form)
        return None

    def _subscript(self, node: cst.Subscript) -> RequestValue | None:
        mapping = self._mapping(node.value)
        if mapping is None or len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return None
        key = _constant(node.slice[0].slice.value)
        if key is None:
            return None
        text, attr, _ = mapping
        return RequestValue(f"{text}[{key!r}]", _key_names(key, attr), True, False)

    def _call(self, node: cst.Call, func: cst.Attribute) -> RequestValue | None:
        method = func.attr.value
        arguments = _constant_arguments(node.args)
        if arguments is None:
            return None
        mapping = self._mapping(func.value)
        if mapping is not None and method in ("get", "getlist") and node.args and node.args[0].keyword is None:
            text, attr, may_raise = mapping
            key = _constant(node.args[0].value)
            if key is None:
                return None
            return RequestValue(f"{text}.{method}({arguments})", _key_names(key, attr), may_raise, False)
        if not isinstance(func.value, cst.Name):
            return None
        kind = self._root(func.value)
        if kind == "request" and method in ("get_json", "get_data"):
            silent = any(a.keyword is not None and a.keyword.value == "silent" for a in node.args)
            names = ("data", "payload") if method == "get_json" else ("raw_data", "request_data")
            return RequestValue(f"request.{method}({arguments})", names, not silent or method == "get_data", False)
        if kind == "g" and method == "get" and node.args and node.args[0].keyword is None:
            key = _constant(node.args[0].value)
            if isinstance(key, str):
                return RequestValue(f"g.get({arguments})", (_snake(key), f"current_{_snake(key)}"), False, True)
        if kind == "current_user" and method == "_get_current_object" and not node.args:
            return RequestValue("current_user", ("user", "current_user"), False, False)
        if method == "current_user" and not node.args and kind is None and func.value.value not in self.forms:
            # Flask-HTTPAuth's ``auth.current_user()``: the user of this request, kept in ``g``
            return RequestValue(f"{func.value.value}.current_user()", ("user", "current_user"), False, True)
        return None

    def _mapping(self, node: cst.CSTNode) -> tuple[str, str, bool] | None:
        """``request.form`` -> ("request.form", "form", may fail); ``request.get_json()`` too."""
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.attr.value in _MAPPINGS:
            if self._root(node.value) == "request":
                attr = node.attr.value
                return f"request.{attr}", attr, _REQUEST_ATTRIBUTES[attr]
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.attr.value in _STARLETTE_ATTRIBUTES[:4]:
            if self._root(node.value) == "starlette":
                return f"{node.value.value}.{node.attr.value}", node.attr.value, False
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name):
            if node.func.attr.value == "get_json" and self._root(node.func.value) == "request":
                arguments = _constant_arguments(node.args)
                if arguments is not None:
                    return f"request.get_json({arguments})", "json", True
        return None

    def _root(self, node: cst.Name) -> str | None:
        if node.value in self.requests:
            return "starlette"
        if node.value in self.forms or not self.roots:
            return None
        found = self.meta.refers_to_any(node, tuple(self.roots))
        names = found if found is not None else {q.name for q in self.meta.qualified_names(node)}
        for name in names:
            if name in self.roots:
                return self.roots[name]
        return None

    def _loaded(self, node: cst.CSTNode) -> bool:
        """The expression is read, not assigned or deleted (``g.user = x`` writes the HTTP layer)."""
        child, parent = node, self.meta.parent(node)
        while isinstance(parent, (cst.Tuple, cst.List, cst.Element, cst.StarredElement)):
            child, parent = parent, self.meta.parent(parent)
        if isinstance(parent, (cst.AssignTarget, cst.Del, cst.AsName)):
            return False
        if isinstance(parent, (cst.AugAssign, cst.AnnAssign, cst.For, cst.NamedExpr, cst.CompFor)):
            return parent.target is not child
        return True

    # -- finding ---------------------------------------------------------------------------------

    def occurrences(self, statements: Sequence[cst.BaseStatement]) -> dict[int, tuple[cst.CSTNode, RequestValue]]:
        """The request values in ``statements`` (outermost first), by node id."""
        finder = _Find(self)
        for statement in statements:
            walk(statement, finder)
        return finder.found


class _Find(traversal.Visitor):
    """The request values under a node, outermost first (a module-level class: the speed-ups
    learn a visitor class's hooks once, and a class defined in a function is new on every call)."""

    IGNORES_TRIVIA = True  # whitespace and punctuation are no request value, attribute or argument

    def __init__(self, values: RequestValues) -> None:
        self.values = values
        self.found: dict[int, tuple[cst.CSTNode, RequestValue]] = {}
        self.skipped: set[int] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Attribute):
            self.skipped.add(id(node.attr))
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            self.skipped.add(id(node.keyword))
        if id(node) in self.skipped:
            return False
        value = self.values.match(node)
        if value is not None:
            self.found[id(node)] = (node, value)
            return False
        return True


def form_names(function: cst.FunctionDef) -> frozenset[str]:
    """The route's locals that hold form objects (``form = PostForm()``, ``form: LoginForm``,
    ``form.validate_on_submit()``)."""
    names: set[str] = set()
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.annotation is not None and _is_form_class(param.annotation.annotation):
            names.add(param.name.value)
    for node in _walk_function(function.body):
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call) and _is_form_class(node.value.func):
            names.update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name):
            if node.func.attr.value == "validate_on_submit":
                names.add(node.func.value.value)
    return frozenset(names)


def request_parameters(function: cst.FunctionDef, meta: Metadata) -> frozenset[str]:
    """The route's parameters annotated with FastAPI's (Starlette's) ``Request`` that it never rebinds."""
    names = set()
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.annotation is not None and isinstance(param.annotation.annotation, (cst.Name, cst.Attribute)):
            annotation = param.annotation.annotation
            found = meta.refers_to_any(annotation, _STARLETTE_TYPES)
            qualified = found if found is not None else {q.name for q in meta.qualified_names(annotation)}
            if qualified & set(_STARLETTE_TYPES):
                names.add(param.name.value)
    if names:
        rebound = effects(list(function.body.body), frozenset(names)).assigned
        names -= rebound
    return frozenset(names)


def _is_form_class(node: cst.BaseExpression) -> bool:
    name = (dotted_name(node) or "").rsplit(".", 1)[-1]
    return len(name) > 4 and name.endswith("Form") and name[:1].isupper()


def _walk_function(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, NESTED_SCOPES):
            continue
        yield current
        pending.extend(children_but_trivia(current))


def _configured(qualified: str, http_names: Sequence[str]) -> bool:
    return any(qualified == name or qualified.startswith(name + ".") for name in http_names)


def _chain_inner(node: cst.CSTNode) -> cst.CSTNode | None:
    if isinstance(node, (cst.Attribute, cst.Subscript)):
        return node.value
    if isinstance(node, cst.Call):
        return node.func
    return None


def _constant(node: cst.BaseExpression) -> str | int | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.Integer):
        return int(node.value, 0)
    return None


# The kinds of node _shape can find a request value in.
_SHAPED = node_types(cst.Name, cst.Attribute, cst.Subscript, cst.Call)
# Every kind of node _Order.walk treats otherwise than by walking its children in order.
_ORDERED = node_types(
    cst.Lambda, cst.FunctionDef, cst.Call, cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Del, cst.IfExp,
    cst.BooleanOperation, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp, cst.With, cst.If,
    cst.While, cst.For, cst.BaseCompoundStatement,
)  # fmt: skip

_CONSTANT_NAMES = ("None", "True", "False", "int", "float", "str", "bool")


def _constant_arguments(args: Sequence[cst.Arg]) -> str | None:
    """The arguments as canonical text, if all are constants (or int/float/str/bool as ``type=``)."""
    parts = []
    for arg in args:
        if arg.star:
            return None
        value = arg.value
        if isinstance(value, cst.Name) and value.value in _CONSTANT_NAMES:
            text = value.value
        elif isinstance(value, (cst.SimpleString, cst.Integer, cst.Float)):
            evaluated = value.evaluated_value if isinstance(value, cst.SimpleString) else value.value
            text = repr(evaluated)
        else:
            return None
        parts.append(f"{arg.keyword.value}={text}" if arg.keyword is not None else text)
    return ", ".join(parts)


def _snake(key: str | int) -> str:
    text = snake_case(str(key))
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    if not text:
        return "value"
    return f"value_{text}" if text[0].isdigit() else text


def _key_names(key: str | int, mapping: str) -> tuple[str, ...]:
    name = _snake(key)
    return (name, f"{mapping}_{name}")


# -- when a value can be read before the moved code runs -------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Event:
    kind: str  # "value", or the class of a call or write: "pure", "inert", "trace", "other"
    node: cst.CSTNode
    statement: int  # index in the moved statements
    certain: bool  # runs on every path, once, where the statement runs
    deferred: bool = False  # inside a lambda or nested function: runs later, if ever


class _Order:
    """The events of some statements in the order Python runs them (left to right, the value of
    an assignment before its targets, a comprehension's iterable before its element)."""

    def __init__(self, values: dict[int, tuple[cst.CSTNode, RequestValue]], route_locals: frozenset[str]) -> None:
        self.values = values
        self.route_locals = route_locals
        self.events: list[_Event] = []
        self.statement = 0

    def run(self, statements: Sequence[cst.BaseStatement]) -> list[_Event]:
        for index, statement in enumerate(statements):
            self.statement = index
            self.walk(statement, True, False)
        return self.events

    def emit(self, kind: str, node: cst.CSTNode, certain: bool, deferred: bool) -> None:
        self.events.append(_Event(kind, node, self.statement, certain, deferred))

    def walk(self, node: cst.CSTNode, certain: bool, deferred: bool) -> None:
        if id(node) in self.values:
            self.emit("value", node, certain, deferred)
            return
        if type(node) not in _ORDERED:  # a kind none of the cases below handles: its children in order
            for child in children_but_trivia(node):
                self.walk(child, certain, deferred)
            return
        if isinstance(node, (cst.Lambda, cst.FunctionDef)):
            for child in children_but_trivia(node):
                self.walk(child, False, True)
            return
        if isinstance(node, cst.Call):
            self.walk(node.func, certain, deferred)
            for arg in node.args:
                self.walk(arg, certain, deferred)
            if not deferred:
                self.emit(self._call_kind(node), node, certain, deferred)
            return
        if isinstance(node, cst.Assign):
            self.walk(node.value, certain, deferred)
            for target in node.targets:
                self.target(target.target, certain, deferred)
            return
        if isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.walk(node.value, certain, deferred)
            self.target(node.target, certain, deferred)
            return
        if isinstance(node, cst.AugAssign):
            self.walk(node.value, certain, deferred)
            self.target(node.target, certain, deferred)
            return
        if isinstance(node, cst.Del):
            self.target(node.target, certain, deferred)
            return
        if isinstance(node, cst.IfExp):
            self.walk(node.test, certain, deferred)
            self.walk(node.body, False, deferred)
            self.walk(node.orelse, False, deferred)
            return
        if isinstance(node, cst.BooleanOperation):
            self.walk(node.left, certain, deferred)
            self.walk(node.right, False, deferred)
            return
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            self.walk(node.for_in.iter, certain, deferred)
            self.walk(node.for_in.target, False, deferred)
            for part in (*node.for_in.ifs, *([node.for_in.inner_for_in] if node.for_in.inner_for_in else [])):
                self.walk(part, False, deferred)
            for name in ("elt", "key", "value"):
                if hasattr(node, name):
                    self.walk(getattr(node, name), False, deferred)
            return
        if isinstance(node, cst.With):
            for item in node.items:
                self.walk(item, certain, deferred)
            self.emit("other", node, certain, deferred)  # __enter__ and __exit__ may do anything
            self.walk(node.body, False, deferred)
            return
        if isinstance(node, (cst.If, cst.While)):
            self.walk(node.test, certain if isinstance(node, cst.If) else False, deferred)
            for child in (node.body, node.orelse):
                if child is not None:
                    self.walk(child, False, deferred)
            return
        if isinstance(node, cst.For):
            self.walk(node.iter, certain, deferred)
            for child in (node.target, node.body, node.orelse):
                if child is not None:
                    self.walk(child, False, deferred)
            return
        if isinstance(node, cst.BaseCompoundStatement):  # try, match, class
            for child in children_but_trivia(node):
                self.walk(child, False, deferred)
            return
        for child in children_but_trivia(node):
            self.walk(child, certain, deferred)

    def target(self, target: cst.CSTNode, certain: bool, deferred: bool) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.target(element.value, certain, deferred)
        elif isinstance(target, cst.StarredElement):
            self.target(target.value, certain, deferred)
        elif isinstance(target, (cst.Attribute, cst.Subscript)):
            for child in children_but_trivia(target):
                if child is not getattr(target, "attr", None):
                    self.walk(child, certain, deferred)
            root = target
            while isinstance(root, (cst.Attribute, cst.Subscript, cst.Call)):
                root = root.value if not isinstance(root, cst.Call) else root.func
            local = isinstance(root, cst.Name) and root.value in self.route_locals
            if not deferred:
                self.emit("inert" if local else "other", target, certain, deferred)

    def _call_kind(self, call: cst.Call) -> str:
        func = call.func
        if isinstance(func, cst.Name):
            if func.value in _PURE_BUILTINS or func.value[:1].isupper():
                return "pure"
            return "trace" if func.value == "print" else "other"
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method[:1].isupper():
                return "pure"  # models.Post(...)
            owner = (dotted_name(func.value) or "").lower()
            if method in _LOG_METHODS and ("log" in owner.rsplit(".", 1)[-1]):
                return "trace"
            if method in _INERT_METHODS:
                return "inert"
        return "other"


def hoist_values(
    run: Run,
    function: cst.FunctionDef,
    meta: Metadata,
    values: RequestValues,
    in_try: bool,
) -> Run:
    """``run`` with the request values the route passes in, or shortened until every value it
    still reads can be passed exactly (``held_by`` then says what stays in the route and why)."""
    if not values.roots and not values.forms and not values.requests:
        return run
    run = _leave_request_bindings(run, values)
    local: frozenset[str] | None = None
    while True:
        found = values.occurrences(run.statements)
        if not found:
            return run
        local = local_names(function) if local is None else local
        conflict = _conflict(run, found, function, meta, local, in_try)
        if conflict is None:
            bindings = _bindings(run, found, function, local, meta.parents())
            if len(run.statements) - len(bindings) < 2:
                bindings = {}  # the service would only commit
            hoisted = _name_values(run, found, bindings)
            if isinstance(hoisted, list):
                return dataclasses.replace(run, values=tuple(hoisted), moved=_rewrite(run.statements, hoisted))
            conflict = hoisted
        index, reason = conflict
        line = meta.position(run.statements[index]).start.line
        note = f"the statement at line {line} stays in the route: it {reason}"
        run = dataclasses.replace(run, start=run.start + index + 1, held_by=reason, note=note)
        if run.start >= run.end - 1:
            return run


def _leave_request_bindings(run: Run, values: RequestValues) -> Run:
    """Leading ``name = <request value>`` statements stay in the route: reading the request is its job."""
    start = run.start
    while start < run.end - 1:
        statement = run.block.body[start]
        if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
            break
        small = statement.body[0]
        if not (isinstance(small, cst.Assign) and all(isinstance(t.target, cst.Name) for t in small.targets)):
            break
        if values.match(small.value) is None:
            break
        start += 1
    if start == run.start or start >= run.end - 1:
        return run
    return dataclasses.replace(run, start=start, held_by="reads a request value into a name the route keeps")


def _conflict(
    run: Run,
    found: dict[int, tuple[cst.CSTNode, RequestValue]],
    function: cst.FunctionDef,
    meta: Metadata,
    local: frozenset[str],
    in_try: bool,
) -> tuple[int, str] | None:
    """(statement index, why) of the last statement that must stay in the route, if any."""
    events = _Order(found, local).run(run.statements)
    bound = defined_before(function, run.block, run.start, local)
    conflicts: list[tuple[int, str]] = []
    seen: dict[str, int] = {}  # value key -> index of its first event
    for position, event in enumerate(events):
        if event.kind != "value":
            continue
        node, value = found[id(event.node)]
        text = _code(node)
        where = f"`{text}` (line {meta.position(node).start.line})"
        first = value.key not in seen
        seen.setdefault(value.key, position)
        if event.deferred:
            conflicts.append((event.statement, f"reads {where} in a function that may run later"))
            continue
        if value.form is not None and value.form not in bound:
            conflicts.append((event.statement, f"reads {where}, and `{value.form}` may be unassigned before it"))
            continue
        if value.may_raise and first:
            if not event.certain:
                conflicts.append(
                    (event.statement, f"reads {where}, which may fail, on some paths only (the route would read it on all)")
                )
                continue
            allowed = ("pure",) if in_try else ("pure", "inert")
            before = [e for e in events[:position] if e.kind not in ("value", *allowed)]
            if before:
                conflicts.append(
                    (
                        before[-1].statement,
                        f"{_does(before[-1])}, which must happen before {where} is read: reading it may fail, "
                        "and reading it first would skip this",
                    )
                )
                continue
        if value.mutable:
            end = position
            if not event.certain:  # in a loop or a branch: any event of its statement may come first
                end = max(i for i, e in enumerate(events) if e.statement == event.statement) + 1
            changing = [e for e in events[:end] if e.kind == "other"]
            if changing:
                conflicts.append((changing[-1].statement, f"{_does(changing[-1])}, which may change {where}, read after it"))
    return max(conflicts, key=lambda c: c[0]) if conflicts else None


def _bindings(
    run: Run,
    found: dict[int, tuple[cst.CSTNode, RequestValue]],
    function: cst.FunctionDef,
    local: frozenset[str],
    parents: dict[cst.CSTNode, cst.CSTNode],
) -> dict[str, tuple[str, cst.BaseStatement]]:
    """Statements ``x = <value>`` of the moved code that the parameter ``x`` can replace: ``x``
    is neither used before nor assigned after them, and the route does not read it afterwards
    (``parents``: the module's, see :func:`live_after`)."""
    live = live_after(function, run.block, run.end, local, parents)
    statements = run.statements
    found_bindings: dict[str, tuple[str, cst.BaseStatement]] = {}
    for index, statement in enumerate(statements):
        if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
            continue
        small = statement.body[0]
        if not (isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name)):
            continue
        name = small.targets[0].target.value
        value = found.get(id(small.value))
        if value is None or name in live or value[1].key in found_bindings:
            continue
        if name in set(variable_names(statements[:index])) or name in effects(statements[index + 1 :], local).assigned:
            continue
        if name in {n for n, _ in found_bindings.values()}:
            continue
        found_bindings[value[1].key] = (name, statement)
    return found_bindings


def _name_values(
    run: Run,
    found: dict[int, tuple[cst.CSTNode, RequestValue]],
    bindings: dict[str, tuple[str, cst.BaseStatement]],
) -> list[Hoisted] | tuple[int, str]:
    """A parameter name for each distinct value, in the order the original code reads them."""
    events = _Order(found, frozenset()).run(run.statements)
    by_key: dict[str, list[cst.CSTNode]] = {}
    statements: dict[str, int] = {}
    for event in events:
        if event.kind == "value":
            node, value = found[id(event.node)]
            by_key.setdefault(value.key, []).append(node)
            statements.setdefault(value.key, event.statement)
    taken = set(variable_names(run.statements, found)) | set(keyword.kwlist)
    hoisted = []
    for key, nodes in by_key.items():
        if key in bindings:
            name, statement = bindings[key]
            hoisted.append(Hoisted(name, nodes[0], tuple(nodes), statement, found[id(nodes[0])][1].may_raise))
            continue
        value = found[id(nodes[0])][1]
        name = next((n for n in value.names if n.isidentifier() and n not in taken), None)
        if name is None:
            return statements[key], f"reads `{_code(nodes[0])}`, and every parameter name for it is taken"
        taken.add(name)
        hoisted.append(Hoisted(name, nodes[0], tuple(nodes), may_raise=value.may_raise))
    return hoisted


def variable_names(statements: Iterable[cst.CSTNode], skip: Iterable[int] = ()) -> Iterator[str]:
    """The names used as variables in ``statements`` (not attributes or keywords), outside ``skip``."""
    skipped = set(skip)
    pending: list[cst.CSTNode] = list(statements)
    while pending:
        node = pending.pop()
        if id(node) in skipped:
            continue
        if isinstance(node, cst.Name):
            yield node.value
        if isinstance(node, cst.Attribute):
            skipped.add(id(node.attr))
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            skipped.add(id(node.keyword))
        pending.extend(children_but_trivia(node))


class _Replace(cst.CSTTransformer):
    IGNORES_TRIVIA = True  # no value replaced is whitespace or punctuation: they come back as they are

    def __init__(self, names: dict[int, str]) -> None:
        super().__init__()
        self.names = names

    def on_visit(self, node: cst.CSTNode) -> bool:
        return id(node) not in self.names

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:
        name = self.names.get(id(original_node))
        return updated_node if name is None else cst.Name(name)


def _rewrite(statements: Sequence[cst.BaseStatement], hoisted: Sequence[Hoisted]) -> tuple[cst.BaseStatement, ...]:
    names = {id(node): value.name for value in hoisted for node in value.nodes}
    dropped = {id(value.binding) for value in hoisted if value.binding is not None}
    kept = [statement for statement in statements if id(statement) not in dropped]
    return tuple(statement.visit(_Replace(names)) for statement in kept)  # type: ignore[misc]


def order_parameters(names: Sequence[str], hoisted: Sequence[Hoisted]) -> list[str]:
    """``names`` with the values that may fail, in their own slots, in the order the original
    code read them: the first that fails is the one that failed before."""
    own = {value.name for value in hoisted if value.may_raise}
    queue = [value.name for value in hoisted if value.name in own and value.name in names]
    return [queue.pop(0) if name in own else name for name in names]


def inside_values(hoisted: Sequence[Hoisted]) -> set[int]:
    """Ids of every node inside the values the route evaluates (their names are not the service's)."""
    found: set[int] = set()
    pending: list[cst.CSTNode] = [node for value in hoisted for node in value.nodes]
    while pending:
        node = pending.pop()
        found.add(id(node))
        pending.extend(children(node))
    return found


def _does(event: _Event) -> str:
    verb = "runs" if isinstance(event.node, cst.Call) else "writes" if isinstance(event.node, cst.BaseExpression) else "enters"
    return f"{verb} `{_code(event.node).splitlines()[0]}`"


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def in_try_body(block: cst.CSTNode, function: cst.FunctionDef, meta: Metadata) -> bool:
    """``block`` runs inside a ``try`` (or ``with``) body of the route, whose handler may go on."""
    child: cst.CSTNode = block
    current = meta.parent(block)
    while current is not None and current is not function:
        if isinstance(current, (cst.Try, cst.TryStar, cst.With)) and child is current.body:
            return True
        child, current = current, meta.parent(current)
    return False
