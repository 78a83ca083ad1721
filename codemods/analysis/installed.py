"""The top-level names the installed distributions provide, without reading them all each run.

``importlib.metadata.packages_distributions()`` opens every distribution's metadata on
``sys.path`` (about 0.05 s for a hundred): a pre-commit check of one file paid that on every
commit.  The answer only changes when a
distribution is installed, removed or upgraded, which creates or deletes its ``*.dist-info`` or
``*.egg-info`` folder.  So the answer is kept in the user's cache folder under a key made of the
interpreter, ``sys.path`` and every such folder's name and modification time on it (what
``importlib.metadata`` itself finds: it looks for exactly these entries in exactly these
folders), and recomputed by ``packages_distributions()`` whenever the key differs.
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
            with os.scandir(folder) as found:
                parts.append(
                    sorted(
                        (item.name, item.stat().st_mtime_ns) for item in found if _is_metadata(item.name)
                    )
                )
        except NotADirectoryError:
            parts.append(os.stat(folder).st_mtime_ns)  # a zip file: its members are its metadata
        except OSError:
            parts.append(None)
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _is_metadata(name: str) -> bool:
    # importlib.metadata's lookup: ``*.dist-info``, ``*.egg-info``, and an egg's ``EGG-INFO``.
    lowered = name.lower()
    return lowered.endswith(_SUFFIXES) or lowered == "egg-info"


def top_level_names(folder: Path | None = None) -> Mapping[str, list[str]]:
    """``importlib.metadata.packages_distributions()``, from ``folder`` when nothing it reads changed."""
    folder = cache_folder() if folder is None else folder
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
    return names
