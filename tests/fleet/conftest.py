"""Fleet tests: hermetic git (an identity, nothing of the developer's configuration) and
generated origins: bare repositories made from copies of sample_repo or a tiny project."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.gitrepo import git, make_repo, write_files

PROJECT = Path(__file__).resolve().parents[2]
SAMPLE = PROJECT / "sample_repo"

# A project every default codemod run finds something in: a bare except and a print.
TINY = {
    "README.md": "tiny\n",
    # The app configures logging, as real apps do: print-to-logging converts only where the
    # records reach a handler.
    "app/__init__.py": "import logging\n\nlogging.basicConfig(level=logging.INFO)\n",
    "app/jobs.py": "def run(job):\n    try:\n        job()\n    except:\n        print('failed')\n",
}
BROKEN = "def broken(:\n    print(\"a file auditfix cannot parse\")\n"  # has a marker: it is read


def git_environment(home: Path) -> dict[str, str]:
    """Environment variables under which git (here and in every worker started from here) sees
    an identity and nothing of the developer's configuration."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "gitconfig"
    config.write_text("[user]\n\tname = Fleet Test\n\temail = fleet@example.com\n[init]\n\tdefaultBranch = main\n")
    return {"HOME": str(home), "GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_SYSTEM": os.devnull}


_LEAKING = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL")  # fmt: skip


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    for name, value in git_environment(home).items():
        monkeypatch.setenv(name, value)
    for name in _LEAKING:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def hermetic_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def module_git(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """hermetic_git for module-scoped fixtures (which are set up before it)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, tmp_path_factory.mktemp("module-home"))
        yield


def sample_files(*folders: str) -> dict[str, str]:
    """sample_repo's files (only those under ``folders`` if given, plus its pyproject.toml and README)."""
    files = {}
    for path in sorted(SAMPLE.rglob("*")):
        relative = path.relative_to(SAMPLE).as_posix()
        if not path.is_file() or "__pycache__" in relative:
            continue
        if folders and not relative.startswith(folders) and relative not in ("pyproject.toml", "README.md"):
            continue
        files[relative] = path.read_text(encoding="utf-8")
    return files


def make_origin(
    root: Path, name: str, files: Mapping[str, str], *, branches: Mapping[str, Mapping[str, str]] | None = None
) -> Path:
    """A bare repository ``root/<name>.git`` holding ``files`` on main, and each of ``branches``
    (name -> files added on top of main)."""
    work = make_repo(root / "sources" / name, files)
    for branch, extra in (branches or {}).items():
        git(work, "checkout", "--quiet", "-b", branch, "main")
        write_files(work, extra)
        git(work, "add", "--all")
        git(work, "commit", "--quiet", "--message", f"on {branch}")
        git(work, "checkout", "--quiet", "main")
    origin = root / f"{name}.git"
    git(root, "clone", "--quiet", "--bare", str(work), str(origin))
    return origin


def push_commit(origin: Path, files: Mapping[str, str], message: str = "more", branch: str = "main") -> str:
    """Commit ``files`` on top of ``branch`` of ``origin`` (through a scratch clone); the new commit."""
    scratch = origin.parent / "scratch" / origin.name
    if scratch.exists():
        git(scratch, "fetch", "--quiet", "origin")
    else:
        git(origin.parent, "clone", "--quiet", str(origin), str(scratch))
    git(scratch, "checkout", "--quiet", "-B", branch, f"origin/{branch}")
    write_files(scratch, files)
    git(scratch, "add", "--all")
    git(scratch, "commit", "--quiet", "--message", message)
    git(scratch, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
    return git(scratch, "rev-parse", "HEAD").strip()


def origin_branches(origin: Path) -> dict[str, str]:
    lines = git(origin, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads/").splitlines()
    return dict(line.split(" ", 1) for line in lines)


def auditfix(*arguments: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The console script, in a process of its own (as users run it)."""
    command = [sys.executable, "-c", "import sys; from cli import entry; sys.argv[0] = 'auditfix'; entry()", *arguments]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=os.environ.copy())
