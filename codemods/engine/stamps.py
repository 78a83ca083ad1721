"""The stat cache: each discovered file's content hash, and which markers its bytes hold, kept in
``.auditfix_cache/stat.pickle`` under the file's stamps, as git's index keeps them.

A run on a few named files of a large tree depends on whole-tree facts (its replay key hashes
every discovered file; the index pass asks every file whether it holds an indexer's markers,
and keys its facts on the file's content hash).  Reading and hashing all of them cost more than
the rest of a pre-commit run's bookkeeping; this cache answers both questions for a file whose
stamps are those recorded: path, size, modification and change times (the change time moves on
every write, whatever sets the modification time back) and inode.  A file changed in the two
seconds before it was read is not recorded (git's "racy" entries: a write within the
timestamps' resolution would leave them equal), so it is hashed again on the next run.

An entry's key is the path with its stamps and its value the facts of that content, so every
entry is right whatever run wrote it: the cache keeps a journal of a run's few changes
(:class:`~codemods.engine.cache.JournalledCache`), and a lost or foreign journal only costs
reading again.  A marker's presence is a fact of the bytes alone: answers are added to an
entry as runs ask for them, and a marker auditfix never asked about before is looked for in
the file's bytes.  ``--no-cache`` (no replay key) neither reads nor writes this cache.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from codemods.engine.cache import JournalledCache, changed_recently, file_stamp

Entry = tuple[bytes, dict[bytes, bool]]  # (blake2b of the content, 20 bytes; marker -> present)


class StatCache:
    """The stat cache of one folder's ``.auditfix_cache`` (see the module's docstring)."""

    def __init__(self, folder: Path) -> None:
        self.now = time.time_ns()  # before any file is read: a file written since is racy
        self._cache = JournalledCache(folder, "stat")
        self._used: set[str] = set()

    @staticmethod
    def stamp(path: str, info: os.stat_result) -> str:
        return file_stamp(path, info)

    def digest(self, stamp: str) -> bytes | None:
        """The content hash recorded under ``stamp``, or None."""
        self._used.add(stamp)
        entry = self._cache.entries.get(stamp)
        if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], bytes) and isinstance(entry[1], dict):
            return entry[0]
        return None

    def record(self, stamp: str, info: os.stat_result, digest: bytes) -> None:
        """Keep ``digest`` for the file read under ``stamp``, unless it changed too recently."""
        if not changed_recently(info, self.now):
            self._cache.put(stamp, (digest, {}))

    def marker(self, stamp: str, marker: bytes) -> bool | None:
        """Whether the content recorded under ``stamp`` holds ``marker``; None when not known."""
        entry = self._cache.entries.get(stamp)
        return entry[1].get(marker) if entry is not None else None

    def learn(self, stamp: str, marker: bytes, present: bool) -> None:
        """Add the answer for ``marker`` to the entry under ``stamp`` (if there is one)."""
        entry = self._cache.entries.get(stamp)
        if entry is not None:
            self._cache.replace(stamp, (entry[0], {**entry[1], marker: present}))

    def forget(self, stamp: str) -> None:
        """Drop the entry under ``stamp``: the file's content was not the recorded one."""
        self._cache.entries.pop(stamp, None)
        self._cache.dirty = True

    def save(self) -> None:
        """Write the entries this run looked up (those of files no longer there, or changed since, go)."""
        self._cache.retain(self._used)
        self._cache.save()
