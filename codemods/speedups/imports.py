"""Import edits (add an import, remove an unused one) without libcst's codemod framework.

libcst's AddImportsVisitor and RemoveImportsVisitor live in ``libcst.codemod``, and importing
that brings ``libcst.matchers`` (about 440 generated dataclasses): on the pre-commit check of one
file (benchmarks/README.md) that import alone costs more than parsing and analysing the file.
So the codemods request import edits here, in an :class:`EditContext`, and the common edits are
made here with the results libcst's visitors give:

- adding ``from module import name`` (no alias, no ``__future__``) in a module whose context
  has no package (the codemods' own: a package would make the relative imports they add
  absolute): merged into the first top-of-module import from that module, else a new line after
  the top-of-module imports, with a blank line before the code below;
- removing an import line's names that nothing else in the module mentions (see
  :func:`remove_unused_imports`), one line of one import statement at a time.

Any other edit, and every edit with the speed-ups off, goes to libcst's visitors (imported
then), given a ``CodemodContext`` with the same requests.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import libcst as cst

from codemods.analysis.names import name_facts
from codemods.analysis.nodes import IDENTIFIER, dotted_name, is_import_line
from codemods.speedups import ENABLED

if TYPE_CHECKING:
    from libcst.codemod import CodemodContext

# The scratch keys of libcst's visitors (their CONTEXT_KEY; tests/engine/test_imports.py checks them).
ADD = "AddImportsVisitor"
REMOVE = "RemoveImportsVisitor"
# Imports libcst's unused-import analysis never counts as unused.
_NEVER_UNUSED_MODULES = ("__future__",)

ImportRequest = tuple[str, "str | None", "str | None"]  # (module, name, alias), as libcst keeps them


@dataclasses.dataclass(frozen=True)
class AddRequest:
    """``from <'.' * relative><module> import <obj> as <asname>`` (``import module`` without obj)."""

    module: str
    obj: str | None
    asname: str | None
    relative: int

    @property
    def dotted(self) -> str:
        """The module as written in the import: leading dots included."""
        return "." * self.relative + self.module


@dataclasses.dataclass(frozen=True)
class EditContext:
    """The import edits a codemod requested for one module (what libcst keeps in a CodemodContext)."""

    filename: str | None = None
    full_module_name: str | None = None
    full_package_name: str | None = None
    scratch: dict[str, Any] = dataclasses.field(default_factory=dict)

    def libcst(self) -> CodemodContext:
        """libcst's CodemodContext with the same module and requests, for its visitors."""
        from libcst.codemod import CodemodContext
        from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

        from codemods.speedups import libcst_hooks  # noqa: F401 - its cheaper hooks on those visitors

        context = CodemodContext(
            filename=self.filename, full_module_name=self.full_module_name, full_package_name=self.full_package_name
        )
        for request in self.scratch.get(ADD, ()):
            AddImportsVisitor.add_needed_import(context, request.module, request.obj, request.asname, request.relative)
        for module, obj, asname in self.scratch.get(REMOVE, ()):
            RemoveImportsVisitor.remove_unused_import(context, module, obj, asname)
        return context


def add_needed_import(
    context: EditContext, module: str, obj: str | None = None, asname: str | None = None, relative: int = 0
) -> None:
    """Request ``from module import obj as asname`` (AddImportsVisitor.add_needed_import)."""
    if module == "__future__" and obj is None:
        raise ValueError("Cannot import __future__ directly!")
    dots = len(module) - len(module.lstrip("."))
    context.scratch.setdefault(ADD, []).append(AddRequest(module[dots:], obj, asname, relative + dots))


def remove_unused_import(context: EditContext, module: str, obj: str | None = None, asname: str | None = None) -> None:
    """Request the removal of an import if it is unused (RemoveImportsVisitor.remove_unused_import)."""
    context.scratch.setdefault(REMOVE, []).append((module, obj, asname))


# -- adding ---------------------------------------------------------------------------------------


def add_imports(context: EditContext, tree: cst.Module) -> cst.Module:
    """What ``AddImportsVisitor(context).transform_module(tree)`` returns."""
    requests: list[AddRequest] = context.scratch.get(ADD, [])
    if ENABLED and not context.full_package_name and all(_plain_request(r) for r in requests):
        return _add_plain_imports(tree, requests)
    from codemods.speedups.libcst_hooks import add_imports as libcsts_add_imports

    return libcsts_add_imports(context.libcst(), tree)


def _plain_request(request: AddRequest) -> bool:
    """``from module import obj`` or ``import module``: no alias, not ``__future__``."""
    if request.asname is not None or request.module == "__future__":
        return False
    return request.obj is not None or request.relative == 0


