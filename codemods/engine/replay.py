"""A repeated preview answered from ``.auditfix_cache/`` without parsing or importing libcst.

``auditfix run --dry-run`` and ``run --check`` change nothing, so their output is a function
of their inputs: the files discovered and their bytes, the pyproject.toml and every file of its
template override folder, the command line, auditfix itself (its version and the files it is
made of, at any depth), the Python, libcst and jinja2 versions, the terminal (colours) and the
current folder (``--check`` prints paths relative to it).  Those
inputs are hashed into one key; a run that completes records its output under that key, and
an identical run replays it: the CLI prints the recorded diff and lines and exits with the
recorded code, after only discovering, reading and hashing the files (a file whose stamps the
stat cache knows, codemods.engine.stamps, is not read: its recorded hash goes in).  Any difference in any
input is a different key, so the full run (with its per-file cache) happens.

The files a run reads besides the discovered ones (an existing service module or package
``__init__.py`` that route-commit extends) are recorded with their state and checked before
a replay.  Only this module, the discovery and the cache format are imported on that path.

The console script (:mod:`codemods.engine.commandline`) replays a plain command line before the
CLI framework is even imported; the Typer command replays any other form of the same preview.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

from codemods import __version__
from codemods.engine.cache import CACHE_DIR_NAME, ResultCache, content_key, dependency_versions, folder_digest, tool_stats
from codemods.engine.discovery import Discovered, discover
from codemods.engine.stamps import StatCache

_KEEP = 8  # recorded runs kept: a few command lines used in turn (pre-commit, CI, by hand)
_ENVIRONMENT = ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "CLICOLOR", "CLICOLOR_FORCE")


@dataclasses.dataclass(frozen=True)
class Recorded:
    """What a completed run printed, and the state of the extra files it read."""

    stdout: bytes
    stderr_lines: tuple[str, ...]
    exit_code: int
    external: tuple[tuple[str, str | None], ...] = ()  # (path under the folder, file_state())


def file_state(path: Path) -> str | None:
    """A file's content hash, "dir" for a folder, "other" for anything else, None when missing."""
    try:
        if path.is_symlink() or (path.exists() and not path.is_file() and not path.is_dir()):
            return "other"
        if path.is_dir():
            return "dir"
        return hashlib.blake2b(path.read_bytes(), digest_size=20).hexdigest()
    except FileNotFoundError:
        return None
    except OSError:
        return "unreadable"


def tool_fingerprint(*, with_registry: bool = True) -> bytes:
    """auditfix's own files (size and modification time), and the versions that shape results;
    with the registry's classes when it is imported (a test's own registry is part of the tool)."""
    parts = [__version__, dependency_versions()]
    for path, info in tool_stats():
        parts.append(f"{path.as_posix()}:{info.st_size}:{info.st_mtime_ns}")
    registry = sys.modules.get("codemods.registry")
    if registry is not None and with_registry:
        parts.append(",".join(f"{c.__module__}.{c.__qualname__}" for c in registry.REGISTRY))
    return "\n".join(parts).encode()


def _pyproject(folder: Path) -> Path | None:
    """The pyproject.toml the settings would be read from (as codemods.engine.config finds it)."""
    from codemods.engine.config import find_pyproject

    return find_pyproject(folder)


@dataclasses.dataclass(frozen=True)
class ReadFile:
    """One discovered file as the key read it, or as the stat cache knows it."""

    data: bytes | None  # None: not read, ``digest`` is the stat cache's (TreeRead.data reads it)
    st_mode: int
    mtime_ns: int
    digest: bytes  # blake2b of ``data``, 20 bytes
    stamp: str | None = None  # its key in the stat cache (codemods.engine.stamps)


class TreeChanged(Exception):
    """A file the key hashed without reading (its stat cache entry) no longer has that content."""


