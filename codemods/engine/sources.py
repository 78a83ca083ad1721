"""The files a run works on: read from the folder, or from the tree its replay key read
(codemods.engine.replay.TreeRead, whose unchanged files the stat cache vouches for without
reading them: the index pass reads one only when it needs its bytes)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from codemods.engine.replay import TreeRead

if TYPE_CHECKING:
    from codemods.engine.runner import RunReport


@dataclasses.dataclass(frozen=True)
class SourceFile:
    path: str  # posix, relative to the root
    data: bytes
    mode: int
    mtime_ns: int
    digest: bytes | None = None  # blake2b of ``data`` (20 bytes) when the replay key took it

    def content_digest(self) -> bytes:
        return self.digest if self.digest is not None else hashlib.blake2b(self.data, digest_size=20).digest()

    def has_marker(self, marker: bytes) -> bool:
        return marker in self.data


class TreeSource:
    """A file of the key's tree (``TreeRead``) the run only indexes: its bytes are read only if
    its markers or index facts are not in the caches."""

    __slots__ = ("_tree", "path")

    def __init__(self, tree: TreeRead, path: str) -> None:
        self.path = path
        self._tree = tree

    @property
    def data(self) -> bytes:
        return self._tree.data(self.path)

    def content_digest(self) -> bytes:
        return self._tree.files[self.path].digest

    def has_marker(self, marker: bytes) -> bool:
        return self._tree.has_marker(self.path, marker)


@dataclasses.dataclass(frozen=True)
class Problem:
    path: str
    message: str
    detail: str = ""


def read_sources(folder: Path, paths: Iterable[str], report: RunReport) -> list[SourceFile]:
    sources = []
    for path in paths:
        full = folder / path
        try:
            info = os.stat(full)
            if not stat.S_ISREG(info.st_mode):
                report.skipped.append(Problem(path, "not a regular file"))
                continue
            data = full.read_bytes()
        except OSError as exc:
            report.skipped.append(Problem(path, f"cannot read: {exc.strerror or exc}"))
            continue
        sources.append(SourceFile(path, data, stat.S_IMODE(info.st_mode), info.st_mtime_ns))
    return sources


def sources_in(tree: TreeRead, paths: Iterable[str], report: RunReport) -> list[SourceFile]:
    """The files at ``paths`` as the replay key read them (``tree`` holds every discovered file),
    with what :func:`read_sources` would report."""
    sources = []
    for path in paths:
        known = tree.files[path]
        if not stat.S_ISREG(known.st_mode):
            report.skipped.append(Problem(path, "not a regular file"))
            continue
        sources.append(SourceFile(path, tree.data(path), stat.S_IMODE(known.st_mode), known.mtime_ns, known.digest))
    return sources


def indexed_in(tree: TreeRead, paths: Iterable[str]) -> list[TreeSource]:
    """The regular files at ``paths`` of ``tree``, for the index pass only (read when it needs their bytes)."""
    return [TreeSource(tree, path) for path in paths if stat.S_ISREG(tree.files[path].st_mode)]
