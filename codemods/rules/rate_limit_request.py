"""The ``rate-limit-request`` codemod: slowapi rate limits that apply, on routes slowapi can decorate."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import libcst as cst

from codemods.analysis import precheck
from codemods.analysis.precheck import SyntaxFacts
from codemods.analysis.routes import route_label
from codemods.analysis.nodes import dotted_name
from codemods.base import Codemod, FileContext

_LIMIT_METHODS = ("limit", "shared_limit")
_LIMITER_CLASSES = ("slowapi.Limiter", "slowapi.extension.Limiter")
# Route decorators of FastAPI applications and routers (and Starlette's older ``@app.route``).
_ROUTE_DECORATORS = ("route", "api_route", "get", "post", "put", "patch", "delete", "head", "options", "trace")
_REQUEST_TYPES = ("fastapi.Request", "fastapi.requests.Request", "starlette.requests.Request")
_OTHER_REQUEST_TYPES = ("requests.Request", "requests.models.Request", "httpx.Request", "flask.Request")
# The parameter names slowapi looks for: it needs one of them to find the request.
_REQUEST_PARAMETERS = ("request", "websocket")
_SELF = ("self", "cls")


@dataclasses.dataclass(frozen=True)
class LimiterIndex:
    """Module-level names bound to a slowapi ``Limiter(...)``, per module of the scanned tree."""

    # dotted module name -> its limiters, for every module that mentions ``Limiter`` (so a module
    # that is not here defines none, or was not scanned)
    limiters: Mapping[str, frozenset[str]]

    def names_in(self, module: str) -> frozenset[str] | None:
        """The limiters ``module`` defines; None when no scanned module is ``module``."""
        if module in self.limiters:
            return self.limiters[module]
        # ``src/app/limits.py`` is indexed as ``src.app.limits`` and imported as ``app.limits``.
        found = [names for name, names in self.limiters.items() if name.endswith("." + module)]
        return found[0] if len(found) == 1 else None


class RateLimitRequest(Codemod):
    """Make slowapi's ``@limiter.limit(...)`` work: a ``request`` parameter, and the decorator below the route's.

    What it does:
        For every function decorated with ``@<limiter>.limit(...)`` or ``.shared_limit(...)``,
        where ``<limiter>`` is a slowapi ``Limiter`` (created in the same module, or imported
        from a module of the scanned tree that creates it, under any alias):

        - a limiter decorator placed *above* the route decorator (``@app.get``,
          ``@router.post``, ``@app.api_route``, ...) is moved right below it (below the last
          one, when a function has several), with the comments above it;
        - a function with neither a ``request`` nor a ``websocket`` parameter gets
          ``request: Request`` as its first parameter (after ``self``; as the first
          keyword-only parameter when positional parameters with defaults come first), and
          the import of ``Request``: from ``fastapi`` when the module uses FastAPI, from
          ``starlette.requests`` when it only uses Starlette; an existing import of
          ``Request`` (from either, under any alias) is reused;
        - a ``request`` parameter of a FastAPI route without annotation gets ``: Request``.

        A ``request`` parameter annotated with another type (a request body model named
        ``request``), a limiter imported from outside the scanned files, and a module where the
        name ``Request`` means something else are left alone, with a finding.

    Why is this bad?
        slowapi finds the request among the function's parameters by name: a route without a
        ``request`` parameter makes ``@limiter.limit`` raise ``No "request" or "websocket"
        argument`` when the module is imported, so the application does not start.  Python
        applies decorators from the bottom up, so ``@limiter.limit`` above ``@router.get``
        wraps a function after FastAPI registered the undecorated one: the endpoint is served
        without any limit, silently (unless ``SlowAPIMiddleware`` checks limits by name).

    Example:
        ```python
        @limiter.limit("5/minute")
        @router.post("/login")
        async def login(form: LoginForm):
            ...


        @router.get("/search")
        @limiter.limit("30/minute")
        def search(q: str, db: Session = Depends(get_db)):
            ...
        ```

    Use instead:
        ```python
        from fastapi import Request


        @router.post("/login")
        @limiter.limit("5/minute")
        async def login(request: Request, form: LoginForm):
            ...


        @router.get("/search")
        @limiter.limit("30/minute")
        def search(request: Request, q: str, db: Session = Depends(get_db)):
            ...
        ```

    Fix safety:
        The added parameter is filled by FastAPI with the current request and changes neither
        the route's OpenAPI schema nor its callers (FastAPI calls endpoints with keyword
        arguments).  Moving the decorator makes the limit apply: clients that exceed it now get
        429 Too Many Requests, which is what the decorator asked for.

    Limitations:
        A limiter is recognised by its ``Limiter(...)`` call; one created in a function
        (``def make_limiter()``) or stored on ``app.state`` only is not.  With
        ``headers_enabled=True`` slowapi also needs a ``response: Response`` parameter on
        routes that return plain data; that one is not added.  Functions called directly
        (not through the framework) with positional arguments would need the new parameter
        passed too; routes are not called that way.
    """

    name: ClassVar[str] = "rate-limit-request"
    summary: ClassVar[str] = (
        "Give slowapi-limited routes a `request: Request` parameter and put `@limiter.limit` below the route decorator"
    )
    safety: ClassVar[str] = (
        "The added request parameter is filled by FastAPI and invisible to clients; moving the "
        "decorator makes the declared limit apply, so clients beyond it get 429 responses."
    )
    markers: ClassVar[tuple[bytes, ...]] = (b".limit(", b".shared_limit(")
    index_markers: ClassVar[tuple[bytes, ...]] = (b"Limiter",)

    @classmethod
    def may_change(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> bool:
        return any(method in facts.decorator_names for method in _LIMIT_METHODS)

    @classmethod
    def index_file(cls, path: str, source: bytes) -> frozenset[str] | None:
        tree = precheck.parse_shared(source)
        return _module_limiters(tree) if tree is not None else None

    @classmethod
    def build_index(cls, facts: Mapping[str, Any], options: Mapping[str, Any]) -> LimiterIndex:
        return LimiterIndex({FileContext(path, {}).module_name: names for path, names in facts.items()})

    def __init__(self, file: FileContext) -> None:
        super().__init__(file)
        self._limiters: dict[str, str | None] = {}  # local name -> None (slowapi's) or why unknown
        self._frameworks: set[str] = set()
        self._request_type: cst.BaseExpression | str | None = None  # str: why there is none
        self._module: cst.Module | None = None

    def visit_Module(self, node: cst.Module) -> bool:
        self._module = node
        self._frameworks = _imported_frameworks(node)
        self._limiters = self._find_limiters(node)
        return bool(self._limiters)

    # -- the rewrite ------------------------------------------------------------------------------

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        limits = [i for i, d in enumerate(original_node.decorators) if self._limiter_of(d.decorator) is not None]
        if not limits:
            return updated_node
        unknown = [self._limiters[self._limiter_of(original_node.decorators[i].decorator) or ""] for i in limits]
        routes = [i for i, d in enumerate(original_node.decorators) if route_label(d.decorator, _ROUTE_DECORATORS, {})]
        name = original_node.name.value
        misplaced = bool(routes) and min(limits) < max(routes)
        parameters = self._request_parameter_change(original_node, bool(routes))
        if (misplaced or parameters is not None) and any(reason is not None for reason in unknown):
            reason = next(r for r in unknown if r is not None)
            self.report(original_node, f"{name}: not changed, {reason}", fixable=False)
            return updated_node
        new_node = updated_node
        if misplaced:
            new_node = new_node.with_changes(decorators=_limits_below_routes(new_node.decorators, limits, max(routes)))
            route = self._module_code(original_node.decorators[max(routes)].decorator.func)  # type: ignore[attr-defined]
            self.report(
                original_node.decorators[min(limits)],
                f"{name}: limiter decorator moved below @{route}(...); above it the limit was never applied",
            )
        if isinstance(parameters, str):
            self.report(original_node, f"{name}: {parameters}", fixable=False)
        elif parameters is not None:
            new_node = new_node.with_changes(params=parameters(new_node.params))
            self.report(original_node, f"{name}: request parameter added so that slowapi can apply the limit")
        return new_node

    def _request_parameter_change(self, function: cst.FunctionDef, is_route: bool) -> Any:
        """None (nothing to do), a reason (str) not to change it, or a function rewriting the parameters."""
        params = function.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
        named = {p.name.value: p for p in every}
        if "websocket" in named:
            return None
        existing = named.get("request")
        if existing is not None:
            return self._existing_request(existing, function, is_route)
        request_type = self._request_annotation()
        if isinstance(request_type, str):
            return f"no request parameter added: {request_type}"
        return lambda current: _with_request_parameter(current, request_type)

    def _existing_request(self, param: cst.Param, function: cst.FunctionDef, is_route: bool) -> Any:
        if param.annotation is None:
            if not is_route or "fastapi" not in self._frameworks or param.default is not None:
                return None  # a Starlette endpoint's positional request needs no annotation
            request_type = self._request_annotation()
            if isinstance(request_type, str):
                return f"request parameter not annotated: {request_type}"
            return lambda current: _annotate_request(current, request_type)
        annotation = param.annotation.annotation
        if self._is_request_type(annotation):
            return None
        spelled = self._module_code(annotation)
        return (
            f"the parameter request is a {spelled}, not the HTTP request slowapi needs under that name; "
            "rename it (and keep a request: Request parameter)"
        )

    # -- names ------------------------------------------------------------------------------------

    def _find_limiters(self, module: cst.Module) -> dict[str, str | None]:
        """Local names of slowapi limiters (None) and of imported objects that may be one (the reason)."""
        found: dict[str, str | None] = {}
        tree = precheck.parse_shared(self.file.source) if self.file.source else None
        own = _module_limiters(tree) if tree is not None else _module_limiters(ast.parse(module.code))
        found.update((name, None) for name in own)
        index = self.file.index if isinstance(self.file.index, LimiterIndex) else LimiterIndex({})
        for statement in module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
                    continue
                source = self._absolute_module(small)
                if source is None or source.split(".")[0] in ("slowapi", "fastapi", "starlette"):
                    continue
                names = index.names_in(source)
                for alias in small.names:
                    imported = dotted_name(alias.name) or ""
                    local = alias.asname.name.value if alias.asname is not None else imported  # type: ignore[union-attr]
                    if names is not None and imported in names:
                        found[local] = None
                    elif names is None and self._frameworks:
                        # Only a FastAPI or Starlette module can hold slowapi's limiter (Flask-Limiter's
                        # decorators look the same and need no request parameter).
                        found.setdefault(
                            local,
                            f"cannot tell whether {local} is a slowapi Limiter: no scanned module {source} creates one",
                        )
        return found

    def _limiter_of(self, decorator: cst.BaseExpression) -> str | None:
        """The limiter's local name when ``decorator`` is ``<limiter>.limit(...)``."""
        if not isinstance(decorator, cst.Call) or not isinstance(decorator.func, cst.Attribute):
            return None
        if decorator.func.attr.value not in _LIMIT_METHODS:
            return None
        receiver = decorator.func.value
        if not isinstance(receiver, cst.Name) or receiver.value not in self._limiters:
            return None
        if self.names.local_at(receiver, receiver.value):
            return None  # a local variable of that name, not the module's limiter
        return receiver.value

    def _absolute_module(self, node: cst.ImportFrom) -> str | None:
        module = dotted_name(node.module) if node.module is not None else ""
        if module is None:
            return None
        if not node.relative:
            return module
        package = self.file.module_name.split(".") if self.file.module_name else []
        if not self.file.is_package_init:
            package = package[:-1]
        levels = len(node.relative)
        if levels - 1 > len(package):
            return None
        base = package[: len(package) - (levels - 1)]
        return ".".join([*base, module] if module else base) or None

    def _request_annotation(self) -> cst.BaseExpression | str:
        """How this module spells the HTTP request type, adding its import if needed; or why it cannot."""
        if self._request_type is None:
            self._request_type = self._find_request_type()
        if isinstance(self._request_type, cst.Name) and self._request_type.value == "Request":
            module = "fastapi" if "fastapi" in self._frameworks else "starlette.requests"
            if not self._has_request_import():
                self.add_import(module, "Request")
        return self._request_type

    def _find_request_type(self) -> cst.BaseExpression | str:
        assert self._module is not None
        for module, obj, asname in _top_level_imports(self._module):
            if obj == "Request" and module in ("fastapi", "fastapi.requests", "starlette.requests"):
                return cst.Name(asname or "Request")
        if not self._frameworks:
            return "the module imports neither fastapi nor starlette, so Request cannot be imported from either"
        if not self.names.bound_anywhere("Request"):
            return cst.Name("Request")
        for module, obj, asname in _top_level_imports(self._module):
            if obj is None and module == "fastapi":
                return cst.Attribute(cst.Name(asname or "fastapi"), cst.Name("Request"))
        return "the name Request means something else in this module"

    def _has_request_import(self) -> bool:
        assert self._module is not None
        return any(obj == "Request" and asname is None for _, obj, asname in _top_level_imports(self._module))

    def _is_request_type(self, annotation: cst.BaseExpression) -> bool:
        if isinstance(annotation, cst.SimpleString):
            try:
                annotation = cst.parse_expression(str(annotation.evaluated_value))
            except cst.ParserSyntaxError:
                return False
        if not isinstance(annotation, (cst.Name, cst.Attribute)):
            return False
        if self.names.refers_to(annotation, _REQUEST_TYPES):
            return True
        spelled = dotted_name(annotation) or ""
        return spelled.rsplit(".", 1)[-1] == "Request" and not self.names.refers_to(annotation, _OTHER_REQUEST_TYPES)

    def _module_code(self, node: cst.CSTNode) -> str:
        assert self._module is not None
        return self._module.code_for_node(node)


