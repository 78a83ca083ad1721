"""Generated programs keep auditfix's promises: no crash, output that parses and compiles, a
second run that changes nothing, and a dry-run diff that applies to the bytes --write writes.

A few examples per property with a fixed seed, so the suite stays fast and deterministic;
``python benchmarks/fuzz.py --examples 5000`` runs the same checks on thousands.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codemods import REGISTRY
from tests.fuzz import strategies
from tests.fuzz.checks import check_dry_run_applies_like_write, check_program, check_tree

pytestmark = pytest.mark.skipif(not REGISTRY, reason="no codemod is registered")


def fast(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


# Which generated pattern each codemod is about; a codemod not listed gets every pattern.
FOCUS = {
    "bare-except": "bare-except",
    "print-to-logging": "print",
    "pydantic-config": "pydantic-config",
    "pydantic-api": "pydantic-api",
    "loop-commit": "loop-commit",
    "route-commit": "route-commit",
    "secret-compare": "secret-compare",
    "request-timeout": "request-timeout",
    "utcnow": "utcnow",
}


@fast(10)
@given(strategies.valid(strategies.programs(max_fragments=3)))
def test_full_pipeline_keeps_its_promises_on_generated_programs(source: str) -> None:
    check_program(source, REGISTRY)


@pytest.mark.parametrize("codemod", REGISTRY, ids=lambda c: c.name)
@fast(5)
@given(data=st.data())
def test_each_codemod_alone_keeps_its_promises(codemod, data: st.DataObject) -> None:
    focus = (FOCUS[codemod.name],) if codemod.name in FOCUS else ()
    source = data.draw(strategies.valid(strategies.programs(*focus, max_fragments=2)), label="source")
    check_program(source, (codemod,))


@fast(6)
@given(strategies.valid(strategies.grammar_module_with_pattern()))
def test_grammar_generated_module_followed_by_a_pattern(source: str) -> None:
    check_program(source, REGISTRY)


@fast(6)
@given(strategies.valid(strategies.prints_of_generated_expressions()))
def test_prints_of_generated_expressions_and_fstrings(source: str) -> None:
    check_program(source, REGISTRY)


@fast(5)
@given(strategies.model_package())
def test_models_inheriting_config_across_modules(files: dict[str, str]) -> None:
    check_tree(files, REGISTRY)


@fast(3)
@given(
    st.tuples(
        strategies.valid(strategies.programs(max_fragments=3)),
        strategies.valid(strategies.programs(max_fragments=2)),
    )
)
def test_dry_run_diff_applies_to_the_bytes_write_writes(sources: tuple[str, str]) -> None:
    check_dry_run_applies_like_write({"app/__init__.py": "", "app/views.py": sources[0], "app/jobs.py": sources[1]}, REGISTRY)
