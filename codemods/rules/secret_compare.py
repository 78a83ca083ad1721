"""The ``secret-compare`` codemod: secrets compared with request values in constant time."""

from __future__ import annotations

import ast
import dataclasses
import enum
import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import libcst as cst

from codemods.analysis.loggers import TracksAncestors
from codemods.analysis.module_helpers import ModuleHelper, names_of, top_level_imports
from codemods.analysis.nodes import dotted_name
from codemods.analysis.paths import is_test_path
from codemods.analysis.precheck import SyntaxFacts, is_equality, walk_ast
from codemods.analysis.wrapping import wrap_docstring
from codemods.base import Codemod
from codemods.speedups import traversal

# The last word (or last two words) of a name that holds a secret: ``ADMIN_TOKEN``,
# ``user.reset_token``, ``settings.api_key``, ``X-Api-Key``, ``password_hash``, ``expected_sig``.
_SECRET_WORDS = frozenset(
    {"token", "secret", "apikey", "signature", "sig", "digest", "hexdigest", "otp", "totp", "hotp", "csrf", "xsrf",
     "hmac", "passcode", "passphrase", "pwhash", "passwordhash", "password", "passwd"}
)  # fmt: skip
_SECRET_PAIRS = frozenset(
    {("api", "key"), ("secret", "key"), ("private", "key"), ("access", "key"), ("signing", "key"), ("auth", "key"),
     ("password", "hash"), ("passwd", "hash"), ("pw", "hash"), ("pwd", "hash"), ("hashed", "password"),
     ("token", "hash"), ("secret", "hash"), ("otp", "code"), ("totp", "code"), ("mfa", "code"),
     ("verification", "code"), ("reset", "code")}
)  # fmt: skip
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# Where request data comes from: module-level request objects, and the types of request parameters.
_REQUEST_OBJECTS = ("flask.request", "quart.request", "sanic.request")
_REQUEST_TYPES = frozenset({"Request", "HttpRequest", "WSGIRequest", "HTTPConnection", "WebSocket"})
_REQUEST_PARAMETER_NAMES = frozenset({"request", "req"})
# Parameters whose attributes are request data too: credentials and FastAPI's request-parameter markers.
_CREDENTIAL_TYPES = frozenset({"HTTPAuthorizationCredentials", "HTTPBasicCredentials"})
_REQUEST_MARKERS = frozenset({"Header", "Query", "Cookie", "Form", "Body", "Path", "Security", "File"})
# FastAPI's security schemes: a dependency on one gives the credential the client sent.
_SECURITY_SCHEMES = frozenset(
    {"APIKeyHeader", "APIKeyQuery", "APIKeyCookie", "HTTPBearer", "HTTPBasic", "HTTPDigest", "OAuth2PasswordBearer",
     "OAuth2AuthorizationCodeBearer", "OpenIdConnect"}
)  # fmt: skip
_TEXT_TYPES = frozenset({"str", "bytes", "Optional", "None", "Annotated", "Union"})
# Functions that read a setting by name: os.getenv, python-decouple's config, django-environ's env.
_SETTING_READERS = frozenset({"getenv", "config", "env"})
_ROUTE_DECORATORS = frozenset({"route", "get", "post", "put", "patch", "delete", "api_route", "websocket"})
_HELPER_NAMES = ("_constant_time_equal", "_secrets_equal")
_HELPER_DOCSTRING = (
    "``left == right``, in constant time when both are text or both are bytes.\n\n"
    "Text is compared as UTF-8 bytes, so non-ASCII text compares as ``==`` does; a missing value "
    "(``None``) or any other type falls back to ``==``."
)
_COMPARE_DIGEST = ("hmac.compare_digest", "secrets.compare_digest")


class _Kind(enum.Enum):
    LITERAL = "literal"  # a constant, None, a length: not a secret
    INPUT = "input"  # request data, or a parameter: what a client controls
    SECRET = "secret"  # a setting, environment value or stored attribute named like a secret
    OTHER = "other"


@dataclasses.dataclass(frozen=True)
class _Operand:
    kind: _Kind
    tainted: bool = False  # computed from request data (a digest of the body, ...)


