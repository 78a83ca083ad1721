"""The write journal: what a `run --write` is about to write, so a killed run can be finished.

Before the first file is replaced, the whole set of changes (each file's path, a digest of
its old bytes, its new bytes, mode and the files it needs) is written atomically to
``.auditfix_cache/write-journal.json``; it is removed when the last file is written.  A run
killed in between leaves every file old or new (each replace is atomic) and the journal; the
next ``run --write`` finishes those writes before it reads the tree, so the tree becomes what
the uninterrupted run would have left, byte for byte, and that run then goes on as usual.

JSON, never pickle: the folder being fixed is not trusted, and a journal is only data.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from codemods.engine.cache import journal_path

_FORMAT = 1


@dataclasses.dataclass(frozen=True)
class Entry:
    """One file of an interrupted write."""

    path: str  # posix, relative to the run's folder
    old_digest: str | None  # sha256 of the bytes it replaces; None for a file the run creates
    new: bytes
    mode: int | None
    requires: tuple[str, ...]
    codemods: tuple[str, ...]


def digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def record(folder: Path, entries: Iterable[Entry]) -> Path:
    """Write the journal atomically (and durably) before any file is replaced."""
    target = journal_path(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    ignore = target.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Created by auditfix: this folder is a cache.\n*\n")
    document = {
        "format": _FORMAT,
        "pid": os.getpid(),
        "changes": [
            {
                "path": e.path,
                "old": e.old_digest,
                "new": base64.b64encode(e.new).decode("ascii"),
                "mode": e.mode,
                "requires": list(e.requires),
                "codemods": list(e.codemods),
            }
            for e in entries
        ],
    }
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".write-journal-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    return target


def clear(folder: Path) -> None:
    """Remove the journal, and the state folder when the journal was all it held."""
    state = journal_path(folder).parent
    for path in (journal_path(folder), *state.glob(".write-journal-*.tmp")):
        try:
            path.unlink()
        except OSError:
            pass
    try:
        if {p.name for p in state.iterdir()} <= {".gitignore"}:
            (state / ".gitignore").unlink(missing_ok=True)
            state.rmdir()
    except OSError:
        pass


class JournalError(Exception):
    """The journal cannot be used (damaged, foreign, or its run is still going)."""


def load(folder: Path) -> list[Entry] | None:
    """The interrupted write's entries; None when no run was interrupted here."""
    path = journal_path(folder)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise JournalError(f"{path} cannot be read ({exc}); delete it to go on") from None
    try:
        if document["format"] != _FORMAT:
            raise JournalError(f"{path} was written by another auditfix version; delete it to go on")
        pid = document["pid"]
        if pid != os.getpid() and _process_alive(pid):
            raise JournalError(f"another auditfix (process {pid}) is writing files here; wait for it")
        return [_entry(item) for item in document["changes"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise JournalError(f"{path} is damaged ({type(exc).__name__}: {exc}); delete it to go on") from None


def _entry(item: dict) -> Entry:
    path = item["path"]
    parts = PurePosixPath(path).parts
    # Only paths inside the folder, never into git's own files.
    if not isinstance(path, str) or path.startswith("/") or not parts or ".." in parts or ".git" in parts:
        raise ValueError(f"path outside the folder: {path!r}")
    mode = item["mode"]
    if mode is not None and not isinstance(mode, int):
        raise TypeError("mode")
    return Entry(
        path,
        item["old"],
        base64.b64decode(item["new"], validate=True),
        mode,
        tuple(item["requires"]),
        tuple(item["codemods"]),
    )


def _process_alive(pid: int) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A pid the system gave to another program since: only an auditfix run counts.
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"auditfix" in command or b"python" in command or b"cli" in command