# -- parameters and decorators ---------------------------------------------------------------------


def _with_request_parameter(params: cst.Parameters, annotation: cst.BaseExpression) -> cst.Parameters:
    """``request: <annotation>`` first among the parameters a caller may pass by keyword."""
    positional = list(params.params)
    start = 1 if positional and positional[0].name.value in _SELF and not params.posonly_params else 0
    defaults_before = any(p.default is not None for p in [*params.posonly_params, *positional[:start]])
    if defaults_before:
        keyword_only = list(params.kwonly_params)
        new = _request_param(annotation, keyword_only[0].comma if keyword_only else cst.MaybeSentinel.DEFAULT)
        star = params.star_arg if not isinstance(params.star_arg, cst.MaybeSentinel) else cst.ParamStar()
        return params.with_changes(star_arg=star, kwonly_params=[new, *keyword_only])
    following = positional[start] if start < len(positional) else None
    comma = following.comma if following is not None else cst.MaybeSentinel.DEFAULT
    positional.insert(start, _request_param(annotation, comma))
    return params.with_changes(params=positional)


def _request_param(annotation: cst.BaseExpression, comma: cst.Comma | cst.MaybeSentinel) -> cst.Param:
    return cst.Param(cst.Name("request"), cst.Annotation(annotation), comma=comma)


