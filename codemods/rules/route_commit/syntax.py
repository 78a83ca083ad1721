"""Syntax helpers of route-commit: whether a module may define routes (before any metadata
is computed), the statements inside a compound statement, a file's package, and the code of a
generated function's parameters, body and docstring."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence

import libcst as cst

from codemods.analysis.metadata import Metadata
from codemods.analysis.nodes import IDENTIFIER, dotted_name
from codemods.base import FileContext


def may_have_routes(module: cst.Module, decorators: Sequence[str], view_bases: Sequence[str]) -> bool:
    """A cheap syntactic look for route decorators or view classes, before any metadata.

    Decorators and base classes only occur on definitions, so only statements are walked,
    never the expressions inside them (which are most of a module's nodes).
    """
    pending: list[cst.CSTNode] = list(module.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, cst.SimpleStatementLine):
            continue
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            for decorator in statement.decorators:
                if isinstance(decorator.decorator, cst.Call):
                    func = decorator.decorator.func
                    name = func.attr.value if isinstance(func, cst.Attribute) else dotted_name(func)
                    if name in decorators:
                        return True
        if isinstance(statement, cst.ClassDef):
            names = [(dotted_name(base.value) or "").rsplit(".", 1)[-1] for base in statement.bases]
            if any(name in view_bases for name in names):
                return True
        pending.extend(inner_statements(statement))
    return False


def inner_statements(statement: cst.CSTNode) -> list[cst.CSTNode]:
    """The statements directly inside a compound statement's blocks (elif, else, except, case...)."""
    inner: list[cst.CSTNode] = []
    parts = [getattr(statement, name, None) for name in ("body", "orelse", "finalbody")]
    parts += [*getattr(statement, "handlers", ()), *getattr(statement, "cases", ())]
    for part in parts:
        if isinstance(part, cst.If):  # elif
            inner.append(part)
        elif isinstance(part, cst.BaseSuite):
            inner.extend(part.body)
        elif part is not None and isinstance(getattr(part, "body", None), cst.BaseSuite):
            inner.extend(part.body.body)  # else, finally, except handlers, match cases
    return inner


def package_of(file: FileContext) -> tuple[str, ...]:
    parts = file.module_name.split(".") if file.module_name else []
    return tuple(parts if file.is_package_init else parts[:-1])


def parameter_code(name: str, annotation: cst.BaseExpression | None) -> str:
    if annotation is None:
        return name
    return f"{name}: {cst.Module([]).code_for_node(annotation)}"


def body_code(statements: Sequence[cst.BaseStatement]) -> str:
    """The moved statements as a function body indented by four spaces (libcst does the indenting)."""
    first = statements[0]
    leading = list(first.leading_lines)
    while leading and leading[0].comment is None:
        leading.pop(0)
    body = [first.with_changes(leading_lines=leading), *statements[1:]]
    wrapper = cst.FunctionDef(cst.Name("_"), cst.Parameters(), cst.IndentedBlock(body))
    code = cst.Module([wrapper], default_indent="    ").code
    return code.split("\n", 1)[1]


def docstring_safe(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')



def drop_unused_package_imports(tree: cst.Module, names: Collection[str]) -> cst.Module:
    """Remove ``names`` from top-level ``from .. import name`` lines when nothing else in the
    module mentions them (libcst's RemoveImportsVisitor leaves such relative imports of a
    package's own names, ``from .. import db``, in place).  A line left with no name goes."""
    if not names or not any(_package_import_binds(statement, names) for statement in tree.body):
        return tree  # no line it would change: the module's code is not needed
    code = tree.code
    words = Counter(IDENTIFIER.findall(code))
    counts = {name: words[name] for name in names}
    body: list[cst.BaseStatement] = []
    changed = False
    for statement in tree.body:
        imported = _package_import(statement)
        if imported is None:
            body.append(statement)
            continue
        kept = []
        for alias in imported.names:
            target = alias.asname.name if alias.asname is not None else alias.name
            bound = target.value if isinstance(target, cst.Name) else ""
            if bound in counts and counts[bound] <= 1:  # only the import line itself names it
                changed = True
                continue
            kept.append(alias)
        if len(kept) == len(imported.names):
            body.append(statement)
        elif kept:
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            body.append(statement.with_changes(body=[imported.with_changes(names=kept)]))
    if not changed:
        return tree
    return tree.with_changes(body=body)


def _package_import_binds(statement: cst.BaseStatement, names: Collection[str]) -> bool:
    imported = _package_import(statement)
    if imported is None:
        return False
    for alias in imported.names:
        target = alias.asname.name if alias.asname is not None else alias.name
        if (target.value if isinstance(target, cst.Name) else "") in names:  # as the loop below reads it
            return True
    return False


def _package_import(statement: cst.BaseStatement) -> cst.ImportFrom | None:
    """The ``from <dots> import a, b`` of a line that holds only that, else None."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if not isinstance(small, cst.ImportFrom) or small.module is not None or not small.relative:
        return None
    if isinstance(small.names, cst.ImportStar):
        return None
    return small


def attributes_read_on(owner: str, meta: Metadata, module: cst.Module) -> set[str]:
    """The attributes the module reads on its imported service (``views_service.create_item``).

    route-commit takes them even when the index does not know them: the engine's second pass
    over a module sees the calls the first pass wrote, but an index built before the functions
    existed, and must not pick those names again.
    """
    global_scope = meta.scope(module.body[0]) if module.body else None
    if global_scope is None:
        return set()
    names = set()
    for assignment in global_scope.assignments[owner]:
        for access in assignment.references:
            parent = meta.parent(access.node)
            if isinstance(parent, cst.Attribute) and parent.value is access.node:
                names.add(parent.attr.value)
    return names
