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
