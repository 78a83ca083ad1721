"""Text a codemod writes (comments), wrapped at the target project's line length.

A formatter can split code at its brackets, but not prose: the codemods that write comments
wrap them here, to ``FileContext.style.line_length``.  Words are never broken (a
path or a URL longer than the line stays whole).
"""

from __future__ import annotations

import textwrap


def wrap_comment(text: str, *, indent: int, limit: int, prefix: str = "# ", continuation: str = "# ") -> list[str]:
    """The lines of comment ``text`` (without indentation): the first starts with ``prefix``,
    the others with ``continuation``, each within ``limit`` once indented by ``indent``."""
    width = max(limit - indent, len(prefix) + 20)
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=prefix,
        subsequent_indent=continuation,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [prefix.rstrip()]


def wrap_docstring(text: str, *, indent: str, limit: int) -> str:
    """The body of a docstring opened by ``\"\"\"`` at ``indent``: ``text`` wrapped so that every
    line fits in ``limit``; the continuation lines carry ``indent``.  Paragraphs (separated by
    a blank line) stay apart."""
    paragraphs = []
    for number, paragraph in enumerate(text.split("\n\n")):
        lines = textwrap.wrap(
            " ".join(paragraph.split()),
            width=max(limit - len(indent), 40),
            initial_indent='"""' if number == 0 else "",
            break_long_words=False,
            break_on_hyphens=False,
        )
        if number == 0 and lines:
            lines[0] = lines[0][3:]
        paragraphs.append(f"\n{indent}".join(lines))
    return f"\n\n{indent}".join(paragraphs)
