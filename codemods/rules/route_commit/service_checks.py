"""Two questions about a service function before it is generated.

* :func:`http_reference` -- does it use anything of the HTTP layer?  The statements that move
  were chosen so that it does not; this is the safety net that declines if it does anyway
  (an import of ``flask.request``, a ``get_or_404`` lookup, an ``auth.current_user()``).
* :func:`body_shape` -- the function's code with its parameters and locals renamed by
  position: two routes whose moved code has the same shape (a web route and its JSON twin)
  share one function instead of generating the same one twice.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable, Collection, Sequence

import libcst as cst

from codemods.analysis.nodes import dotted_name
from codemods.analysis.routes import HTTP_METHODS
from codemods.rules.route_commit.flow import ImportItem, Parameter, Run
from codemods.rules.route_commit.services import ServiceFunctionRequest, statement_nodes
from codemods.speedups.codegen import code_with_names
from codemods.speedups.walk import children_but_trivia


def http_reference(source: str | cst.Module, imports: Sequence[ImportItem], http_names: Sequence[str]) -> str | None:
    """The first HTTP-layer object the service function ``source`` uses, if any (``source`` may
    be the tree its text was parsed into: the same tree a new parse of ``source.code`` gives)."""
    module = source if isinstance(source, cst.Module) else cst.parse_module(source)
    bound = {item.bound_name: _imported(item) for item in imports if item.level == 0}
    pending: list[cst.CSTNode] = [module]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Attribute) and node.attr.value in HTTP_METHODS:
            return f"`{node.attr.value}`"
        dotted = dotted_name(node) if isinstance(node, (cst.Name, cst.Attribute)) else None
        if dotted is not None:
            head, _, rest = dotted.partition(".")
            if head in bound:
                qualified = bound[head] + (f".{rest}" if rest else "")
                for name in http_names:
                    if qualified == name or qualified.startswith(name + ".") or name.startswith(qualified + "."):
                        return f"`{name}`"
            continue  # a name chain: its parts are not expressions of their own
        pending.extend(children_but_trivia(node))
    return None


def moved_what(run: Run) -> str:
    """What a finding says moved: "the commit and 2 statements before it"."""
    moved = len(run.statements) - 1
    return f"the commit and {moved} statement{'s' if moved != 1 else ''} before it" if moved else "the commit"


def _imported(item: ImportItem) -> str:
    return f"{item.module}.{item.obj}" if item.obj is not None else item.module


def body_shape(
    statements: Sequence[cst.BaseStatement],
    parameters: Sequence[Parameter],
    returns: Sequence[str],
    kept: set[str],
) -> str:
    """The moved code with parameters (by position) and locals (by first use) renamed; ``kept``
    are the module names it uses (imports, the logger), which keep theirs."""
    given = {p.name: f"_p{i}" for i, p in enumerate(parameters)}
    names = dict(given)  # and the locals, by first use: the returned values are renamed too
    body = cst.Module(list(statements))
    renamed = _renames(statements, names, kept | _BUILTINS)
    if renamed is None:  # a node twice in the tree: renamed as a transformer renames it
        names = dict(given)
        code = body.visit(_Rename(names, kept)).code
    else:
        code = code_with_names(body, renamed)  # the names replaced as the code is generated
    returned = ", ".join(names.get(r, r) for r in returns)
    annotations = ", ".join(
        cst.Module([]).code_for_node(p.annotation) if p.annotation is not None else "" for p in parameters
    )
    return f"({annotations}) -> ({returned})\n{code}"


def _renames(statements: Sequence[cst.BaseStatement], names: dict[str, str], kept: Collection[str]) -> dict[int, str] | None:
    """The ``Name`` nodes :class:`_Rename` renames (by id) and their new names, or None when a
    node is in the tree twice.  The nodes in the order a visit meets them: a name is a leaf, so
    it is left as soon as it is visited, after the attribute or argument above it."""
    skip: set[int] = set()  # attribute names and argument keywords
    seen: set[int] = set()
    renamed: dict[int, str] = {}
    for node in statement_nodes(statements):
        kind = type(node)
        if kind is cst.Name:
            key = id(node)
            if key in seen:
                return None
            seen.add(key)
            if key not in skip and node.value not in kept:
                renamed[key] = names.setdefault(node.value, f"_l{len(names)}")
        elif kind is cst.Attribute:
            skip.add(id(node.attr))  # type: ignore[attr-defined]
        elif kind is cst.Arg and node.keyword is not None:  # type: ignore[attr-defined]
            skip.add(id(node.keyword))  # type: ignore[attr-defined]
    return renamed


class _Rename(cst.CSTTransformer):
    """Every variable name not in ``kept`` becomes ``_p<i>`` (given) or ``_l<i>`` (first use)."""

    def __init__(self, names: dict[str, str], kept: set[str]) -> None:
        super().__init__()
        self.names = names
        self.kept = kept | _BUILTINS
        self.skip: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if id(original_node) in self.skip or original_node.value in self.kept:
            return updated_node
        name = self.names.setdefault(original_node.value, f"_l{len(self.names)}")
        return updated_node.with_changes(value=name)


_BUILTINS = frozenset(dir(builtins))


def share_across_modules(
    requests: Sequence[ServiceFunctionRequest], read_file: Callable[[str], str | None]
) -> list[ServiceFunctionRequest]:
    """``requests`` with each function that another service module also gets (same code, same
    imports) imported from that module instead of generated twice: ``from .bills_service import
    pay_bill as api_pay_bill``.  The function lives in the module that ranks first (one whose
    route is not in an "api" module or folder, then by path), so imports between service
    modules never go round in a cycle.  Modules in different folders share only when a
    relative import can reach one from the other (every folder between them is a package);
    class-style services and functions that log (each module has its own logger) keep their own."""
    generated = {r.service_path.rpartition("/")[0] for r in requests}

    def is_package(folder: str) -> bool:
        return folder in generated or read_file(f"{folder}/__init__.py") is not None

    definers: dict[tuple[str, ...], list[ServiceFunctionRequest]] = {}
    shared: dict[int, ImportItem] = {}
    for request in sorted(requests, key=_rank):
        key = _share_key(request)
        if key is None:
            continue
        for owner in definers.get(key, []):
            found = None if owner.service_path == request.service_path else _import_of(owner, request, is_package)
            if found is not None:
                # ``import f as f`` says "re-exported": the module uses nothing it imports this
                # way, and linters (ruff's F401) accept only that form of an unused import.
                shared[id(request)] = found if found.asname else dataclasses.replace(found, asname=found.obj)
                break
        else:
            definers.setdefault(key, []).append(request)
    return [
        dataclasses.replace(r, source="", imports=(shared[id(r)],), shape="") if id(r) in shared else r for r in requests
    ]


def _rank(request: ServiceFunctionRequest) -> tuple[bool, str]:
    parts = request.route_path.lower().split("/")
    return (any("api" in part for part in parts), request.service_path)


def _share_key(request: ServiceFunctionRequest) -> tuple[str, ...] | None:
    if not request.shape or request.class_name is not None or request.logger_name is not None:
        return None
    package = request.service_path.split("/")[:-1]
    imports = []
    for item in request.imports:
        if item.level > len(package) + 1:
            return None
        base = package[: len(package) - item.level + 1] if item.level else []
        module = ".".join([*base, *([item.module] if item.module else [])])
        imports.append(f"{module}|{item.obj or ''}|{item.bound_name}")
    return (request.shape, *sorted(imports))


def _import_of(
    owner: ServiceFunctionRequest, request: ServiceFunctionRequest, is_package: Callable[[str], bool]
) -> ImportItem | None:
    """``from <owner's module> import <function> [as <request's name>]``, relative to the
    request's module, if every folder it goes through is a package."""
    there = owner.service_path.split("/")
    here = request.service_path.split("/")[:-1]
    common = 0
    while common < min(len(there) - 1, len(here)) and there[common] == here[common]:
        common += 1
    if common == 0:
        return None  # no package holds both
    folders = {"/".join(path[:k]) for path in (there[:-1], here) for k in range(common, len(path) + 1)}
    if not all(is_package(folder) for folder in folders):
        return None
    module = ".".join([*there[common:-1], there[-1].removesuffix(".py")])
    alias = request.function_name if request.function_name != owner.function_name else None
    return ImportItem(module, owner.function_name, alias, len(here) - common + 1)
