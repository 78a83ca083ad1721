"""Which expressions of one file are Pydantic models: scopes, bindings and their types.

A name is a model instance (or class) only if every binding that can reach the place it is
read gives one: a parameter annotated with a model (``User``, ``Optional[User]``, ``User |
None``, ``Annotated[User, Body()]``, ``"User"``), an assignment of a model's constructor or
of a v1/v2 constructor method (``User(...)``, ``User.parse_obj(...)``), of a call to a function
whose return annotation is a model, of a model's ``copy()``; ``self``/``cls`` in a model's
methods and validators; an import or class statement that binds a model class.  Any other
binding (a loop target, ``with ... as``, augmented assignment, an unannotated parameter, a
``global`` the analysis cannot follow) makes the name unknown, and unknown is never rewritten.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import libcst as cst

from codemods.rules.pydantic_api.index import ApiIndex, absolute_module
from codemods.rules.pydantic_api.tables import (
    ANNOTATED_NAMES,
    CONSTRUCTORS,
    OPTIONAL_NAMES,
    TYPE_NAMES,
    UNION_NAMES,
)
from codemods.speedups import traversal

# The binding kinds that can give a type; everything else is OTHER.
PARAM, ASSIGN, ANNOTATED, CLASS, FUNCTION, IMPORT, LOOP, OTHER = [
    "param",
    "assign",
    "annotated",
    "class",
    "function",
    "import",
    "loop",
    "other",
]
# Annotations of collections whose iteration gives their one type argument.
COLLECTIONS = frozenset(
    {"list", "set", "frozenset"}
    | {
        f"typing.{n}"
        for n in (
            "List",
            "Set",
            "FrozenSet",
            "Sequence",
            "MutableSequence",
            "Iterable",
            "Iterator",
            "Collection",
            "AbstractSet",
        )
    }
    | {f"collections.abc.{n}" for n in ("Sequence", "MutableSequence", "Iterable", "Iterator", "Collection", "Set")}
)
CLASSMETHOD_DECORATORS = frozenset({"classmethod", "validator", "root_validator", "field_validator", "model_validator"})


@dataclasses.dataclass(eq=False)
class Binding:
    kind: str
    scope: Scope  # where its expressions are evaluated
    node: cst.CSTNode | None = None  # Param, assigned value, annotation, ClassDef, FunctionDef
    target: str = ""  # IMPORT: the dotted name bound; CLASS: the class's qualname
    position: int = -1  # PARAM: its position among the positional parameters
    function: cst.FunctionDef | None = None  # PARAM: the function it belongs to


@dataclasses.dataclass(eq=False)
class Scope:
    kind: str  # module, class, function, lambda, comprehension
    parent: Scope | None
    qualname: str  # dotted prefix of what it defines (module.Class.method)
    bindings: dict[str, list[Binding]] = dataclasses.field(default_factory=dict)
    globals: set[str] = dataclasses.field(default_factory=set)
    nonlocals: set[str] = dataclasses.field(default_factory=set)

    def bind(self, name: str, binding: Binding) -> None:
        scope = self
        if name in self.globals:
            while scope.parent is not None:
                scope = scope.parent
        self_or_module = scope
        self_or_module.bindings.setdefault(name, []).append(binding)

    def lookup(self, name: str) -> list[Binding] | None:
        """The bindings of ``name`` as read in this scope (Python's rules: class scopes are
        skipped from inside their functions); None for a builtin or unbound name."""
        scope: Scope | None = self
        if name in self.globals:
            while scope is not None and scope.parent is not None:
                scope = scope.parent
        first = True
        while scope is not None:
            if (scope.kind != "class" or first) and name in scope.bindings:
                if name in scope.nonlocals:
                    return None
                return scope.bindings[name]
            first = False
            scope = scope.parent
        return None

    @property
    def module(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope


def _names_in_target(target: cst.BaseExpression) -> Iterable[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _names_in_target(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _names_in_target(target.value)


def dotted_name(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        head = dotted_name(expr.value)
        return f"{head}.{expr.attr.value}" if head else None
    return None


class ScopeBuilder(traversal.Visitor):
    """One walk collecting every scope of the module and the bindings each holds."""

    def __init__(self, module_name: str, package: str) -> None:
        self.package = package
        self.module = Scope("module", None, module_name)
        self.stack = [self.module]
        self.scopes: dict[cst.CSTNode, Scope] = {}

    @property
    def scope(self) -> Scope:
        return self.stack[-1]

    def _push(self, node: cst.CSTNode, kind: str, name: str = "") -> Scope:
        parent = self.scope
        qualname = f"{parent.qualname}.{name}" if name else parent.qualname
        scope = Scope(kind, parent, qualname)
        self.scopes[node] = scope
        self.stack.append(scope)
        return scope

    def _pop(self, node: cst.CSTNode) -> None:
        self.stack.pop()

    def _bind_target(self, target: cst.BaseExpression, binding: Binding | None = None) -> None:
        if binding is not None and isinstance(target, cst.Name):
            self.scope.bind(target.value, binding)
            return
        for name in _names_in_target(target):
            self.scope.bind(name, Binding(OTHER, self.scope))

    # scopes

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        scope = self.scope
        scope.bind(node.name.value, Binding(CLASS, scope, node, f"{scope.qualname}.{node.name.value}"))
        self._push(node, "class", node.name.value)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._pop(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope.bind(node.name.value, Binding(FUNCTION, self.scope, node))
        scope = self._push(node, "function", node.name.value)
        positional = [*node.params.posonly_params, *node.params.params]
        for position, param in enumerate(positional):
            scope.bind(param.name.value, Binding(PARAM, scope, param, position=position, function=node))
        for param in node.params.kwonly_params:
            scope.bind(param.name.value, Binding(PARAM, scope, param, function=node))
        for star in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.bind(star.name.value, Binding(OTHER, scope))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._pop(node)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        scope = self._push(node, "lambda")
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            scope.bind(param.name.value, Binding(OTHER, scope))
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.bind(star.name.value, Binding(OTHER, scope))

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self._pop(node)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._push(node, "comprehension")

    def leave_ListComp(self, node: cst.ListComp) -> None:
        self._pop(node)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._push(node, "comprehension")

    def leave_SetComp(self, node: cst.SetComp) -> None:
        self._pop(node)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._push(node, "comprehension")

    def leave_DictComp(self, node: cst.DictComp) -> None:
        self._pop(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._push(node, "comprehension")

    def leave_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._pop(node)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_target(node.target, Binding(LOOP, self.scope, node.iter))

    # bindings

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_target(target.target, Binding(ASSIGN, self.scope, node.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self.scope.kind != "class":  # a class body's annotations are fields, not bindings we read
            self._bind_target(node.target, Binding(ANNOTATED, self.scope, node.annotation.annotation))
        elif node.value is not None:
            self._bind_target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target, Binding(LOOP, self.scope, node.iter))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind_target(node.name.name)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        if node.name is not None:
            self._bind_target(node.name.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        scope = self.scope
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        if isinstance(node.target, cst.Name):
            scope.bind(node.target.value, Binding(ASSIGN, self.scope, node.value))

    def visit_Del(self, node: cst.Del) -> None:
        self._bind_target(node.target)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self._bind_target(node.name)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self._bind_target(node.name)

    def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self._bind_target(node.rest)

    def visit_Global(self, node: cst.Global) -> None:
        self.scope.globals.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.scope.nonlocals.update(item.name.value for item in node.names)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = dotted_name(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.scope.bind(alias.asname.name.value, Binding(IMPORT, self.scope, alias, dotted))
            else:
                head = dotted.partition(".")[0]
                self.scope.bind(head, Binding(IMPORT, self.scope, alias, head))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = dotted_name(node.module) if node.module is not None else None
        source = absolute_module(self.package, len(node.relative), module)
        if isinstance(node.names, cst.ImportStar):
            return  # binds what it binds; a name it may bind is also bound by something else we see or a builtin
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            if source is None:
                self.scope.bind(local, Binding(OTHER, self.scope))
            else:
                self.scope.bind(local, Binding(IMPORT, self.scope, alias, f"{source}.{name}" if source else name))


def _field_annotation(cls: cst.ClassDef, name: str) -> cst.BaseExpression | None:
    """The annotation of field ``name`` in the class's own body, if it declares it exactly once."""
    found = []
    for statement in cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ():
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if (
                    isinstance(small, cst.AnnAssign)
                    and isinstance(small.target, cst.Name)
                    and small.target.value == name
                ):
                    found.append(small.annotation.annotation)
                elif isinstance(small, cst.Assign) and any(
                    isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets
                ):
                    return None
        elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.name.value == name:
            return None
    return found[0] if len(found) == 1 else None


