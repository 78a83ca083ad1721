"""Results reused across runs, keyed on what determines them.

A file's entry is keyed on its content hash and the run's fingerprint (auditfix version, the
content of its code and templates, the Python, libcst and jinja2 versions, selected codemods,
their settings, their whole-tree indexes, and every file of a template override folder), so
any change to any of those misses.  Index facts are keyed on content, codemod, auditfix's code
and those versions.  The cache lives in ``.auditfix_cache/`` (with a ``.gitignore`` of its own)
and is written atomically; a damaged or foreign cache file is ignored, never trusted.

This module imports neither libcst nor jinja2: a replayed preview (``codemods.engine.replay``)
computes its key from here without them.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib.util
import json
import os
import pickle
import re
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

CACHE_DIR_NAME = ".auditfix_cache"
JOURNAL_NAME = "write-journal.json"  # codemods.engine.journal: a run --write's changes until written
_FORMAT = 1


# Folders never searched for template files: a template cannot usefully include from them,
# and this cache changes on every run.
_NOT_TEMPLATE_FOLDERS = frozenset({".git", CACHE_DIR_NAME, "__pycache__"})


def journal_path(folder: Path) -> Path:
    """Where ``folder``'s write journal is (a check asks whether there is one without importing
    codemods.engine.journal)."""
    return folder / CACHE_DIR_NAME / JOURNAL_NAME


def tool_files() -> list[Path]:
    """Every file of auditfix that shapes its output: the code of the ``codemods`` package at any
    depth, ``cli.py`` and every packaged template (templates include one another)."""
    root = Path(__file__).resolve().parents[2]  # holds codemods/, templates/, cli.py (checkout or site-packages)
    code = sorted(p for p in (root / "codemods").rglob("*.py") if "__pycache__" not in p.parts)
    cli = [root / "cli.py"] if (root / "cli.py").is_file() else []
    return code + cli + files_under(root / "templates")


_tool_stats: list[tuple[int, list[tuple[Path, os.stat_result]]]] = []


def tool_stats() -> list[tuple[Path, os.stat_result]]:
    """:func:`tool_files` with their ``os.stat``, taken once per process as :func:`tool_digest` is
    computed once: the replay key, the registry cache and the kept tool digest all read them, and
    listing and stating auditfix's files cost a few milliseconds each time."""
    return _taken_tool_stats()[1]


def _taken_tool_stats() -> tuple[int, list[tuple[Path, os.stat_result]]]:
    """When :func:`tool_stats` were taken (what a kept digest's racy check compares with), and them."""
    if not _tool_stats:
        now = time.time_ns()
        _tool_stats.append((now, [(path, os.stat(path)) for path in tool_files()]))
    return _tool_stats[0]


def files_under(folder: Path) -> list[Path]:
    """The files under ``folder`` at any depth, through symbolic links, sorted; none if missing.

    Used for template folders: jinja2's file loader opens any relative path a template names
    (``{% include "partials/header.j2" %}``), with any suffix."""
    found: list[Path] = []
    seen: set[str] = set()
    for top, folders, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(top)
        if real in seen:  # a link back up the tree
            folders[:] = []
            continue
        seen.add(real)
        folders[:] = [name for name in folders if name not in _NOT_TEMPLATE_FOLDERS]
        found.extend(Path(top) / name for name in files if not name.endswith((".pyc", ".pyo")))
    return sorted(found)


def folder_digest(folder: Path) -> bytes:
    """A hash of every file under ``folder`` (relative path and content): a template override
    folder, whose templates may include any file in it."""
    digest = hashlib.blake2b(digest_size=20)
    for path in files_under(folder):
        try:
            data = path.read_bytes()
        except OSError as exc:  # rendering will report it; the key must still differ
            data = f"unreadable: {exc.strerror or exc}".encode()
        digest.update(content_key(path.relative_to(folder).as_posix(), data).encode())
    return digest.digest()


_versions: list[str] = []


def dependency_versions() -> str:
    """The Python, libcst and jinja2 versions: a new release of either library can parse, print
    or render differently.  Read from the installed files, without importing either library or
    reading package metadata (each costs more than a whole replay of a small project)."""
    if not _versions:
        _versions.append(
            "\n".join(
                (
                    f"python {sys.version}",
                    f"libcst {_installed_version('libcst', '_version.py')}",
                    f"jinja2 {_installed_version('jinja2', '__init__.py')}",
                )
            )
        )
    return _versions[0]


# `__version__ = "3.1.6"` (jinja2), `__version__ = version = '1.9.0'` (libcst's generated file)
_VERSION_LINE = re.compile(r"""^__version__[ \t]*=[ \t]*(?:version[ \t]*=[ \t]*)?['"]([^'"\n]+)['"]""", re.MULTILINE)


