"""One name everywhere: every codemod module is registered once, under its own name."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import codemods.rules
from codemods import REGISTRY
from codemods.base import Codemod

PROJECT = Path(__file__).resolve().parent.parent


def codemod_classes_by_module() -> dict[str, list[type[Codemod]]]:
    found: dict[str, list[type[Codemod]]] = {}
    for info in pkgutil.walk_packages(codemods.rules.__path__, "codemods.rules."):
        module = importlib.import_module(info.name)
        classes = [
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, Codemod) and obj is not Codemod and obj.__module__ == module.__name__
        ]
        if classes:
            found[info.name.split(".")[2]] = classes
    return found


def test_every_codemod_module_is_registered_exactly_once() -> None:
    modules = codemod_classes_by_module()
    assert all(len(classes) == 1 for classes in modules.values()), "one codemod class per module"
    defined = [classes[0] for classes in modules.values()]
    assert sorted(c.name for c in REGISTRY) == sorted(c.name for c in defined)
    assert len({c.name for c in REGISTRY}) == len(REGISTRY)


@pytest.mark.parametrize("codemod", REGISTRY, ids=[c.name for c in REGISTRY])
def test_one_name_everywhere(codemod: type[Codemod]) -> None:
    module = codemod.name.replace("-", "_")
    # a rule is a module codemods/rules/<module>.py or a package codemods/rules/<module>/
    assert codemod.__module__ in (f"codemods.rules.{module}", f"codemods.rules.{module}.rule")
    assert importlib.import_module(f"codemods.rules.{module}").__dict__[codemod.__name__] is codemod
    assert codemod.__name__ == "".join(part.title() for part in codemod.name.split("-"))
    assert (PROJECT / "tests" / "rules" / f"test_{module}.py").is_file()


@pytest.mark.parametrize("codemod", REGISTRY, ids=[c.name for c in REGISTRY])
def test_metadata_is_complete(codemod: type[Codemod]) -> None:
    assert codemod.summary and "\n" not in codemod.summary
    assert codemod.safety
    assert codemod.markers and all(isinstance(m, bytes) and m for m in codemod.markers)
    assert len({o.name for o in codemod.options}) == len(codemod.options)
    for option in codemod.options:
        assert option.check(option.default) is None, f"default of {option.name} fails its own check"
