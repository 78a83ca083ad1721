"""docs/codemods.md, generated from each codemod's metadata and docstring.

Regenerate after adding or changing a codemod::

    python -m codemods.output.docs > docs/codemods.md

``auditfix explain NAME`` prints the same section for one codemod, and a test fails when
the committed file is out of date or a docstring lacks one of :data:`SECTIONS`.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import textwrap
from collections.abc import Sequence

from codemods.base import Codemod
from codemods.engine.templating import TemplateSet

SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety", "Limitations")
GENERATE_COMMAND = "python -m codemods.output.docs > docs/codemods.md"

_KEYS = {re.sub(r"[^a-z ]", "", title.lower()).strip(): title for title in SECTIONS}
# The one heading style of every rule's docstring: "What it does:", "Why is this bad?", ...
_HEADING = re.compile(r"^(?P<title>[A-Za-z][A-Za-z ]*[A-Za-z])(?:\?|:)\s*$")


def _section_key(line: str) -> str | None:
    match = _HEADING.match(line)
    if match is None:
        return None
    return _KEYS.get(" ".join(match.group("title").lower().split()))


def parse_sections(documentation: str) -> dict[str, str]:
    """Split a (cleaned) docstring into {section title: markdown body}; the text before the
    first section is under ``""``.  A heading is a line of its own: ``What it does:``,
    ``Why is this bad?``."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    lines = documentation.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        key = _section_key(line)
        if key is not None and key not in sections:
            current = key
            sections[current] = []
        else:
            sections[current].append(line)
        index += 1
    return {title: _normalise("\n".join(body)) for title, body in sections.items()}


def _is_indented(line: str) -> bool:
    return not line.strip() or line[0].isspace()


def _normalise(body: str) -> str:
    """Markdown from a section body.  Google-style bodies are indented under their heading and
    labels such as ``Use instead:`` indent their own block again: neither indent means code,
    so those blocks are dedented; fenced code at the left margin is copied as it is."""
    lines = body.strip("\n").splitlines()
    out: list[str] = []
    index = 0
    dedent_next = True  # the block right under the heading
    while index < len(lines):
        if _is_indented(lines[index]):
            start = index
            while index < len(lines) and _is_indented(lines[index]):
                index += 1
            block = lines[start:index]
            out.extend(textwrap.dedent("\n".join(block)).split("\n") if dedent_next else block)
            continue
        line = lines[index]
        out.append(line)
        index += 1
        if line.startswith(("```", "~~~")):
            fence = line[: len(line) - len(line.lstrip(line[0]))]
            while index < len(lines):
                out.append(lines[index])
                index += 1
                if lines[index - 1].startswith(fence) and not lines[index - 1].strip(fence[0]).strip():
                    break
            dedent_next = False
            continue
        dedent_next = line.rstrip().endswith(":")
    return "\n".join(out).strip("\n")


def missing_sections(codemod: type[Codemod]) -> list[str]:
    sections = parse_sections(codemod.documentation())
    return [title for title in SECTIONS if not sections.get(title, "").strip()]


def section_order(codemod: type[Codemod]) -> list[str]:
    """The section headings of a codemod's docstring, in the order they occur."""
    return [title for title in parse_sections(codemod.documentation()) if title]


@dataclasses.dataclass(frozen=True)
class OptionDoc:
    name: str
    type: str
    default: str
    help: str


@dataclasses.dataclass(frozen=True)
class CodemodDoc:
    name: str
    summary: str
    safety: str
    intro: str
    sections: tuple[tuple[str, str], ...]  # (title, body) in SECTIONS order
    options: tuple[OptionDoc, ...]


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return str(value)


def describe(codemod: type[Codemod]) -> CodemodDoc:
    sections = parse_sections(codemod.documentation())
    intro = sections.get("", "").strip()
    if " ".join(intro.split()) == " ".join(codemod.summary.split()):
        intro = ""  # the docstring's first line repeats the summary printed just above it
    return CodemodDoc(
        name=codemod.name,
        summary=codemod.summary,
        safety=codemod.safety,
        intro=intro,
        sections=tuple((title, sections[title]) for title in SECTIONS if sections.get(title, "").strip()),
        options=tuple(
            OptionDoc(o.name, o.describe_type(), _toml(o.default), " ".join(o.help.split())) for o in codemod.options
        ),
    )


def render_docs(codemods: Sequence[type[Codemod]], templates: TemplateSet | None = None) -> str:
    """The whole of docs/codemods.md."""
    return (templates or TemplateSet()).render(
        "codemods.md.j2", codemods=[describe(c) for c in codemods], full=True, command=GENERATE_COMMAND
    )


def render_one(codemod: type[Codemod], templates: TemplateSet | None = None) -> str:
    """One codemod's section of docs/codemods.md (what ``auditfix explain`` prints)."""
    return (templates or TemplateSet()).render(
        "codemods.md.j2", codemods=[describe(codemod)], full=False, command=GENERATE_COMMAND
    )


def main() -> None:
    from codemods import REGISTRY

    sys.stdout.write(render_docs(REGISTRY))


if __name__ == "__main__":
    main()
