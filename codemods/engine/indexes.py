"""The whole-tree index pass's caches: each file's index facts, and each index as built.

A file's facts are kept in ``index.pickle`` (a :class:`~codemods.engine.cache.JournalledCache`)
under a key of auditfix (version and tool digest), the codemod, the file's path and its content,
with a digest of their value (:func:`~codemods.engine.cache.value_digest`).  Building an index
needs every indexed file's facts, and loading them all is most of a pre-commit run's index pass
(apache-superset: 0.5 MB of facts for the one index a changed route module needs).

So each index is also kept as built, in ``index-built-<codemod>.pickle``, with exactly what it
was built from: a key of auditfix, the codemod and its options, and per indexed path the content digest
and the facts' digest.  A run whose indexed paths are those, whose other files have those
contents, and whose changed files' facts (computed: a changed file is parsed anyway) have those
digests, takes the kept index, equal to a rebuild: the facts it would be built from are equal
(mappings in the same order), and ``build_index`` is a function of them and the options.  The
changed files' facts still reach ``index.pickle``, through its journal alone.  Anything else (a
path added, removed or renamed, a fact changed, options, auditfix or its environment changed, a
damaged or missing record, many changed files) takes the whole pass, which rewrites the record.
A record is true whatever else the cache holds, so a run keeps the records of the indexes it
did not build (a commit's run on another file may need them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codemods import __version__
from codemods.engine.cache import (
    JournalledCache,
    KeyPrefix,
    content_key,
    stable_bytes,
    tool_digest,
    write_pickle,
)
from codemods.engine.manifest import CodemodInfo, loaded

if TYPE_CHECKING:
    from codemods.base import Codemod
    from codemods.engine.sources import SourceFile, TreeSource

    Indexer = type[Codemod] | CodemodInfo
    Indexed = SourceFile | TreeSource

_FORMAT = 1
KIND = "index"  # index.pickle and its journal: each file's facts
# Changed files whose facts are computed before the kept indexes are known to hold: a change to
# more is a checkout or a pull, whose index pass loads the facts anyway.
FEW_CHANGED = 16

# (codemod name, path, facts, digest of the facts) of a file each indexer read
Computed = list[tuple[str, str, Any, "bytes | None"]]
Compute = Callable[[list[tuple[tuple["Indexer", ...], "Indexed"]]], Computed]
# Of each file an indexer read: its content digest, and the digest of its facts (None: undescribable).
Sources = dict[str, tuple[bytes, "bytes | None"]]


@dataclasses.dataclass
class Kept:
    """One codemod's index as built, and what from."""

    files: Sources
    index: bytes  # pickled
    digest: bytes  # index_digest of the index


def index_digest(index: Any) -> bytes:
    """What the results cache's key takes of an index (equal for equal indexes in every process)."""
    return hashlib.blake2b(stable_bytes(index), digest_size=20).digest()


