"""The whole-tree session index: sessions as projects define them in other modules (Annotated
aliases such as ``SessionDep``, dependencies that yield a session, module-level sessions, commit
helpers), read with ``ast`` in the index pass."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from codemods.analysis.paths import module_name
from codemods.analysis.precheck import add_children
from codemods.analysis.sessions import (
    EXTENSION_MAKERS,
    GENERATOR_TYPES,
    WRAPPING_TYPES,
    DEFAULT_SESSION_FACTORIES,
    DEFAULT_SESSION_NAMES,
    FACTORY_MAKERS,
    FOREIGN_MODULES,
    HELPER_NAME_PARTS,
    SCOPED_MAKERS,
    SESSION_TYPES,
    SessionFacts,
    SessionIndex,
    matches,
)

def build_session_index(facts: Mapping[str, SessionFacts | None]) -> SessionIndex:
    return SessionIndex({module_name(path): f for path, f in sorted(facts.items()) if f})


_last: list[Any] = [None, None]  # the tree last asked about, and its facts


def session_facts(tree: ast.Module) -> SessionFacts:
    """The sessions, session types, providers and commit helpers ``tree`` defines at top level.

    The facts of one tree are read once: loop-commit's and route-commit's indexers ask about the
    same file one after the other (the tree is ``precheck.parse_shared``'s, which nobody changes)."""
    if _last[0] is not tree:
        _last[0], _last[1] = tree, _session_facts(tree)
    return _last[1]


def _session_facts(tree: ast.Module) -> SessionFacts:
    aliases: set[str] = set()
    sessions: set[str] = set()
    factories: set[str] = set()
    for name, value in _ast_module_assignments(tree):
        callee = _ast_dotted(value.func) if isinstance(value, ast.Call) else None
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Call):
            if matches(_ast_dotted(value.func.func), FACTORY_MAKERS):
                sessions.add(name)  # ``session = sessionmaker(bind=engine)()``
        elif _ast_dotted(value) in (*DEFAULT_SESSION_NAMES, *sessions) and "." in (_ast_dotted(value) or ""):
            sessions.add(name)  # ``session = db.session``
        elif matches(callee, FACTORY_MAKERS):
            factories.add(name)
        elif matches(callee, SCOPED_MAKERS) or matches(callee, (*DEFAULT_SESSION_FACTORIES, *factories)):
            sessions.add(name)
        elif matches(callee, EXTENSION_MAKERS):
            sessions.add(f"{name}.session")
    changed = True
    while changed:  # an alias of an alias
        changed = False
        for name, value in _ast_module_assignments(tree, with_type_aliases=True):
            if name not in aliases and _ast_is_session_type(value, aliases | factories):
                aliases.add(name)
                changed = True
    providers: set[str] = set()
    helpers: set[str] = set()
    types = aliases | factories
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if _ast_provides_session(node, types, sessions | factories):
                providers.add(node.name)
            named_like_one = any(part in node.name for part in HELPER_NAME_PARTS)
            if named_like_one and not node.decorator_list and _ast_commits(node, sessions):
                helpers.add(node.name)
        elif isinstance(node, ast.ClassDef):
            call = next((n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == "__call__"), None)
            if call is not None and _ast_provides_session(call, types, sessions | factories):
                providers.add(node.name)
    targets = tuple(_ast_alias_types(tree, aliases))
    return SessionFacts(
        frozenset(aliases), frozenset(sessions), frozenset(factories), frozenset(providers), frozenset(helpers), targets
    )


def _ast_alias_types(tree: ast.Module, aliases: set[str]) -> Iterator[tuple[str, str, str]]:
    """(alias, module, name): where the session type behind each alias is imported from."""
    imported: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                imported[alias.asname or alias.name] = (node.module, alias.name)
    for name, value in _ast_module_assignments(tree, with_type_aliases=True):
        if name not in aliases:
            continue
        for type_name in _ast_type_names(value):
            if type_name in imported and matches(imported[type_name][1], SESSION_TYPES):
                yield (name, *imported[type_name])
                break


