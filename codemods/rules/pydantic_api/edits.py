"""Small libcst edits and readers pydantic-api's rule is made of: arguments, literals, and the
visitors that read or rewrite a validator's body."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst


def keyword_arg(name: str, code: str) -> cst.Arg:
    call = cst.parse_expression(f"f({name}={code})")
    assert isinstance(call, cst.Call)
    return call.args[0]


def append_args(args: Sequence[cst.Arg], new: Sequence[cst.Arg]) -> list[cst.Arg]:
    """``args`` followed by ``new``, in the call's own comma style (trailing comma or not)."""
    result = list(args)
    for arg in new:
        if not result:
            result.append(arg)
            continue
        last = result[-1]
        if isinstance(last.comma, cst.Comma):
            result.append(arg.with_changes(comma=last.comma))
        else:
            result[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            result.append(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT))
    return result


def without_args(args: Sequence[cst.Arg], dropped: set[int]) -> list[cst.Arg]:
    kept = [arg for i, arg in enumerate(args) if i not in dropped]
    if kept and len(args) - 1 in dropped:  # the last argument went: its comma style goes to the new last
        kept[-1] = kept[-1].with_changes(comma=args[-1].comma)
    return kept


def bool_literal(node: cst.BaseExpression) -> bool | None:
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    return None


def string_literal(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString) and "b" not in node.prefix.lower() and "f" not in node.prefix.lower():
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def short(module: cst.Module, node: cst.CSTNode, limit: int = 50) -> str:
    text = " ".join(module.code_for_node(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class NameUses(cst.CSTVisitor):
    """The names a function body reads, binds, and the nodes that read one of them."""

    def __init__(self) -> None:
        self.all: set[str] = set()
        self.stored: set[str] = set()
        self.skip: set[int] = set()  # Name nodes that are attribute or keyword names

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def visit_Param(self, node: cst.Param) -> None:
        self.stored.add(node.name.value)

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.skip:
            self.all.add(node.value)

    def _store(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.stored.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._store(element.value)
        elif isinstance(target, cst.StarredElement):
            self._store(target.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._store(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._store(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._store(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._store(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._store(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._store(node.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._store(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._store(node.target)

    def visit_Global(self, node: cst.Global) -> None:
        self.stored.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.stored.update(item.name.value for item in node.names)


def name_uses(node: cst.CSTNode) -> NameUses:
    visitor = NameUses()
    node.visit(visitor)
    return visitor


class ReplaceName(cst.CSTTransformer):
    """Every read of a name (not an attribute or keyword name) replaced by an expression."""

    def __init__(self, name: str, replacement: cst.BaseExpression) -> None:
        self.name = name
        self.replacement = replacement
        self.skip: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if original_node.value == self.name and id(original_node) not in self.skip:
            return self.replacement.deep_clone()
        return updated_node


class RootValuesToSelf(cst.CSTTransformer):
    """A post root validator's ``values["a"]`` / ``values.get("a")`` -> ``self.a``, ``return values``
    -> ``return self``; refuses (``problem``) any other use of ``values``."""

    def __init__(self, values: str, fields: set[str]) -> None:
        self.values = values
        self.fields = fields
        self.problem: str | None = None
        self.handled: set[int] = set()
        self.depth = 0

    def _is_values(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Name) and node.value == self.values

    def _field(self, key: cst.BaseExpression) -> str | None:
        name = string_literal(key)
        if name is None or name not in self.fields:
            self.problem = self.problem or f"it reads `{self.values}` with a key that is not a field of the model"
            return None
        return name

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.depth -= 1
        return updated_node

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        target = node.target
        if isinstance(target, cst.Subscript) and self._is_values(target.value):
            self.problem = self.problem or f"it assigns into `{self.values}` (in v2 that is an assignment to the model)"

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if self._is_values(node.value):
            self.handled.add(id(node.value))

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        if not self._is_values(original_node.value):
            return updated_node
        index = original_node.slice[0].slice if len(original_node.slice) == 1 else None
        name = self._field(index.value) if isinstance(index, cst.Index) else None
        if name is None:
            return updated_node
        return cst.Attribute(value=cst.Name("self"), attr=cst.Name(name))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and self._is_values(func.value) and func.attr.value == "get":
            self.handled.add(id(func.value))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        if not (isinstance(func, cst.Attribute) and self._is_values(func.value) and func.attr.value == "get"):
            return updated_node
        if not original_node.args or original_node.args[0].keyword is not None or len(original_node.args) > 2:
            self.problem = self.problem or f"it calls `{self.values}.get` in a way that has no attribute form"
            return updated_node
        name = self._field(original_node.args[0].value)
        if name is None:
            return updated_node
        return cst.Attribute(value=cst.Name("self"), attr=cst.Name(name))

    def visit_Return(self, node: cst.Return) -> None:
        if self.depth == 0:
            if node.value is None or not self._is_values(node.value):
                self.problem = self.problem or f"it returns something other than `{self.values}`"
            else:
                self.handled.add(id(node.value))

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        if self.depth == 0 and original_node.value is not None and self._is_values(original_node.value):
            return updated_node.with_changes(value=cst.Name("self"))
        return updated_node

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.values and id(node) not in self.handled:
            self.problem = self.problem or f"it uses `{self.values}` as a whole, not only its fields"
        if node.value == "self":
            self.problem = self.problem or "it already uses the name `self`"


class RequiredUses(cst.CSTVisitor):
    """How often a name is read, and how often as a default: an argument, a parameter's default
    or an annotated assignment's value."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.total = 0
        self.defaults = 0

    def _is_name(self, node: cst.CSTNode | None) -> bool:
        return isinstance(node, cst.Name) and node.value == self.name

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        self.defaults += self._is_name(node.value)
        node.value.visit(self)
        return False

    def visit_Param(self, node: cst.Param) -> None:
        self.defaults += self._is_name(node.default)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.defaults += self._is_name(node.value)

    def visit_Name(self, node: cst.Name) -> None:
        self.total += node.value == self.name


class Decline(Exception):
    """A rewrite that cannot be made exactly: ``str(self)`` says why, ``todo`` in a few words."""

    def __init__(self, message: str, todo: str | None = None) -> None:
        super().__init__(message)
        self.todo = todo or message
