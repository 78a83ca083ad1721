"""speedups.imports: import edits without libcst's codemod framework, exactly as its visitors make them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from codemods.speedups import imports

REPO = Path(__file__).resolve().parents[2]
SAMPLE_MODULES = sorted((REPO / "sample_repo").rglob("*.py"))

TOPS = [
    pytest.param("x = 1\n", id="no-imports"),
    pytest.param("", id="empty"),
    pytest.param('"""Doc."""\nimport os\n', id="imports-only"),
    pytest.param('"""Doc."""\n\nimport os\nfrom typing import List\n# comment\nx = 1\n', id="docstring-and-comment"),
    pytest.param("__strict__ = True\nimport os\nx = 1\n", id="strict-flag"),
    pytest.param("#!/usr/bin/env python\nfrom __future__ import annotations\nimport sys\n\n\nclass C:\n    pass\n", id="future"),
    pytest.param("import os\nx = 1\nfrom app.services import other\nfrom typing import Any\n", id="imports-below-code"),
    pytest.param("from app.services import (\n    a,  # first\n    b,\n)\nx = 1\n", id="parenthesized"),
    pytest.param("from app.services import b as c, d\nfrom app.services import e\nx = 1\n", id="two-lines-same-module"),
    pytest.param("from app.services import *\nx = 1\n", id="star"),
    pytest.param("from . import sibling\nfrom .services import thing\nx = 1\n", id="relative"),
    pytest.param("import os; import sys\nx = 1\n", id="two-imports-on-a-line"),
    pytest.param("def f():\n    from app.services import make\n", id="import-in-function"),
    pytest.param("import logging\nimport os.path\nx = 1\n", id="plain-imports"),
    pytest.param("import logging as log, json\nx = 1\n", id="plain-import-with-alias"),
    pytest.param("x = 1\nimport logging\n", id="plain-import-below-code"),
    pytest.param("import os\n# about x\nx = 1\n", id="comment-before-code"),
]

ADDS = [
    pytest.param([("app.services", "make", None, 0)], id="one"),
    pytest.param([("app.services", "make", None, 0), ("app.services", "b", None, 0), ("app.other", "x", None, 0)], id="several"),
    pytest.param([("services.things", "make", None, 1), ("", "sibling", None, 1)], id="relative"),
    pytest.param([(".services", "thing", None, 0)], id="dots-in-the-module"),
    pytest.param([("typing", "List", None, 0), ("typing", "Any", None, 0)], id="already-there"),
    pytest.param([("logging", None, None, 0)], id="module"),
    pytest.param([("os.path", None, None, 0), ("json", None, None, 0), ("typing", "Any", None, 0)], id="modules-and-names"),
    pytest.param([("logging", None, None, 0), ("logging", None, None, 0), ("os", None, None, 0)], id="module-twice"),
    # Left to libcst's visitor: aliases, __future__.
    pytest.param([("logging", None, None, 0), ("app.services", "make", "build", 0)], id="module-and-alias"),
    pytest.param([("logging", None, "log", 0)], id="module-alias"),
    pytest.param([("__future__", "annotations", None, 0), ("app.services", "make", None, 0)], id="future-request"),
]


def libcst_context(package: str | None = None) -> object:
    from libcst.codemod import CodemodContext

    return CodemodContext(filename="app/views.py", full_module_name="app.views", full_package_name=package)


@pytest.mark.parametrize("requests", ADDS)
@pytest.mark.parametrize("source", TOPS)
def test_imports_added_equal_libcsts(source: str, requests: list) -> None:
    from libcst.codemod.visitors import AddImportsVisitor

    expected_context = libcst_context()
    context = imports.EditContext(filename="app/views.py", full_module_name="app.views")
    for module, obj, asname, relative in requests:
        AddImportsVisitor.add_needed_import(expected_context, module, obj, asname, relative)
        imports.add_needed_import(context, module, obj, asname, relative)
    tree = cst.parse_module(source)
    expected = AddImportsVisitor(expected_context).transform_module(tree).code
    assert imports.add_imports(context, tree).code == expected


@pytest.mark.parametrize("path", SAMPLE_MODULES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_imports_added_equal_libcsts_on_sample_repo(path: Path) -> None:
    from libcst.codemod.visitors import AddImportsVisitor

    tree = cst.parse_module(path.read_bytes())
    for module, obj in (("app.services.things", "make"), ("sqlalchemy", "select"), ("flask", "jsonify"), ("logging", None)):
        expected_context = libcst_context()
        context = imports.EditContext()
        AddImportsVisitor.add_needed_import(expected_context, module, obj)
        imports.add_needed_import(context, module, obj)
        expected = AddImportsVisitor(expected_context).transform_module(tree).code
        assert imports.add_imports(context, tree).code == expected, module


REMOVALS = [
    pytest.param("import os\nimport sys\n\nx = sys.argv\n", [("os", None, None)], id="module"),
    pytest.param("import os, sys\nx = 1\n", [("os", None, None)], id="first-of-two"),
    pytest.param("import os, sys\nx = 1\n", [("sys", None, None)], id="last-of-two"),
    pytest.param("import os as o, sys\nx = 1\n", [("os", None, "o")], id="module-alias"),
    pytest.param("from app.db import a, b, c\nx = b\n", [("app.db", "a", None), ("app.db", "c", None)], id="names"),
    pytest.param("from app.db import (\n    a,  # one\n    b,\n)\nx = b\n", [("app.db", "a", None)], id="parenthesized-first"),
    pytest.param("from app.db import (\n    a,\n    # about b\n    b,\n)\nx = a\n", [("app.db", "b", None)], id="parenthesized-last"),
    pytest.param("from app.db import (a, b)\nx = b\n", [("app.db", "a", None)], id="parentheses-one-line"),
    pytest.param("from app.db import a as z, b\nx = b\n", [("app.db", "a", "z")], id="name-alias"),
    pytest.param("from app.db import a\nfrom app.db import b\nx = 1\n", [("app.db", "a", None), ("app.db", "b", None)], id="two-lines"),
    pytest.param("from .db import a, b\nx = b\n", [("app.db", "a", None)], id="relative"),
    pytest.param("from ..db import a\nx = 1\n", [("db", "a", None)], id="relative-beyond-the-package"),
    pytest.param("from . import a, b\nx = b\n", [("app", "a", None)], id="relative-without-module"),
    pytest.param("from __future__ import annotations\nx = 1\n", [("__future__", "annotations", None)], id="future"),
    pytest.param("from app.db import *\nx = 1\n", [("app.db", "a", None)], id="star"),
    pytest.param("import os; import sys\nx = 1\n", [("os", None, None)], id="two-imports-on-a-line"),
    pytest.param("import os\nx = 'os'\n", [("os", None, None)], id="name-in-a-string"),
    pytest.param("import os\n\ndef f():\n    import os\n    return os.sep\n", [("os", None, None)], id="bound-twice"),
]


@pytest.mark.parametrize(("source", "requests"), REMOVALS)
@pytest.mark.parametrize("shortcuts", [True, False])
def test_unused_imports_removed_equal_libcsts(source: str, requests: list, shortcuts: bool) -> None:
    from libcst.codemod.visitors import RemoveImportsVisitor

    expected_context = libcst_context("app")
    context = imports.EditContext(filename="app/views.py", full_module_name="app.views", full_package_name="app")
    for module, obj, asname in requests:
        RemoveImportsVisitor.remove_unused_import(expected_context, module, obj, asname)
        imports.remove_unused_import(context, module, obj, asname)
    tree = cst.parse_module(source)
    expected = RemoveImportsVisitor(expected_context).transform_module(tree).code
    assert imports.remove_unused_imports(tree, context, shortcuts=shortcuts).code == expected


@pytest.mark.parametrize("path", SAMPLE_MODULES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_unused_imports_removed_equal_libcsts_on_sample_repo(path: Path) -> None:
    """Every name a top-level import line binds, asked to go (as route-commit asks after a move)."""
    from libcst.codemod.visitors import RemoveImportsVisitor

    tree = cst.parse_module(path.read_bytes())
    requests = []
    for statement in tree.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                requests += [(a.evaluated_name, None, a.evaluated_alias) for a in small.names]
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar) and small.module:
                module = cst.Module([]).code_for_node(small.module)
                requests += [(module, a.evaluated_name, a.evaluated_alias) for a in small.names]
    for request in requests:
        expected_context = libcst_context("app")
        context = imports.EditContext(full_package_name="app")
        RemoveImportsVisitor.remove_unused_import(expected_context, *request)
        imports.remove_unused_import(context, *request)
        expected = RemoveImportsVisitor(expected_context).transform_module(tree).code
        assert imports.remove_unused_imports(tree, context).code == expected, request


def test_the_scratch_keys_are_libcsts() -> None:
    from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

    assert (imports.ADD, imports.REMOVE) == (AddImportsVisitor.CONTEXT_KEY, RemoveImportsVisitor.CONTEXT_KEY)


def test_the_matcher_decorator_attributes_are_libcsts() -> None:
    from libcst.matchers import _decorators

    from codemods import base

    assert set(base._MATCHER_DECORATOR_ATTRIBUTES) == {
        _decorators.CONSTRUCTED_VISIT_MATCHER_ATTR,
        _decorators.CONSTRUCTED_LEAVE_MATCHER_ATTR,
        _decorators.VISIT_POSITIVE_MATCHER_ATTR,
        _decorators.VISIT_NEGATIVE_MATCHER_ATTR,
    }


def test_a_codemod_with_matcher_decorators_must_derive_from_libcsts_matcher_transformer() -> None:
    import libcst.matchers as m

    from codemods.base import Codemod

    with pytest.raises(TypeError, match="MatcherDecoratableTransformer"):

        class Decorated(Codemod):
            @m.visit(m.Name())
            def names(self, node: cst.Name) -> None:
                pass


def test_codemods_and_their_import_edits_do_not_import_libcsts_codemod_framework() -> None:
    script = (
        "import sys, libcst as cst\n"
        "from codemods.base import Codemod, FileContext\n"
        "import codemods.rules.route_commit, codemods.rules.bare_except, codemods.rules.loop_commit\n"
        "from codemods.speedups import imports\n"
        "added, removed = imports.EditContext(), imports.EditContext(full_package_name='app')\n"
        "imports.add_needed_import(added, 'app.services', 'make')\n"
        "imports.add_needed_import(added, 'logging')\n"
        "imports.remove_unused_import(removed, 'os')\n"
        "tree = imports.add_imports(added, cst.parse_module('import os\\nx = 1\\n'))\n"
        "print(imports.remove_unused_imports(tree, removed).code, end='')\n"
        "print(sorted(m for m in sys.modules if m.startswith(('libcst.matchers', 'libcst.codemod'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout == "import logging\nfrom app.services import make\n\nx = 1\n[]\n"