class SecretCompare(TracksAncestors, Codemod):
    """Compare secrets with request values in constant time (``hmac.compare_digest``).

    What it does:
        Rewrites ``==`` / ``!=`` between a secret and a value that comes from the request into
        a call of a small module helper, ``_constant_time_equal(left, right)``, which compares
        text and bytes with ``hmac.compare_digest`` on their UTF-8 bytes and gives the answer
        ``==`` gave for every input: equal and unequal values, the empty string, non-ASCII
        text, and a missing value (``None`` compares unequal, as before, and never raises).
        ``!=`` becomes ``not _constant_time_equal(...)``.  The helper is added once, above its
        first use, with ``import hmac`` (an existing ``hmac`` or ``secrets`` import is reused).

        A *secret* is a setting, environment value or stored attribute whose name ends in
        token, secret, api_key/apikey, password/password_hash, signature/sig, digest, otp,
        csrf, hmac, ... (``settings.ADMIN_TOKEN``, ``os.environ["WEBHOOK_SECRET"]``,
        ``os.getenv("API_KEY")``, ``config("API_KEY")``, ``current_app.config.get("API_KEY")``,
        ``user.reset_token``, a digest computed with ``.hexdigest()``), or a variable assigned
        one.  A *request value* is read from the
        request (``request.headers.get(...)``, ``request.args``, ``self.request.META`` in a
        class-based view, a FastAPI ``Header()`` parameter, a route parameter, HTTP
        credentials), a parameter of the function, or a
        variable assigned one; a secret computed from request data (an HMAC of the body)
        counts as one too.

    Why is this bad?
        ``==`` on strings stops at the first differing character, so the time a wrong guess
        takes tells an attacker how many leading characters were right; an API token, a
        webhook signature or a reset token can then be recovered one character at a time.
        ``hmac.compare_digest`` takes the same time wherever the values differ.

    Example:
        ```python
        @app.route("/admin/reindex", methods=["POST"])
        def reindex():
            if request.headers.get("X-Admin-Token") != current_app.config["ADMIN_TOKEN"]:
                abort(403)
            ...
        ```

    Use instead:
        ```python
        @app.route("/admin/reindex", methods=["POST"])
        def reindex():
            if not _constant_time_equal(request.headers.get("X-Admin-Token"), current_app.config["ADMIN_TOKEN"]):
                abort(403)
            ...
        ```

    Fix safety:
        The answer is the same for every pair of values: strings are equal exactly when their
        UTF-8 encodings are (lone surrogates included, with ``surrogatepass``), bytes are
        compared as bytes, and anything else (``None``, numbers, a str against bytes) falls
        back to ``==`` itself.  Only the time a comparison of two strings or two byte strings
        takes changes.

    Limitations:
        Comparisons between two request values (``password == confirm_password``), with
        literals, ``None`` or lengths, and between two stored secrets are left alone, and so
        are test files and the tests of ``assert`` statements.  A secret compared with a value auditfix cannot trace to the request
        (a call's result, an attribute of an unknown object) and chained comparisons are
        reported, not rewritten.  Membership tests (``token in VALID_TOKENS``) are not
        handled.  The helper is added to each module that needs it.
    """

    name = "secret-compare"
    summary = "Compare tokens, API keys and signatures with request values in constant time (hmac.compare_digest)"
    safety = (
        "The rewritten comparison gives the same answer as `==` for every input (None, empty, non-ASCII, "
        "bytes, other types); only the time it takes stops depending on where the values differ."
    )
    markers = (b"==", b"!=")
    METADATA_DEPENDENCIES: ClassVar = ()

    @classmethod
    def applies_to(cls, source: bytes) -> bool:
        return super().applies_to(source) and _SECRET_TEXT.search(source) is not None

    @classmethod
    def may_change(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> bool:
        # Comparisons that are the test of an ``assert`` are left alone (test files are full of them).
        if facts.equality_compares <= facts.equality_compares_in_asserts:
            return False
        return facts.tree is None or _may_compare_a_secret(facts)

    @classmethod
    def may_change_file(
        cls, facts: SyntaxFacts, options: Mapping[str, Any], *, path: str, source: bytes, index: Any
    ) -> bool:
        return not is_test_path(path) and cls.may_change(facts, options)

    @classmethod
    def precheck_summary(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> bool:
        return cls.may_change(facts, options)

    @classmethod
    def may_change_summary(
        cls, summary: Any, options: Mapping[str, Any], *, path: str, source: bytes, index: Any
    ) -> bool:
        return not is_test_path(path) and bool(summary)

    def visit_Module(self, node: cst.Module) -> bool:
        self._helper: ModuleHelper | None = None
        self._new_hmac_import = False
        if is_test_path(self.file.path):
            return False  # tests compare tokens to check them, not to guard anything
        self._module = node
        self._imports = top_level_imports(node)
        self._bindings: dict[int, dict[str, list[cst.BaseExpression | None]]] = {}
        self._classifying: set[tuple[str, int, str]] = set()
        self._scheme_names: frozenset[str] | None = None
        self.visit_only_statements_containing(node, is_equality)
        return True

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if self._helper is None or not self._helper.added:
            return updated_node
        updated_node = self._helper.finish(updated_node)
        if self._new_hmac_import:
            self.add_import("hmac")
        return updated_node

    def leave_Comparison(self, original_node: cst.Comparison, updated_node: cst.Comparison) -> cst.BaseExpression:
        operators = [t.operator for t in original_node.comparisons]
        if not any(isinstance(o, (cst.Equal, cst.NotEqual)) for o in operators) or self._in_assert_test():
            return updated_node
        if len(operators) > 1:
            operands = [original_node.left, *(t.comparator for t in original_node.comparisons)]
            if self._worth_rewriting(*self._pair(operands[0], operands[1])) or self._worth_rewriting(
                *self._pair(operands[-2], operands[-1])
            ):
                self.report(original_node, "secret compared in a chained comparison: not rewritten", fixable=False)
            return updated_node
        left, right = self._pair(original_node.left, original_node.comparisons[0].comparator)
        if not self._worth_rewriting(left, right):
            if {left.kind, right.kind} == {_Kind.SECRET, _Kind.OTHER}:
                self.report(
                    original_node,
                    "secret compared with a value auditfix cannot trace to the request: not rewritten "
                    "(use hmac.compare_digest if it comes from a client)",
                    fixable=False,
                )
            return updated_node
        helper = self._helper_name(original_node)
        if helper is None:
            return updated_node
        target = updated_node.comparisons[0]
        call: cst.BaseExpression = cst.Call(
            func=cst.Name(helper), args=[cst.Arg(updated_node.left, comma=_comma()), cst.Arg(target.comparator)]
        )
        if isinstance(target.operator, cst.NotEqual):
            call = cst.UnaryOperation(cst.Not(), call)
        new = call.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        self.report(original_node, f"secret compared with {_code(target.operator).strip()} → {_one_line(new)}")
        return new

    # -- decisions --------------------------------------------------------------------------------

    def _in_assert_test(self) -> bool:
        """An ``assert`` states an invariant (and disappears under ``-O``): not an access check."""
        return any(
            isinstance(node, cst.Assert) and self.ancestors[index + 1] is node.test
            for index, node in enumerate(self.ancestors[:-1])
        )

    def _pair(self, left: cst.BaseExpression, right: cst.BaseExpression) -> tuple[_Operand, _Operand]:
        return self._classify(left), self._classify(right)

    @staticmethod
    def _worth_rewriting(left: _Operand, right: _Operand) -> bool:
        kinds = {left.kind, right.kind}
        if _Kind.SECRET not in kinds or _Kind.LITERAL in kinds:
            return False
        if kinds == {_Kind.SECRET, _Kind.INPUT}:
            return True
        return left.tainted or right.tainted  # a secret against something computed from the request

    def _helper_name(self, comparison: cst.Comparison) -> str | None:
        if self._helper is None:
            compare_digest = self._compare_digest()
            if compare_digest is None:
                self.report(comparison, "no free name to import hmac under: not rewritten", fixable=False)
                return None
            indent = self._module.default_indent
            docstring = wrap_docstring(_HELPER_DOCSTRING, indent=indent, limit=self.file.style.line_length)

            def definition(name: str) -> str:
                return self.render(
                    "secret_compare.py.j2", name=name, compare_digest=compare_digest, indent=indent, docstring=docstring
                )

            self._helper = ModuleHelper(self.names, self._module, _HELPER_NAMES, definition)
        name = self._helper.name_at(self.ancestors)
        if name is None:
            self.report(comparison, "no free name for the comparison helper: not rewritten", fixable=False)
        return name

    def _compare_digest(self) -> str | None:
        """How module-level code reaches ``hmac.compare_digest``; may decide to add ``import hmac``."""
        for local in names_of(self._imports, *_COMPARE_DIGEST):
            if self.names.bound_once_globally(self._module, local):
                return local
        for local in names_of(self._imports, "hmac", "secrets"):
            if self.names.bound_once_globally(self._module, local):
                return f"{local}.compare_digest"
        if self.names.in_use("hmac"):
            return None
        self._new_hmac_import = True
        return "hmac.compare_digest"

    # -- what an operand is -------------------------------------------------------------------------

    def _classify(self, node: cst.BaseExpression) -> _Operand:
        return _Operand(self._kind(node), self._tainted(node))

    def _kind(self, node: cst.BaseExpression) -> _Kind:
        if _is_literal(node):
            return _Kind.LITERAL
        if isinstance(node, cst.Name):
            return self._name_kind(node)
        if self._is_input(node):
            return _Kind.INPUT
        if isinstance(node, (cst.FormattedString, cst.BinaryOperation, cst.ConcatenatedString)):
            kinds = {self._kind(part) for part in _operands(node)}
            return _Kind.SECRET if _Kind.SECRET in kinds else _Kind.OTHER  # f"Bearer {settings.TOKEN}"
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            key = _string_argument(node)
            if key is not None:
                return _Kind.SECRET if _is_secret_name(key) else _Kind.OTHER  # config.get("API_KEY")
            if node.func.attr.value in ("hexdigest", "digest"):
                return _Kind.SECRET  # a computed signature
            return self._kind(node.func.value)  # settings.API_TOKEN.get_secret_value(), .strip()
        if isinstance(node, cst.Call) and (dotted_name(node.func) or "").rpartition(".")[2] in _SETTING_READERS:
            key = _string_argument(node)  # os.getenv("API_KEY"), config("API_KEY"), env("SECRET_KEY")
            return _Kind.SECRET if key is not None and _is_secret_name(key) else _Kind.OTHER
        if isinstance(node, cst.Subscript):
            key = _subscript_key(node)
            return _Kind.SECRET if key is not None and _is_secret_name(key) else _Kind.OTHER  # os.environ["X_TOKEN"]
        if isinstance(node, cst.Attribute):
            return _Kind.SECRET if _is_secret_name(node.attr.value) else _Kind.OTHER  # user.reset_token
        return _Kind.OTHER

    def _is_input(self, node: cst.BaseExpression) -> bool:
        """Request data: read from a request object or a request parameter, or a parameter itself."""
        if isinstance(node, cst.Name):
            return self._name_kind(node) is _Kind.INPUT
        if isinstance(node, (cst.BooleanOperation, cst.IfExp)):
            parts = [p for p in _operands(node) if not _is_literal(p)]
            return bool(parts) and all(self._is_input(p) for p in parts)  # header or ""
        if isinstance(node, cst.Call) and (dotted_name(node.func) or "") in ("str", "bytes"):
            return len(node.args) >= 1 and self._is_input(node.args[0].value)
        root = _chain_root(node)
        if root is node or not isinstance(root, cst.Name):
            return False
        if (dotted_name(node, through_calls=True) or "").startswith(("self.request.", "cls.request.")):
            return True  # a class-based view's request
        if self.names.refers_to(root, _REQUEST_OBJECTS):
            return True
        parameter = self._parameter(root.value)
        if parameter is not None:
            return parameter.parts_are_input  # user.reset_token of a parameter ``user``: stored data
        return self._name_kind(root) is _Kind.INPUT  # data = request.get_json(); data["token"]

    def _tainted(self, node: cst.BaseExpression) -> bool:
        """Computed from request data: ``hmac.new(key, request.data, sha256).hexdigest()``.  An
        attribute of such a value is not (a user looked up by a request value holds stored data)."""
        if self._kind(node) is _Kind.INPUT:
            return True
        if isinstance(node, cst.Name):
            return self._name_tainted(node)
        if isinstance(node, cst.Call):
            receiver = [node.func.value] if isinstance(node.func, cst.Attribute) else []
            return any(self._tainted(p) for p in (*receiver, *(a.value for a in node.args)))
        if isinstance(node, cst.Subscript):
            return self._tainted(node.value)
        if isinstance(node, (cst.BinaryOperation, cst.BooleanOperation, cst.IfExp, cst.FormattedString, cst.ConcatenatedString)):
            return any(self._tainted(p) for p in _operands(node) if p is not node)
        return False

    def _name_kind(self, name: cst.Name) -> _Kind:
        if name.value in ("None", "True", "False"):
            return _Kind.LITERAL
        key = ("kind", id(self._innermost_function()), name.value)
        if key in self._classifying:
            return _Kind.LITERAL  # x = x.strip() while x is being classified: its other sources decide
        self._classifying.add(key)
        try:
            return self._variable_kind(name.value)
        finally:
            self._classifying.discard(key)

    def _variable_kind(self, name: str) -> _Kind:
        """What a variable holds: a parameter of the functions around the comparison, and every
        assignment to it in its function (or, if it has none there, in the module)."""
        kinds: set[_Kind] = set()
        parameter = self._parameter(name)
        values = self._values(name)
        by_name = _Kind.SECRET if _is_secret_name(name) else _Kind.OTHER
        if parameter is not None:
            kinds.add(by_name if parameter.outer else _Kind.INPUT if parameter.whole_is_input else _Kind.OTHER)
        # A value not known (an import, a loop variable, ``with ... as``): the name tells.
        kinds |= {self._kind(v) if v is not None else by_name for v in values}
        if parameter is None and not values:
            return by_name  # imported, a builtin, unknown: its name tells
        if not kinds - {_Kind.LITERAL}:
            return by_name if by_name is _Kind.SECRET else _Kind.LITERAL  # ADMIN_TOKEN = "dev-token"
        kinds.discard(_Kind.LITERAL)
        return kinds.pop() if len(kinds) == 1 else _Kind.OTHER

    def _name_tainted(self, name: cst.Name) -> bool:
        key = ("taint", id(self._innermost_function()), name.value)
        if key in self._classifying:
            return False
        self._classifying.add(key)
        try:
            return any(self._tainted(v) for v in self._values(name.value) if v is not None)
        finally:
            self._classifying.discard(key)

    def _values(self, name: str) -> list[cst.BaseExpression | None]:
        function = self._innermost_function()
        values = self._bindings_of(function).get(name)
        if values is None and function is not None and self._parameter(name) is None:
            values = self._bindings_of(None).get(name)  # a global
        return values or []

    # -- the function around the comparison ---------------------------------------------------------

    def _schemes(self) -> frozenset[str]:
        """Module-level names bound to a FastAPI security scheme: ``api_key_header = APIKeyHeader(...)``."""
        if self._scheme_names is None:
            self._scheme_names = frozenset(
                name
                for name, values in self._bindings_of(None).items()
                if values
                and all(
                    isinstance(v, cst.Call) and (dotted_name(v.func) or "").rpartition(".")[2] in _SECURITY_SCHEMES
                    for v in values
                )
            )
        return self._scheme_names

    def _innermost_function(self) -> cst.FunctionDef | None:
        return next((a for a in reversed(self.ancestors) if isinstance(a, cst.FunctionDef)), None)

    def _bindings_of(self, function: cst.FunctionDef | None) -> dict[str, list[cst.BaseExpression | None]]:
        key = id(function) if function is not None else 0
        if key not in self._bindings:
            collector = _Assignments()
            if function is None:
                for statement in self._module.body:
                    statement.visit(collector)
            else:
                function.body.visit(collector)
            self._bindings[key] = collector.values
        return self._bindings[key]

    def _parameter(self, name: str) -> _Parameter | None:
        """The parameter ``name`` of the innermost function around the comparison binding it.

        A parameter of an outer function (a closure's ``create_app(api_key)``) is configuration
        more often than client data: its name decides, like any variable whose value is unknown.
        """
        innermost = True
        for index in range(len(self.ancestors) - 1, -1, -1):
            function = self.ancestors[index]
            if not isinstance(function, cst.FunctionDef):
                continue
            for position, param in enumerate(_parameters(function)):
                if param.name.value == name:
                    if not innermost:
                        return _Parameter(whole_is_input=False, parts_are_input=False, outer=True)
                    method = index >= 2 and isinstance(self.ancestors[index - 2], cst.ClassDef)
                    return _Parameter.of(param, function, is_receiver=method and position == 0, schemes=self._schemes())
            innermost = False
        return None


@dataclasses.dataclass(frozen=True)
class _Parameter:
    whole_is_input: bool  # the value itself is client data
    parts_are_input: bool  # its attributes, items and method results are client data too
    outer: bool = False  # a parameter of a function around the innermost one

    @classmethod
    def of(cls, param: cst.Param, function: cst.FunctionDef, *, is_receiver: bool, schemes: frozenset[str]) -> _Parameter:
        """``schemes``: module-level names of FastAPI security schemes (``APIKeyHeader(...)``)."""
        if is_receiver:
            return cls(False, False)  # self, cls
        annotation = set(_names_in(param.annotation.annotation if param.annotation else None))
        markers = annotation | set(_names_in(param.default))
        if markers & _REQUEST_TYPES or param.name.value in _REQUEST_PARAMETER_NAMES:
            return cls(True, True)
        if markers & (_CREDENTIAL_TYPES | _REQUEST_MARKERS | _SECURITY_SCHEMES | schemes):
            return cls(True, True)  # Depends(api_key_header), Depends(OAuth2PasswordBearer(...))
        if "Depends" in markers:
            if annotation and annotation <= _TEXT_TYPES:
                return cls(True, True)  # key: str = Depends(get_api_key): the dependency reads the request
            return cls(False, False)  # the current user, a database session: server-side objects
        route = any(_decorator_name(d.decorator) in _ROUTE_DECORATORS for d in function.decorators)
        return cls(True, route)  # a route's body model: payload.token is client data


class _Assignments(traversal.Visitor):
    """Name -> every value assigned to it in one function body (None: a value not known)."""

    def __init__(self) -> None:
        self.values: dict[str, list[cst.BaseExpression | None]] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._bind(node.name, None)
        return False  # its own scope

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._bind(node.name, None)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target, None)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, node.value)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, None)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind(node.name.name, None)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self.values.setdefault((alias.evaluated_alias or alias.evaluated_name).split(".")[0], []).append(None)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                self.values.setdefault(alias.evaluated_alias or alias.evaluated_name, []).append(None)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            self.values.setdefault(target.value, []).append(value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            # scheme, _, token = header.partition(" "): each part is what the value is made of
            for element in target.elements:
                inner = element.value.value if isinstance(element.value, cst.StarredElement) else element.value
                self._bind(inner, value)


# -- small facts about expressions ------------------------------------------------------------------

_SECRET_TEXT = re.compile(
    rb"(?i)token|secret|api_?key|apikey|signature|sig\b|digest|otp|csrf|xsrf|hmac|pass(?:code|phrase|word|wd)|pw_?hash|"
    rb"hashed_password|private_key|access_key|signing_key|auth_key|_code\b"
)


def _may_compare_a_secret(facts: SyntaxFacts) -> bool:
    """Whether ``facts.tree`` (CPython's tree) has a comparison the rule may report: an ``==``/``!=`` outside
    an ``assert``'s test where one side of a compared pair may be a secret and neither side is a
    literal (every finding needs that: a secret against request data, a chained comparison with
    one, or a secret against a value of unknown origin).

    A necessary condition, following ``SecretCompare._kind``: a side may be a secret when it is
    named like one (an attribute, a key, a setting read by name), is a digest, is built from one
    (an f-string, ``+``, a method of it), or is a variable named so or assigned such a value
    anywhere in the module (with no regard for scopes)."""
    pairs: list[tuple[ast.expr, ast.expr]] = []
    in_asserts: set[int] = set()
    values: dict[str, list[ast.expr]] = {}
    # The asserts first: the comparisons in their tests are left alone.
    for node in facts.nodes(ast.Assert, ast.Compare, ast.Assign, ast.AnnAssign, ast.NamedExpr):
        kind = type(node)
        if kind is ast.Compare and id(node) not in in_asserts and is_equality(node):
            operands = [node.left, *node.comparators]  # type: ignore[attr-defined]
            pairs.append((operands[0], operands[1]))
            if len(operands) > 2:
                pairs.append((operands[-2], operands[-1]))
        elif kind is ast.Assert:
            in_asserts.update(id(n) for n in walk_ast(node.test) if type(n) is ast.Compare)  # type: ignore[attr-defined]
        elif kind is ast.Assign:
            for target in node.targets:  # type: ignore[attr-defined]
                _bind_value(target, node.value, values)  # type: ignore[attr-defined]
        elif kind in (ast.AnnAssign, ast.NamedExpr) and node.value is not None:  # type: ignore[attr-defined]
            _bind_value(node.target, node.value, values)  # type: ignore[attr-defined]
    pairs = [(a, b) for a, b in pairs if not _is_literal_ast(a) and not _is_literal_ast(b)]
    if not pairs:
        return False
    secret_names: set[str] = set()  # variables assigned what may be a secret, to a fixed point
    while True:
        found = {
            name for name, assigned in values.items()
            if name not in secret_names and any(_may_be_secret(v, secret_names) for v in assigned)
        }  # fmt: skip
        if not found:
            break
        secret_names |= found
    return any(_may_be_secret(a, secret_names) or _may_be_secret(b, secret_names) for a, b in pairs)


def _bind_value(target: ast.expr, value: ast.expr, values: dict[str, list[ast.expr]]) -> None:
    """Record ``value`` for each name ``target`` binds (every part of an unpacking gets it all)."""
    if type(target) is ast.Name:
        values.setdefault(target.id, []).append(value)
    elif type(target) in (ast.Tuple, ast.List):
        for element in target.elts:  # type: ignore[attr-defined]
            _bind_value(element.value if type(element) is ast.Starred else element, value, values)  # type: ignore[attr-defined]


def _may_be_secret(node: ast.expr, secret_names: set[str]) -> bool:
    """Whether ``SecretCompare._kind`` may find ``node`` a secret (see _may_compare_a_secret)."""
    kind = type(node)
    if kind is ast.Name:
        return _is_secret_name(node.id) or node.id in secret_names  # type: ignore[attr-defined]
    if kind is ast.Attribute:
        return _is_secret_name(node.attr)  # type: ignore[attr-defined]
    if kind is ast.Subscript:
        return _is_text(node.slice) and _is_secret_name(node.slice.value)  # type: ignore[attr-defined]
    if kind in (ast.BinOp, ast.JoinedStr):
        return any(_may_be_secret(part, secret_names) for part in _operands_ast(node))
    if kind is ast.Call:
        func = node.func  # type: ignore[attr-defined]
        key = node.args[0] if node.args else None  # type: ignore[attr-defined]
        named = key is not None and _is_text(key) and _is_secret_name(key.value)  # type: ignore[attr-defined]
        if type(func) is ast.Attribute:
            return named or func.attr in ("hexdigest", "digest") or _may_be_secret(func.value, secret_names)
        return named and type(func) is ast.Name and func.id in _SETTING_READERS
    return False


def _operands_ast(node: ast.expr) -> Iterator[ast.expr]:
    """What ``_operands`` yields for the libcst node of ``node``."""
    kind = type(node)
    if kind is ast.BinOp:
        yield from _operands_ast(node.left)  # type: ignore[attr-defined]
        yield from _operands_ast(node.right)  # type: ignore[attr-defined]
    elif kind is ast.BoolOp:
        for value in node.values:  # type: ignore[attr-defined]
            yield from _operands_ast(value)
    elif kind is ast.IfExp:
        yield node.body  # type: ignore[attr-defined]
        yield node.orelse  # type: ignore[attr-defined]
    elif kind is ast.JoinedStr:
        yield from (v.value for v in node.values if type(v) is ast.FormattedValue)  # type: ignore[attr-defined]
    else:
        yield node


def _is_literal_ast(node: ast.expr) -> bool:
    """What ``_is_literal`` says of the libcst node of ``node`` (the literal side of a comparison)."""
    kind = type(node)
    if kind in (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict):
        return True
    if kind is ast.JoinedStr:
        return not any(type(v) is ast.FormattedValue for v in node.values)  # type: ignore[attr-defined]
    if kind is ast.UnaryOp:
        return _is_literal_ast(node.operand)  # type: ignore[attr-defined]
    if kind is ast.Call:
        func = node.func  # type: ignore[attr-defined]
        return type(func) is ast.Name and func.id in ("len", "int", "float", "bool")
    return False


def _is_text(node: ast.AST) -> bool:
    return type(node) is ast.Constant and isinstance(node.value, str)  # type: ignore[attr-defined]


def _is_secret_name(name: str) -> bool:
    words = [w.lower() for w in _WORD.findall(name)]
    if not words:
        return False
    return words[-1] in _SECRET_WORDS or (len(words) > 1 and (words[-2], words[-1]) in _SECRET_PAIRS)


def _is_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis)):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return _is_literal(node.left) and _is_literal(node.right)
    if isinstance(node, cst.FormattedString):
        return not any(isinstance(p, cst.FormattedStringExpression) for p in node.parts)
    if isinstance(node, cst.Name):
        return node.value in ("None", "True", "False")
    if isinstance(node, cst.UnaryOperation):
        return _is_literal(node.expression)
    if isinstance(node, (cst.Tuple, cst.List, cst.Set, cst.Dict)):
        return True  # a display: compared by contents, never a secret string
    if isinstance(node, cst.Call):
        return (dotted_name(node.func) or "") in ("len", "int", "float", "bool")  # lengths and counts
    return False


