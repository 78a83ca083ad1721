"""Git mode (`auditfix run PATH` without --dry-run or --write), on real temporary repositories.

Most tests run two tiny test-only codemods (tests/gitrepo.py) through the CLI; the last one
runs the real registry on a git copy of sample_repo.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import libcst as cst

import cli
import codemods.registry
from codemods import REGISTRY
from codemods.base import Codemod
from codemods.engine.config import resolve
from codemods.engine.runner import Engine
from codemods.git import (
    LOCK_FILE_NAME,
    WORKTREES_DIR_NAME,
    GitModeError,
    GitOptions,
    run_git_mode,
)
from tests.gitrepo import (
    TEST_REGISTRY,
    branches,
    commit_all,
    git,
    install_hook,
    make_repo,
    show_bytes,
    snapshot,
    tree_files,
    working_files,
    write_files,
)

MAIN = Path(__file__).resolve().parent.parent

FILES = {
    "app/__init__.py": "",
    "app/a.py": "x = dict()\ny = list()\npair = (dict(), list())\n",
    "app/b.py": "z = dict(a=1)\n",
    "lib/c.py": "w = list()\n",
    "README.md": "a project\n",
    ".gitignore": "*.log\n",
}
DICT_BRANCH, LIST_BRANCH = "auditfix/dict-literal", "auditfix/list-literal"


@pytest.fixture(autouse=True)
def hermetic_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the test repositories' own configuration counts: no global or system config, no identity."""
    home = tmp_path_factory.mktemp("home")
    empty = home / "empty-gitconfig"
    empty.write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", str(empty))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
                 "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(codemods.registry, "REGISTRY", TEST_REGISTRY)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", FILES)


def auditfix(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.app, ["run", *map(str, args), "--no-progress", "--jobs", "1"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def parents(repo: Path, ref: str) -> list[str]:
    return git(repo, "rev-list", "--parents", "-n", "1", ref).split()[1:]


def written_by_write_mode(repo: Path, tmp_path: Path, *names: str) -> dict[str, bytes]:
    """What `auditfix run --write --select NAMES` makes of a clean clone of ``repo``."""
    clone = tmp_path / f"clone-{'-'.join(names)}"
    subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True)
    code, _, err = auditfix(clone, "--write", "--no-cache", "--select", ",".join(names))
    assert code == 0, err
    return working_files(clone)


# -- what the branches hold ----------------------------------------------------------------


def test_one_branch_per_codemod_holds_exactly_what_write_mode_makes(repo: Path, tmp_path: Path) -> None:
    base = head(repo)
    code, out, err = auditfix(repo)
    assert code == 0, err
    assert set(branches(repo)) == {"main", DICT_BRANCH, LIST_BRANCH}
    for branch, name in ((DICT_BRANCH, "dict-literal"), (LIST_BRANCH, "list-literal")):
        assert parents(repo, branch) == [base], "one commit on top of the base"
        assert tree_files(repo, branch) == written_by_write_mode(repo, tmp_path, name)
        assert f"git diff {base[:12]}..{branch}" in out
    changed = git(repo, "diff", "--name-only", f"{base}..{DICT_BRANCH}").split()
    assert changed == ["app/a.py"]
    assert sorted(git(repo, "diff", "--name-only", f"{base}..{LIST_BRANCH}").split()) == ["app/a.py", "lib/c.py"]


def test_codemod_without_changes_gets_no_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "x = dict()\n"})
    code, out, err = auditfix(repo)
    assert code == 0, err
    assert set(branches(repo)) == {"main", DICT_BRANCH}
    assert "list-literal: nothing to change" in err


def test_nothing_to_change_makes_no_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "x = {}\n"})
    code, out, err = auditfix(repo)
    assert code == 0, err
    assert set(branches(repo)) == {"main"}
    assert "no branch made" in err


class SetCallReport(Codemod):
    """Report ``set()`` calls (a findings-only codemod, as query-in-loop is)."""

    name = "set-call-report"
    summary = "Report set() calls"
    safety = "Findings only."
    markers = (b"set(",)
    fixes = False

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if isinstance(original_node.func, cst.Name) and original_node.func.value == "set":
            self.report(original_node, "set() call", fixable=False)
        return updated_node


