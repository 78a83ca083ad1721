"""The shared assertions every codemod test uses.

``assert_rewrite`` checks the exact output, that the codemod reported what it changed,
that the output parses, and that a second run is a no-op (the pipeline itself refuses a
rewrite that is not a fixed point, so a non-idempotent codemod fails here as FAILED).
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Mapping
from typing import Any

import libcst as cst

from codemods.base import Codemod, Finding
from codemods.engine.config import default_options
from codemods.engine.pipeline import (
    CHANGED,
    FILTERED,
    UNCHANGED,
    FileOutcome,
    Plan,
    transform_source,
)
from codemods.engine.templating import TemplateSet
from codemods.options import CodeStyle


def make_plan(
    codemod: type[Codemod],
    sources: Mapping[str, str],
    options: Mapping[str, Any] | None = None,
    templates: TemplateSet | None = None,
    style: CodeStyle | None = None,
) -> Plan:
    """A one-codemod plan whose whole-tree index is built from ``sources`` (path -> code)."""
    merged = {**default_options(codemod), **(options or {})}
    facts = {
        path: codemod.index_file(path, code.encode())
        for path, code in sources.items()
        if any(marker in code.encode() for marker in codemod.index_markers)
    }
    index = codemod.build_index(facts, merged)
    plan = Plan((codemod,), {codemod.name: merged}, {codemod.name: index}, templates or TemplateSet())
    return plan if style is None else dataclasses.replace(plan, style=style)


def run_codemod(
    codemod: type[Codemod],
    source: str,
    *,
    path: str = "app/module.py",
    options: Mapping[str, Any] | None = None,
    other_files: Mapping[str, str] | None = None,
    templates: TemplateSet | None = None,
    style: CodeStyle | None = None,
) -> FileOutcome:
    source = textwrap.dedent(source)
    plan = make_plan(codemod, {path: source, **(other_files or {})}, options, templates, style)
    outcome = transform_source(path, source.encode(), plan)
    assert_precheck_invisible(outcome, transform_source(path, source.encode(), plan, precheck=False))
    return outcome


def assert_precheck_invisible(checked: FileOutcome, unchecked: FileOutcome) -> None:
    """The syntax pre-check may only skip work: with it and without it, the outcome is the same
    (a file it filters out is one the codemods leave unchanged, with nothing to report)."""
    if checked.status == FILTERED:
        assert unchecked.status in (FILTERED, UNCHANGED), f"the pre-check skipped a file that {unchecked.status}"
        assert not unchecked.findings, f"the pre-check skipped a file with findings: {unchecked.findings}"
        assert not unchecked.extras, "the pre-check skipped a file that asks for generated code"
        return
    assert (checked.status, checked.new_source, checked.message) == (unchecked.status, unchecked.new_source, unchecked.message)
    assert checked.findings == unchecked.findings
    assert checked.changed_by == unchecked.changed_by
    assert repr(checked.extras) == repr(unchecked.extras)


def assert_rewrite(codemod: type[Codemod], before: str, after: str, **kwargs: Any) -> FileOutcome:
    outcome = run_codemod(codemod, before, **kwargs)
    assert outcome.status == CHANGED, f"expected a change, got {outcome.status}: {outcome.message}"
    new_code = outcome.new_source.decode()
    assert new_code == textwrap.dedent(after), f"unexpected output:\n{new_code}"
    assert any(f.fixable for f in outcome.findings), "a change must be reported as a fixable finding"
    cst.parse_module(new_code)
    compile(new_code, "<test>", "exec", dont_inherit=True)
    second = run_codemod(codemod, new_code, **kwargs)
    assert second.status in (UNCHANGED, FILTERED), f"second run changed the file: {second.status}"
    return outcome


def assert_noop(codemod: type[Codemod], source: str, **kwargs: Any) -> list[Finding]:
    """The code must not change; returns the findings so declines can assert their reason."""
    outcome = run_codemod(codemod, source, **kwargs)
    assert outcome.status in (UNCHANGED, FILTERED), (
        f"expected no change, got {outcome.status}: {outcome.message}\n"
        f"{outcome.new_source.decode() if outcome.new_source else ''}"
    )
    assert not any(f.fixable for f in outcome.findings), "a no-op must not report fixable findings"
    return outcome.findings


def declined(findings: list[Finding]) -> list[str]:
    """The messages of the findings a codemod declined to fix."""
    return [f.message for f in findings if not f.fixable]
