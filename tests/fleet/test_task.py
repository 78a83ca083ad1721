"""One repository's task, run in this process (no cluster): clone or fetch, up-to-date checks,
git mode with and without push, dry runs, and every way a repository can fail."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from codemods.fleet.repos import RepoSpec, parse_repos
from codemods.fleet.results import (
    BRANCHES,
    CLONE_FAILED,
    CONFIGURATION,
    DONE,
    DRY_RUN,
    FAILED,
    NO_SUCH_BRANCH,
    NOT_A_REPOSITORY,
    PUSH,
    PUSH_FAILED,
    SKIPPED,
    UP_TO_DATE,
    Previous,
    RepoJob,
    RepoResult,
)
from codemods.fleet.task import diff_line_counts, process_repository
from codemods.git import CACHE_DIR_NAME
from tests.fleet.conftest import BROKEN, TINY, make_origin, origin_branches, push_commit
from tests.gitrepo import git, install_hook, make_repo

TINY_BRANCHES = ["auditfix/bare-except", "auditfix/print-to-logging"]


def job_for(location: Path | str, workdir: Path, mode: str = BRANCHES, *, branch: str | None = None, **values: object) -> RepoJob:
    [spec] = parse_repos([f"{location} {branch or ''}"], base=workdir)
    return RepoJob(spec, str(workdir / "repos" / spec.name), mode, **values)  # type: ignore[arg-type]


def again(job: RepoJob, result: RepoResult, **changes: object) -> RepoJob:
    """The job of the next run, knowing ``result`` as the state would."""
    previous = Previous(result.status, result.commit, result.fingerprint, tuple((b.branch, b.commit) for b in result.made_branches))
    return dataclasses.replace(job, previous=previous, **changes)  # type: ignore[arg-type]


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    return make_origin(tmp_path, "tiny", TINY)


def test_a_first_run_clones_and_makes_one_branch_per_codemod(origin: Path, tmp_path: Path) -> None:
    result = process_repository(job_for(origin, tmp_path))
    assert result.status == DONE, result.reason
    clone = tmp_path / "repos" / "tiny"
    assert result.commit == git(clone, "rev-parse", "HEAD").strip() == origin_branches(origin)["main"]
    assert [b.branch for b in result.made_branches] == TINY_BRANCHES
    assert {b.codemod: b.status for b in result.branches}["loop-commit"] == "no changes"
    assert result.codemods["bare-except"].changed_files == 1 and result.codemods["bare-except"].fixable == 1
    assert result.codemods["print-to-logging"].findings == 1
    assert {f.codemod for f in result.findings} == {"bare-except", "print-to-logging"}
    fixed = git(clone, "show", "auditfix/bare-except:app/jobs.py")
    assert "except Exception:" in fixed
    assert origin_branches(origin).keys() == {"main"}  # without --push, nothing leaves the clone
    assert git(clone, "status", "--porcelain", "--ignored") == ""  # the work tree is exactly the commit


def test_push_sends_every_branch_to_origin_and_refreshes_them_after_a_new_commit(origin: Path, tmp_path: Path) -> None:
    job = job_for(origin, tmp_path, PUSH)
    first = process_repository(job)
    assert first.status == DONE and all(b.pushed for b in first.made_branches)
    pushed = origin_branches(origin)
    assert {b.branch: b.commit for b in first.made_branches} == {name: pushed[name] for name in TINY_BRANCHES}

    newer = push_commit(origin, {"app/more.py": "def f():\n    print('x')\n"})
    second = process_repository(again(job, first))
    assert second.status == DONE and second.commit == newer
    refreshed = origin_branches(origin)
    for branch in second.made_branches:
        assert refreshed[branch.branch] == branch.commit  # replaced in the clone and force-pushed
        assert git(origin, "merge-base", "--is-ancestor", newer, branch.commit) == ""
    assert second.codemods["print-to-logging"].changed_files == 2


def test_an_unchanged_repository_is_skipped_as_up_to_date(origin: Path, tmp_path: Path) -> None:
    job = job_for(origin, tmp_path)
    first = process_repository(job)
    second = process_repository(again(job, first))
    assert (second.status, second.reason, second.commit) == (SKIPPED, UP_TO_DATE, first.commit)
    assert second.fingerprint == first.fingerprint
    assert not second.branches  # the state keeps the first run's result


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"select": ("bare-except",)}, id="other-codemods"),
        pytest.param({"mode": PUSH}, id="other-mode"),
    ],
)
def test_other_settings_are_not_up_to_date(origin: Path, tmp_path: Path, change: dict[str, object]) -> None:
    job = job_for(origin, tmp_path)
    first = process_repository(job)
    assert process_repository(again(job, first, **change)).status == DONE


def test_a_failed_repository_is_retried_even_on_the_same_commit(origin: Path, tmp_path: Path) -> None:
    job = job_for(origin, tmp_path)
    first = process_repository(job)
    failed_before = dataclasses.replace(first, status=FAILED)
    assert process_repository(again(job, failed_before)).status == DONE


def test_branches_deleted_from_the_clone_are_made_again(origin: Path, tmp_path: Path) -> None:
    job = job_for(origin, tmp_path)
    first = process_repository(job)
    git(tmp_path / "repos" / "tiny", "branch", "-D", "auditfix/bare-except")
    second = process_repository(again(job, first))
    assert second.status == DONE and "auditfix/bare-except" in [b.branch for b in second.made_branches]


def test_a_deleted_clone_is_cloned_again(origin: Path, tmp_path: Path) -> None:
    job = job_for(origin, tmp_path)
    process_repository(job)
    clone = tmp_path / "repos" / "tiny"
    for leftover in clone.iterdir():  # what a run killed while cloning could leave: no repository
        if leftover.name == ".git":
            import shutil

            shutil.rmtree(leftover)
    assert process_repository(job).status == DONE
    assert "auditfix/bare-except" in git(clone, "branch", "--list")


def test_the_repository_settings_apply_and_the_fleet_selection_wins(tmp_path: Path) -> None:
    files = {**TINY, "pyproject.toml": '[tool.auditfix]\nselect = ["print-to-logging"]\n'}
    origin = make_origin(tmp_path, "configured", files)
    own = process_repository(job_for(origin, tmp_path))
    assert [b.branch for b in own.made_branches] == ["auditfix/print-to-logging"]
    chosen = process_repository(job_for(origin, tmp_path / "other", select=("bare-except",)))
    assert [b.branch for b in chosen.made_branches] == ["auditfix/bare-except"]


def test_an_unparsable_file_is_named_and_the_rest_is_fixed(tmp_path: Path) -> None:
    origin = make_origin(tmp_path, "partly", {**TINY, "app/broken.py": BROKEN})
    result = process_repository(job_for(origin, tmp_path))
    assert result.status == DONE
    assert [p.path for p in result.not_processed] == ["app/broken.py"]
    assert [b.branch for b in result.made_branches] == TINY_BRANCHES


def test_a_named_branch_is_the_one_fixed(tmp_path: Path) -> None:
    origin = make_origin(tmp_path, "svc", TINY, branches={"release": {"app/old.py": "def g():\n    print('old')\n"}})
    result = process_repository(job_for(origin, tmp_path, branch="release"))
    assert result.status == DONE and result.commit == origin_branches(origin)["release"]
    assert result.codemods["print-to-logging"].changed_files == 2


def test_several_branches_of_one_repository_push_under_their_own_scope(tmp_path: Path) -> None:
    origin = make_origin(tmp_path, "svc", TINY, branches={"release": {"app/old.py": "print('old')\n"}})
    specs = parse_repos([f"{origin}", f"{origin} release"], base=tmp_path)
    for spec in specs:
        assert process_repository(RepoJob(spec, str(tmp_path / "repos" / spec.name), PUSH)).status == DONE
    assert {"auditfix/bare-except", "auditfix/release/bare-except", "auditfix/release/print-to-logging"} <= origin_branches(origin).keys()


def test_dry_run_returns_the_diff_and_findings_and_makes_no_branch(origin: Path, tmp_path: Path) -> None:
    result = process_repository(job_for(origin, tmp_path, DRY_RUN))
    assert result.status == DONE and not result.branches
    assert b"+++ b/app/jobs.py" in result.diff and b"except Exception:" in result.diff
    assert (result.added, result.removed) == diff_line_counts(result.diff) and result.added > 0
    assert result.codemods["bare-except"].changed_files == 1 and result.codemods["bare-except"].added is None
    clone = tmp_path / "repos" / "tiny"
    assert git(clone, "branch", "--list", "auditfix/*") == ""
    assert git(clone, "status", "--porcelain", "--ignored") == ""  # its cache lives in the git dir
    assert (clone / ".git" / CACHE_DIR_NAME / "dry-run").is_dir()


def test_diff_line_counts_ignore_file_headers() -> None:
    diff = b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n---a\n+++b\n keep\n"
    assert diff_line_counts(diff) == (1, 1)


# -- failures -------------------------------------------------------------------------------------


def test_a_folder_that_is_not_a_repository_fails_as_such(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "x.py").write_text("print(1)\n")
    result = process_repository(job_for(folder, tmp_path))
    assert (result.status, result.failure) == (FAILED, NOT_A_REPOSITORY)
    assert result.reason == f"not a git repository: {folder}"
    assert not (tmp_path / "repos" / "plain").exists()


def test_a_subfolder_of_a_repository_is_not_a_repository(tmp_path: Path) -> None:
    make_repo(tmp_path / "big", {"sub/a.py": "x = 1\n"})
    assert process_repository(job_for(tmp_path / "big" / "sub", tmp_path)).failure == NOT_A_REPOSITORY


def test_a_clone_that_fails_gives_git_s_reason(tmp_path: Path) -> None:
    result = process_repository(job_for(tmp_path / "absent.git", tmp_path))
    assert (result.status, result.failure) == (FAILED, CLONE_FAILED)
    assert "does not appear to be a git repository" in result.reason
    assert not (tmp_path / "repos" / "absent").exists()


def test_a_missing_branch_fails(origin: Path, tmp_path: Path) -> None:
    result = process_repository(job_for(origin, tmp_path, branch="nope"))
    assert (result.failure, result.reason) == (NO_SUCH_BRANCH, f"{NO_SUCH_BRANCH}: nope is not a branch of {origin}")


def test_an_empty_repository_fails(tmp_path: Path) -> None:
    empty = tmp_path / "empty.git"
    git(tmp_path, "init", "--quiet", "--bare", str(empty))
    result = process_repository(job_for(empty, tmp_path))
    assert result.failure == NO_SUCH_BRANCH and "has no default branch" in result.reason


def test_a_broken_configuration_fails_with_the_key_named(tmp_path: Path) -> None:
    origin = make_origin(tmp_path, "misconfigured", {**TINY, "pyproject.toml": "[tool.auditfix]\nspeed = 3\n"})
    result = process_repository(job_for(origin, tmp_path))
    assert result.failure == CONFIGURATION and "unknown key 'speed'" in result.reason


def test_a_refused_push_fails_the_repository_and_keeps_its_branches(origin: Path, tmp_path: Path) -> None:
    install_hook(origin, "pre-receive", "echo 'branches are protected' >&2\nexit 1\n")
    result = process_repository(job_for(origin, tmp_path, PUSH))
    assert (result.status, result.failure) == (FAILED, PUSH_FAILED)
    assert "auditfix/bare-except: push to origin failed" in result.reason
    assert [b.branch for b in result.made_branches] == TINY_BRANCHES and not any(b.pushed for b in result.made_branches)


def test_every_result_says_where_and_how_long(origin: Path, tmp_path: Path) -> None:
    result = process_repository(job_for(origin, tmp_path))
    assert result.seconds > 0 and ":" in result.worker and result.version
    assert any(line.startswith("cloned ") for line in result.log)
    assert RepoResult.from_dict(result.to_dict()) == dataclasses.replace(result, diff=b"")


def test_a_spec_knows_whether_it_is_local() -> None:
    assert RepoSpec("/a/b", None, "b", 1).is_local and not RepoSpec("https://h/a/b", None, "b", 1).is_local


def test_other_auditfix_code_is_not_up_to_date(origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A development build keeps its version number: the digest of the code and templates tells.
    job = job_for(origin, tmp_path)
    first = process_repository(job)
    monkeypatch.setattr("codemods.fleet.task.tool_digest", lambda: "another build")
    assert process_repository(again(job, first)).status == DONE


def test_a_worker_process_running_repositories_starts_no_thread_per_run(
    origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Dask worker is a child process: the engine's in-process runs must not start a watcher of
    # the parent per codemod and repository (they would pile up for the worker's whole life).
    import multiprocessing
    import threading

    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())
    before = threading.active_count()
    assert process_repository(job_for(origin, tmp_path)).status == DONE
    assert threading.active_count() == before
    assert not any(t.name == "auditfix-parent-watch" for t in threading.enumerate())


# -- --push refreshes origin's branches as a second `auditfix run` would ------------------------------


def test_a_reviewer_s_commit_on_origin_keeps_the_branch_as_it_is(origin: Path, tmp_path: Path) -> None:
    job = job_for(origin, tmp_path, PUSH)
    first = process_repository(job)
    reviewed = push_commit(origin, {"app/jobs.py": "# reviewed\n"}, "review fix", branch="auditfix/bare-except")
    push_commit(origin, {"app/more.py": "def f():\n    print('x')\n"})  # the base moves too
    second = process_repository(again(job, first))
    assert second.status == DONE, second.reason
    kept = next(b for b in second.branches if b.branch == "auditfix/bare-except")
    assert kept.status == "kept" and "review fix" in kept.message
    assert origin_branches(origin)["auditfix/bare-except"] == reviewed  # never overwritten
    rebuilt = next(b for b in second.branches if b.branch == "auditfix/print-to-logging")
    assert rebuilt.status == "rebuilt" and origin_branches(origin)["auditfix/print-to-logging"] == rebuilt.commit


def test_a_branch_merged_on_origin_is_deleted_there(origin: Path, tmp_path: Path) -> None:
    job = job_for(origin, tmp_path, PUSH)
    first = process_repository(job)
    scratch = tmp_path / "merger"
    git(tmp_path, "clone", "--quiet", str(origin), str(scratch))
    git(scratch, "merge", "--quiet", "--no-edit", "origin/auditfix/bare-except")
    git(scratch, "push", "--quiet", "origin", "HEAD:main")
    second = process_repository(again(job, first))
    assert second.status == DONE, second.reason
    deleted = next(b for b in second.branches if b.branch == "auditfix/bare-except")
    assert deleted.status == "deleted" and "merged" in deleted.message
    assert "auditfix/bare-except" not in origin_branches(origin)
    assert second.codemods["bare-except"].changed_files == 0


def test_a_push_that_failed_is_made_good_by_the_next_run(origin: Path, tmp_path: Path) -> None:
    job = job_for(origin, tmp_path, PUSH)
    first = process_repository(job)
    newer = push_commit(origin, {"app/more.py": "def f():\n    print('x')\n"})  # the base moves
    install_hook(origin, "pre-receive", "exit 1\n")  # and origin refuses every push for a while
    refused = process_repository(again(job, first))
    assert refused.failure == PUSH_FAILED
    (origin / "hooks" / "pre-receive").unlink()
    # Origin still holds the first run's branches; the clone, rebuilt ones that never got there.
    recovered = process_repository(again(job, refused))
    assert recovered.status == DONE, recovered.reason
    for branch in recovered.made_branches:
        assert branch.pushed and origin_branches(origin)[branch.branch] == branch.commit
        assert git(origin, "merge-base", "--is-ancestor", newer, branch.commit) == ""


def test_a_branch_left_as_it_was_still_counts_its_change(origin: Path, tmp_path: Path) -> None:
    job = job_for(origin, tmp_path)
    first = process_repository(job)
    retried = process_repository(again(job, dataclasses.replace(first, status=FAILED)))
    assert {b.status for b in retried.made_branches} == {"up to date"}
    assert retried.codemods == first.codemods and (retried.added, retried.removed) == (first.added, first.removed)


def test_a_new_clone_knows_origin_s_branches_from_the_state(origin: Path, tmp_path: Path) -> None:
    import shutil

    job = job_for(origin, tmp_path, PUSH)
    first = process_repository(job)
    shutil.rmtree(tmp_path / "repos" / "tiny")
    push_commit(origin, {"app/more.py": "def f():\n    print('x')\n"})
    second = process_repository(again(job, first))
    assert second.status == DONE, second.reason
    assert {b.status for b in second.made_branches} == {"rebuilt"}  # not kept as someone else's
    assert all(origin_branches(origin)[b.branch] == b.commit for b in second.made_branches)
