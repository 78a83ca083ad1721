"""A second `auditfix run` refreshes the branches it made, as dependency bots do; --verify and
the per-package split.  Real temporary repositories, the two toy codemods of tests/gitrepo.py
(and the real registry on sample_repo for the merge-order test)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import codemods.registry
from codemods import REGISTRY
from tests.gitrepo import branches, commit_all, git, make_repo, snapshot, write_files
from tests.test_gitmode import DICT_BRANCH, FILES, LIST_BRANCH, MAIN, auditfix, head, hermetic_git, parents, repo

__all__ = ["hermetic_git", "repo"]  # fixtures


def merge(repo: Path, branch: str) -> None:
    """Merge ``branch`` as a maintainer does; a conflict fails the test."""
    result = subprocess.run(["git", "merge", "--no-edit", "--quiet", branch], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, f"merging {branch} conflicts:\n{result.stdout}{result.stderr}"


def auditfix_branches(repo: Path) -> dict[str, str]:
    return {name: commit for name, commit in branches(repo).items() if name.startswith("auditfix/")}


# -- refreshing ----------------------------------------------------------------------------------


def test_nothing_new_says_the_branches_are_up_to_date(repo: Path) -> None:
    assert auditfix(repo)[0] == 0
    before = auditfix_branches(repo)
    code, out, err = auditfix(repo)
    assert (code, out) == (0, "")
    assert "branches are up to date" in err
    assert auditfix_branches(repo) == before


def test_a_branch_is_rebuilt_when_the_base_moved(repo: Path) -> None:
    assert auditfix(repo)[0] == 0
    write_files(repo, {"app/later.py": "late = dict()\n"})
    new_base = commit_all(repo, "later")
    code, out, err = auditfix(repo)
    assert code == 0, err
    assert parents(repo, DICT_BRANCH) == [new_base] and parents(repo, LIST_BRANCH) == [new_base]
    assert f"{DICT_BRANCH}: rebuilt" in err
    assert b"late = {}" in subprocess.run(["git", "show", f"{DICT_BRANCH}:app/later.py"], cwd=repo, capture_output=True).stdout


def test_a_merged_branch_is_deleted_and_the_others_rebuilt_on_the_merge(repo: Path) -> None:
    assert auditfix(repo)[0] == 0
    merge(repo, DICT_BRANCH)
    code, out, err = auditfix(repo)
    assert code == 0, err
    assert f"{DICT_BRANCH}: deleted: merged into HEAD" in err
    assert DICT_BRANCH not in branches(repo)
    assert parents(repo, LIST_BRANCH) == [head(repo)]
    assert not (repo / ".git" / "refs" / "auditfix" / "built" / "auditfix" / "dict-literal").exists()


def test_a_squash_merged_branch_has_nothing_left_and_is_deleted(repo: Path) -> None:
    assert auditfix(repo)[0] == 0
    git(repo, "merge", "--squash", "--quiet", DICT_BRANCH)
    git(repo, "commit", "--quiet", "--message", "squashed")
    code, _, err = auditfix(repo)
    assert code == 0, err
    assert f"{DICT_BRANCH}: deleted: nothing left to change" in err
    assert DICT_BRANCH not in branches(repo)


def test_someone_elses_commit_keeps_the_branch_and_is_named(repo: Path) -> None:
    assert auditfix(repo)[0] == 0
    git(repo, "checkout", "--quiet", DICT_BRANCH)
    write_files(repo, {"app/b.py": "z = dict(a=2)\n"})
    commit_all(repo, "reviewer: use a=2")
    git(repo, "checkout", "--quiet", "main")
    write_files(repo, {"app/later.py": "late = 1\n"})
    commit_all(repo, "later")
    before = branches(repo)[DICT_BRANCH]
    code, _, err = auditfix(repo)
    assert code == 0, err
    assert f"warning: {DICT_BRANCH}: someone else committed on it" in err and "reviewer: use a=2" in err
    assert branches(repo)[DICT_BRANCH] == before
    assert parents(repo, LIST_BRANCH) == [head(repo)], "the other branches are refreshed"


def test_merging_every_branch_in_either_order_never_conflicts(repo: Path) -> None:
    """app/a.py's third line is changed by both codemods: merged one after the other without a
    refresh they would conflict; with `auditfix run` after each merge they never do."""
    for order in (sorted, lambda names: sorted(names, reverse=True)):
        git(repo, "checkout", "--quiet", "-B", "main", head(repo) if order is sorted else start)
        start = start if order is not sorted else head(repo)
        for name in list(auditfix_branches(repo)):
            git(repo, "branch", "-D", name)
        assert auditfix(repo)[0] == 0
        for _ in range(5):
            remaining = order(auditfix_branches(repo))
            if not remaining:
                break
            merge(repo, remaining[0])
            code, _, err = auditfix(repo)
            assert code == 0, err
        assert not auditfix_branches(repo)
        assert auditfix(repo, "--dry-run")[:2] == (0, "")
        assert (repo / "app" / "a.py").read_text() == "x = {}\ny = []\npair = ({}, [])\n"


# -- --push ------------------------------------------------------------------------------------------


@pytest.fixture
def remote(repo: Path, tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    return remote


def test_push_refreshes_the_remote_branches_with_a_lease(repo: Path, remote: Path, tmp_path: Path) -> None:
    assert auditfix(repo, "--push", "origin")[0] == 0
    write_files(repo, {"app/later.py": "late = dict()\n"})
    commit_all(repo, "later")
    code, _, err = auditfix(repo, "--push", "origin")
    assert code == 0, err
    assert branches(remote)[DICT_BRANCH] == branches(repo)[DICT_BRANCH]
    # A reviewer pushes to the remote branch: the next refresh must not overwrite it.
    clone = tmp_path / "reviewer"
    subprocess.run(["git", "clone", "--quiet", "--branch", DICT_BRANCH, str(remote), str(clone)], check=True)
    write_files(clone, {"app/b.py": "z = dict(a=3)\n"})
    git(clone, "-c", "user.name=R", "-c", "user.email=r@example.com", "commit", "--quiet", "-am", "reviewer")
    git(clone, "push", "--quiet", "origin", DICT_BRANCH)
    theirs = branches(remote)[DICT_BRANCH]
    write_files(repo, {"app/later2.py": "late = dict()\n"})
    commit_all(repo, "later again")
    code, _, err = auditfix(repo, "--push", "origin")
    assert code == 1
    assert f"{DICT_BRANCH}: push to origin failed" in err
    assert branches(remote)[DICT_BRANCH] == theirs


def test_push_deletes_the_remote_branch_of_a_merged_one(repo: Path, remote: Path) -> None:
    assert auditfix(repo, "--push", "origin")[0] == 0
    merge(repo, DICT_BRANCH)
    code, _, err = auditfix(repo, "--push", "origin")
    assert code == 0, err
    assert DICT_BRANCH not in branches(remote) and LIST_BRANCH in branches(remote)
    assert branches(remote)[LIST_BRANCH] == branches(repo)[LIST_BRANCH]


# -- reviewable size ------------------------------------------------------------------------------


def test_a_large_change_gets_one_branch_per_top_level_package(repo: Path) -> None:
    code, out, err = auditfix(repo, "--max-branch-files", "1")
    assert code == 0, err
    # dict-literal changes one file (app/a.py): one branch; list-literal two packages.
    assert set(auditfix_branches(repo)) == {DICT_BRANCH, f"{LIST_BRANCH}/app", f"{LIST_BRANCH}/lib"}
    assert git(repo, "diff", "--name-only", f"main..{LIST_BRANCH}/lib").split() == ["lib/c.py"]
    # Each part merges and is refreshed like any branch.
    merge(repo, f"{LIST_BRANCH}/lib")
    code, _, err = auditfix(repo, "--max-branch-files", "1")
    assert code == 0, err
    assert set(auditfix_branches(repo)) == {DICT_BRANCH, f"{LIST_BRANCH}/app"}
    # Once split, a change stays split while a part is left: a branch under review keeps its name.
    code, _, err = auditfix(repo)
    assert code == 0, err
    assert set(auditfix_branches(repo)) == {DICT_BRANCH, f"{LIST_BRANCH}/app"}
    merge(repo, f"{LIST_BRANCH}/app")
    assert auditfix(repo)[0] == 0
    assert set(auditfix_branches(repo)) == {DICT_BRANCH}


# -- --verify -----------------------------------------------------------------------------------------


VERIFY = f"{sys.executable} check.py"
CHECK = """\
import sys
sys.path.insert(0, ".")
from app import b
# The project's test: z must stay a dict that can be told apart from an empty literal.
if "dict(" not in open("app/b.py").read() and b.z == {}:
    print("FAILED check.py::test_b_keeps_its_call")
    sys.exit(1)