def _add_plain_imports(tree: cst.Module, requests: list[AddRequest]) -> cst.Module:
    """AddImportsVisitor's result for plain requests: a module imported by a top ``import``
    line (its evaluated name, without alias) is there; the names of a module a top ``from``
    line imports join the first such line; the rest are new lines after the top imports, the
    ``import`` lines first, each group in sorted order, with a blank line before the code."""
    modules = {request.module for request in requests if request.obj is None}
    wanted: dict[str, set[str]] = {}
    for request in sorted((r for r in requests if r.obj is not None), key=lambda r: r.dotted):
        wanted.setdefault(request.dotted, set()).add(request.obj or "")
    start = 1 if _has_header(tree) else 0
    end = start
    while end < len(tree.body) and is_import_line(tree.body[end]):
        end += 1
    top = [s.body[0] for s in tree.body[start:end] if isinstance(s, cst.SimpleStatementLine)]
    _drop_imported(wanted, top)
    for small in top:
        if isinstance(small, cst.Import):
            modules -= {alias.evaluated_name for alias in small.names if alias.asname is None}
    body = list(tree.body)
    for index in range(start, end):
        statement = body[index]
        assert isinstance(statement, cst.SimpleStatementLine)
        small = statement.body[0]
        module = _absolute_module(small) if isinstance(small, cst.ImportFrom) else None
        if module is None or module not in wanted or isinstance(small.names, cst.ImportStar):
            continue
        assert isinstance(small, cst.ImportFrom)
        added = [cst.ImportAlias(name=cst.Name(name)) for name in sorted(wanted.pop(module))]
        body[index] = statement.with_changes(body=[small.with_changes(names=[*added, *small.names])])
    if not wanted and not modules:
        return tree.with_changes(body=body)
    config = tree.config_for_parsing
    new = [cst.parse_statement(f"import {module}", config=config) for module in sorted(modules)]
    new += [
        cst.parse_statement(f"from {module} import {', '.join(sorted(names))}", config=config)
        for module, names in wanted.items()
    ]
    return tree.with_changes(body=[*body[:end], *new, *_blank_line_before(body[end:])])


def _has_header(tree: cst.Module) -> bool:
    """A docstring or ``__strict__ = ...`` first, which imports go below."""
    if not tree.body or not isinstance(tree.body[0], cst.SimpleStatementLine) or len(tree.body[0].body) != 1:
        return False
    small = tree.body[0].body[0]
    if isinstance(small, cst.Expr):
        return isinstance(small.value, cst.SimpleString)
    return (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and small.targets[0].target.value == "__strict__"
    )


def _absolute_module(node: cst.ImportFrom) -> str | None:
    """The module a ``from`` import names, as libcst resolves it without a package (relative: None)."""
    if node.relative:
        return None
    return dotted_name(node.module) if node.module is not None else None


def _drop_imported(wanted: dict[str, set[str]], top: list[cst.BaseSmallStatement]) -> None:
    """Leave out of ``wanted`` the names the top-of-module imports bring already (or a star import)."""
    imported: dict[str, set[str]] = {}
    for small in top:
        module = _absolute_module(small) if isinstance(small, cst.ImportFrom) else None
        if module is None:
            continue
        assert isinstance(small, cst.ImportFrom)
        if isinstance(small.names, cst.ImportStar):
            imported[module] = {"*"}
            continue
        plain = {alias.evaluated_name for alias in small.names if alias.asname is None}
        if plain:
            names = imported.setdefault(module, set())
            if "*" not in names:
                names.update(plain)
    for module, names in imported.items():
        if module not in wanted:
            continue
        wanted[module] = set() if "*" in names else wanted[module] - names
        if not wanted[module]:
            del wanted[module]