def _operands(node: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    if isinstance(node, cst.BinaryOperation):
        yield from _operands(node.left)
        yield from _operands(node.right)
    elif isinstance(node, cst.BooleanOperation):
        yield from _operands(node.left)
        yield from _operands(node.right)
    elif isinstance(node, cst.IfExp):
        yield node.body
        yield node.orelse
    elif isinstance(node, cst.ConcatenatedString):
        yield from _operands(node.left)
        yield from _operands(node.right)
    elif isinstance(node, cst.FormattedString):
        yield from (p.expression for p in node.parts if isinstance(p, cst.FormattedStringExpression))
    else:
        yield node


def _chain_root(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """``request`` of ``request.headers.get("X")["y"].strip()``: through attributes, items and calls."""
    while True:
        if isinstance(node, cst.Attribute):
            node = node.value
        elif isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            node = node.func.value
        else:
            return node


def _string_argument(call: cst.Call) -> str | None:
    """The first argument when it is a plain string: the key of ``.get("KEY")``, ``getenv("KEY")``."""
    if call.args and call.args[0].keyword is None and isinstance(call.args[0].value, cst.SimpleString):
        value = call.args[0].value.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _subscript_key(node: cst.Subscript) -> str | None:
    if len(node.slice) != 1:
        return None
    index = node.slice[0].slice
    if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
        value = index.value.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _parameters(function: cst.FunctionDef) -> list[cst.Param]:
    params = function.params
    star = [params.star_arg] if isinstance(params.star_arg, cst.Param) else []
    kwargs = [params.star_kwarg] if params.star_kwarg is not None else []
    return [*params.posonly_params, *params.params, *star, *params.kwonly_params, *kwargs]


def _names_in(node: cst.CSTNode | None) -> list[str]:
    """Names and attribute names in an annotation or default (``Annotated[str, Header()]``)."""
    if node is None:
        return []
    found: list[str] = []

    class _Collect(traversal.Visitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.append(name.value)

    node.visit(_Collect())
    return found


def _decorator_name(decorator: cst.BaseExpression) -> str:
    target = decorator.func if isinstance(decorator, cst.Call) else decorator
    return (dotted_name(target) or "").rpartition(".")[2]


def _comma() -> cst.Comma:
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _one_line(node: cst.CSTNode) -> str:
    return " ".join(_code(node).split()).replace("( ", "(").replace(" )", ")")

