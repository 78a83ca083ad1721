"""A private helper function a codemod adds to a module once, just above its first use.

Some rewrites read best as a call of a small function: ``secret-compare`` needs a comparison
that dispatches on the types of its operands, ``utcnow`` a name to pass where a callable was
passed.  :class:`ModuleHelper` picks the function's name, renders its definition (from a
template, by the caller) and puts it right above the first module-level statement that uses
it, so it is defined before any use at import time and a reader finds it next to its users.

A module that already defines a function of that name with exactly that code (an earlier
run's) gets no second copy: the existing one is called.  A name the module uses for anything
else is never taken; the next candidate is tried, and when none is free the caller declines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst

from codemods.analysis.names import Names
from codemods.analysis.nodes import dotted_name


class ModuleHelper:
    """One helper function of one module, for one codemod run.

    ``candidates`` are the names to try, in order; ``definition(name)`` returns the source of
    the function under that name (a ``def`` at column 0).
    """

    def __init__(
        self, names: Names, module: cst.Module, candidates: Sequence[str], definition: Callable[[str], str]
    ) -> None:
        self._names = names
        self._module = module
        self._candidates = candidates
        self._definition = definition
        self._chosen: str | None = None
        self._exists = False
        self._decided = False
        self._first_user: int | None = None  # index in the module body of the first statement using it

    def name_at(self, ancestors: Sequence[cst.CSTNode]) -> str | None:
        """The name to call the helper by at ``ancestors[-1]`` (``ancestors`` from the module
        down), recording the use; None when no candidate name is free or it is shadowed there."""
        if not self._decided:
            self._chosen, self._exists = self._choose()
            self._decided = True
        if self._chosen is None or self._names.local_at(ancestors[-1], self._chosen):
            return None
        index = _module_index(self._module, ancestors)
        if index is not None and (self._first_user is None or index < self._first_user):
            self._first_user = index
        return self._chosen

    @property
    def added(self) -> bool:
        """Whether :meth:`finish` adds the definition (it was used, and did not exist yet)."""
        return self._chosen is not None and not self._exists and self._first_user is not None

    def finish(self, updated_module: cst.Module) -> cst.Module:
        """Add the definition above the first statement that uses it (unless it exists already).

        ``updated_module`` must have the statements of the module the uses were found in, at
        the same places (the codemod changed expressions, not the module's statement list).
        """
        if not self.added or self._first_user is None:
            return updated_module
        # In the file's own line endings: newlines inside the docstring are tokens libcst keeps as written.
        text = self._definition(self._chosen).replace("\n", updated_module.default_newline)
        function = cst.parse_statement(text, config=updated_module.config_for_parsing)
        body = list(updated_module.body)
        anchor = body[self._first_user]
        blank = [cst.EmptyLine()] * 2 if self._first_user > 0 else []
        body[self._first_user] = anchor.with_changes(leading_lines=_with_blank_lines(anchor.leading_lines, 2))
        body.insert(self._first_user, function.with_changes(leading_lines=blank))
        return updated_module.with_changes(body=body)

    def _choose(self) -> tuple[str | None, bool]:
        for name in self._candidates:
            existing = _module_function(self._module, name)
            if existing is not None:
                same = _normalised(self._module.code_for_node(existing.with_changes(leading_lines=()))) == _normalised(
                    self._definition(name)
                )
                if same and self._names.bound_once_globally(self._module, name):
                    return name, True
                continue
            if not self._names.in_use(name):
                return name, False
        return None, False


def _module_function(module: cst.Module, name: str) -> cst.FunctionDef | None:
    return next((s for s in module.body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)


def _module_index(module: cst.Module, ancestors: Sequence[cst.CSTNode]) -> int | None:
    if len(ancestors) < 2 or ancestors[0] is not module:
        return None
    top = ancestors[1]
    return next((i for i, statement in enumerate(module.body) if statement is top), None)


def _with_blank_lines(lines: Sequence[cst.EmptyLine], count: int) -> list[cst.EmptyLine]:
    """``lines`` starting with at least ``count`` blank lines."""
    leading = 0
    while leading < len(lines) and lines[leading].comment is None and not lines[leading].whitespace.value:
        leading += 1
    return [*([cst.EmptyLine()] * max(0, count - leading)), *lines]


def _normalised(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip().splitlines())


def top_level_imports(module: cst.Module) -> dict[str, str]:
    """What the module's own top-level import statements bind: local name -> dotted target
    (``import a.b`` without an alias binds ``a``, which is left out)."""
    targets: dict[str, str] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and not small.relative and not isinstance(small.names, cst.ImportStar):
                source = dotted_name(small.module) if small.module is not None else None
                for alias in small.names:
                    targets[alias.evaluated_alias or alias.evaluated_name] = f"{source}.{alias.evaluated_name}"
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    if alias.asname is not None or "." not in alias.evaluated_name:
                        targets[alias.evaluated_alias or alias.evaluated_name] = alias.evaluated_name
    return targets


def names_of(imports: dict[str, str], *targets: str) -> list[str]:
    """The local names ``imports`` (from :func:`top_level_imports`) binds to any of ``targets``."""
    return [local for local, dotted in imports.items() if dotted in targets]