@dataclasses.dataclass(frozen=True)
class TreeRead:
    """The files a key was computed from, discovered and read once: the run the key belongs to
    works on these (codemods.engine.runner.Engine) instead of discovering and reading the tree
    again, so its output is that of the content the key names.

    A file whose stamps the stat cache knows was not read for the key (its recorded hash went
    in): the run reads it only if it needs its bytes (:meth:`data`), and only its markers and
    hash otherwise (:meth:`has_marker`, ``files[path].digest``).  Bytes read then that are not
    those the key hashed raise :class:`TreeChanged`: the run starts again without the key's tree."""

    root: Path
    excludes: tuple[str, ...]
    found: Discovered
    files: dict[str, ReadFile]
    stats: StatCache | None = None

    def data(self, path: str) -> bytes:
        """The bytes of ``path`` the key hashed (read now if the key took its hash from the stat cache)."""
        known = self.files[path]
        if known.data is not None:
            return known.data
        try:
            with open(os.path.join(str(self.root if self.root.is_dir() else self.root.parent), path), "rb") as handle:
                data = handle.read()
        except OSError:
            raise TreeChanged(path) from None
        if hashlib.blake2b(data, digest_size=20).digest() != known.digest:
            if self.stats is not None and known.stamp is not None:
                self.stats.forget(known.stamp)
            raise TreeChanged(path)
        self.files[path] = dataclasses.replace(known, data=data)
        return data

    def has_marker(self, path: str, marker: bytes) -> bool:
        """Whether the content of ``path`` the key hashed holds ``marker`` (from the stat cache when it knows)."""
        known = self.files[path]
        stamp = known.stamp if self.stats is not None else None
        present = self.stats.marker(stamp, marker) if stamp is not None else None  # type: ignore[union-attr]
        if present is None:
            present = marker in self.data(path)
            if stamp is not None:
                self.stats.learn(stamp, marker, present)  # type: ignore[union-attr]
        return present

    def save(self) -> None:
        """Keep what the run learnt of the files in the stat cache."""
        if self.stats is not None:
            self.stats.save()


@dataclasses.dataclass(frozen=True)
class RunKey:
    value: str
    # What the key was computed from, by size and modification time: a cheap check, after the
    # run, that no input changed while it ran (see unchanged()).
    stamps: tuple[tuple[str, int, int], ...]
    root: Path
    excludes: tuple[str, ...]
    pyproject: Path | None
    tree: TreeRead | None = dataclasses.field(default=None, compare=False, repr=False)


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def run_key(
    root: Path,
    folder: Path,
    command: Sequence[str],
    excludes: Sequence[str],
) -> RunKey | None:
    """The key of a run, computed before it: None when its inputs cannot be read (the full run
    reports why)."""
    try:
        pyproject = _pyproject(folder)
        pyproject_bytes = pyproject.read_bytes() if pyproject is not None else b""
        table_excludes: list[str] = []
        templates = b""
        if pyproject is not None:
            from codemods.engine.config import read_pyproject_table

            table = read_pyproject_table(pyproject)
            if table.get("cache") is False:
                return None  # the project turned the cache off
            exclude = table.get("exclude", [])
            table_excludes = [str(e) for e in exclude] if isinstance(exclude, list) else []
            if isinstance(table.get("templates"), str) and table["templates"]:
                override = Path(table["templates"])
                override = override if override.is_absolute() else pyproject.parent / override
                templates = folder_digest(override)
        all_excludes = (*table_excludes, *excludes)
        found = discover(root, all_excludes)
        digest = hashlib.blake2b(digest_size=20)
        stamps = []
        files: dict[str, ReadFile] = {}
        top = str(folder)
        stats = StatCache(folder / CACHE_DIR_NAME)
        for path in found.paths:
            full = os.path.join(top, path)  # what ``(folder / path).read_bytes()`` opens, without pathlib's parsing
            info = os.stat(full)
            stamps.append((path, info.st_size, info.st_mtime_ns))
            stamp = StatCache.stamp(path, info) if stat.S_ISREG(info.st_mode) else None
            known = stats.digest(stamp) if stamp is not None else None
            if known is not None:
                files[path] = ReadFile(None, info.st_mode, info.st_mtime_ns, known, stamp)
            else:
                with open(full, "rb") as handle:
                    data = handle.read()
                files[path] = ReadFile(data, info.st_mode, info.st_mtime_ns, hashlib.blake2b(data, digest_size=20).digest(), stamp)
                if stamp is not None:
                    stats.record(stamp, info, files[path].digest)
            digest.update(path.encode() + b"\0")
            digest.update(files[path].digest)
        for link in found.symlinks:
            digest.update(b"link:" + link.encode() + b"\0")
        terminal = f"{sys.stdout.isatty()}:{sys.stderr.isatty()}:" + ":".join(
            f"{name}={os.environ.get(name, '')}" for name in _ENVIRONMENT
        )
        value = content_key(
            tool_fingerprint(),
            "\0".join(command),
            str(root),
            str(Path.cwd()),
            terminal,
            str(pyproject or ""),
            pyproject_bytes,
            templates,
            digest.digest(),
        )
        if pyproject is not None:
            stamps.append((str(pyproject), *_stamp(pyproject)))
        tree = TreeRead(root, all_excludes, found, files, stats)
        return RunKey(value, tuple(stamps), root, all_excludes, pyproject, tree)
    except Exception:  # noqa: BLE001 - anything odd: no replay, the full run decides
        return None


