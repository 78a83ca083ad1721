"""The check of a generated file kept across runs (codemods/engine/generated.py): the verdict a
check without the cache gives, reused only while everything the check reads is the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.engine import pipeline
from codemods.engine.config import resolve
from codemods.engine.generated import GeneratedChecks
from codemods.engine.pipeline import Plan
from codemods.engine.runner import Engine, RunReport
from codemods.engine.templating import TemplateSet
from codemods.options import CodeStyle
from codemods.registry import REGISTRY
from codemods.rules.bare_except import BareExcept
from tests.engine.test_engine import make_tree
from tests.engine.test_precommit_path import ROUTE_PROJECT, ROUTES

FIXED = b"import logging\n\nlogging.basicConfig()\n\n\ndef run():\n    work()\n"
BARE = b"import logging\n\nlogging.basicConfig()\n\n\ndef run():\n    try:\n        work()\n    except:\n        pass\n"
UNCOMPILED = b"def run():\n    await work()\n"  # parses, but ``await`` outside ``async def``
PLAN = Plan((BareExcept,), {"bare-except": {}}, {}, TemplateSet())


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the codemods ran over (the verdicts not taken from the cache)."""
    paths: list[str] = []
    transform = pipeline.transform_source

    def counted(path: str, source: bytes, plan: Plan, **options: bool) -> pipeline.FileOutcome:
        paths.append(path)
        return transform(path, source, plan, **options)

    monkeypatch.setattr(pipeline, "transform_source", counted)
    return paths


def verdicts(cache: Path, *checks: tuple[str, bytes | None, bytes, Plan], fingerprint: str = "run", whole_tree: bool = False) -> list[tuple[pipeline.FileOutcome, str | None]]:
    generated = GeneratedChecks(cache, fingerprint)
    found = [generated.verdict(path, old, new, plan) for path, old, new, plan in checks]
    generated.save(whole_tree=whole_tree)
    return found


@pytest.mark.parametrize(
    ("text", "status", "problem"),
    [
        pytest.param(FIXED, pipeline.FILTERED, None, id="nothing-to-do"),
        pytest.param(BARE, pipeline.CHANGED, None, id="changed-by-a-codemod"),
        pytest.param(UNCOMPILED, pipeline.FILTERED, "the rewrite does not compile", id="rejected"),
    ],
)
def test_a_kept_verdict_is_the_checks(tmp_path: Path, checked: list[str], text: bytes, status: str, problem: str | None) -> None:
    uncached = verdicts(None, ("app/services.py", None, text, PLAN))  # type: ignore[arg-type]
    assert verdicts(tmp_path, ("app/services.py", None, text, PLAN)) == uncached
    assert checked == ["app/services.py", "app/services.py"]
    assert verdicts(tmp_path, ("app/services.py", None, text, PLAN)) == uncached
    assert checked == ["app/services.py", "app/services.py"]  # the third from the cache
    outcome, found = uncached[0]
    assert outcome.status == status and (found or "").startswith(problem or "")
    assert (found is None) is (problem is None)


