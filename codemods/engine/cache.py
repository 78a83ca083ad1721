"""Results reused across runs, keyed on what determines them.

A file's entry is keyed on its content hash and the run's fingerprint (auditfix version and
the content of its code and templates, selected codemods, their settings, their whole-tree
indexes, template overrides), so any change to any of those misses.  Index facts are keyed on
content, codemod and auditfix's code.  The
cache lives in ``.auditfix_cache/`` (with a ``.gitignore`` of its own) and is written
atomically; a damaged or foreign cache file is ignored, never trusted.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import os
import pickle
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CACHE_DIR_NAME = ".auditfix_cache"
_FORMAT = 1


_tool_digest: list[str] = []


def tool_digest() -> str:
    """A hash of auditfix's own code and templates: a development build keeps its version number
    across changes, and a result or index fact computed by other code must not be reused."""
    if not _tool_digest:
        package = Path(__file__).resolve().parents[1]  # codemods/, every subpackage included
        digest = hashlib.blake2b(digest_size=20)
        for folder, pattern in ((package, "*.py"), (package.parent / "templates", "*.j2")):
            for path in sorted(folder.rglob(pattern)):
                name = path.relative_to(folder.parent).as_posix()
                digest.update(name.encode() + b"\0" + path.read_bytes())
        _tool_digest.append(digest.hexdigest())
    return _tool_digest[0]


def content_key(*parts: bytes | str) -> str:
    digest = hashlib.blake2b(digest_size=20)
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def stable_bytes(value: Any) -> bytes:
    """Bytes that are equal for equal values in every process.

    ``pickle`` is not: a set's (or frozenset's) order follows string hashing, which differs per
    process, so a fingerprint of a pickled index would miss the cache on every run.
    """
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return f"{type(value).__name__}:{value!r}".encode()
    if isinstance(value, (set, frozenset)):
        return b"set{" + b",".join(sorted(stable_bytes(item) for item in value)) + b"}"
    if isinstance(value, (list, tuple)):
        return type(value).__name__.encode() + b"[" + b",".join(stable_bytes(item) for item in value) + b"]"
    if isinstance(value, Mapping):
        items = sorted(stable_bytes(key) + b":" + stable_bytes(item) for key, item in value.items())
        return b"map{" + b",".join(items) + b"}"
    name = f"{type(value).__module__}.{type(value).__qualname__}".encode()
    if dataclasses.is_dataclass(value):
        fields = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
        return name + stable_bytes(fields)
    if isinstance(value, enum.Enum):
        return name + b"." + value.name.encode()
    if hasattr(value, "__dict__"):
        return name + stable_bytes(vars(value))
    return name + pickle.dumps(value, protocol=4)


class ResultCache:
    """A dictionary persisted as one pickle file per kind of entry."""

    def __init__(self, folder: Path | None, kind: str) -> None:
        self.path = folder / f"{kind}.pickle" if folder is not None else None
        self.entries: dict[str, Any] = {}
        self.dirty = False
        if self.path is not None:
            self.entries = self._load(self.path)

    @staticmethod
    def _load(path: Path) -> dict[str, Any]:
        try:
            with path.open("rb") as handle:
                data = pickle.load(handle)
        except Exception:  # noqa: BLE001 - a missing or damaged cache is an empty cache
            return {}
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def get(self, key: str) -> Any:
        return self.entries.get(key)

    def put(self, key: str, value: Any) -> None:
        self.entries[key] = value
        self.dirty = True

    def retain(self, keys: set[str]) -> None:
        """Drop entries this run did not use, so the cache does not grow without bound."""
        stale = self.entries.keys() - keys
        if stale:
            for key in stale:
                del self.entries[key]
            self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            ignore = folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by auditfix: this folder is a cache.\n*\n")
            descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pickle")
            with os.fdopen(descriptor, "wb") as handle:
                pickle.dump({"format": _FORMAT, "entries": self.entries}, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.path)
        except OSError:
            # The cache is an optimisation: a read-only checkout must still work.
            return
