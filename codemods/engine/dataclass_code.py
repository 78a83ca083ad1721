"""The methods ``@dataclass`` writes, compiled once per interpreter and kept between runs.

Half of ``import libcst`` (0.10-0.15 s of 0.25 s on the benchmark machine) is ``dataclasses``
compiling source text: each of libcst's node classes is a frozen dataclass, and for each the
decorator writes the source of ``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__`` and ``__delattr__`` and passes it to ``exec``.  That is 623 compilations for
libcst and about 380 more in the check of one route module (most of them auditfix's own
classes), in every run, and their text only depends on the classes' fields.  The pre-commit check of one file pays them on every commit.

:func:`install` gives the ``dataclasses`` module an ``exec`` of its own: a module global, which
the module's ``exec(text, globals, namespace)`` call finds before the built-in.  It looks the
text up in a table of code objects read from the user's cache folder; on a miss it compiles the
text as the built-in does (file name ``"<string>"``, no ``__future__`` flags inherited, since
``dataclasses`` has none).  Either way the built-in ``exec`` runs the code object with the same
globals and namespace, so the classes come out as without the table.  At exit a table that
gained entries is written back, atomically, by the process that installed it (not by forked
workers).

The table's file is named after the interpreter's bytecode tag and holds the interpreter's
version and bytecode magic number: a table from another interpreter, a damaged file, or one
owned by another user is ignored (an empty table), as Python ignores a stale ``.pyc``.  It keeps
at most :data:`MAX_ENTRIES` texts; a larger table is written back with only the texts this run
used.

Only the console script installs it (:func:`codemods.engine.console.entry`, before anything
else is imported, and :func:`codemods.engine.commandline.entry` for callers that start there):
importing auditfix as a library changes nothing.  ``AUDITFIX_CODE_CACHE=0`` or ``AUDITFIX_NO_SPEEDUPS=1``
in the environment leaves ``dataclasses`` alone.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import marshal
import os
import sys
import types
from pathlib import Path
from typing import Any

SWITCH = "AUDITFIX_CODE_CACHE"
MAX_ENTRIES = 5000
# Bump when the stored table's shape changes.
_FORMAT = 1


def _magic() -> bytes:
    from importlib.util import MAGIC_NUMBER

    return MAGIC_NUMBER


class CodeTable:
    """Source text -> compiled code, read from and written to one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.codes: dict[str, types.CodeType] = _read(path)
        self.added = 0
        self.used: set[str] = set()
        self.owner = os.getpid()

    def exec(self, source: Any, globals: Any = None, locals: Any = None, /) -> None:
        """``exec`` as ``dataclasses`` calls it, with the text's code from the table."""
        if type(source) is str:
            code = self.codes.get(source)
            if code is None:
                code = compile(source, "<string>", "exec", dont_inherit=True)
                self.codes[source] = code
                self.added += 1
            self.used.add(source)
            source = code
        builtins.exec(source, globals, locals)  # noqa: S102 - what dataclasses asked for, with the code compiled

    def save(self) -> bool:
        """Write the table back if it gained entries (in the process that read it); whether it did."""
        if os.getpid() != self.owner or not self.added:
            return False
        codes = self.codes
        if len(codes) > MAX_ENTRIES:
            codes = {text: code for text, code in codes.items() if text in self.used}
        data = marshal.dumps((_FORMAT, sys.version, _magic(), codes))
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
            os.replace(temporary, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()
            return False
        self.added = 0
        return True


def _read(path: Path) -> dict[str, types.CodeType]:
    try:
        with open(path, "rb") as stream:
            if hasattr(os, "getuid") and os.fstat(stream.fileno()).st_uid != os.getuid():
                return {}
            stored = marshal.load(stream)
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not (isinstance(stored, tuple) and len(stored) == 4 and stored[:3] == (_FORMAT, sys.version, _magic())):
        return {}
    codes = stored[3]
    if not isinstance(codes, dict) or not all(type(t) is str and type(c) is types.CodeType for t, c in codes.items()):
        return {}
    return codes


def table_path(folder: Path | None = None) -> Path:
    """The table's file in ``folder`` (the user's cache folder when not given)."""
    if folder is None:
        from codemods.analysis.installed import cache_folder

        folder = cache_folder()
    return folder / f"dataclass-code-{sys.implementation.cache_tag}.marshal"


def switched_off() -> bool:
    return os.environ.get(SWITCH, "") == "0" or os.environ.get("AUDITFIX_NO_SPEEDUPS", "") not in ("", "0")


def install(folder: Path | None = None) -> CodeTable | None:
    """Give ``dataclasses`` the table's ``exec`` for the rest of the process; the table, or None
    when switched off, already installed, or when ``dataclasses`` is not as expected (a global
    named ``exec``, or ``from __future__`` flags its own ``exec`` calls would compile with)."""
    import __future__

    import dataclasses

    if switched_off() or sys.implementation.cache_tag is None:
        return None
    names = vars(dataclasses)
    if "exec" in names or any(isinstance(value, __future__._Feature) for value in names.values()):
        return None
    table = CodeTable(table_path(folder))
    dataclasses.exec = table.exec  # type: ignore[attr-defined]
    atexit.register(table.save)
    return table


def uninstall(table: CodeTable) -> None:
    """Undo :func:`install` (tests)."""
    import dataclasses

    if vars(dataclasses).get("exec") == table.exec:
        del dataclasses.exec  # type: ignore[attr-defined]
    atexit.unregister(table.save)