@pytest.mark.parametrize(
    "plan",
    [
        pytest.param(Plan((BareExcept,), {"bare-except": {}}, {}, TemplateSet(), screened=frozenset({"app/services.py"})), id="screened"),
        pytest.param(Plan((BareExcept,), {"bare-except": {}}, {}, TemplateSet(), summaries={"app/services.py": {}}), id="pre-check-summary"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("cache", [False, True], ids=["no-cache", "cache"])
def test_the_index_pass_facts_of_the_text_before_do_not_decide_for_the_generated_one(tmp_path: Path, plan: Plan, cache: bool) -> None:
    # The index pass screened out the module that was at the path (no codemod could act on it);
    # the generated text that replaces it has a bare except, which the run must fix.
    outcome, problem = verdicts(tmp_path if cache else None, ("app/services.py", FIXED, BARE, plan))[0]  # type: ignore[arg-type]
    assert outcome.status == pipeline.CHANGED and problem is None
    assert outcome.new_source is not None and b"except Exception:" in outcome.new_source


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(("app/services.py", None, FIXED + b"# more\n", PLAN, "run"), id="text"),
        pytest.param(("app/other.py", None, FIXED, PLAN, "run"), id="path"),
        pytest.param(("app/services.py", b"x = 1\n", FIXED, PLAN, "run"), id="text-before"),
        pytest.param(("app/services.py", None, FIXED, PLAN, "another run"), id="fingerprint"),
    ],
)  # fmt: skip
def test_every_input_of_the_key_misses(tmp_path: Path, checked: list[str], other: tuple) -> None:
    verdicts(tmp_path, ("app/services.py", None, FIXED, PLAN))
    path, old, new, plan, fingerprint = other
    assert verdicts(tmp_path, (path, old, new, plan), fingerprint=fingerprint) == verdicts(None, (path, old, new, plan))  # type: ignore[arg-type]
    assert len(checked) == 3  # filled, missed, and the uncached check


def test_a_crash_is_not_kept(tmp_path: Path, checked: list[str]) -> None:
    class Crashing(BareExcept):
        def leave_ExceptHandler(self, original_node, updated_node):  # type: ignore[no-untyped-def]
            raise RuntimeError("a bug")

    plan = Plan((Crashing,), {"bare-except": {}}, {}, TemplateSet())
    first = verdicts(tmp_path, ("app/services.py", None, BARE, plan))
    assert first[0][0].status == pipeline.FAILED and first[0][0].detail
    verdicts(tmp_path, ("app/services.py", None, BARE, plan))
    assert len(checked) == 2


def test_a_run_on_named_files_keeps_other_paths_verdicts(tmp_path: Path, checked: list[str]) -> None:
    verdicts(tmp_path, ("a.py", None, FIXED, PLAN), ("b.py", None, FIXED, PLAN))
    verdicts(tmp_path, ("a.py", None, BARE, PLAN))  # a.py generated anew: its old verdict goes
    verdicts(tmp_path, ("a.py", None, FIXED, PLAN), ("b.py", None, FIXED, PLAN))
    assert checked == ["a.py", "b.py", "a.py", "a.py"]
    verdicts(tmp_path, ("b.py", None, FIXED, PLAN), whole_tree=True)  # a whole-tree run keeps its own only
    verdicts(tmp_path, ("a.py", None, FIXED, PLAN), ("b.py", None, FIXED, PLAN))
    assert checked == ["a.py", "b.py", "a.py", "a.py", "a.py"]


def test_without_a_cache_folder_nothing_is_kept(tmp_path: Path, checked: list[str]) -> None:
    verdicts(None, ("a.py", None, FIXED, PLAN))  # type: ignore[arg-type]
    verdicts(None, ("a.py", None, FIXED, PLAN))  # type: ignore[arg-type]
    assert checked == ["a.py", "a.py"] and list(tmp_path.iterdir()) == []


def run_on_routes(root: Path, *, cache: bool) -> RunReport:
    return Engine(root, resolve(root, REGISTRY, cache=cache), only=["app/routes.py"]).run()


def test_the_pre_commit_run_takes_the_services_check_from_the_cache(tmp_path: Path, checked: list[str]) -> None:
    make_tree(tmp_path, ROUTE_PROJECT)
    run_on_routes(tmp_path, cache=True)  # the previous commit's run
    (tmp_path / "app/routes.py").write_text(ROUTES + "# edited\n")
    checked.clear()
    cached = run_on_routes(tmp_path, cache=True)
    assert checked == ["app/routes.py"]  # the generated service modules' checks come from the cache
    uncached = run_on_routes(tmp_path, cache=False)
    assert [(c.path, c.new) for c in cached.changes] == [(c.path, c.new) for c in uncached.changes]
    assert cached.findings == uncached.findings and cached.failed == uncached.failed
    assert [c.path for c in cached.changes] == ["app/routes.py", "app/services/__init__.py", "app/services/item_service.py"]


# -- the tidied text of a generated file, kept as the verdicts are ---------------------------------

UNSORTED = b"import sys\nimport os\n\nvalue = (os.sep, sys.platform, 'a long string that makes this line longer than eighty-eight')\n"


@pytest.fixture
def tidied_texts(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The texts style.tidy ran over (the tidied texts not taken from the cache)."""
    from codemods.engine import style

    texts: list[bytes] = []
    tidy = style.tidy

    def counted(original: bytes | None, new: bytes, code_style: CodeStyle) -> bytes:
        texts.append(new)
        return tidy(original, new, code_style)

    monkeypatch.setattr(style, "tidy", counted)
    return texts


def tidied(cache: Path | None, *calls: tuple[str, bytes | None, bytes], fingerprint: str = "run", whole_tree: bool = False) -> list[bytes]:
    generated = GeneratedChecks(cache, fingerprint)
    found = [generated.tidied(path, old, new, CodeStyle()) for path, old, new in calls]
    generated.save(whole_tree=whole_tree)
    return found


def test_a_kept_tidied_text_is_tidys(tmp_path: Path, tidied_texts: list[bytes]) -> None:
    from codemods.engine.style import tidy

    fresh = tidy(None, UNSORTED, CodeStyle())
    assert fresh.startswith(b"import os\nimport sys\n") and fresh != UNSORTED  # tidy does change it
    assert tidied(tmp_path, ("app/services.py", None, UNSORTED)) == [fresh]
    assert tidied(tmp_path, ("app/services.py", None, UNSORTED)) == [fresh]
    assert len(tidied_texts) == 2  # the fresh one and the first run's; the second run's from the cache


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(("app/services.py", None, UNSORTED + b"# more\n", "run"), id="text"),
        pytest.param(("app/other.py", None, UNSORTED, "run"), id="path"),
        pytest.param(("app/services.py", b"import sys\nimport os\n", UNSORTED, "run"), id="text-before"),
        pytest.param(("app/services.py", None, UNSORTED, "another run"), id="fingerprint"),
    ],
)  # fmt: skip
def test_every_input_of_the_tidied_key_misses(tmp_path: Path, tidied_texts: list[bytes], other: tuple) -> None:
    tidied(tmp_path, ("app/services.py", None, UNSORTED))
    path, old, new, fingerprint = other
    assert tidied(tmp_path, (path, old, new), fingerprint=fingerprint) == tidied(None, (path, old, new))
    assert len(tidied_texts) == 3  # filled, missed, and the uncached one


def test_tidied_texts_are_kept_as_verdicts_are(tmp_path: Path, tidied_texts: list[bytes]) -> None:
    tidied(tmp_path, ("a.py", None, UNSORTED), ("b.py", None, UNSORTED))
    tidied(tmp_path, ("a.py", None, UNSORTED + b"x = 1\n"))  # a.py generated anew: its old text goes
    tidied(tmp_path, ("a.py", None, UNSORTED), ("b.py", None, UNSORTED))
    assert tidied_texts == [UNSORTED, UNSORTED, UNSORTED + b"x = 1\n", UNSORTED]
    tidied(None, ("a.py", None, UNSORTED))  # no cache folder: tidied each time
    assert len(tidied_texts) == 5


def test_the_pre_commit_run_takes_the_services_tidied_text_from_the_cache(tmp_path: Path, tidied_texts: list[bytes]) -> None:
    make_tree(tmp_path, ROUTE_PROJECT)
    run_on_routes(tmp_path, cache=True)  # the previous commit's run
    assert len(tidied_texts) == 2  # the two generated files (the route module's tidy is the pipeline's)
    (tmp_path / "app/routes.py").write_text(ROUTES + "# edited\n")
    cached = run_on_routes(tmp_path, cache=True)
    assert len(tidied_texts) == 2  # the same generated texts: tidied as the previous run tidied them
    uncached = run_on_routes(tmp_path, cache=False)
    assert len(tidied_texts) == 4
    assert [(c.path, c.new) for c in cached.changes] == [(c.path, c.new) for c in uncached.changes]