def _ast_dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _ast_dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _ast_module_assignments(tree: ast.Module, *, with_type_aliases: bool = False) -> Iterator[tuple[str, ast.expr]]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.value is not None:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    yield target.id, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name):
            yield node.target.id, node.value
        elif with_type_aliases and type(node).__name__ == "TypeAlias":  # ``type X = ...`` (3.12)
            yield node.name.id, node.value  # type: ignore[attr-defined]


def _ast_type_names(node: ast.expr) -> Iterator[str]:
    """The type names an annotation allows, through Optional, Union, ``|``, Annotated and strings."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            inner = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return
        yield from _ast_type_names(inner)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        yield from _ast_type_names(node.left)
        yield from _ast_type_names(node.right)
    elif isinstance(node, ast.Subscript):
        base = _ast_dotted(node.value)
        elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if matches(base, (*WRAPPING_TYPES, *GENERATOR_TYPES)):
            for element in elements[:1] if matches(base, GENERATOR_TYPES) else elements:
                yield from _ast_type_names(element)
        elif matches(base, ("Annotated",)) and elements:
            yield from _ast_type_names(elements[0])
        elif base is not None:
            yield base
    else:
        name = _ast_dotted(node)
        if name is not None:
            yield name


def _ast_is_session_type(node: ast.expr, extra: Iterable[str]) -> bool:
    return any(matches(name, (*SESSION_TYPES, *extra)) for name in _ast_type_names(node))


def _ast_provides_session(
    function: ast.FunctionDef | ast.AsyncFunctionDef, types: set[str], module_sessions: set[str]
) -> bool:
    """A function whose result (or what it yields) is a session: ``get_db`` of FastAPI's docs."""
    if function.returns is not None and _ast_is_session_type(function.returns, types):
        return True
    local: set[str] = set()
    results: list[ast.expr] = []  # what it returns and yields
    factories = (*DEFAULT_SESSION_FACTORIES, *SCOPED_MAKERS, *module_sessions)
    for node in _ast_own_nodes(function):
        kind = type(node)
        if kind is ast.Return or kind is ast.Yield:
            if node.value is not None:  # type: ignore[attr-defined]
                results.append(node.value)  # type: ignore[attr-defined]
        elif kind is ast.With or kind is ast.AsyncWith:
            for item in node.items:  # type: ignore[attr-defined]
                if isinstance(item.optional_vars, ast.Name) and _ast_makes_session(item.context_expr, factories):
                    local.add(item.optional_vars.id)
        elif kind is ast.Assign and _ast_makes_session(node.value, factories):  # type: ignore[attr-defined]
            local.update(t.id for t in node.targets if isinstance(t, ast.Name))  # type: ignore[attr-defined]
        elif kind is ast.AnnAssign and isinstance(node.target, ast.Name):  # type: ignore[attr-defined]
            if _ast_is_session_type(node.annotation, types):  # type: ignore[attr-defined]
                local.add(node.target.id)  # type: ignore[attr-defined]
    return any(
        (isinstance(value, ast.Name) and value.id in local)
        or _ast_makes_session(value, factories)
        or _ast_dotted(value) in module_sessions
        for value in results
    )


def _ast_makes_session(value: ast.expr, factories: Sequence[str]) -> bool:
    if isinstance(value, ast.Await):
        value = value.value
    if not isinstance(value, ast.Call):
        return False
    callee = _ast_dotted(value.func)
    if isinstance(value.func, ast.Attribute) and value.func.attr == "begin":
        callee = _ast_dotted(value.func.value)  # SessionLocal.begin()
    return callee is not None and callee.split(".", 1)[0] not in FOREIGN_MODULES and matches(callee, factories)


def _ast_commits(function: ast.FunctionDef | ast.AsyncFunctionDef, module_sessions: set[str]) -> bool:
    """Whether ``function`` commits a session it is given, or the module's session."""
    params = {a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)}
    for node in _ast_own_nodes(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit":
            receiver = _ast_dotted(node.func.value)
            if receiver is not None and (receiver in params or receiver in module_sessions):
                return True
    return False


_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _ast_own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, not those of functions, classes and lambdas inside it."""
    pending = list(getattr(function, "body", []))
    while pending:
        node = pending.pop()
        yield node
        add_children(node, pending, leave_out=_NESTED)
