"""The repository list of a fleet run (``REPOS``).

One repository per line: a git URL (``https://…``, ``ssh://…``, ``git@host:org/repo.git``,
``file://…``) or a local path (relative paths are relative to the list file), optionally
followed by the branch to fix (default: the repository's default branch).  Blank lines and
``#`` comments (a whole line, or from a ``#`` after a space) are ignored.

Each entry gets a name, its folder under ``DIR/repos/`` and its key in the state: the last
part of its path without ``.git``.  Entries whose names collide are told apart by their
parent folder (``org-a-api``, ``org-b-api``), then by a digest of the location; an entry
listed with several branches gets ``@branch`` on all but its default-branch entry, and its
auditfix branches are made under ``<prefix><branch>/`` so the entries never replace each
other's branches in the shared origin.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SCP_LIKE = re.compile(r"^[^/\s:@]+@[^/\s:]+:")  # git@github.com:org/repo.git
_COMMENT = re.compile(r"(^|\s)#.*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ReposFileError(Exception):
    """The list cannot be read or a line is malformed; the message names the line."""


@dataclasses.dataclass(frozen=True)
class RepoSpec:
    location: str  # a URL, or an absolute local path
    branch: str | None  # None: the repository's default branch
    name: str  # folder under DIR/repos/ and key of the state
    line: int  # in the list file, for messages
    # Added to the branch prefix when the same repository is listed with several branches.
    branch_scope: str = ""

    @property
    def is_local(self) -> bool:
        return not is_url(self.location)

    @property
    def label(self) -> str:
        return self.location + (f" ({self.branch})" if self.branch else "")


def is_url(text: str) -> bool:
    return bool(_URL.match(text) or _SCP_LIKE.match(text))


def read_repos_file(path: Path) -> list[RepoSpec]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReposFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReposFileError(f"{path}: cannot read: {exc}") from None
    specs = parse_repos(text.splitlines(), base=path.resolve().parent, source=str(path))
    if not specs:
        raise ReposFileError(f"{path}: no repositories listed")
    return specs


def parse_repos(lines: Iterable[str], *, base: Path, source: str = "REPOS") -> list[RepoSpec]:
    entries: list[tuple[str, str | None, int]] = []
    seen: dict[tuple[str, str | None], int] = {}
    for number, raw in enumerate(lines, start=1):
        fields = _COMMENT.sub("", raw).split()
        if not fields:
            continue
        if len(fields) > 2:
            raise ReposFileError(
                f"{source}:{number}: expected a repository and optionally a branch, got {len(fields)} fields"
            )
        location = fields[0] if is_url(fields[0]) else str((base / Path(fields[0]).expanduser()).resolve())
        branch = fields[1] if len(fields) == 2 else None
        if (location, branch) in seen:
            raise ReposFileError(f"{source}:{number}: repeats line {seen[location, branch]}")
        seen[location, branch] = number
        entries.append((location, branch, number))
    return _named(entries)


def _named(entries: list[tuple[str, str | None, int]]) -> list[RepoSpec]:
    branches_of = collections.Counter(location for location, _, _ in entries)
    names = []
    for location, branch, _ in entries:
        name = _base_name(location)
        if branches_of[location] > 1 and branch is not None:
            name += "@" + _slug(branch)
        names.append(name)
    names = _disambiguate(names, [_parent_name(location) + "-" + name for (location, _, _), name in zip(entries, names)])
    names = _disambiguate(names, [f"{name}-{_digest(location, branch)}" for (location, branch, _), name in zip(entries, names)])
    return [
        RepoSpec(location, branch, name, line, f"{branch}/" if branches_of[location] > 1 and branch is not None else "")
        for (location, branch, line), name in zip(entries, names)
    ]


def _disambiguate(names: list[str], alternatives: list[str]) -> list[str]:
    """Each name that occurs more than once replaced by its alternative."""
    counts = collections.Counter(names)
    return [alternative if counts[name] > 1 else name for name, alternative in zip(names, alternatives)]


def _parts(location: str) -> list[str]:
    path = location
    if _SCP_LIKE.match(location):
        path = location.split(":", 1)[1]
    elif _URL.match(location):
        path = location.split("://", 1)[1].split("/", 1)[1] if "/" in location.split("://", 1)[1] else ""
    return [part for part in re.split(r"[/\\]+", path) if part]


def _base_name(location: str) -> str:
    parts = _parts(location)
    last = parts[-1] if parts else ""
    return _slug(last.removesuffix(".git")) or "repository"


def _parent_name(location: str) -> str:
    parts = _parts(location)
    return _slug(parts[-2]) if len(parts) >= 2 else "root"


def _slug(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._") or ""


def _digest(location: str, branch: str | None) -> str:
    return hashlib.blake2b(f"{location}\0{branch or ''}".encode(), digest_size=4).hexdigest()