def _installed_version(package: str, version_file: str) -> str:
    try:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin is not None:
            match = _VERSION_LINE.search(Path(spec.origin).with_name(version_file).read_text(encoding="utf-8"))
            if match is not None:
                return match.group(1)
    except (ImportError, OSError, ValueError):
        pass
    try:
        from importlib.metadata import version

        return version(package)
    except Exception:  # noqa: BLE001 - not installed as a distribution: the key is just weaker
        return "?"


_tool_digest: list[str] = []


def tool_digest() -> str:
    """A hash of auditfix's own code and templates and of the versions that shape its results:
    a development build keeps its version number across changes, and a result or index fact
    computed by other code, or with another libcst, jinja2 or Python, must not be reused."""
    if not _tool_digest:
        from codemods.analysis.installed import cache_folder

        try:
            when, stats = _taken_tool_stats()
        except OSError:
            paths, taken = tool_files(), None
        else:
            paths, taken = [path for path, _ in stats], (when, [info for _, info in stats])
        _tool_digest.append(kept_tool_digest(Path(__file__).resolve().parents[2], paths, cache_folder(), taken))
    return _tool_digest[0]


def content_digest(root: Path, paths: list[Path]) -> str:
    """The hash of the versions and of ``paths`` (relative to ``root``) with their content."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(dependency_versions().encode())
    for path in paths:
        digest.update(content_key(path.relative_to(root).as_posix(), path.read_bytes()).encode())
    return digest.hexdigest()


# A file changed this recently may change again within its timestamps' resolution: its stamp
# does not vouch for its content yet (git's "racy" index entries).
RECENT_NS = 2_000_000_000


def file_stamp(path: str | Path, info: os.stat_result) -> str:
    """What vouches for a file's content while it is unchanged, as git's index keeps it: path, size,
    modification and change times (the change time moves on every write, whatever sets the
    modification time back) and inode."""
    return f"{path}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ctime_ns}\0{info.st_ino}"


def changed_recently(info: os.stat_result, now: int) -> bool:
    """Whether the file was written within :data:`RECENT_NS` before ``now`` (its stamp does not vouch yet)."""
    return now - max(info.st_mtime_ns, info.st_ctime_ns) < RECENT_NS
_KEPT_DIGESTS = 16  # checkouts and environments sharing the user's cache folder


def kept_tool_digest(
    root: Path, paths: list[Path], folder: Path, taken: tuple[int, list[os.stat_result]] | None = None
) -> str:
    """:func:`content_digest` of auditfix's files, kept in ``folder`` (the user's cache) under
    their stamps (:func:`file_stamp`) and the versions.  Reading and hashing every file costs
    more than the rest of a replayed run; the stamps are those the replay key and the registry
    cache already trust, made stricter.  A file changed in the last two seconds makes the digest
    be computed, not kept.  ``taken``: when the files' stats
    were taken and the stats, if they were already (:func:`tool_stats`)."""
    now, infos = taken if taken is not None else (time.time_ns(), None)
    stamps = []
    try:
        for index, path in enumerate(paths):
            info = os.stat(path) if infos is None else infos[index]
            if changed_recently(info, now):
                return content_digest(root, paths)
            stamps.append(file_stamp(path, info))
    except OSError:
        return content_digest(root, paths)
    key = content_key(dependency_versions(), str(root), *stamps)
    store = folder / "tool-digests.json"
    try:
        kept = json.loads(store.read_text(encoding="utf-8"))
        kept = kept if isinstance(kept, dict) else {}
    except (OSError, ValueError):
        kept = {}
    digest = kept.get(key)
    if isinstance(digest, str):
        return digest
    digest = content_digest(root, paths)
    kept = {**dict(list(kept.items())[-(_KEPT_DIGESTS - 1) :]), key: digest}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(kept, handle)
        os.replace(temporary, store)
    except OSError:
        pass  # a read-only home: the digest is still right, only not kept
    return digest


def content_key(*parts: bytes | str) -> str:
    digest = hashlib.blake2b(digest_size=20)
    _hash_parts(digest, parts)
    return digest.hexdigest()


def _hash_parts(digest: Any, parts: tuple[bytes | str, ...]) -> None:
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)


class KeyPrefix:
    """``content_key(*prefix, *parts)`` for many ``parts`` after the same prefix, which is hashed once."""

    def __init__(self, *prefix: bytes | str) -> None:
        self._digest = hashlib.blake2b(digest_size=20)
        _hash_parts(self._digest, prefix)

    def key(self, *parts: bytes | str) -> str:
        digest = self._digest.copy()
        _hash_parts(digest, parts)
        return digest.hexdigest()


def stable_bytes(value: Any, ordered: bool = False) -> bytes:
    """Bytes that are equal for equal values in every process.

    ``pickle`` is not: a set's (or frozenset's) order follows string hashing, which differs per
    process, so a fingerprint of a pickled index would miss the cache on every run.  ``ordered``:
    a mapping's items in their order (code that iterates it may depend on it), not sorted.
    """
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return f"{type(value).__name__}:{value!r}".encode()
    if isinstance(value, (set, frozenset)):
        return b"set{" + b",".join(sorted(stable_bytes(item, ordered) for item in value)) + b"}"
    if isinstance(value, (list, tuple)):
        return type(value).__name__.encode() + b"[" + b",".join(stable_bytes(item, ordered) for item in value) + b"]"
    if isinstance(value, Mapping):
        items = [stable_bytes(key, ordered) + b":" + stable_bytes(item, ordered) for key, item in value.items()]
        return b"map{" + b",".join(items if ordered else sorted(items)) + b"}"
    name = f"{type(value).__module__}.{type(value).__qualname__}".encode()
    if dataclasses.is_dataclass(value):
        fields = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
        return name + stable_bytes(fields, ordered)
    if isinstance(value, enum.Enum):
        return name + b"." + value.name.encode()
    if hasattr(value, "__dict__"):
        return name + stable_bytes(vars(value), ordered)
    return name + pickle.dumps(value, protocol=4)


def value_digest(value: Any) -> bytes | None:
    """A digest of ``value`` that is equal for equal values in every process, mappings compared
    with their order (:func:`stable_bytes`); None for a value it cannot describe."""
    try:
        return hashlib.blake2b(stable_bytes(value, ordered=True), digest_size=20).digest()
    except Exception:  # noqa: BLE001 - an unpicklable part: the value is never taken as unchanged
        return None


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
        write_pickle(self.path, {"format": _FORMAT, "entries": self.entries})


def write_pickle(path: Path, data: dict[str, Any]) -> bool:
    """Write ``data`` to ``path`` atomically; False when the folder is not writable."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Created by auditfix: this folder is a cache.\n*\n")
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pickle")
        with os.fdopen(descriptor, "wb") as handle:
            pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except OSError:
        # The cache is an optimisation: a read-only checkout must still work.
        return False
    return True