def test_findings_only_codemod_gets_no_branch_and_is_not_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codemods.registry, "REGISTRY", (*TEST_REGISTRY, SetCallReport))
    repo = make_repo(tmp_path / "repo", {"a.py": "x = dict()\ns = set()\n"})
    worktrees_made = []
    original = Engine.run
    monkeypatch.setattr(Engine, "run", lambda engine: worktrees_made.append(engine.settings.codemods) or original(engine))
    code, out, err = auditfix(repo)
    assert code == 0, err
    assert set(branches(repo)) == {"main", DICT_BRANCH}
    assert "set-call-report: reports only, no branch; `auditfix scan --select set-call-report` lists its findings" in err
    assert "set-call-report" not in out  # the table lists branches
    assert all(SetCallReport not in codemods_run for codemods_run in worktrees_made)


def test_file_names_with_spaces_and_accents(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"my app/données v2.py": "x = dict()\n"})
    bodies = tmp_path / "bodies"
    code, _, err = auditfix(repo, "--pr-body-dir", bodies)
    assert code == 0, err
    assert show_bytes(repo, f"{DICT_BRANCH}:my app/données v2.py") == b"x = {}\n"
    assert "| `my app/données v2.py` | 1 | 1 |" in (bodies / "dict-literal.md").read_text()


def test_cache_is_never_committed_and_runs_again_from_it(repo: Path) -> None:
    assert auditfix(repo)[0] == 0
    for branch in (DICT_BRANCH, LIST_BRANCH):
        assert not any(".auditfix_cache" in path for path in tree_files(repo, branch))
    assert (repo / ".git" / "auditfix-cache" / "dict-literal").is_dir()
    code, _, err = auditfix(repo, "--force")
    assert code == 0, err


# -- the user's checkout is never touched ----------------------------------------------------