def _annotate_request(params: cst.Parameters, annotation: cst.BaseExpression) -> cst.Parameters:
    def annotate(param: cst.Param) -> cst.Param:
        if param.name.value != "request" or param.annotation is not None:
            return param
        return param.with_changes(annotation=cst.Annotation(annotation))

    return params.with_changes(
        posonly_params=[annotate(p) for p in params.posonly_params],
        params=[annotate(p) for p in params.params],
        kwonly_params=[annotate(p) for p in params.kwonly_params],
    )


def _limits_below_routes(
    decorators: tuple[cst.Decorator, ...] | list[cst.Decorator], limits: list[int], last_route: int
) -> list[cst.Decorator]:
    """The limiter decorators above ``last_route`` moved right below it, in their order."""
    moving = [decorators[i] for i in limits if i < last_route]
    staying = [d for i, d in enumerate(decorators) if not (i in limits and i < last_route)]
    route = decorators[last_route]
    position = next(i for i, d in enumerate(staying) if d is route) + 1
    return [*staying[:position], *moving, *staying[position:]]


# -- what the module imports and defines -----------------------------------------------------------


def _module_limiters(tree: ast.Module) -> frozenset[str]:
    """Names a module binds at top level to ``Limiter(...)`` from slowapi (any import spelling)."""
    classes: set[str] = set()  # ``Limiter``, ``RateLimiter`` (from slowapi import Limiter as RateLimiter)
    modules: set[str] = set()  # ``slowapi``, ``sa``
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module in ("slowapi", "slowapi.extension") and node.level == 0:
            classes.update(a.asname or a.name for a in node.names if a.name == "Limiter")
        elif isinstance(node, ast.Import):
            modules.update(a.asname or a.name for a in node.names if a.name in ("slowapi", "slowapi.extension"))
    names: set[str] = set()
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if not isinstance(value, ast.Call) or not _is_limiter_class(value.func, classes, modules):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]  # type: ignore[union-attr]
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return frozenset(names)


