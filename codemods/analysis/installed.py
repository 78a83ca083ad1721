"""The top-level names the installed distributions provide, without reading them all each run.

``importlib.metadata.packages_distributions()`` opens every distribution's metadata on
``sys.path`` (about 0.05 s for a hundred): a pre-commit check of one file paid that on every
commit.  The answer only changes when a distribution is installed, removed or upgraded, which
creates or deletes its ``*.dist-info`` or ``*.egg-info`` folder (pip writes a new folder; it does
not edit one in place).  So the answer is kept in the user's cache folder under a key made of the
interpreter, ``sys.path`` and the name and modification time of every such folder on it (the
entries ``importlib.metadata`` itself looks for, in the folders it looks in), and recomputed by
``packages_distributions()`` whenever the key differs, or when an import hook other than the path
finder also lists distributions.  It is a fact of the environment, not of a project, so it is not
in a project's ``.auditfix_cache/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

_SUFFIXES = (".dist-info", ".egg-info")
# Bump when the stored answer's shape or meaning changes.
_FORMAT = 1


def cache_folder() -> Path:
    """``$XDG_CACHE_HOME/auditfix`` (``~/.cache/auditfix``): a fact of the environment, not of a project."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "auditfix"


def environment_key(path: Sequence[str] | None = None) -> str:
    """What ``packages_distributions()`` reads, by name and modification time: the metadata
    folders (and zip files) of every ``sys.path`` entry."""
    entries = sys.path if path is None else path
    parts: list[object] = [_FORMAT, sys.version, sys.executable]
    for entry in entries:
        folder = entry or "."
        parts.append(os.path.abspath(folder))
        try:
            if os.path.isdir(folder):
                with os.scandir(folder) as found:
                    parts.append(sorted((item.name, item.stat().st_mtime_ns) for item in found if _is_metadata(item.name)))
            else:
                parts.append(os.stat(folder).st_mtime_ns)  # a zip file: its members are its metadata
        except OSError:
            parts.append(None)  # missing or unreadable: importlib.metadata finds nothing there either
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _other_distribution_finders() -> bool:
    """Whether an import hook other than the path finder also lists distributions (importlib.metadata
    asks every ``sys.meta_path`` finder with ``find_distributions``; the key covers ``sys.path`` only)."""
    from importlib.machinery import PathFinder

    return any(
        finder is not PathFinder and hasattr(finder, "find_distributions") and not _reads_sys_path_metadata(finder)
        for finder in sys.meta_path
    )


def _reads_sys_path_metadata(finder: object) -> bool:
    """The ``importlib_metadata`` backport (and its vendored copies) adds a finder once imported:
    it lists the same ``*.dist-info``/``*.egg-info`` folders on ``sys.path`` that the key covers."""
    kind = finder if isinstance(finder, type) else type(finder)
    return kind.__name__ == "MetadataPathFinder" and kind.__module__.split(".")[-1] == "importlib_metadata"


def _is_metadata(name: str) -> bool:
    # importlib.metadata's lookup: ``*.dist-info``, ``*.egg-info``, and an egg's ``EGG-INFO``.
    lowered = name.lower()
    return lowered.endswith(_SUFFIXES) or lowered == "egg-info"


def top_level_names(folder: Path | None = None) -> Mapping[str, list[str]]:
    """``importlib.metadata.packages_distributions()``, from ``folder`` when nothing it reads changed."""
    folder = cache_folder() if folder is None else folder
    if _other_distribution_finders():
        import importlib.metadata

        return importlib.metadata.packages_distributions()  # what they find is in no key of ours
    key = environment_key()
    # One file per interpreter and path (a console script's path differs from `python -c`'s):
    # runs of both kinds keep their own answer instead of replacing each other's.
    where = json.dumps([sys.executable, [os.path.abspath(entry or ".") for entry in sys.path]])
    stored = folder / f"installed-{hashlib.sha256(where.encode()).hexdigest()[:16]}.json"
    try:
        data = json.loads(stored.read_text(encoding="utf-8"))
        if data["key"] == key:
            return data["names"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    import importlib.metadata

    names = {name: list(dists) for name, dists in importlib.metadata.packages_distributions().items()}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = stored.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps({"key": key, "names": names}), encoding="utf-8")
        os.replace(partial, stored)
    except OSError:
        pass  # a read-only home: the answer is still right, only not kept
    _prune(folder)
    return names


KEPT = 16  # stored answers (one per interpreter and path): those written longest ago go first


def _prune(folder: Path) -> None:
    """Keep the :data:`KEPT` answers written last: every checkout, virtualenv or folder a
    ``python -c`` runs from has its own, and the folder must not grow with them."""
    try:
        answers = sorted(folder.glob("installed-*.json"), key=lambda path: path.stat().st_mtime_ns, reverse=True)
        for old in answers[KEPT:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # another run pruned or wrote meanwhile: the next write prunes again
