"""The repository list: locations, branches, comments, names, and the errors a user can make."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.fleet.repos import ReposFileError, parse_repos, read_repos_file

BASE = Path("/srv/lists")


def names(text: str) -> list[tuple[str, str, str | None, str]]:
    return [(s.name, s.location, s.branch, s.branch_scope) for s in parse_repos(text.splitlines(), base=BASE)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "https://github.com/acme/billing.git\n", [("billing", "https://github.com/acme/billing.git", None, "")], id="https-url"
        ),
        pytest.param("git@github.com:acme/api.git main\n", [("api", "git@github.com:acme/api.git", "main", "")], id="scp-like-url-with-branch"),
        pytest.param("ssh://git@host:2222/x/orders\n", [("orders", "ssh://git@host:2222/x/orders", None, "")], id="ssh-url"),
        pytest.param("file:///srv/git/inventory.git\n", [("inventory", "file:///srv/git/inventory.git", None, "")], id="file-url"),
        pytest.param("../git/jobs.git\n", [("jobs", "/srv/git/jobs.git", None, "")], id="relative-path-from-the-list-file"),
        pytest.param("/abs/path/svc/\n", [("svc", "/abs/path/svc", None, "")], id="absolute-path-trailing-slash"),
        pytest.param(
            "# the platform team's services\n\n   \nhttps://h/a/one.git  # payments\nhttps://h/a/two.git release/2.x # old\n",
            [("one", "https://h/a/one.git", None, ""), ("two", "https://h/a/two.git", "release/2.x", "")],
            id="comments-and-blank-lines",
        ),
        pytest.param(
            "/a/path#with-hash\n", [("path_with-hash", "/a/path#with-hash", None, "")], id="hash-inside-a-word-is-not-a-comment"
        ),
    ],
)
def test_entries(text: str, expected: list[tuple[str, str, str | None, str]]) -> None:
    assert names(text) == expected


def test_colliding_names_are_told_apart_by_their_parent_folder() -> None:
    assert [n for n, *_ in names("https://h/team-a/api.git\nhttps://h/team-b/api.git\nhttps://h/x/web.git\n")] == [
        "team-a-api", "team-b-api", "web",
    ]  # fmt: skip


def test_names_equal_even_with_their_parent_folder_get_a_digest() -> None:
    found = [n for n, *_ in names("https://one/acme/api.git\nhttps://two/acme/api.git\n")]
    assert found[0] != found[1] and all(n.startswith("acme-api-") for n in found)


def test_one_repository_with_several_branches_gets_a_name_and_a_branch_scope_per_branch() -> None:
    # Their branches go to the same origin: each entry's auditfix branches live under its own scope.
    assert names("/git/svc.git\n/git/svc.git release\n/git/svc.git hotfix/1\n") == [
        ("svc", "/git/svc.git", None, ""),
        ("svc@release", "/git/svc.git", "release", "release/"),
        ("svc@hotfix_1", "/git/svc.git", "hotfix/1", "hotfix/1/"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("/a/x.git main extra\n", "REPOS:1: expected a repository and optionally a branch, got 3 fields", id="three-fields"),
        pytest.param("/a/x.git\n\n/a/x.git\n", "REPOS:3: repeats line 1", id="repeated-line"),
    ],
)
def test_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ReposFileError, match=f"^{message}$"):
        parse_repos(text.splitlines(), base=BASE)


def test_a_list_without_repositories_is_an_error(tmp_path: Path) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text("# nothing yet\n")
    with pytest.raises(ReposFileError, match="no repositories listed"):
        read_repos_file(listing)


def test_a_missing_list_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ReposFileError, match="no such file"):
        read_repos_file(tmp_path / "absent.txt")