def _blank_line_before(statements: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
    if not statements:
        return statements
    first = statements[0]
    if first.leading_lines and first.leading_lines[0].comment is None:
        return statements
    return [first.with_changes(leading_lines=(cst.EmptyLine(), *first.leading_lines)), *statements[1:]]


# -- removing -------------------------------------------------------------------------------------


def remove_unused_imports(tree: cst.Module, context: EditContext, *, shortcuts: bool = True) -> cst.Module:
    """What ``RemoveImportsVisitor(context).transform_module(tree)`` returns, usually cheaper.

    libcst's visitor copies the whole module and analyses every scope of it to see which of
    the requested imports nothing uses any more.  Two cases are clear from the text: a name
    bound only by its import and read somewhere is used (its import stays), and a name that
    occurs nowhere but in the top-level import lines (not even in a string or comment) is
    unused; each import line binding such a name loses it as libcst's visitor would take it
    from that line alone.  Anything else (or ``shortcuts=False``): the visitor over the whole
    module.
    """
    requests = list(context.scratch.get(REMOVE, ()))
    fast = unused_removed_from_text(tree, requests, context.full_package_name) if shortcuts and ENABLED else None
    if fast is not None:
        return fast
    from libcst.codemod.visitors import RemoveImportsVisitor

    return RemoveImportsVisitor(context.libcst()).transform_module(tree)


def unused_removed_from_text(tree: cst.Module, requests: list[ImportRequest], package: str | None) -> cst.Module | None:
    """The text shortcut of :func:`remove_unused_imports`; None when the text does not decide."""
    names: dict[str, list[ImportRequest]] = {}
    for module, obj, asname in requests:
        if obj is None and asname is None and "." in module:
            return None  # ``import a.b``: which name it binds for the visitor is its business
        names.setdefault(asname or obj or module, []).append((module, obj, asname))
    code = tree.code
    facts = name_facts(code.encode(tree.encoding))
    if facts is None:
        return None
    lines = [i for i, s in enumerate(tree.body) if is_import_line(s, every=True)]
    line_code = {i: tree.code_for_node(tree.body[i]) for i in lines}
    everywhere = IDENTIFIER.findall(code)
    outside = {name: everywhere.count(name) for name in names}
    for text in line_code.values():
        for word in IDENTIFIER.findall(text):
            if word in outside:
                outside[word] -= 1
    unused = {name for name in names if outside[name] == 0}
    used = {name for name in names.keys() - unused if facts.bindings[name] == 1 and facts.loads[name]}
    if names.keys() - unused - used:
        return None
    binding = [i for i in lines if unused & set(IDENTIFIER.findall(line_code[i]))]
    if unused and not binding:
        return None  # the imports to remove are not top-level import lines
    removals = [request for name in unused for request in names[name]]
    body = list(tree.body)
    for index in reversed(binding):
        body[index : index + 1] = _removed_from_line(body[index], removals, package)
    return tree.with_changes(body=body)


def _removed_from_line(line: cst.BaseStatement, requests: list[ImportRequest], package: str | None) -> list[cst.BaseStatement]:
    """What RemoveImportsVisitor leaves of a module that is this one import line (every name
    it imports unused there)."""
    small = line.body[0] if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 else None
    if not isinstance(small, (cst.Import, cst.ImportFrom)):
        return _removed_by_libcst(line, requests, package)
    assert isinstance(line, cst.SimpleStatementLine)
    kept = _kept_import(small, requests, package)
    if kept is None:
        return []
    return [line if kept is small else line.with_changes(body=[kept])]


def _removed_by_libcst(line: cst.BaseStatement, requests: list[ImportRequest], package: str | None) -> list[cst.BaseStatement]:
    from libcst.codemod.visitors import RemoveImportsVisitor

    context = EditContext(full_package_name=package, scratch={REMOVE: list(requests)}).libcst()
    return list(RemoveImportsVisitor(context).transform_module(cst.Module(body=[line])).body)


def _kept_import(small: cst.Import | cst.ImportFrom, requests: list[ImportRequest], package: str | None) -> Any:
    """The import statement with the requested names taken out (None: nothing left), as
    RemoveImportsVisitor's leave_Import / leave_ImportFrom make it when every name is unused."""
    if isinstance(small, cst.Import):
        modules = {module: asname for module, obj, asname in requests if obj is None}
        names = list(small.names)
        kept = [a for a in names if a.evaluated_name not in modules or a.evaluated_alias != modules[a.evaluated_name]]
        if len(kept) == len(names):
            return small
        if not kept:
            return None
        if kept[-1] is not names[-1]:
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return small.with_changes(names=kept)
    if isinstance(small.names, cst.ImportStar):
        return small
    module = _absolute_module_in(package, small)
    objects = {(obj, asname) for name, obj, asname in requests if name == module and obj is not None}
    if module is None or not any(name == module and obj is not None for name, obj, asname in requests):
        return small
    # libcst never counts a relative import without a module, nor __future__, as unused.
    countable = small.module is not None and not (
        isinstance(small.module, cst.Name) and small.module.value in _NEVER_UNUSED_MODULES
    )
    changes: dict[str, Any] = {}
    kept = []
    for alias in small.names:
        if not countable or (alias.evaluated_name, alias.evaluated_alias) not in objects:
            kept.append(alias)
            continue
        comma = alias.comma
        if not isinstance(comma, cst.Comma):
            continue
        if kept:
            previous = kept[-1]
            if isinstance(previous.comma, cst.Comma):
                previous = previous.with_deep_changes(
                    previous.comma, whitespace_after=_merged(previous.comma.whitespace_after, comma.whitespace_after)
                )
            else:
                previous = previous.with_changes(comma=comma)
            kept[-1] = previous
        elif isinstance(small.lpar, cst.LeftParen):
            changes["lpar"] = small.lpar.with_changes(
                whitespace_after=_merged(small.lpar.whitespace_after, comma.whitespace_after)
            )
    names = list(small.names)
    if kept == names:
        return small
    if not kept:
        return None
    if kept[-1] is not names[-1]:
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return small.with_changes(names=kept, **changes)


def _absolute_module_in(package: str | None, node: cst.ImportFrom) -> str | None:
    """The module a ``from`` import names, relative imports resolved in ``package`` (libcst's rule)."""
    name = dotted_name(node.module) if node.module is not None else None
    dots = len(node.relative)
    if dots == 0:
        return name
    if not package:
        return None
    bits = package.rsplit(".", dots - 1)
    if len(bits) < dots:
        return None
    return f"{bits[0]}.{name}" if name else bits[0]


def _merged(left: Any, right: Any) -> Any:
    if not isinstance(right, cst.ParenthesizedWhitespace):
        return left
    if not isinstance(left, cst.ParenthesizedWhitespace):
        return right
    return left.with_changes(empty_lines=tuple(line for line in right.empty_lines if line.comment is not None))