class JournalledCache(ResultCache):
    """A :class:`ResultCache` of content-keyed entries whose file is rewritten only when much
    changed.  A run that changes a few entries (a pre-commit run indexes the one changed file of
    an unchanged tree) writes them, and the keys it dropped, to a small journal next to it,
    which loading applies.  Every entry is right for its key whatever file it comes from, so a
    journal read over another base than it was written against (two runs at once), or lost,
    can only cost recomputation."""

    JOURNAL_LIMIT = 64  # changed entries kept in the journal before the whole file is rewritten

    def __init__(self, folder: Path | None, kind: str) -> None:
        super().__init__(folder, kind)
        self._base_keys = set(self.entries)  # what the main file holds
        self.journal = folder / f"{kind}-journal.pickle" if folder is not None else None
        if self.journal is not None:
            added, dropped = self._load_journal(self.journal)
            for key in dropped:
                self.entries.pop(key, None)
            self.entries.update(added)

    @staticmethod
    def _load_journal(path: Path) -> tuple[dict[str, Any], list[str]]:
        try:
            with path.open("rb") as handle:
                data = pickle.load(handle)
        except Exception:  # noqa: BLE001 - a missing or damaged journal is an empty one
            return {}, []
        if isinstance(data, dict) and data.get("format") == _FORMAT:
            added, dropped = data.get("added"), data.get("dropped")
            if isinstance(added, dict) and isinstance(dropped, list):
                return added, dropped
        return {}, []

    @classmethod
    def amend(cls, folder: Path, kind: str, added: Mapping[str, Any], dropped: Sequence[str]) -> bool:
        """Put ``added`` and drop ``dropped`` through the journal alone, without loading the main
        file, as loading, changing and saving the cache would with a journal; False (nothing
        written) when the main file is missing or the journal would grow past its limit: the
        caller loads the cache."""
        path, journal = folder / f"{kind}.pickle", folder / f"{kind}-journal.pickle"
        kept, gone = cls._load_journal(journal)
        for key in dropped:
            if kept.pop(key, None) is None and key not in gone:  # a key the main file may hold
                gone.append(key)
        kept.update(added)
        gone = [key for key in gone if key not in added]
        if len(kept) + len(gone) > cls.JOURNAL_LIMIT or not path.exists():
            return False
        return write_pickle(journal, {"format": _FORMAT, "added": kept, "dropped": sorted(gone)})

    def save(self) -> None:
        if self.path is None or self.journal is None or not self.dirty:
            return
        added = {key: value for key, value in self.entries.items() if key not in self._base_keys}
        dropped = sorted(self._base_keys - self.entries.keys())
        if len(added) + len(dropped) <= self.JOURNAL_LIMIT and self.path.exists():
            write_pickle(self.journal, {"format": _FORMAT, "added": added, "dropped": dropped})
            return
        if write_pickle(self.path, {"format": _FORMAT, "entries": self.entries}):
            self._base_keys = set(self.entries)
            self.journal.unlink(missing_ok=True)

    def replace(self, key: str, value: Any) -> None:
        """Put a new value under a key the main file may hold (entries are content-keyed: this is
        for a value that says more of the same content): the journal carries it."""
        self._base_keys.discard(key)
        self.put(key, value)
