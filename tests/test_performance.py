"""What the benchmarks rely on: a warm run reuses the cache in a new process, and codemods that
run one after another over an unchanged tree share its metadata without changing any result."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import libcst as cst
import libcst.matchers as m
import pytest
from libcst.metadata import ScopeProvider

from codemods.speedups import traversal
from codemods.base import Codemod
from codemods.engine.cache import stable_bytes
from codemods.engine.pipeline import CHANGED, UNCHANGED, Plan, transform_source
from codemods.engine.templating import TemplateSet

REPO = Path(__file__).resolve().parent.parent


class ClassNames(Codemod):
    """Reports nothing; its whole-tree index is a frozenset of strings (like pydantic-config's)."""

    name = "class-names"
    summary = "Test codemod with a set-valued index."
    safety = "None."
    markers = (b"class ",)
    index_markers = (b"class ",)
    METADATA_DEPENDENCIES = (ScopeProvider,)

    @classmethod
    def index_file(cls, path: str, source: bytes) -> Any:
        return tuple(line.split()[1].rstrip(":(") for line in source.decode().splitlines() if line.startswith("class "))

    @classmethod
    def build_index(cls, facts: Mapping[str, Any], options: Mapping[str, Any]) -> Any:
        return frozenset(name for names in facts.values() if names for name in names)


class RenameOld(Codemod):
    """Renames the name ``old`` to ``new`` where it is a module-level global."""

    name = "rename-old"
    summary = "Test codemod using scopes."
    safety = "None."
    markers = (b"old",)
    METADATA_DEPENDENCIES = (ScopeProvider,)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        scope = self.get_metadata(ScopeProvider, original_node, None)
        if original_node.value != "old" or scope is None or scope is not scope.globals:
            return updated_node
        self.report(original_node, "old is now new")
        return updated_node.with_changes(value="new")


class CountScopes(Codemod):
    """Declines at every function, with the number of scopes its metadata holds."""

    name = "count-scopes"
    summary = "Test codemod reading metadata another codemod computed first."
    safety = "None."
    markers = (b"def ",)
    METADATA_DEPENDENCIES = (ScopeProvider,)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        scope = self.get_metadata(ScopeProvider, original_node.body, None)
        self.report(original_node, f"scope of {original_node.name.value}: {type(scope).__name__}", fixable=False)
        return updated_node


def plan_of(*codemods: type[Codemod]) -> Plan:
    return Plan(codemods, {c.name: {} for c in codemods}, {}, TemplateSet())


SOURCE = textwrap.dedent(
    """\
    old = 1

    def f(old):
        return old

    class C:
        pass
    """
).encode()


# -- the warm run ------------------------------------------------------------------------------

WARM_RUN = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from codemods.engine.config import resolve
from codemods.engine.runner import Engine
from tests.test_performance import ClassNames
root = Path(sys.argv[1])
report = Engine(root, resolve(root, (ClassNames,), jobs=1, cache=True)).run()
print(report.cached)
"""


def test_a_second_process_reuses_the_cache_of_a_run_with_a_set_valued_index(tmp_path: Path) -> None:
    for number in range(3):
        (tmp_path / f"m{number}.py").write_text("".join(f"class C{number}{i}:\n    pass\n" for i in range(20)))
    counts = []
    for seed in ("1", "2"):  # string hashing, and so the order of a frozenset, differs per process
        environment = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", WARM_RUN, str(tmp_path), str(REPO)],
            capture_output=True, text=True, env=environment, check=True,
        )  # fmt: skip
        counts.append(int(result.stdout))
    assert counts == [0, 3]


def test_stable_bytes_of_a_set_do_not_follow_its_iteration_order() -> None:
    first, second = frozenset([0, 8]), frozenset([8, 0])  # 8 collides with 0: insertion order shows
    assert list(first) != list(second)
    assert stable_bytes(first) == stable_bytes(second)
    assert stable_bytes({"k": first}) == stable_bytes({"k": second})


def test_stable_bytes_tell_different_values_apart() -> None:
    values = [frozenset({"a"}), ("a",), ["a"], "a", b"a", {"a": 1}, {"a": "1"}, 1, "1", None, frozenset()]
    assert len({stable_bytes(v) for v in values}) == len(values)


# -- metadata shared between codemods ------------------------------------------------------------


def test_codemods_after_an_unchanged_pass_see_the_same_results_as_alone() -> None:
    together = transform_source("m.py", SOURCE, plan_of(ClassNames, CountScopes, RenameOld))
    alone = transform_source("m.py", SOURCE, plan_of(CountScopes))
    assert together.status == CHANGED
    assert together.new_source == SOURCE.replace(b"old = 1", b"new = 1")
    assert [f for f in together.findings if f.codemod == "count-scopes"] == alone.findings
    assert together.changed_by == ("rename-old",)


def test_a_codemod_after_a_change_gets_metadata_of_the_changed_tree() -> None:
    outcome = transform_source("m.py", SOURCE, plan_of(RenameOld, CountScopes))
    assert outcome.status == CHANGED
    assert [f.message for f in outcome.findings if f.codemod == "count-scopes"] == ["scope of f: FunctionScope"]


def test_metadata_is_computed_once_for_codemods_that_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    created = []
    original = ScopeProvider.__init__

    def counting(self: ScopeProvider, *args: Any, **kwargs: Any) -> None:
        created.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ScopeProvider, "__init__", counting)
    outcome = transform_source("m.py", b"class C:\n    def f(self):\n        pass\n", plan_of(ClassNames, CountScopes))
    assert outcome.status == UNCHANGED
    assert len(created) == 1


# -- the matcher machinery only for codemods that use it ---------------------------------------------


class RenameOldInFunctions(Codemod, m.MatcherDecoratableTransformer):
    """Uses a matcher decorator, so it keeps libcst's matcher machinery."""

    name = "rename-old-in-functions"
    summary = "Test codemod with a matcher decorator."
    safety = "None."
    markers = (b"old",)

    @m.call_if_inside(m.FunctionDef())
    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if original_node.value != "old":
            return updated_node
        self.report(original_node, "old is now new")
        return updated_node.with_changes(value="new")


def test_a_codemod_with_matcher_decorators_keeps_their_behaviour() -> None:
    assert not RenameOldInFunctions._plain
    outcome = transform_source("m.py", SOURCE, plan_of(RenameOldInFunctions))
    assert outcome.new_source == SOURCE.replace(b"(old)", b"(new)").replace(b"return old", b"return new")


def test_a_codemod_without_matcher_decorators_visits_with_the_fast_plain_hooks() -> None:
    # Not the matcher machinery, and not libcst's name-building lookups (codemods.speedups.traversal).
    assert RenameOld._plain
    assert RenameOld.on_visit is traversal.visit
    assert RenameOld.on_leave is traversal.leave_transformed
    assert RenameOld.on_visit_attribute is traversal.no_attribute_hook


# -- import edits without a copy of the tree --------------------------------------------------------


class AddLogging(Codemod):
    """Adds ``import logging`` wherever ``old`` occurs (a change reported at the module)."""

    name = "add-logging"
    summary = "Test codemod adding an import."
    safety = "None."
    markers = (b"old",)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        self.add_import("logging")
        self.report(original_node, "logging imported")
        return updated_node


def test_added_imports_do_not_copy_the_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    copies = []
    original = cst.Module.deep_clone

    def counting(self: cst.Module) -> cst.Module:
        copies.append(self)
        return original(self)

    monkeypatch.setattr(cst.Module, "deep_clone", counting)
    outcome = transform_source("m.py", b'"""Doc."""\nfrom __future__ import annotations\nold = 1\n', plan_of(AddLogging))
    assert outcome.new_source == b'"""Doc."""\nfrom __future__ import annotations\nimport logging\n\nold = 1\n'
    assert copies == []


def test_import_edits_without_a_copy_match_libcst() -> None:
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor

    from codemods.speedups.libcst_hooks import transform_module

    source = "import os\nfrom typing import List\n\nx = os.sep\n"
    results = []
    for run in (lambda v, t: v.transform_module(t), transform_module):
        context = CodemodContext()
        AddImportsVisitor.add_needed_import(context, "typing", "Dict")
        AddImportsVisitor.add_needed_import(context, "logging")
        results.append(run(AddImportsVisitor(context), cst.parse_module(source)).code)
    assert results[0] == results[1] != source


# -- imports added by looking at the top of the module only ------------------------------------------

TOPS = [
    pytest.param("", id="empty"),
    pytest.param("x = 1\n", id="no-imports"),
    pytest.param('"""Doc."""\n', id="docstring-only"),
    pytest.param('"""Doc."""\nimport os\n', id="imports-only"),
    pytest.param('"""Doc."""\n\nimport os\nfrom typing import List\n# comment\nx = 1\n\ndef f():\n    import logging\n', id="docstring"),
    pytest.param("__strict__ = True\nimport os\nx = 1\ny = 2\n", id="strict-flag"),
    pytest.param("#!/usr/bin/env python\n# header\nfrom __future__ import annotations\nimport sys\n\n\nclass C:\n    pass\nz = 3\n", id="future"),
    pytest.param("import os\nx = 1\nimport logging\nfrom typing import Any\ny = 2\n", id="imports-below-code"),
    pytest.param("from typing import Dict as D, List\nimport logging as log\nif True:\n    pass\nx = 1\n", id="aliases"),
    pytest.param("from . import sibling\nfrom .pkg import thing\nx = 1\ny = 2\n", id="relative"),
    pytest.param("import os; import sys\nx = 1\ny = 2\n", id="two-imports-on-a-line"),
    pytest.param("# only a comment\n\n\n# another\nx = 1\ny = 2\n", id="comments-then-code"),
]
REQUESTS = [
    [("logging", None, None)],
    [("typing", "Any", None), ("typing", "Dict", None)],
    [("__future__", "annotations", None), ("os", None, None)],
    [("typing", "List", "L"), ("logging", None, "log")],
    [(".pkg", "other", None)],
]


@pytest.mark.parametrize("source", TOPS)
@pytest.mark.parametrize("requests", REQUESTS)
def test_imports_added_from_the_top_alone_equal_libcsts(source: str, requests: list) -> None:
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor

    from codemods.speedups.libcst_hooks import add_imports

    def context() -> CodemodContext:
        made = CodemodContext(filename="pkg/mod.py", full_module_name="pkg.mod", full_package_name="pkg")
        for module, obj, asname in requests:
            if module.startswith(".") and obj is not None:
                AddImportsVisitor.add_needed_import(made, module.lstrip("."), obj, asname, relative=1)
            else:
                AddImportsVisitor.add_needed_import(made, module, obj, asname)
        return made

    tree = cst.parse_module(source)
    expected = AddImportsVisitor(context()).transform_module(tree).code
    assert add_imports(context(), tree).code == expected


def test_imports_added_from_the_top_alone_equal_libcsts_on_sample_repo() -> None:
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor

    from codemods.speedups.libcst_hooks import add_imports

    paths = sorted((REPO / "sample_repo").rglob("*.py"))
    assert paths
    for path in paths:
        tree = cst.parse_module(path.read_bytes())
        results = []
        for run in (lambda c, t: AddImportsVisitor(c).transform_module(t), add_imports):
            context = CodemodContext(filename=path.name, full_module_name="m", full_package_name="")
            AddImportsVisitor.add_needed_import(context, "logging")
            AddImportsVisitor.add_needed_import(context, "sqlalchemy", "select")
            results.append(run(context, tree).code)
        assert results[0] == results[1], path


def test_libcst_visitors_without_matcher_decorators_skip_the_scans_and_decorated_ones_keep_them() -> None:
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor
    from libcst.matchers import _visitors

    import codemods.speedups.libcst_hooks  # noqa: F401 - installs the shortcut

    assert hasattr(_visitors._gather_constructed_visit_funcs, "__wrapped__")
    # An undecorated libcst visitor: empty results, and it still does its job.
    context = CodemodContext()
    AddImportsVisitor.add_needed_import(context, "logging")
    visitor = AddImportsVisitor(context)
    assert visitor._extra_visit_funcs == {} and visitor._extra_leave_funcs == {}
    assert AddImportsVisitor(context).transform_module(cst.parse_module("x = 1\n")).code == "import logging\n\nx = 1\n"

    # A decorated one: its decorated functions and gating matchers are found and called.
    seen: list[str] = []

    class Decorated(m.MatcherDecoratableVisitor):
        @m.call_if_inside(m.FunctionDef())
        @m.visit(m.Name())
        def name_in_function(self, node: cst.Name) -> None:
            seen.append(node.value)

    cst.parse_module("a = 1\ndef f():\n    return b\n").visit(Decorated())
    assert seen == ["f", "b"]