def _as_started_from_a_terminal() -> None:
    """Ctrl-C must reach the run: a test suite started in the background by a non-interactive
    shell has SIGINT ignored, and a child inherits that (Python then never raises
    KeyboardInterrupt, as a background job should not)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def make_user_mess(repo: Path) -> None:
    """Staged, modified, untracked and ignored work, plus a stash entry."""
    (repo / "README.md").write_text("stashed edit\n")
    git(repo, "stash", "push", "--quiet", "--message", "user stash")
    (repo / "app" / "b.py").write_text("z = dict(a=1)\nstaged = dict()\n")
    git(repo, "add", "app/b.py")
    (repo / "lib" / "c.py").write_text("w = list()\nmodified = list()\n")
    (repo / "notes.txt").write_text("untracked\n")
    (repo / "app" / "new.py").write_text("untracked_code = dict()\n")
    (repo / "debug.log").write_text("ignored\n")


def test_user_state_is_byte_for_byte_unchanged_and_dirty_files_are_not_in_branches(repo: Path) -> None:
    base = head(repo)
    make_user_mess(repo)
    before = snapshot(repo)
    code, _, err = auditfix(repo)
    assert code == 0, err
    assert snapshot(repo) == before
    assert "uncommitted changes" in err and "not part of any branch" in err
    assert show_bytes(repo, f"{LIST_BRANCH}:lib/c.py") == b"w = []\n"
    assert show_bytes(repo, f"{DICT_BRANCH}:app/b.py") == b"z = dict(a=1)\n"
    assert "app/new.py" not in tree_files(repo, DICT_BRANCH)
    assert parents(repo, DICT_BRANCH) == [base]


def test_user_state_is_unchanged_when_a_category_fails(repo: Path) -> None:
    make_user_mess(repo)
    install_hook(repo, "pre-commit", "echo 'hook says no'; exit 1\n")
    before = snapshot(repo)
    code, _, err = auditfix(repo)
    assert code == 1
    assert snapshot(repo) == before


def test_temporary_worktrees_are_removed(repo: Path) -> None:
    assert auditfix(repo)[0] == 0
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert not any((repo / ".git" / WORKTREES_DIR_NAME).iterdir())
    assert not (repo / ".git" / LOCK_FILE_NAME).exists()


# -- where the branches start ----------------------------------------------------------------


def test_detached_head_works_and_stays_detached(repo: Path) -> None:
    base = head(repo)
    git(repo, "checkout", "--quiet", "--detach", "HEAD")
    before = snapshot(repo)
    code, _, err = auditfix(repo)
    assert code == 0, err
    assert snapshot(repo) == before
    assert before.symbolic_head == ""
    assert parents(repo, DICT_BRANCH) == [base]


def test_run_from_a_linked_worktree_leaves_both_checkouts_alone(repo: Path, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "--quiet", "-b", "feature", str(linked))
    write_files(linked, {"app/feature.py": "f = dict()\n"})
    feature = commit_all(linked, "feature")
    (linked / "lib" / "c.py").write_text("uncommitted\n")
    before_main, before_linked = snapshot(repo), snapshot(linked)
    code, _, err = auditfix(linked)
    assert code == 0, err
    assert parents(repo, DICT_BRANCH) == [feature]
    assert show_bytes(repo, f"{DICT_BRANCH}:app/feature.py") == b"f = {}\n"
    assert (snapshot(repo), snapshot(linked)) == (before_main, before_linked)


def test_base_option_chooses_the_start_commit(repo: Path) -> None:
    first = head(repo)
    write_files(repo, {"app/later.py": "late = dict()\n"})
    commit_all(repo, "later")
    code, _, err = auditfix(repo, "--base", "HEAD~1")
    assert code == 0, err
    assert parents(repo, DICT_BRANCH) == [first]
    assert "app/later.py" not in tree_files(repo, DICT_BRANCH)


def test_unknown_base_is_a_usage_error(repo: Path) -> None:
    code, _, err = auditfix(repo, "--base", "no-such-ref")
    assert code == 2
    assert "--base no-such-ref: not a commit" in err


def test_subfolder_path_changes_only_files_under_it(repo: Path) -> None:
    base = head(repo)
    code, _, err = auditfix(repo / "app")
    assert code == 0, err
    assert git(repo, "diff", "--name-only", f"{base}..{LIST_BRANCH}").split() == ["app/a.py"]
    assert show_bytes(repo, f"{LIST_BRANCH}:lib/c.py") == b"w = list()\n"


def test_single_file_path(repo: Path) -> None:
    code, _, err = auditfix(repo / "lib" / "c.py")
    assert code == 0, err
    assert set(branches(repo)) == {"main", LIST_BRANCH}
    assert show_bytes(repo, f"{LIST_BRANCH}:lib/c.py") == b"w = []\n"


def test_untracked_path_is_refused(repo: Path) -> None:
    write_files(repo, {"scratch/s.py": "s = dict()\n"})
    code, _, err = auditfix(repo / "scratch")
    assert code == 2
    assert "scratch is not in HEAD" in err


def test_stack_builds_each_branch_on_the_previous_one_and_merges_in_order(repo: Path, tmp_path: Path) -> None:
    base = head(repo)
    code, out, err = auditfix(repo, "--stack")
    assert code == 0, err
    dict_commit, list_commit = branches(repo)[DICT_BRANCH], branches(repo)[LIST_BRANCH]
    assert parents(repo, DICT_BRANCH) == [base]
    assert parents(repo, LIST_BRANCH) == [dict_commit]
    assert f"git diff {DICT_BRANCH}..{LIST_BRANCH}" in out
    assert git(repo, "diff", "--name-only", f"{DICT_BRANCH}..{LIST_BRANCH}").split() == ["app/a.py", "lib/c.py"]
    git(repo, "merge", "--quiet", "--no-edit", DICT_BRANCH)
    git(repo, "merge", "--quiet", "--no-edit", LIST_BRANCH)
    assert head(repo) == list_commit
    assert working_files(repo) == written_by_write_mode(repo, tmp_path, "dict-literal", "list-literal") | {
        ".gitignore": b"*.log\n"
    }


# -- existing branches -------------------------------------------------------------------------


def test_a_branch_auditfix_did_not_make_is_left_alone_with_a_warning(repo: Path) -> None:
    git(repo, "branch", DICT_BRANCH)
    before = branches(repo)[DICT_BRANCH]
    code, out, err = auditfix(repo)
    assert code == 0, err
    assert f"warning: {DICT_BRANCH}: someone else committed on it" in err and "not made by auditfix" in err
    assert "--force" in err
    assert branches(repo)[DICT_BRANCH] == before
    assert LIST_BRANCH in branches(repo), "the other categories go on"


def test_force_replaces_an_existing_branch_under_the_prefix(repo: Path) -> None:
    assert auditfix(repo)[0] == 0
    write_files(repo, {"app/later.py": "late = dict()\n"})
    new_base = commit_all(repo, "later")
    code, out, err = auditfix(repo, "--force")
    assert code == 0, err
    assert parents(repo, DICT_BRANCH) == [new_base]
    assert "replaced" in out


def test_force_never_replaces_the_checked_out_branch(repo: Path) -> None:
    git(repo, "checkout", "--quiet", "-b", DICT_BRANCH)
    before = snapshot(repo)
    code, _, err = auditfix(repo, "--force")
    assert code == 1
    assert "is checked out" in err
    assert snapshot(repo) == before


def test_branch_prefix_option_and_setting(repo: Path) -> None:
    code, _, err = auditfix(repo, "--branch-prefix", "cleanup/")
    assert code == 0, err
    assert {"cleanup/dict-literal", "cleanup/list-literal"} <= set(branches(repo))
    write_files(repo, {"pyproject.toml": '[tool.auditfix]\nbranch-prefix = "tidy-"\n'})
    commit_all(repo, "configure")
    code, _, err = auditfix(repo)
    assert code == 0, err
    assert {"tidy-dict-literal", "tidy-list-literal"} <= set(branches(repo))


def test_invalid_branch_prefix_is_a_usage_error(repo: Path) -> None:
    code, _, err = auditfix(repo, "--branch-prefix", "bad..prefix/")
    assert code == 2
    assert "not a valid branch name" in err


def test_git_options_are_refused_with_write(repo: Path) -> None:
    code, _, err = auditfix(repo, "--write", "--stack")
    assert code == 2
    assert "are for git mode" in err


# -- hooks, messages, push ---------------------------------------------------------------------


def test_failing_pre_commit_hook_fails_that_category_only(repo: Path, tmp_path: Path) -> None:
    install_hook(repo, "pre-commit", "if git diff --cached | grep -q '{}'; then echo 'no empty dicts here'; exit 1; fi\n")
    code, _, err = auditfix(repo)
    assert code == 1
    assert f"{DICT_BRANCH}: failed: git commit failed" in err
    assert "no empty dicts here" in err
    assert set(branches(repo)) == {"main", LIST_BRANCH}
    # The refused changes stay out of the next codemod's branch.
    assert tree_files(repo, LIST_BRANCH) == written_by_write_mode(repo, tmp_path, "list-literal")


def test_no_verify_skips_the_hooks(repo: Path) -> None:
    install_hook(repo, "pre-commit", "exit 1\n")
    code, _, err = auditfix(repo, "--no-verify")
    assert code == 0, err
    assert {DICT_BRANCH, LIST_BRANCH} <= set(branches(repo))


def test_commit_message_says_what_why_safety_and_what_was_left_alone(repo: Path) -> None:
    assert auditfix(repo)[0] == 0
    message = git(repo, "log", "-1", "--format=%B", DICT_BRANCH)
    assert message.startswith("dict-literal: Use {} instead of dict()\n\n")
    assert "A call looks up the name ``dict`` at run time" in message
    assert "Fixes 2 findings in 1 file (+2 -2)" in message
    assert "Fix safety: Changes behaviour only where the name dict is rebound." in message
    assert "app/b.py:1: dict() with arguments: left as it is" in message
    assert git(repo, "log", "-1", "--format=%an <%ae>", DICT_BRANCH).strip() == "Test User <test@example.com>"
    assert "The literal says the same thing" in git(repo, "log", "-1", "--format=%B", LIST_BRANCH)


def test_pr_body_dir_writes_one_description_per_branch(repo: Path, tmp_path: Path) -> None:
    bodies = tmp_path / "bodies"
    assert auditfix(repo, "--pr-body-dir", bodies)[0] == 0
    assert sorted(p.name for p in bodies.iterdir()) == ["dict-literal.md", "list-literal.md"]
    body = (bodies / "dict-literal.md").read_text()
    assert body.startswith("## dict-literal: Use {} instead of dict()\n")
    assert "| `app/a.py` | 2 | 2 |" in body
    assert "- `app/b.py:1`: dict() with arguments: left as it is" in body
    assert f"git diff {head(repo)[:12]}..{DICT_BRANCH}" in body
    assert "Nothing: every finding of `list-literal` was fixed." in (bodies / "list-literal.md").read_text()


def test_user_templates_override_the_commit_message(repo: Path) -> None:
    write_files(repo, {
        "pyproject.toml": '[tool.auditfix]\ntemplates = "tpl"\n',
        "tpl/commit_message.txt.j2": "fix({{ change.codemod }}): {{ change.fixed }} places\n",
    })  # fmt: skip
    commit_all(repo, "own templates")
    assert auditfix(repo)[0] == 0
    assert git(repo, "log", "-1", "--format=%B", DICT_BRANCH).strip() == "fix(dict-literal): 2 places"


def test_push_sends_every_branch_to_the_remote(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    code, out, err = auditfix(repo, "--push", "origin")
    assert code == 0, err
    local = branches(repo)
    assert branches(remote) == {DICT_BRANCH: local[DICT_BRANCH], LIST_BRANCH: local[LIST_BRANCH]}
    assert "pushed" in out


def test_push_failure_is_reported_per_branch_and_nothing_local_is_lost(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    install_hook(remote, "pre-receive", "while read old new ref; do case $ref in *list-literal) echo 'rejected by policy'; exit 1;; esac; done\n")  # noqa: E501
    git(repo, "remote", "add", "origin", str(remote))
    code, out, err = auditfix(repo, "--push", "origin")
    assert code == 1
    assert f"{LIST_BRANCH}: push to origin failed" in err
    assert {DICT_BRANCH, LIST_BRANCH} <= set(branches(repo))
    assert branches(remote) == {DICT_BRANCH: branches(repo)[DICT_BRANCH]}, "each branch is pushed on its own"


def test_unknown_remote_is_a_usage_error(repo: Path) -> None:
    code, _, err = auditfix(repo, "--push", "upstream")
    assert code == 2
    assert "--push upstream: no such remote" in err
    assert set(branches(repo)) == {"main"}


# -- preconditions -----------------------------------------------------------------------------


def test_not_a_git_repository(tmp_path: Path) -> None:
    write_files(tmp_path / "plain", {"a.py": "x = dict()\n"})
    code, _, err = auditfix(tmp_path / "plain")
    assert code == 2
    assert "not inside a git work tree" in err and "--dry-run" in err and "--write" in err


def test_repository_without_commits(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "x = dict()\n"}, commit=False)
    code, _, err = auditfix(repo)
    assert code == 2
    assert "has no commits yet" in err


def test_missing_identity_names_the_config_keys(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "x = dict()\n"}, identity=False)
    code, _, err = auditfix(repo)
    assert code == 2
    assert "user.name" in err and "user.email" in err
    assert set(branches(repo)) == {"main"}


# -- concurrent and interrupted runs -------------------------------------------------------------


def settings_for(repo: Path):  # noqa: ANN201 - a Settings
    return resolve(repo, TEST_REGISTRY, jobs=1)


def test_second_run_refuses_while_a_live_run_holds_the_lock(repo: Path) -> None:
    holder = subprocess.Popen(["sleep", "30"])
    try:
        (repo / ".git" / LOCK_FILE_NAME).write_text(f"{holder.pid} {os.uname().nodename}\n")
        with pytest.raises(GitModeError, match=f"another auditfix run \\(pid {holder.pid}\\)"):
            run_git_mode(repo, settings_for(repo), GitOptions(lock_timeout=0.3))
    finally:
        holder.kill()
        holder.wait()
    assert set(branches(repo)) == {"main"}


def test_stale_lock_of_a_dead_run_is_taken_over(repo: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    (repo / ".git" / LOCK_FILE_NAME).write_text(f"{dead.pid} {os.uname().nodename}\n")
    result = run_git_mode(repo, settings_for(repo), GitOptions(lock_timeout=0.3))
    assert not result.failed
    assert not (repo / ".git" / LOCK_FILE_NAME).exists()


def test_stale_worktree_of_a_killed_run_is_removed(repo: Path) -> None:
    stale = repo / ".git" / WORKTREES_DIR_NAME / "12345-deadbeef"
    stale.parent.mkdir()
    git(repo, "worktree", "add", "--detach", "--quiet", str(stale), "HEAD")
    (stale / "half-written.py").write_text("x = 1\n")
    code, _, err = auditfix(repo)
    assert code == 0, err
    assert not stale.exists()
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


DRIVER = """
import sys
sys.path.insert(0, {main!r})
import libcst as cst

