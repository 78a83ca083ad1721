"""docs/codemods.md is generated from the codemods themselves, and must be up to date."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codemods import REGISTRY
from codemods.base import Codemod
from codemods.output.docs import (
    GENERATE_COMMAND,
    SECTIONS,
    missing_sections,
    parse_sections,
    render_docs,
    section_order,
    render_one,
)
from tests.reporting_fixtures import NoneCompare

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "codemods.md"


def test_docs_codemods_md_is_up_to_date() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_docs(REGISTRY), (
        f"docs/codemods.md is out of date; regenerate it with: {GENERATE_COMMAND}"
    )


def test_the_regenerate_command_prints_the_docs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "codemods.output.docs"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout == render_docs(REGISTRY)


def test_docs_are_marked_as_generated() -> None:
    first_line = render_docs(REGISTRY).splitlines()[0]
    assert first_line.startswith("<!-- Generated") and GENERATE_COMMAND in first_line


@pytest.mark.parametrize("codemod", [*REGISTRY, NoneCompare], ids=lambda c: c.name)
def test_every_codemod_docstring_has_all_six_sections(codemod: type[Codemod]) -> None:
    assert missing_sections(codemod) == []


@pytest.mark.parametrize("codemod", REGISTRY, ids=lambda c: c.name)
def test_every_registered_codemod_has_its_own_heading(codemod: type[Codemod]) -> None:
    text = render_docs(REGISTRY)
    assert text.count(f"\n## {codemod.name}\n") == 1
    assert f"[`{codemod.name}`](#{codemod.name})" in text
    assert render_one(codemod) in text


def test_section_text_comes_from_the_docstring_in_order() -> None:
    text = render_one(NoneCompare)
    positions = [text.index(f"\n### {title}\n") for title in SECTIONS]
    assert positions == sorted(positions)
    assert "``==`` calls ``__eq__``, which a class may override; identity is what is meant." in text
    assert f"**Fix safety:** {NoneCompare.safety}" in text


# The one docstring style of every rule: a heading is a line of its own ending in ":" or "?".
DOCSTRING = '''\
    First line.

    What it does:
        Rewrites a.

    Why is this bad?
        Because b.

    Example:
        ```python
        def f():
            return a
        ```

    Use instead:
        ```python
        def f():
            return b
        ```

    Fix safety:
        Safe.

    Limitations:
        None known.
    '''


def test_the_docstring_style_parses_to_markdown_sections() -> None:
    sections = parse_sections(textwrap.dedent(DOCSTRING))
    assert sections[""] == "First line."
    assert sections["What it does"] == "Rewrites a."
    assert sections["Example"] == "```python\ndef f():\n    return a\n```"
    assert sections["Use instead"] == "```python\ndef f():\n    return b\n```"
    assert sections["Limitations"] == "None known."


@pytest.mark.parametrize(
    "heading", ["## What it does", "What it does", "What it does\n------------"], ids=["markdown", "bare", "underlined"]
)
def test_other_heading_styles_are_not_sections(heading: str) -> None:
    # One style everywhere: a heading in another style is text of the section before it.
    sections = parse_sections(f"First line.\n\n{heading}\n    Rewrites a.\n")
    assert "What it does" not in sections


@pytest.mark.parametrize("codemod", REGISTRY, ids=lambda c: c.name)
def test_every_rule_docstring_has_the_sections_in_order(codemod: type[Codemod]) -> None:
    assert section_order(codemod) == list(SECTIONS)


def test_code_inside_a_fence_keeps_its_indentation() -> None:
    sections = parse_sections("Example:\n```python\nif x:\n    return\n```\n")
    assert sections["Example"] == "```python\nif x:\n    return\n```"


def test_missing_sections_are_named() -> None:
    class Undocumented(NoneCompare):
        """Does something.

        What it does:
            Something.

        Example:
            x
        """

    assert missing_sections(Undocumented) == ["Why is this bad?", "Use instead", "Fix safety", "Limitations"]
