"""analysis.installed: packages_distributions() kept per environment, recomputed when it changes."""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path

import pytest

from codemods.analysis import installed


def _install(site: Path, name: str, top_level: str) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8")
    (info / "top_level.txt").write_text(top_level + "\n", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_the_answer_is_packages_distributions(site: Path, tmp_path: Path) -> None:
    _install(site, "alpha", "alpha_top")
    assert installed.top_level_names(tmp_path / "cache") == importlib.metadata.packages_distributions()
    assert installed.top_level_names(tmp_path / "cache")["alpha_top"] == ["alpha"]


def test_a_stored_answer_is_used_while_nothing_changed(site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install(site, "alpha", "alpha_top")
    first = installed.top_level_names(tmp_path / "cache")

    def unexpected() -> None:
        raise AssertionError("recomputed although no distribution changed")

    monkeypatch.setattr(importlib.metadata, "packages_distributions", unexpected)
    assert installed.top_level_names(tmp_path / "cache") == first


@pytest.mark.parametrize("change", ["install", "remove", "upgrade"])
def test_a_changed_distribution_is_read_again(site: Path, tmp_path: Path, change: str) -> None:
    _install(site, "alpha", "alpha_top")
    before = installed.top_level_names(tmp_path / "cache")
    assert "beta_top" not in before
    if change == "install":
        _install(site, "beta", "beta_top")
    elif change == "remove":
        for path in sorted((site / "alpha-1.0.dist-info").iterdir()):
            path.unlink()
        (site / "alpha-1.0.dist-info").rmdir()
    else:  # pip removes the old folder and writes a new one
        for path in sorted((site / "alpha-1.0.dist-info").iterdir()):
            path.unlink()
        (site / "alpha-1.0.dist-info").rmdir()
        _install(site, "alpha", "beta_top")
    after = installed.top_level_names(tmp_path / "cache")
    assert after == importlib.metadata.packages_distributions()
    assert after != before


def test_the_key_covers_every_path_entry_and_its_metadata_folders(site: Path) -> None:
    key = installed.environment_key()
    _install(site, "gamma", "gamma_top")
    assert installed.environment_key() != key
    assert installed.environment_key([*sys.path, str(site / "missing")]) != installed.environment_key()


def test_an_unwritable_cache_folder_still_answers(site: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    _install(site, "alpha", "alpha_top")
    assert installed.top_level_names(blocker / "cache")["alpha_top"] == ["alpha"]


def test_another_distribution_finder_bypasses_the_stored_answer(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install(site, "alpha", "alpha_top")
    installed.top_level_names(tmp_path / "cache")

    class Finder:
        @staticmethod
        def find_spec(*_: object) -> None:
            return None

        @staticmethod
        def find_distributions(*_: object) -> list[importlib.metadata.Distribution]:
            return [importlib.metadata.PathDistribution(site / "alpha-1.0.dist-info")]

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder])
    assert installed.top_level_names(tmp_path / "cache") == importlib.metadata.packages_distributions()
    assert installed.top_level_names(tmp_path / "cache")["alpha_top"] == ["alpha", "alpha"]



def test_the_importlib_metadata_backport_keeps_the_stored_answer(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Importing the backport (some libraries do) adds its finder of the same sys.path folders:
    the stored answer still holds, and is still read again when a distribution changes."""
    backport = pytest.importorskip("importlib_metadata")
    _install(site, "alpha", "alpha_top")
    first = installed.top_level_names(tmp_path / "cache")
    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, backport.MetadataPathFinder()])
    with monkeypatch.context() as patch:
        patch.setattr(importlib.metadata, "packages_distributions", lambda: pytest.fail("recomputed"))
        assert installed.top_level_names(tmp_path / "cache") == first
    _install(site, "beta", "beta_top")
    assert "beta_top" in installed.top_level_names(tmp_path / "cache")


def test_the_folder_keeps_the_answers_written_last(site: Path, tmp_path: Path) -> None:
    # One answer per interpreter and path: a machine with many checkouts and virtualenvs must not
    # collect one file for each of them for ever.
    folder = tmp_path / "cache"
    folder.mkdir()
    for number in range(installed.KEPT + 5):
        old = folder / f"installed-{number:016x}.json"
        old.write_text("{}", encoding="utf-8")
        os.utime(old, ns=(number * 10**9, number * 10**9))
    _install(site, "alpha", "alpha_top")
    assert installed.top_level_names(folder)["alpha_top"] == ["alpha"]
    kept = sorted(path.name for path in folder.glob("installed-*.json"))
    newest_old = [f"installed-{number:016x}.json" for number in range(5 + 1, installed.KEPT + 5)]
    assert len(kept) == installed.KEPT
    assert set(newest_old) <= set(kept)  # the answer just written, and the 15 written before it
    assert installed.top_level_names(folder)["alpha_top"] == ["alpha"]  # and it is read back
