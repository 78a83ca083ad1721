"""What the engine needs to know of each registered codemod before importing it.

Importing a codemod imports libcst and its codemod framework (``libcst.codemod`` brings
``libcst.matchers``): most of the time a small run takes.  Yet most files of a project contain
none of a codemod's markers, and a pre-commit run on a few such files needs no codemod at all.
So the console script's fast path works with :class:`CodemodInfo`: the name, markers, index
markers and options of a registered codemod, read from its class once and kept in
``.auditfix_cache/`` under the fingerprint of auditfix's own files; the class is imported
(:meth:`CodemodInfo.load`) when a file's text contains one of its markers.

The metadata still lives once, on the class: this is a cache of it, rebuilt whenever any file
of auditfix changes.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codemods.engine.cache import ResultCache, content_key

if TYPE_CHECKING:
    from codemods.base import Codemod
    from codemods.options import Option


@dataclasses.dataclass(frozen=True)
class CodemodInfo:
    """A registered codemod, not imported yet: what config, the pre-filter and the index pass
    ask before any of its code runs."""

    name: str
    module: str
    qualname: str
    markers: tuple[bytes, ...]
    index_markers: tuple[bytes, ...]
    options: tuple[Option, ...]
    tree_markers: tuple[bytes, ...] = ()

    @classmethod
    def of(cls, codemod: type[Codemod]) -> CodemodInfo:
        return cls(
            codemod.name, codemod.__module__, codemod.__qualname__, tuple(codemod.markers),
            tuple(codemod.index_markers), tuple(codemod.options), tuple(codemod.tree_markers),
        )  # fmt: skip

    def applies_to(self, source: bytes) -> bool:
        """The codemod's own pre-filter (Codemod.applies_to), without importing it."""
        return any(marker in source for marker in self.markers)

    def load(self) -> type[Codemod]:
        if self.module not in sys.modules:
            # The run's libcst part starts here: isort can start beside it (when the console
            # script allowed it; see codemods.engine.sorter).
            from codemods.engine import sorter

            sorter.start()
        codemod: Any = importlib.import_module(self.module)
        for part in self.qualname.split("."):
            codemod = getattr(codemod, part)
        return codemod


def loaded(codemod: type[Codemod] | CodemodInfo) -> type[Codemod]:
    """The class of a codemod given as a class or as a :class:`CodemodInfo`."""
    return codemod.load() if isinstance(codemod, CodemodInfo) else codemod


def registry_infos(cache_folder: Path | None, fingerprint: bytes) -> tuple[CodemodInfo, ...]:
    """The registry as CodemodInfo, from ``cache_folder`` when auditfix's files (``fingerprint``,
    see codemods.engine.replay.tool_fingerprint) are those it was read from; else read from the
    classes (which imports them) and kept there.  A registry imported already is read as it is
    (a test may have replaced it)."""
    registry = sys.modules.get("codemods.registry")
    if registry is not None:
        return tuple(CodemodInfo.of(codemod) for codemod in registry.REGISTRY)
    cache = ResultCache(cache_folder, "registry")
    key = content_key(fingerprint)
    infos = cache.get(key)
    if isinstance(infos, tuple) and all(isinstance(info, CodemodInfo) for info in infos):
        return infos
    from codemods import REGISTRY

    infos = tuple(CodemodInfo.of(codemod) for codemod in REGISTRY)
    cache.entries.clear()
    cache.put(key, infos)
    cache.save()
    return infos
