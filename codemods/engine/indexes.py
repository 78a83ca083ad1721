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

import pickle
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from codemods import __version__
from codemods.engine.cache import JournalledCache, KeyPrefix, content_key, stable_bytes, tool_digest, write_pickle
from codemods.engine.manifest import CodemodInfo, loaded

if TYPE_CHECKING:
    from codemods.base import Codemod
    from codemods.engine.sources import SourceFile, TreeSource

    Indexer = Union[type[Codemod], CodemodInfo]
    Indexed = Union[SourceFile, TreeSource]

_FORMAT = 1
KIND = "index"  # index.pickle and its journal: each file's facts
# Changed files whose facts are computed before the kept indexes are known to hold: a change to
# more is a checkout or a pull, whose index pass loads the facts anyway.
FEW_CHANGED = 16

# (codemod name, path, facts, digest of the facts) of a file each indexer read
Computed = list[tuple[str, str, Any, "bytes | None"]]
Compute = Callable[[list[tuple[tuple["Indexer", ...], "Indexed"]]], Computed]


class IndexPass:
    """The indexes of ``indexers`` over a run's files, from what the cache folder keeps (none:
    ``folder`` is None) and the facts ``compute`` gives of the files it lacks."""

    def __init__(self, folder: Path | None, indexers: Sequence[Indexer], options: Mapping[str, Mapping[str, Any]]) -> None:
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

    def build(self, sources: Sequence[Indexed], compute: Compute) -> dict[str, Any]:
        files = self._indexed(sources)
        computed: dict[tuple[str, str], tuple[Any, bytes | None]] = {}
        kept = self._kept(files)
        if kept is not None:
            changed = [
                (readers, source)
                for source, readers, content in files
                if any(kept[c.name][0][source.path][0] != content for c in readers)
            ]
            if len(changed) <= FEW_CHANGED:
                computed = {(name, path): (fact, digest) for name, path, fact, digest in compute(changed)}
                indexes = self._reused(kept, computed)
                if indexes is not None:
                    if computed:
                        self._record_changes(kept, files, computed)
                    return indexes
        return self._rebuilt(files, computed, compute)

    def _indexed(self, sources: Sequence[Indexed]) -> list[tuple[Indexed, tuple[Indexer, ...], bytes]]:
        """Each file some indexer reads (its markers occur in it), with those indexers and its content digest."""
        files = []
        for source in sources:
            readers = tuple(c for c in self.indexers if any(source.has_marker(marker) for marker in c.index_markers))
            if readers:
                files.append((source, readers, source.content_digest()))
        return files

    # -- the kept indexes ---------------------------------------------------------------------

    def _kept(self, files: list[tuple[Indexed, tuple[Indexer, ...], bytes]]) -> dict[str, tuple[dict[str, Any], bytes]] | None:
        """Each indexer's kept (files, pickled index) when every one was built by this auditfix with
        these options from the paths it reads now; else None."""
        if self.folder is None:
            return None
        kept = {}
        for codemod in self.indexers:
            record = _record(built_path(self.folder, codemod.name), self.built_keys[codemod.name])
            if record is None:
                return None
            kept[codemod.name] = record
        paths: dict[str, set[str]] = {c.name: set() for c in self.indexers}
        for source, readers, _ in files:
            for codemod in readers:
                paths[codemod.name].add(source.path)
        for name, read in paths.items():
            recorded = kept[name][0]  # type: ignore[index]
            if recorded.keys() != read or not all(type(entry) is tuple and len(entry) == 2 for entry in recorded.values()):
                return None
        return kept  # type: ignore[return-value]

    @staticmethod
    def _reused(kept: dict[str, tuple[dict[str, Any], bytes]], computed: dict[tuple[str, str], tuple[Any, bytes | None]]) -> dict[str, Any] | None:
        """The kept indexes when each computed fact has the kept digest; else None."""
        for (name, path), (_, digest) in computed.items():
            if digest is None or kept[name][0][path][1] != digest:
                return None
        try:
            return {name: pickle.loads(index) for name, (_, index) in kept.items()}
        except Exception:  # noqa: BLE001 - a damaged index: built again
            return None

    def _record_changes(
        self,
        kept: dict[str, tuple[dict[str, Any], bytes]],
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
            recorded = kept[name][0]
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
            self._save(name, *kept[name])

    def _save(self, name: str, files: dict[str, tuple[bytes, bytes | None]], index: bytes) -> None:
        assert self.folder is not None
        record = {"format": _FORMAT, "key": self.built_keys[name], "files": files, "index": index}
        write_pickle(built_path(self.folder, name), record)

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
        digests: dict[str, dict[str, tuple[bytes, bytes | None]]] = {c.name: {} for c in self.indexers}
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
                    digests[codemod.name][source.path] = (content, entry[1])
                elif (codemod.name, source.path) not in computed:
                    missing.append(codemod)
            if missing:
                todo.append((tuple(missing), source))
        if todo:
            computed = {**computed, **{(name, path): (fact, digest) for name, path, fact, digest in compute(todo)}}
        for (name, path), (fact, digest) in computed.items():
            if path not in facts[name]:
                facts[name][path] = fact
                digests[name][path] = (contents[path], digest)
                cache.put(keys[name, path], (fact, digest))
        cache.retain(set(keys.values()))
        cache.save()
        indexes = {c.name: loaded(c).build_index(facts[c.name], self.options[c.name]) for c in self.indexers}
        if self.folder is not None:
            self._save_built(digests, indexes)
        return indexes

    def _save_built(self, digests: dict[str, dict[str, tuple[bytes, bytes | None]]], indexes: dict[str, Any]) -> None:
        assert self.folder is not None
        for name, index in indexes.items():
            try:
                kept = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - an index pickle cannot hold is built on every run
                built_path(self.folder, name).unlink(missing_ok=True)
                continue
            self._save(name, digests[name], kept)


def built_path(folder: Path, name: str) -> Path:
    """Where the index of the codemod ``name`` is kept as built."""
    return folder / f"{KIND}-built-{name}.pickle"


def _record(path: Path, built_key: str) -> tuple[dict[str, Any], bytes] | None:
    """The (files, pickled index) kept at ``path`` when it is well formed and for ``built_key``."""
    try:
        with path.open("rb") as handle:
            record = pickle.load(handle)
    except Exception:  # noqa: BLE001 - a missing or damaged record is no record
        return None
    if isinstance(record, dict) and record.get("format") == _FORMAT and record.get("key") == built_key:
        files, index = record.get("files"), record.get("index")
        if isinstance(files, dict) and isinstance(index, bytes):
            return files, index
    return None
