"""keep_blank_lines (route-commit's removed import lines give their blank lines to what follows):
its code of each statement is taken once per statement object, with the same result as taking
it for every statement of both modules."""

from __future__ import annotations

import difflib

import libcst as cst
import pytest

from codemods.rules.route_commit.services import _blank, _blank_count, keep_blank_lines

BEFORE = """\
import os

from app.db import db
from app.services import save

import sys


def f():
    return os.sep
"""


def keep_blank_lines_every_time(before: cst.Module, after: cst.Module) -> cst.Module:
    """The function as it was: every statement's code generated for each module."""
    empty = cst.Module([])
    old = [empty.code_for_node(s.with_changes(leading_lines=())) for s in before.body]
    new = [empty.code_for_node(s.with_changes(leading_lines=())) for s in after.body]
    body = list(after.body)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag not in ("delete", "replace") or j1 >= len(body):
            continue
        removed = max(_blank_count(before.body[i]) for i in range(i1, i2))
        following = body[j1]
        if removed > _blank_count(following):
            body[j1] = following.with_changes(leading_lines=[*_blank(removed), *following.leading_lines])
    return after.with_changes(body=body)


def _without(module: cst.Module, *indexes: int) -> cst.Module:
    return module.with_changes(body=[s for i, s in enumerate(module.body) if i not in indexes])


@pytest.mark.parametrize(
    "removed",
    [pytest.param((1,), id="middle-line"), pytest.param((3,), id="line-after-a-group"), pytest.param((1, 2, 3), id="all-but-first"), pytest.param((), id="none")],
)
def test_blank_lines_are_those_of_the_full_comparison(removed: tuple[int, ...]) -> None:
    before = cst.parse_module(BEFORE)
    after = _without(before, *removed)
    assert keep_blank_lines(before, after).code == keep_blank_lines_every_time(before, after).code


def test_a_changed_statement_is_compared_by_its_code() -> None:
    before = cst.parse_module(BEFORE)
    imports = before.body[1]
    changed = imports.with_changes(body=[cst.parse_statement("from app.db import engine").body[0]])
    after = before.with_changes(body=[before.body[0], changed, *before.body[3:]])
    assert keep_blank_lines(before, after).code == keep_blank_lines_every_time(before, after).code
