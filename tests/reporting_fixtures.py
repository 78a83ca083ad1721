"""A small codemod used only by the report tests, so they do not depend on which real
codemods are registered, plus helpers to run the engine and the CLI with it."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import libcst as cst

from codemods.base import Codemod
from codemods.engine.config import Settings, resolve
from codemods.engine.runner import Engine, RunReport


class NoneCompare(Codemod):
    """Compare with None by identity.

    What it does:
        Rewrites ``x == None`` to ``x is None`` and ``x != None`` to ``x is not None``.

    Why is this bad?
        ``==`` calls ``__eq__``, which a class may override; identity is what is meant.

    Example:
        ```python
        if user == None:
            return
        ```

    Use instead:

        ```python
        if user is None:
            return
        ```

    Fix safety:
        Safe unless a class overrides ``__eq__`` to equal None on purpose.

    Limitations:
        Column expressions such as ``User.email == None`` build SQL and are left alone.
    """

    name = "none-compare"
    summary = "Compare with None using `is`, not `==`."
    safety = "Safe unless __eq__ is overridden to match None."
    markers = (b"None",)

    def leave_Comparison(self, original_node: cst.Comparison, updated_node: cst.Comparison) -> cst.Comparison:
        if len(updated_node.comparisons) != 1:
            return updated_node
        target = updated_node.comparisons[0]
        if not (isinstance(target.comparator, cst.Name) and target.comparator.value == "None"):
            return updated_node
        if not isinstance(target.operator, (cst.Equal, cst.NotEqual)):
            return updated_node
        left = original_node.left
        if isinstance(left, cst.Attribute) and isinstance(left.value, cst.Name) and left.value.value[:1].isupper():
            self.report(original_node, "not rewritten: looks like a SQL column expression", fixable=False)
            return updated_node
        self.report(original_node, "comparison with None by equality")
        operator = cst.Is() if isinstance(target.operator, cst.Equal) else cst.IsNot()
        return updated_node.with_changes(comparisons=[target.with_changes(operator=operator)])


SAMPLE_FILES: Mapping[str, str] = {
    "app/users.py": '''\
        import logging


        def find(users, name):
            for user in users:
                if user.name == name:
                    return user
            return None


        def check(user):
            if user == None:
                raise ValueError("no user")
            return user
        ''',
    "app/query.py": '''\
        def active(session, User):
            return session.query(User).filter(User.deleted_at == None).all()
        ''',
    "jobs/cleanup.py": '''\
        def run(item, other):
            if item != None and other == None:
                return "<b>&amp;</b>"
            return None
        ''',
    "clean.py": "VALUE = 1\n",
}


def write_tree(root: Path, files: Mapping[str, str] = SAMPLE_FILES) -> Path:
    for path, code in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(code), encoding="utf-8")
    return root


def settings_for(root: Path) -> Settings:
    return resolve(root, (NoneCompare,), jobs=1, cache=False)


def scan(root: Path) -> tuple[RunReport, Settings]:
    settings = settings_for(root)
    return Engine(root, settings).run(), settings