import cli
import codemods.registry
from tests.gitrepo import TEST_REGISTRY
codemods.registry.REGISTRY = TEST_REGISTRY
cli.app(["run", {repo!r}, "--no-progress", "--jobs", "1"])
"""


@pytest.mark.parametrize("kill", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "sigterm", "sigkill"])
def test_interrupted_run_leaves_the_checkout_as_it_was_and_the_next_run_cleans_up(
    repo: Path, tmp_path: Path, kill: signal.Signals
) -> None:
    make_user_mess(repo)
    before = snapshot(repo)
    started = tmp_path / "hook-started"
    # The hook blocks the first commit, so the signal arrives while a worktree exists.
    install_hook(repo, "pre-commit", f"touch {started}\nsleep 30\n")
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER.format(main=str(MAIN), repo=str(repo))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_as_started_from_a_terminal,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not started.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the run never reached its first commit"
            time.sleep(0.05)
        assert any((repo / ".git" / WORKTREES_DIR_NAME).iterdir()), "a worktree is in use"
        with pytest.raises(GitModeError, match=f"another auditfix run \\(pid {process.pid}\\)"):
            run_git_mode(repo, settings_for(repo), GitOptions(lock_timeout=0.2))
        # Like a terminal's Ctrl-C: the whole foreground group gets the signal.
        os.killpg(process.pid, kill)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if kill != signal.SIGKILL:
        assert process.returncode == 130, err
        assert "interrupted" in err
        assert not any((repo / ".git" / WORKTREES_DIR_NAME).iterdir())
        assert not (repo / ".git" / LOCK_FILE_NAME).exists()
        assert snapshot(repo) == before
    else:
        # Nothing can run on SIGKILL: the worktree stays registered until the next run removes it.
        assert dataclasses.replace(snapshot(repo), worktrees=before.worktrees) == before
    assert set(branches(repo)) == {"main"}

    (repo / ".git" / "hooks" / "pre-commit").unlink()
    code, _, err = auditfix(repo)
    assert code == 0, err
    assert {DICT_BRANCH, LIST_BRANCH} <= set(branches(repo))
    assert snapshot(repo) == before
    assert not any((repo / ".git" / WORKTREES_DIR_NAME).iterdir())
    assert not (repo / ".git" / LOCK_FILE_NAME).exists()


# -- the real registry on sample_repo ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not REGISTRY, reason="no codemod is registered yet")
def test_sample_repo_gets_one_passing_branch_per_category(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codemods.registry, "REGISTRY", REGISTRY)
    repo = tmp_path / "sample_repo"
    shutil.copytree(MAIN / "sample_repo", repo, ignore=shutil.ignore_patterns("__pycache__", ".auditfix_cache", "*.db"))
    make_repo(repo, {})
    before = snapshot(repo)
    base = head(repo)
    code, out, err = auditfix(repo)
    assert code in (0, 3), err
    assert snapshot(repo) == before
    made = {name: commit for name, commit in branches(repo).items() if name.startswith("auditfix/")}
    settings = dataclasses.replace(resolve(repo, REGISTRY, jobs=1), cache=False)
    with_changes = [c.name for c in REGISTRY if Engine(repo, dataclasses.replace(settings, codemods=(c,))).run().changes]
    assert with_changes, "sample_repo has something for at least one codemod"
    assert sorted(made) == sorted(f"auditfix/{name}" for name in with_changes)
    checkouts = {}
    for branch, commit in made.items():
        assert parents(repo, branch) == [base]
        checkouts[branch] = tmp_path / f"check-{branch.replace('/', '-')}"
        git(repo, "worktree", "add", "--detach", "--quiet", str(checkouts[branch]), commit)

    def sample_suite(folder: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            # Its own --basetemp: concurrent pytest runs must not prune each other's tmp_path.
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={folder}-pytest"],
            cwd=folder, capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    # Two suites at a time: the branches are independent checkouts.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(checkouts, pool.map(sample_suite, checkouts.values())))
    for branch, tests in results.items():
        assert tests.returncode == 0, f"{branch}: sample_repo's tests fail:\n{tests.stdout[-4000:]}{tests.stderr[-2000:]}"



@pytest.mark.parametrize(("status", "interrupted"), [(-2, True), (-15, True), (130, True), (143, True), (1, False), (128, False)])
def test_a_commit_git_could_not_finish_because_of_ctrl_c_counts_as_an_interruption(status: int, interrupted: bool) -> None:
    # Ctrl-C goes to the whole process group: git and its hook may die of it before this process
    # has handled it; a commit ended that way must stop the run, not count as a refusing hook.
    import git

    from codemods.git.safety import interrupted as was_interrupted

    assert was_interrupted(git.GitCommandError(["git", "commit"], status)) is interrupted


def test_a_commit_that_fails_after_this_process_got_ctrl_c_counts_as_an_interruption() -> None:
    import git

    from codemods.git import safety

    failure = git.GitCommandError(["git", "commit"], 1)
    safety.SIGNALLED.clear()
    assert not safety.interrupted(failure)
    safety.SIGNALLED.set()
    try:
        assert safety.interrupted(failure)
    finally:
        safety.SIGNALLED.clear()
