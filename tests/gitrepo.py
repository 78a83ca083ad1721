"""Real temporary git repositories for the git-mode tests, and snapshots of a user's state.

Git runs with the test's own configuration only (no global or system config), so a
developer's hooksPath, signing or default branch never leaks into a test.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import libcst as cst

from codemods.base import Codemod

IDENTITY = {"user.name": "Test User", "user.email": "test@example.com"}


def git(repo: Path, *args: str, check: bool = True, env: Mapping[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


def make_repo(folder: Path, files: Mapping[str, str], *, identity: bool = True, commit: bool = True) -> Path:
    """A repository on branch ``main`` holding ``files`` (path -> text) in one commit."""
    folder.mkdir(parents=True, exist_ok=True)
    git(folder, "init", "--quiet", "--initial-branch=main")
    if identity:
        for key, value in IDENTITY.items():
            git(folder, "config", key, value)
    write_files(folder, files)
    if commit:
        git(folder, "add", "--all")
        as_tester = [option for key, value in IDENTITY.items() for option in ("-c", f"{key}={value}")]
        git(folder, *as_tester, "commit", "--quiet", "--message", "initial")
    return folder


def write_files(folder: Path, files: Mapping[str, str]) -> None:
    for path, text in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)
    return git(repo, "rev-parse", "HEAD").strip()


def install_hook(repo: Path, name: str, script: str) -> None:
    hook = repo / git(repo, "rev-parse", "--git-path", "hooks").strip() / name  # also in a bare repository
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\n" + script)
    hook.chmod(0o755)


def branches(repo: Path) -> dict[str, str]:
    lines = git(repo, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads/").splitlines()
    return dict(line.split(" ", 1) for line in lines)


def tree_files(repo: Path, ref: str) -> dict[str, bytes]:
    """Every file of ``ref``'s tree: path -> bytes."""
    paths = git(repo, "ls-tree", "-r", "--name-only", "-z", ref).split("\0")
    return {path: show_bytes(repo, f"{ref}:{path}") for path in paths if path}


def show_bytes(repo: Path, spec: str) -> bytes:
    return subprocess.run(["git", "show", spec], cwd=repo, capture_output=True, check=True).stdout


def working_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` except the .git dir: path -> bytes."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0] == ".git" or not path.is_file():
            continue
        found[relative.as_posix()] = path.read_bytes()
    return found


@dataclasses.dataclass(frozen=True)
class UserState:
    """Everything of the user's that git mode must leave byte for byte as it was."""

    head: str
    symbolic_head: str
    status: str
    stash: str
    index: bytes
    files: dict[str, bytes]  # tracked, modified, untracked and ignored files
    worktrees: str


def snapshot(repo: Path) -> UserState:
    # No optional locks: the snapshot itself must not refresh the index it compares.
    quiet = {"GIT_OPTIONAL_LOCKS": "0"}
    index = repo / git(repo, "rev-parse", "--git-path", "index", env=quiet).strip()  # also in a linked worktree
    return UserState(
        head=git(repo, "rev-parse", "HEAD", check=False, env=quiet),
        symbolic_head=git(repo, "symbolic-ref", "--quiet", "HEAD", check=False, env=quiet),
        status=git(repo, "status", "--porcelain=v2", "--branch", "--untracked-files=all", "--ignored", env=quiet),
        stash=git(repo, "stash", "list", env=quiet),
        index=index.read_bytes() if index.exists() else b"",
        files=working_files(repo),
        worktrees=git(repo, "worktree", "list", "--porcelain", env=quiet),
    )


# -- two tiny codemods the git-mode tests run (the real registry is tested on sample_repo) ----

class _EmptyCallToLiteral(Codemod):
    builtin: str

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not (isinstance(original_node.func, cst.Name) and original_node.func.value == self.builtin):
            return updated_node
        if original_node.args:
            self.report(original_node, f"{self.builtin}() with arguments: left as it is", fixable=False)
            return updated_node
        self.report(original_node, f"{self.builtin}() replaced by a literal")
        return self.literal()

    def literal(self) -> cst.BaseExpression:
        raise NotImplementedError


class DictLiteral(_EmptyCallToLiteral):
    """Replace ``dict()`` with ``{}``.

    What it does:
    Rewrites calls of ``dict`` without arguments as an empty dict literal.

    Why is this bad?
    A call looks up the name ``dict`` at run time and is slower than the literal.

    Example:
    ``x = dict()`` becomes ``x = {}``.

    Fix safety:
    Safe unless ``dict`` is shadowed.

    Limitations:
    Calls with arguments are left alone.
    """

    name = "dict-literal"
    summary = "Use {} instead of dict()"
    safety = "Changes behaviour only where the name dict is rebound."
    markers = (b"dict(",)
    builtin = "dict"

    def literal(self) -> cst.BaseExpression:
        return cst.Dict([])


class ListLiteral(_EmptyCallToLiteral):
    """Replace ``list()`` with ``[]``.

    What it does:
    Rewrites calls of ``list`` without arguments as an empty list literal.

    Why is this bad?
    The literal says the same thing in less text.

    Fix safety:
    Safe unless ``list`` is shadowed.
    """

    name = "list-literal"
    summary = "Use [] instead of list()"
    safety = "Changes behaviour only where the name list is rebound."
    markers = (b"list(",)
    builtin = "list"

    def literal(self) -> cst.BaseExpression:
        return cst.List([])


TEST_REGISTRY: tuple[type[Codemod], ...] = (DictLiteral, ListLiteral)