print("1 passed")
"""


def test_verify_leaves_out_the_file_that_breaks_the_projects_check(tmp_path: Path) -> None:
    files = {**FILES, "app/b.py": "z = dict()\n", "check.py": CHECK}
    repo = make_repo(tmp_path / "verified", files)
    before = snapshot(repo)
    code, out, err = auditfix(repo, "--select", "dict-literal", "--verify", VERIFY)
    assert code == 0, err
    assert "app/b.py left out" in err and "check.py::test_b_keeps_its_call" in err
    assert git(repo, "diff", "--name-only", f"main..{DICT_BRANCH}").split() == ["app/a.py"]
    message = git(repo, "log", "-1", "--format=%B", DICT_BRANCH)
    assert "passes" in message and "app/b.py" in message
    assert snapshot(repo) == before
    assert not list((repo / ".git" / "auditfix-worktrees").iterdir())


def test_verify_setting_and_a_branch_with_no_passing_part(tmp_path: Path) -> None:
    files = {"app/__init__.py": "", "app/b.py": "z = dict()\n", "check.py": CHECK}
    files["pyproject.toml"] = f'[tool.auditfix]\nverify = "{VERIFY}"\n'
    repo = make_repo(tmp_path / "verified", files)
    code, out, err = auditfix(repo, "--select", "dict-literal")
    assert code == 1
    assert f"{DICT_BRANCH}: failed: `{VERIFY}` fails with this change" in err
    assert DICT_BRANCH not in branches(repo)


# -- the real registry on sample_repo ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_sample_repo_branches_merge_in_either_order_with_a_refresh_between(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reverse: bool
) -> None:
    monkeypatch.setattr(codemods.registry, "REGISTRY", REGISTRY)
    repo = tmp_path / "sample_repo"
    shutil.copytree(MAIN / "sample_repo", repo, ignore=shutil.ignore_patterns("__pycache__", ".auditfix_cache", "*.db"))
    make_repo(repo, {})
    order = [f"auditfix/{c.name}" for c in REGISTRY][:: -1 if reverse else 1]
    assert auditfix(repo)[0] in (0, 3)
    merged = []
    for _ in range(3 * len(order)):
        remaining = auditfix_branches(repo)
        if not remaining:
            break
        branch = next(name for name in [*order, *sorted(remaining)] if name in remaining)
        merge(repo, branch)
        merged.append(branch)
        code, _, err = auditfix(repo)
        assert code in (0, 3), err
    assert not auditfix_branches(repo), f"branches left after merging {merged}"
    code, out, _ = auditfix(repo, "--dry-run", "--no-cache")
    assert (code, out) == (0, ""), out
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "PYTEST_"))}
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={tmp_path}/pytest"],
        cwd=repo, capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]
