"""Unified diffs in the form ``git apply`` accepts: a/ and b/ prefixes, paths relative to
the folder, new files as ``new file mode``, and "No newline at end of file" markers.

Diffs are built from bytes, so a file's encoding and line endings pass through untouched.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from codemods.engine.runner import Change

_NO_NEWLINE = b"\\ No newline at end of file\n"


def _range(start: int, length: int) -> bytes:
    """A hunk range from a 0-based start; an empty range names the line before it, as diff does."""
    if length == 0:
        return f"{start},0".encode()
    if length == 1:
        return f"{start + 1}".encode()
    return f"{start + 1},{length}".encode()


def _emit(prefix: bytes, line: bytes) -> Iterable[bytes]:
    if line.endswith(b"\n"):
        yield prefix + line
    else:
        yield prefix + line + b"\n"
        yield _NO_NEWLINE


def _hunks(old_lines: Sequence[bytes], new_lines: Sequence[bytes], context: int) -> Iterable[bytes]:
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        yield b"@@ -" + _range(i1, i2 - i1) + b" +" + _range(j1, j2 - j1) + b" @@\n"
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                for line in old_lines[a1:a2]:
                    yield from _emit(b" ", line)
                continue
            for line in old_lines[a1:a2]:
                yield from _emit(b"-", line)
            for line in new_lines[b1:b2]:
                yield from _emit(b"+", line)


def split_lines(data: bytes) -> list[bytes]:
    """Lines as git sees them: ended by LF only (a CR stays part of its line)."""
    lines = data.split(b"\n")
    result = [line + b"\n" for line in lines[:-1]]
    if lines[-1]:
        result.append(lines[-1])
    return result


def file_diff(change: Change, context: int = 3) -> bytes:
    path = change.path.encode()
    header = [b"diff --git a/" + path + b" b/" + path + b"\n"]
    if change.old is None:
        header.append(b"new file mode 100644\n")
        header.append(b"--- /dev/null\n")
    else:
        header.append(b"--- a/" + path + b"\n")
    header.append(b"+++ b/" + path + b"\n")
    old_lines = split_lines(change.old or b"")
    new_lines = split_lines(change.new)
    return b"".join(header) + b"".join(_hunks(old_lines, new_lines, context))


def unified_diff(changes: Sequence[Change]) -> bytes:
    return b"".join(file_diff(change) for change in sorted(changes, key=lambda c: c.path))