@dataclasses.dataclass(frozen=True)
class Known:
    """An expression that is an instance (or, with ``is_class``, the class) of these models."""

    models: frozenset[str]
    is_class: bool = False

    def instance(self) -> Known:
        return Known(self.models)


_NONE = Known(frozenset({"None"}))  # the None of an Optional annotation


class Types:
    """Answers "is this expression a Pydantic model (instance or class), and which?"."""

    def __init__(
        self, builder: ScopeBuilder, index: ApiIndex, decorator_name: Callable[[cst.Decorator, Scope], str | None]
    ) -> None:
        self.index = index
        self.scopes = builder.scopes
        self.module = builder.module
        self._decorator_name = decorator_name
        self._visiting: set[int] = set()
        # The classes of this file by qualname, with the scope their annotations are read in.
        self._classes: dict[str, tuple[cst.ClassDef, Scope]] = {}
        for node, scope in builder.scopes.items():
            if isinstance(node, cst.ClassDef) and scope.parent is not None:
                self._classes[scope.qualname] = (node, scope.parent)

    # -- names ------------------------------------------------------------------------------------

    def resolve(self, expr: cst.BaseExpression, scope: Scope) -> str | None:
        """The absolute dotted name a Name/Attribute chain denotes through imports and class
        statements (``schemas.User`` -> ``app.schemas.User``), or None."""
        dotted = dotted_name(expr)
        if dotted is None:
            return None
        head, dot, rest = dotted.partition(".")
        bindings = scope.lookup(head)
        if not bindings:
            return None
        targets = {b.target for b in bindings if b.kind in (IMPORT, CLASS)}
        if len(targets) != 1 or any(b.kind not in (IMPORT, CLASS) for b in bindings):
            return None
        return next(iter(targets)) + dot + rest

    def class_models(self, expr: cst.BaseExpression, scope: Scope) -> frozenset[str]:
        dotted = self.resolve(expr, scope)
        return self.index.models_of(dotted) if dotted else frozenset()

    # -- expressions ------------------------------------------------------------------------------

    def of(self, expr: cst.BaseExpression, scope: Scope) -> Known | None:
        if isinstance(expr, cst.Name):
            return self._name(expr.value, scope)
        if isinstance(expr, cst.Attribute):
            models = self.class_models(expr, scope)
            return Known(models, True) if models else self._field(expr, scope)
        if isinstance(expr, cst.Call):
            return self._call(expr, scope, awaited=False)
        if isinstance(expr, cst.Await) and isinstance(expr.expression, cst.Call):
            return self._call(expr.expression, scope, awaited=True)
        if isinstance(expr, cst.Subscript):  # Page[int]: a generic model, parametrised
            known = self.of(expr.value, scope)
            return known if known is not None and known.is_class else None
        return None

    def _field(self, attribute: cst.Attribute, scope: Scope) -> Known | None:
        """``order.customer`` where every model ``order`` may be declares ``customer`` in its own
        body, in this file, with a model annotation."""
        owner = self.of(attribute.value, scope)
        if owner is None or owner.is_class or not owner.models:
            return None
        found: list[Known] = []
        for model in owner.models:
            declared = self._classes.get(model)
            if declared is None:
                return None
            cls, cls_scope = declared
            annotation = _field_annotation(cls, attribute.attr.value)
            known = self.annotation(annotation, cls_scope) if annotation is not None else None
            if known is None or known.is_class:
                return None
            found.append(known)
        return Known(frozenset().union(*(k.models for k in found)))

    def _field_items(self, attribute: cst.Attribute, scope: Scope) -> Known | None:
        owner = self.of(attribute.value, scope)
        if owner is None or owner.is_class or not owner.models:
            return None
        found: list[Known] = []
        for model in owner.models:
            declared = self._classes.get(model)
            annotation = _field_annotation(declared[0], attribute.attr.value) if declared is not None else None
            item = (
                self._item_annotation(annotation, declared[1])
                if declared is not None and annotation is not None
                else None
            )
            if item is None:
                return None
            found.append(item)
        return Known(frozenset().union(*(k.models for k in found)))

    def _name(self, name: str, scope: Scope) -> Known | None:
        bindings = scope.lookup(name)
        if not bindings:
            return None
        found: list[Known] = []
        for binding in bindings:
            known = self._binding(binding)
            if known is None:
                return None
            found.append(known)
        if len({k.is_class for k in found}) != 1:
            return None
        return Known(frozenset().union(*(k.models for k in found)), found[0].is_class)

    def _binding(self, binding: Binding) -> Known | None:
        key = id(binding)
        if key in self._visiting:
            return None
        self._visiting.add(key)
        try:
            if binding.kind in (IMPORT, CLASS):
                models = self.index.models_of(binding.target)
                return Known(models, True) if models else None
            if binding.kind == ASSIGN:
                assert isinstance(binding.node, cst.BaseExpression)
                return self.of(binding.node, binding.scope)
            if binding.kind == ANNOTATED:
                assert isinstance(binding.node, cst.BaseExpression)
                return self.annotation(binding.node, binding.scope)
            if binding.kind == PARAM:
                return self._param(binding)
            if binding.kind == LOOP:
                assert isinstance(binding.node, cst.BaseExpression)
                return self._items(binding.node, binding.scope)
            return None
        finally:
            self._visiting.discard(key)

    def _param(self, binding: Binding) -> Known | None:
        param, function = binding.node, binding.function
        assert isinstance(param, cst.Param) and function is not None
        outer = binding.scope.parent
        if param.annotation is not None:
            return self.annotation(param.annotation.annotation, outer or binding.scope)
        if binding.position != 0 or outer is None or outer.kind != "class":
            return None
        models = self.index.models_of(outer.qualname)
        if not models:
            return None
        names = {self._decorator_name(d, outer) for d in function.decorators}
        if "staticmethod" in names:
            return None
        if names & CLASSMETHOD_DECORATORS:
            return Known(models, True)
        return Known(models)

    def _call(self, call: cst.Call, scope: Scope, *, awaited: bool) -> Known | None:
        func = call.func
        if isinstance(func, cst.Attribute):
            receiver = self.of(func.value, scope)
            if receiver is None:
                return None
            method = func.attr.value
            if receiver.is_class and method in CONSTRUCTORS and not awaited:
                return receiver.instance()
            if not receiver.is_class and method in ("copy", "model_copy") and not awaited:
                return receiver
            return None
        if isinstance(func, cst.Subscript):  # Page[User](...): a generic model's parametrisation
            func = func.value
        known = self.of(func, scope) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if known is not None:
            return known.instance() if known.is_class and not awaited else None
        if isinstance(func, cst.Name):
            bindings = scope.lookup(func.value)
            if bindings and len(bindings) == 1 and bindings[0].kind == FUNCTION:
                function = bindings[0].node
                assert isinstance(function, cst.FunctionDef)
                if function.returns is None or (function.asynchronous is not None) != awaited:
                    return None
                returned = self.annotation(function.returns.annotation, bindings[0].scope)
                return returned if returned is not None and not returned.is_class else None
        return None

    def _items(self, iterable: cst.BaseExpression, scope: Scope) -> Known | None:
        """What a ``for`` loop over ``iterable`` binds: an item of a name annotated as a
        collection of models (``users: list[User]``, ``Sequence[User]``, ``tuple[User, ...]``), or
        of a model's field declared so (``order.lines``)."""
        if isinstance(iterable, cst.Attribute):
            return self._field_items(iterable, scope)
        if not isinstance(iterable, cst.Name):
            return None
        bindings = scope.lookup(iterable.value)
        if not bindings:
            return None
        found: list[Known] = []
        for binding in bindings:
            annotation = None
            if binding.kind == PARAM and isinstance(binding.node, cst.Param) and binding.node.annotation is not None:
                annotation = binding.node.annotation.annotation
            elif binding.kind == ANNOTATED and isinstance(binding.node, cst.BaseExpression):
                annotation = binding.node
            item = (
                self._item_annotation(
                    annotation,
                    binding.scope.parent if binding.kind == PARAM and binding.scope.parent else binding.scope,
                )
                if annotation is not None
                else None
            )
            if item is None:
                return None
            found.append(item)
        return Known(frozenset().union(*(k.models for k in found)))

    def _item_annotation(self, annotation: cst.BaseExpression, scope: Scope) -> Known | None:
        if isinstance(annotation, cst.SimpleString):
            value = annotation.evaluated_value
            try:
                annotation = cst.parse_expression(value) if isinstance(value, str) else annotation
            except cst.ParserSyntaxError:
                return None
        if not isinstance(annotation, cst.Subscript):
            return None
        head = self.resolve(annotation.value, scope)
        if head is None and isinstance(annotation.value, cst.Name) and not scope.lookup(annotation.value.value):
            head = annotation.value.value  # list, set, tuple, frozenset: builtins
        elements = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
        if head in OPTIONAL_NAMES and len(elements) == 1:
            return self._item_annotation(elements[0], scope)
        if head == "tuple" or head in ("typing.Tuple", "typing_extensions.Tuple"):
            if len(elements) != 2 or not isinstance(elements[1], cst.Ellipsis):
                return None
        elif head not in COLLECTIONS or len(elements) != 1:
            return None
        item = self.annotation(elements[0], scope)
        return item if item is not None and not item.is_class and item.models else None

    # -- annotations ------------------------------------------------------------------------------

    def annotation(self, expr: cst.BaseExpression, scope: Scope) -> Known | None:
        """The models an annotation says a value is (an instance; ``type[Model]``: the class)."""
        found = self._annotation(expr, scope)
        if found is None or found == _NONE:
            return None
        return Known(found.models - {"None"}, found.is_class)

    def _annotation(self, expr: cst.BaseExpression, scope: Scope) -> Known | None:
        if isinstance(expr, cst.Name) and expr.value == "None":
            return _NONE
        if isinstance(expr, cst.SimpleString):
            value = expr.evaluated_value
            try:
                parsed = cst.parse_expression(value) if isinstance(value, str) else None
            except cst.ParserSyntaxError:
                return None
            return self._annotation(parsed, scope) if parsed is not None else None
        if isinstance(expr, (cst.Name, cst.Attribute)):
            models = self.class_models(expr, scope)
            return Known(models) if models else None
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
            return self._union([expr.left, expr.right], scope)
        if isinstance(expr, cst.Subscript):
            head = self.resolve(expr.value, scope)
            if head is None and isinstance(expr.value, cst.Name) and expr.value.value == "type":
                head = "type"
            elements = [e.slice.value for e in expr.slice if isinstance(e.slice, cst.Index)]
            if len(elements) != len(expr.slice) or not elements:
                return None
            if head in OPTIONAL_NAMES and len(elements) == 1:
                inner = self._annotation(elements[0], scope)
                return None if inner is None else Known(inner.models | {"None"}, inner.is_class)
            if head in UNION_NAMES:
                return self._union(elements, scope)
            if head in ANNOTATED_NAMES:
                return self._annotation(elements[0], scope)
            models = self.index.models_of(head) if head else frozenset()
            if models:  # Page[int]: an instance of a generic model
                return Known(models)
            if head in TYPE_NAMES and len(elements) == 1:
                inner = self._annotation(elements[0], scope)
                return (
                    Known(inner.models, True) if inner is not None and not inner.is_class and inner != _NONE else None
                )
        return None

    def _union(self, members: list[cst.BaseExpression], scope: Scope) -> Known | None:
        found = [self._annotation(m, scope) for m in members]
        if any(k is None for k in found):
            return None
        kinds = {k.is_class for k in found if k is not None and k != _NONE}
        if len(kinds) != 1:
            return None
        return Known(frozenset().union(*(k.models for k in found if k is not None)), kinds.pop())