def unchanged(key: RunKey, folder: Path, *, tree_read: bool = False) -> bool:
    """Whether the files discovered, and each one's size and modification time, are still
    those the key was computed from (a file changed while the run read it: no record).

    With ``tree_read`` the run worked on the files as the key read them (``RunKey.tree``): its
    output is that of the content the key names whatever changed since, so only the
    pyproject.toml, which the run's settings read again, is compared."""
    try:
        if tree_read:
            pyproject = [(str(key.pyproject), *_stamp(key.pyproject))] if key.pyproject is not None else []
            return tuple(pyproject) == key.stamps[len(key.stamps) - len(pyproject) :]
        found = discover(key.root, key.excludes)
        current = [(path, *_stamp(folder / path)) for path in found.paths]
        if key.pyproject is not None:
            current.append((str(key.pyproject), *_stamp(key.pyproject)))
    except OSError:
        return False
    return tuple(current) == key.stamps


def lookup(folder: Path, key: str) -> Recorded | None:
    """The run recorded under ``key``, if the extra files it read are as they were."""
    cache = ResultCache(folder / CACHE_DIR_NAME, "replay")
    recorded = cache.get(key)
    if not isinstance(recorded, Recorded):
        return None
    for path, state in recorded.external:
        if file_state(folder / path) != state:
            return None
    return recorded


def record(folder: Path, key: str, recorded: Recorded) -> None:
    """Keep ``recorded`` under ``key``, with the few runs recorded most recently before it."""
    cache = ResultCache(folder / CACHE_DIR_NAME, "replay")
    cache.entries.pop(key, None)
    cache.put(key, recorded)  # newest last
    while len(cache.entries) > _KEEP:
        del cache.entries[next(iter(cache.entries))]
    cache.save()


PROJECT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")


def project_root(folder: Path) -> Path | None:
    """The nearest folder at or above ``folder`` that holds a project marker (pyproject.toml,
    setup.cfg, setup.py or .git), or None."""
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in PROJECT_MARKERS):
            return candidate
    return None


def common_root(paths: Sequence[Path]) -> tuple[Path, list[str] | None]:
    """The root a run works from, and the files it rewrites (posix, relative to the root; None:
    everything under it).  The paths must exist.

    One folder is the root, as always.  Named files (one or several, as pre-commit passes them)
    are worked on from their project's root, the nearest folder above them with a project
    marker, so that relative imports, the logging set-up, service modules and model indexes are
    seen as in a run on the whole project; only the named files are rewritten.  Without a
    marker, several paths run from their common folder and one file from its own folder.
    """
    if len(paths) == 1 and paths[0].is_dir():
        return paths[0], None
    resolved = [path.resolve() for path in paths]
    common = Path(os.path.commonpath([str(p if p.is_dir() else p.parent) for p in resolved]))
    root = project_root(common)
    if root is None:
        if len(paths) == 1:
            return paths[0], None
        root = common
    return root, sorted({p.relative_to(root).as_posix() for p in resolved})


def preview_command(check: bool, select: str, ignore: str, only: Sequence[str] | None, verbose: bool) -> tuple[str, ...]:
    """The command part of a preview's key (``--jobs`` and ``--no-progress`` change no output)."""
    return ("run", "check" if check else "dry-run", select, ignore, *(only or ()), f"verbose={verbose}")
