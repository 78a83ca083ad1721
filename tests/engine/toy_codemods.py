"""Small codemods that exercise the engine without depending on the real ones."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import libcst as cst

from codemods.base import Codemod, FinalizeResult, GeneratedFile, Option
from codemods.engine.templating import TemplateSet


class OldToNew(Codemod):
    """Rewrites the string literal "old" to "new"; declines "old" inside f-strings."""

    name = "old-to-new"
    summary = "Replace the literal 'old' with 'new'."
    safety = "Changes a value."
    markers = (b"old",)
    options = (Option("replacement", "new", "the new text", str),)

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.SimpleString:
        if updated_node.evaluated_value != "old":
            return updated_node
        self.report(original_node, "'old' replaced")
        quote = updated_node.value[-1]
        return updated_node.with_changes(value=f"{quote}{self.option('replacement')}{quote}")

    def leave_FormattedStringText(self, original_node: cst.FormattedStringText, updated_node: Any) -> Any:
        if "old" in updated_node.value:
            self.report(original_node, "'old' inside an f-string is left alone", fixable=False)
        return updated_node


class Flipper(Codemod):
    """Not idempotent on purpose: swaps True and False, so a second pass undoes the first."""

    name = "flipper"
    summary = "Swap booleans."
    safety = "None."
    markers = (b"True", b"False")

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if updated_node.value in ("True", "False"):
            self.report(original_node, "flipped")
            return updated_node.with_changes(value="False" if updated_node.value == "True" else "True")
        return updated_node


class Crasher(Codemod):
    """Raises on any file containing the word 'boom'."""

    name = "crasher"
    summary = "Crash."
    safety = "None."
    markers = (b"boom",)

    def visit_Module(self, node: cst.Module) -> None:
        raise RuntimeError("boom")


@dataclasses.dataclass(frozen=True)
class Registered:
    module: str
    function: str


class CollectRegistered(Codemod):
    """Removes ``@register`` decorators and generates ``registry.py`` importing the functions.

    Exercises the whole-tree index (names already in registry.py) and finalize (a new file).
    """

    name = "collect-registered"
    summary = "Move @register into a generated registry."
    safety = "None."
    markers = (b"@register",)
    index_markers = (b"def ",)

    @classmethod
    def index_file(cls, path: str, source: bytes) -> Any:
        return source.count(b"def ")

    @classmethod
    def build_index(cls, facts: Mapping[str, Any], options: Mapping[str, Any]) -> Any:
        return sum(f for f in facts.values() if f)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        kept = [d for d in updated_node.decorators if not (isinstance(d.decorator, cst.Name) and d.decorator.value == "register")]
        if len(kept) == len(updated_node.decorators):
            return updated_node
        self.report(original_node, f"registered (index saw {self.file.index} functions)")
        self.extras.append(Registered(self.file.module_name, updated_node.name.value))
        return updated_node.with_changes(decorators=kept)

    @classmethod
    def finalize(
        cls,
        extras: Sequence[tuple[str, Any]],
        read_file: Callable[[str], str | None],
        options: Mapping[str, Any],
        templates: TemplateSet,
    ) -> FinalizeResult:
        existing = read_file("registry.py") or ""
        lines = [existing] if existing else []
        for _path, extra in sorted(extras, key=lambda e: (e[1].module, e[1].function)):
            lines.append(f"from {extra.module} import {extra.function}\n")
        return FinalizeResult(files=[GeneratedFile("registry.py", "".join(lines))])


@dataclasses.dataclass(frozen=True)
class Moved:
    target: str  # moved/<target>.py
    code: str


class MoveMarked(Codemod):
    """Moves each module-level line ending in ``# move to NAME`` into the generated ``moved/NAME.py``.

    Exercises generated files that several files feed, and their checks: the moved code goes
    through the run's codemods, and a generated file that fails them fails only its contributors.
    """

    name = "move-marked"
    summary = "Move marked lines into generated modules."
    safety = "None."
    markers = (b"# move to ",)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        kept = []
        for statement in updated_node.body:
            comment = statement.trailing_whitespace.comment if isinstance(statement, cst.SimpleStatementLine) else None
            if comment is None or not comment.value.startswith("# move to "):
                kept.append(statement)
                continue
            target = comment.value[len("# move to ") :].strip()
            code = cst.Module([]).code_for_node(statement.with_changes(leading_lines=(), trailing_whitespace=cst.TrailingWhitespace()))
            self.report(original_node, f"moved a line to moved/{target}.py")
            self.extras.append(Moved(target, code))
        return updated_node.with_changes(body=kept)

    @classmethod
    def finalize(
        cls,
        extras: Sequence[tuple[str, Any]],
        read_file: Callable[[str], str | None],
        options: Mapping[str, Any],
        templates: TemplateSet,
    ) -> FinalizeResult:
        lines: dict[str, list[str]] = {}
        contributors: dict[str, set[str]] = {}
        for path, extra in sorted(extras, key=lambda e: (e[0], e[1].code)):
            target = f"moved/{extra.target}.py"
            lines.setdefault(target, [read_file(target) or ""]).append(extra.code)
            contributors.setdefault(target, set()).add(path)
        return FinalizeResult(
            files=[GeneratedFile(p, "".join(c), tuple(sorted(contributors[p]))) for p, c in sorted(lines.items())]
        )
