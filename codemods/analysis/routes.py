"""Which functions are routes: decorators of Flask, FastAPI and friends, and class-based views."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import libcst as cst

from codemods.analysis.metadata import Metadata
from codemods.analysis.nodes import dotted_name


HTTP_VERBS = ("get", "post", "put", "patch", "delete")



DEFAULT_ROUTE_DECORATORS = ("route", *HTTP_VERBS, "api_route", "expose")



DEFAULT_VIEW_BASES = ("MethodView", "View", "Resource")



# Qualified names (or module prefixes) of objects that belong to the HTTP layer.
DEFAULT_HTTP_NAMES = (
    "flask.request",
    "flask.g",
    "flask.session",
    "flask.current_app",
    "flask.abort",
    "flask.jsonify",
    "flask.make_response",
    "flask.redirect",
    "flask.url_for",
    "flask.flash",
    "flask.render_template",
    "flask.Response",
    "flask_login.current_user",
    "flask_login.login_user",
    "flask_login.logout_user",
    "fastapi.Request",
    "fastapi.Response",
    "fastapi.HTTPException",
    "fastapi.BackgroundTasks",
    "fastapi.responses",
    "starlette.requests",
    "starlette.responses",
    "starlette.exceptions.HTTPException",
    "starlette.background.BackgroundTasks",
    "starlette.status",
    "fastapi.status",
    "werkzeug.exceptions",
    "flask_httpauth",
)


# Methods that answer HTTP themselves, whatever object has them: Flask-SQLAlchemy's lookups that
# abort with a 404, Flask-HTTPAuth's ``auth.current_user()``.  Code calling them stays in the route.
HTTP_METHODS = ("get_or_404", "first_or_404", "one_or_404", "current_user", "login_required")



_TEST_DOUBLE_MODULES = ("unittest.mock.", "mock.")



_VIEW_CLASS_SUFFIXES = ("Resource", "View", "API", "Api", "Endpoint", "Handler", "Controller")



@dataclasses.dataclass(frozen=True)
class Route:
    function: cst.FunctionDef
    label: str  # "POST /candidates/<int:candidate_id>/status", or "POST" for a view method
    qualified_name: str  # "update_status", or "ApplicationAPI.post"
    service_name: str  # the service function's name before clash suffixes
    view_instance: str | None  # "self" for methods of class-based views



def find_route(
    function: cst.FunctionDef,
    enclosing_class: cst.ClassDef | None,
    decorators: Sequence[str],
    view_bases: Sequence[str],
    prefixes: dict[str, str],
    meta: Metadata,
) -> Route | None:
    """The route ``function`` is, if it is one (by decorator or as a class-based view method)."""
    name = function.name.value
    for decorator in function.decorators:
        label = route_label(decorator.decorator, decorators, prefixes)
        if label is not None:
            if _is_test_double(decorator.decorator, meta):
                return None
            if enclosing_class is None:
                return Route(function, label, name, name, None)
            return Route(function, label, f"{enclosing_class.name.value}.{name}", name, _instance_parameter(function))
    if enclosing_class is None or name not in HTTP_VERBS or not _is_view_class(enclosing_class, view_bases):
        return None
    class_name = enclosing_class.name.value
    subject = f"{name}_{_view_subject(class_name)}"
    return Route(function, name.upper(), f"{class_name}.{name}", subject, _instance_parameter(function))



def _instance_parameter(method: cst.FunctionDef) -> str | None:
    """``self`` (or ``cls``): the view object, which belongs to the HTTP layer."""
    if any(dotted_name(d.decorator) == "staticmethod" for d in method.decorators):
        return None
    params = [*method.params.posonly_params, *method.params.params]
    return params[0].name.value if params else None



def _is_test_double(decorator: cst.BaseExpression, meta: Metadata) -> bool:
    """``@mock.patch(...)``, ``@patch.object(...)``: test code, whatever the attribute is called."""
    func = decorator.func if isinstance(decorator, cst.Call) else decorator
    spelled = dotted_name(func) or ""
    if "patch" not in spelled and "mock" not in spelled.lower():
        return False  # spelled like no test double: skip resolving the module's qualified names
    for node in (func, *([func.value] if isinstance(func, cst.Attribute) else [])):
        fast = meta.qualified_names_where(node, lambda name: name.startswith(_TEST_DOUBLE_MODULES))
        names = fast if fast is not None else {q.name for q in meta.qualified_names(node)}
        if any(name.startswith(_TEST_DOUBLE_MODULES) for name in names):
            return True
    return False



def route_label(decorator: cst.BaseExpression, decorators: Sequence[str], prefixes: dict[str, str]) -> str | None:
    if not isinstance(decorator, cst.Call):
        return None
    func = decorator.func
    if isinstance(func, cst.Attribute):
        kind, receiver = func.attr.value, dotted_name(func.value)
    elif isinstance(func, cst.Name):
        kind, receiver = func.value, None
    else:
        return None
    if kind not in decorators:
        return None
    path = _string_argument(decorator, 0, ("rule", "path"))
    methods = [kind.upper()] if kind in HTTP_VERBS else _methods_argument(decorator)
    prefix = prefixes.get(receiver or "", "")
    where = f" {prefix}{path}" if path is not None else ""
    return f"{'/'.join(methods)}{where}"



def _string_argument(call: cst.Call, position: int, keywords: Sequence[str]) -> str | None:
    positional = [a for a in call.args if a.keyword is None and a.star == ""]
    candidates = [a.value for a in call.args if a.keyword is not None and a.keyword.value in keywords]
    if len(positional) > position:
        candidates.insert(0, positional[position].value)
    for value in candidates:
        if isinstance(value, cst.SimpleString):
            evaluated = value.evaluated_value
            return evaluated if isinstance(evaluated, str) else None
    return None



def _methods_argument(call: cst.Call) -> list[str]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "methods" and isinstance(arg.value, (cst.List, cst.Tuple)):
            methods = [e.value.evaluated_value for e in arg.value.elements if isinstance(e.value, cst.SimpleString)]
            found = [m.upper() for m in methods if isinstance(m, str)]
            if found:
                return found
    return ["GET"]



def _is_view_class(node: cst.ClassDef, view_bases: Sequence[str]) -> bool:
    for base in node.bases:
        name = dotted_name(base.value)
        if name is not None and name.rsplit(".", 1)[-1] in view_bases:
            return True
    return False



def _view_subject(class_name: str) -> str:
    """``ApplicationAPI`` -> ``application``: what the view's verbs act on, in snake case."""
    subject = class_name
    for suffix in _VIEW_CLASS_SUFFIXES:
        if subject.endswith(suffix) and len(subject) > len(suffix):
            subject = subject[: -len(suffix)]
            break
    return snake_case(subject)



def snake_case(name: str) -> str:
    words = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", words).lower()



def router_prefixes(module: cst.Module) -> dict[str, str]:
    """``bp = Blueprint(..., url_prefix="/x")`` / ``router = APIRouter(prefix="/x")`` -> {bp: /x}."""
    prefixes: dict[str, str] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.Assign) or not isinstance(small.value, cst.Call):
                continue
            prefix = None
            for arg in small.value.args:
                if arg.keyword is not None and arg.keyword.value in ("url_prefix", "prefix"):
                    if isinstance(arg.value, cst.SimpleString) and isinstance(arg.value.evaluated_value, str):
                        prefix = arg.value.evaluated_value.rstrip("/")
            for target in small.targets:
                name = dotted_name(target.target)
                if name is not None and prefix:
                    prefixes[name] = prefix
    return prefixes
