"""engine.collector: a run collects its youngest generation every 10,000 objects, and the
program that runs auditfix gets its own thresholds back, whatever happens."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from codemods.engine import collector
from codemods.engine.runner import Engine, RunReport
from tests.engine.test_engine import make_tree, run_engine
from tests.engine.toy_codemods import OldToNew


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_youngest_generation_raised_older_ratios_kept(thresholds: None) -> None:
    gc.set_threshold(700, 10, 10)
    with collector.fewer_collections():
        assert gc.get_threshold() == (collector.YOUNGEST, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_thresholds_come_back_after_an_error(thresholds: None) -> None:
    gc.set_threshold(500, 7, 3)
    with pytest.raises(KeyError), collector.fewer_collections():
        raise KeyError("a codemod bug")
    assert gc.get_threshold() == (500, 7, 3)


@pytest.mark.parametrize(
    "setting",
    [
        pytest.param((0, 10, 10), id="collection-switched-off"),  # the host turned it off: not ours to turn on
        pytest.param((50_000, 20, 20), id="already-rarer"),  # never make collections more frequent
    ],
)
def test_a_host_setting_at_least_as_rare_is_left_alone(thresholds: None, setting: tuple[int, int, int]) -> None:
    gc.set_threshold(*setting)
    with collector.fewer_collections():
        assert gc.get_threshold() == setting
    assert gc.get_threshold() == setting


def test_an_engine_run_uses_and_restores_the_thresholds(thresholds: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gc.set_threshold(700, 10, 10)
    seen: list[tuple[int, ...]] = []
    inner = Engine._run

    def recording_run(self: Engine) -> RunReport:
        seen.append(gc.get_threshold())
        return inner(self)

    monkeypatch.setattr(Engine, "_run", recording_run)
    make_tree(tmp_path, {"m.py": 'x = "old"\n'})
    report = run_engine(tmp_path, OldToNew)
    assert [c.path for c in report.changes] == ["m.py"]
    assert seen == [(collector.YOUNGEST, 10, 10)]
    assert gc.get_threshold() == (700, 10, 10)