def _is_limiter_class(func: ast.expr, classes: set[str], modules: set[str]) -> bool:
    if isinstance(func, ast.Name):
        return func.id in classes
    if isinstance(func, ast.Attribute) and func.attr == "Limiter":
        spelled = ast.unparse(func.value)
        return spelled in modules or (spelled == "slowapi.extension" and "slowapi" in modules)
    return False


def _top_level_imports(module: cst.Module) -> list[tuple[str, str | None, str | None]]:
    """(module, imported name or None for ``import m``, alias) of the module's top-level imports."""
    found: list[tuple[str, str | None, str | None]] = []
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    asname = alias.asname.name.value if alias.asname is not None else None  # type: ignore[union-attr]
                    found.append((dotted_name(alias.name) or "", None, asname))
            elif isinstance(small, cst.ImportFrom) and not small.relative and not isinstance(small.names, cst.ImportStar):
                source = dotted_name(small.module) if small.module is not None else None
                for alias in small.names:
                    asname = alias.asname.name.value if alias.asname is not None else None  # type: ignore[union-attr]
                    found.append((source or "", dotted_name(alias.name), asname))
    return found


def _imported_frameworks(module: cst.Module) -> set[str]:
    """Which of fastapi and starlette the module imports from."""
    return {
        source.split(".")[0]
        for source, _, _ in _top_level_imports(module)
        if source.split(".")[0] in ("fastapi", "starlette")
    }