class IndexPass:
    """The indexes of ``indexers`` over a run's files, from what the cache folder keeps (none:
    ``folder`` is None) and the facts ``compute`` gives of the files it lacks.  ``digests``: the
    :func:`index_digest` of each index kept (or built and kept) by the last :meth:`build`."""

    def __init__(
        self, folder: Path | None, indexers: Sequence[Indexer], options: Mapping[str, Mapping[str, Any]]
    ) -> None:
        self.folder = folder
        self.indexers = tuple(indexers)
        self.options = {c.name: options.get(c.name, {}) for c in self.indexers}
        digest = tool_digest()
        self.prefixes = {c.name: KeyPrefix(__version__, digest, c.name) for c in self.indexers}
        # What a kept index's options and auditfix must be: built with others, it is not this one.
        self.built_keys = {
            c.name: content_key(__version__, digest, c.name, stable_bytes(self.options[c.name], ordered=True))
            for c in self.indexers
        }
        self.digests: dict[str, bytes] = {}

    def build(self, sources: Sequence[Indexed], compute: Compute) -> dict[str, Any]:
        files = self._indexed(sources)
        computed: dict[tuple[str, str], tuple[Any, bytes | None]] = {}
        kept = self._kept()
        changed = self._changed(kept, files) if kept is not None else None
        if kept is not None and changed is not None and len(changed) <= FEW_CHANGED:
            computed = {(name, path): (fact, digest) for name, path, fact, digest in compute(changed)}
            indexes = self._reused(kept, computed)
            if indexes is not None:
                if computed:
                    self._record_changes(kept, files, computed)
                self.digests = {name: record.digest for name, record in kept.items()}
                return indexes
        return self._rebuilt(files, computed, compute)

    def _indexed(self, sources: Sequence[Indexed]) -> list[tuple[Indexed, tuple[Indexer, ...], bytes]]:
        """Each file some indexer reads (its markers occur in it), with those indexers and its content digest."""
        everywhere = tuple(c for c in self.indexers if b"" in c.index_markers)  # an empty marker is in every file
        if len(everywhere) == len(self.indexers):
            return [(source, everywhere, source.content_digest()) for source in sources]
        files = []
        for source in sources:
            readers = tuple(
                c for c in self.indexers if b"" in c.index_markers or any(source.has_marker(m) for m in c.index_markers)
            )
            if readers:
                files.append((source, readers, source.content_digest()))
        return files

    # -- the kept indexes ---------------------------------------------------------------------

    def _kept(self) -> dict[str, Kept] | None:
        """Each indexer's kept index when every one was built by this auditfix with these options; else None."""
        if self.folder is None:
            return None
        kept = {}
        for codemod in self.indexers:
            record = _record(built_path(self.folder, codemod.name), self.built_keys[codemod.name])
            if record is None:
                return None
            kept[codemod.name] = record
        return kept

    @staticmethod
    def _changed(
        kept: dict[str, Kept], files: list[tuple[Indexed, tuple[Indexer, ...], bytes]]
    ) -> list[tuple[tuple[Indexer, ...], Indexed]] | None:
        """The files (with their indexers) whose content is not the one the kept indexes were
        built from; None when an index was built from other paths (or its record is damaged)."""
        changed = []
        read = dict.fromkeys(kept, 0)
        for source, readers, content in files:
            differs = False
            for codemod in readers:
                entry = kept[codemod.name].files.get(source.path)
                if type(entry) is not tuple or len(entry) != 2:
                    return None  # a path added, or a damaged record
                read[codemod.name] += 1
                differs = differs or entry[0] != content
            if differs:
                changed.append((readers, source))
        if any(count != len(kept[name].files) for name, count in read.items()):
            return None  # a path removed
        return changed

    @staticmethod
    def _reused(
        kept: dict[str, Kept], computed: dict[tuple[str, str], tuple[Any, bytes | None]]
    ) -> dict[str, Any] | None:
        """The kept indexes when each computed fact has the kept digest; else None."""
        for (name, path), (_, digest) in computed.items():
            if digest is None or kept[name].files[path][1] != digest:
                return None
        try:
            return {name: pickle.loads(record.index) for name, record in kept.items()}
        except Exception:  # noqa: BLE001 - a damaged index: built again
            return None

    def _record_changes(
        self,
        kept: dict[str, Kept],
        files: list[tuple[Indexed, tuple[Indexer, ...], bytes]],
        computed: dict[tuple[str, str], tuple[Any, bytes | None]],
    ) -> None:
        """The changed files' facts into the facts cache, their old entries out, and the record
        of their new contents (the indexes are the same)."""
        assert self.folder is not None
        contents = {source.path: digest for source, _, digest in files}
        added: dict[str, tuple[Any, bytes | None]] = {}
        dropped: list[str] = []
        for (name, path), (fact, digest) in computed.items():
            recorded = kept[name].files
            dropped.append(self.prefixes[name].key(path, recorded[path][0]))
            added[self.prefixes[name].key(path, contents[path])] = (fact, digest)
            recorded[path] = (contents[path], digest)
        if not JournalledCache.amend(self.folder, KIND, added, dropped):
            # The journal is full (or the facts file is gone): the cache as the whole pass leaves it.
            cache = JournalledCache(self.folder, KIND)
            for key, entry in added.items():
                cache.put(key, entry)
            cache.retain(
                {self.prefixes[c.name].key(source.path, digest) for source, readers, digest in files for c in readers}
            )
            cache.save()
        for name in {name for name, _ in computed}:
            self._save(name, kept[name])

    def _save(self, name: str, record: Kept) -> None:
        assert self.folder is not None
        key = self.built_keys[name]
        data = {"format": _FORMAT, "key": key, "files": record.files, "index": record.index, "digest": record.digest}
        write_pickle(built_path(self.folder, name), data)

    # -- the whole pass -----------------------------------------------------------------------

    def _rebuilt(
        self,
        files: list[tuple[Indexed, tuple[Indexer, ...], bytes]],
        computed: dict[tuple[str, str], tuple[Any, bytes | None]],
        compute: Compute,
    ) -> dict[str, Any]:
        """The indexes built from every file's facts: from the facts cache when it has them, else
        ``computed`` or computed now; the cache keeps exactly this run's, and the record is rewritten."""
        cache = JournalledCache(self.folder, KIND)
        facts: dict[str, dict[str, Any]] = {c.name: {} for c in self.indexers}
        sources: dict[str, Sources] = {c.name: {} for c in self.indexers}
        keys: dict[tuple[str, str], str] = {}
        contents: dict[str, bytes] = {}
        todo: list[tuple[tuple[Indexer, ...], Indexed]] = []
        for source, readers, content in files:
            contents[source.path] = content
            missing = []
            for codemod in readers:
                key = keys[codemod.name, source.path] = self.prefixes[codemod.name].key(source.path, content)
                entry = cache.get(key)
                if isinstance(entry, tuple) and len(entry) == 2:
                    facts[codemod.name][source.path] = entry[0]
                    sources[codemod.name][source.path] = (content, entry[1])
                elif (codemod.name, source.path) not in computed:
                    missing.append(codemod)
            if missing:
                todo.append((tuple(missing), source))
        if todo:
            computed = {**computed, **{(name, path): (fact, digest) for name, path, fact, digest in compute(todo)}}
        for (name, path), (fact, digest) in computed.items():
            if path not in facts[name]:
                facts[name][path] = fact
                sources[name][path] = (contents[path], digest)
                cache.put(keys[name, path], (fact, digest))
        cache.retain(set(keys.values()))
        cache.save()
        indexes = {c.name: loaded(c).build_index(facts[c.name], self.options[c.name]) for c in self.indexers}
        self.digests = {}
        if self.folder is not None:
            for name, index in indexes.items():
                self._keep(name, sources[name], index)
        return indexes

    def _keep(self, name: str, files: Sources, index: Any) -> None:
        """Keep ``index`` as built from ``files``, with its digest (what the run's results key takes of it)."""
        assert self.folder is not None
        try:
            record = Kept(files, pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL), index_digest(index))
        except Exception:  # noqa: BLE001 - an index pickle cannot hold is built on every run
            built_path(self.folder, name).unlink(missing_ok=True)
            return
        self.digests[name] = record.digest
        self._save(name, record)


def built_path(folder: Path, name: str) -> Path:
    """Where the index of the codemod ``name`` is kept as built."""
    return folder / f"{KIND}-built-{name}.pickle"


def _record(path: Path, built_key: str) -> Kept | None:
    """The index kept at ``path`` when its record is well formed and for ``built_key``."""
    try:
        with path.open("rb") as handle:
            data = pickle.load(handle)
    except Exception:  # noqa: BLE001 - a missing or damaged record is no record
        return None
    if isinstance(data, dict) and data.get("format") == _FORMAT and data.get("key") == built_key:
        files, index, digest = data.get("files"), data.get("index"), data.get("digest")
        if isinstance(files, dict) and isinstance(index, bytes) and isinstance(digest, bytes):
            return Kept(files, index, digest)
    return None
