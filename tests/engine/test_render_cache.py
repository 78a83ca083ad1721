"""The renders a run keeps (codemods/engine/templating.py): the same text as jinja2's, reused
only while everything the render reads is the same, and never for values the key cannot describe."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from codemods.engine.cache import KeyPrefix, content_key
from codemods.engine import templating
from codemods.engine.templating import TemplateSet, _plain
from codemods.rules.route_commit.services import ServiceFunction, ServiceModule
from tests.engine.test_engine import make_tree
from tests.engine.test_precommit_path import ROUTE_PROJECT, ROUTES, check, imported

FUNCTION = ServiceFunction(
    name="save_item", parameters=["db", "name"], body="    db.add(Item(name=name))\n    db.commit()\n", returns=[],
    is_async=False, static=False, summary="Save the item and commit.",
)  # fmt: skip


def cached_set(folder: Path, override: Path | None = None) -> TemplateSet:
    templates = TemplateSet(override)
    templates.use_cache(folder)
    return templates


def test_a_cached_render_is_jinja2s_text(tmp_path: Path) -> None:
    first = cached_set(tmp_path)
    text = first.render("service_function.py.j2", fn=FUNCTION)
    assert text == TemplateSet().render("service_function.py.j2", fn=FUNCTION)
    first.save_renders()
    second = cached_set(tmp_path)
    second._render = None  # type: ignore[assignment,method-assign] - a render now would fail
    assert second.render("service_function.py.j2", fn=FUNCTION) == text


def test_other_values_or_another_template_render_again(tmp_path: Path) -> None:
    first = cached_set(tmp_path)
    first.render("service_function.py.j2", fn=FUNCTION)
    first.save_renders()
    second = cached_set(tmp_path)
    other = dataclasses.replace(FUNCTION, is_async=True)
    assert second.render("service_function.py.j2", fn=other).startswith("async def save_item(")
    module = ServiceModule("Item services.", [["from app.db import db"]], None, None)
    assert second.render("service_module.py.j2", module=module) == TemplateSet().render("service_module.py.j2", module=module)


def test_an_override_folder_is_part_of_the_key(tmp_path: Path) -> None:
    override = tmp_path / "templates"
    override.mkdir()
    cache = tmp_path / "cache"
    first = cached_set(cache, override)
    packaged = first.render("service_function.py.j2", fn=FUNCTION)
    first.save_renders()
    (override / "service_function.py.j2").write_text("def {{ fn.name }}():\n    pass\n")
    assert cached_set(cache, override).render("service_function.py.j2", fn=FUNCTION) == "def save_item():\n    pass\n" != packaged


def test_the_renders_used_most_recently_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templating, "KEPT_RENDERS", 2)
    names = ["first", "second", "third"]
    templates = cached_set(tmp_path)
    for name in names:
        templates.render("service_function.py.j2", fn=dataclasses.replace(FUNCTION, name=name))
    templates.render("service_function.py.j2", fn=dataclasses.replace(FUNCTION, name="first"))  # used again
    templates.save_renders()
    kept = cached_set(tmp_path)
    kept._render = lambda name, values: "rendered again"  # type: ignore[assignment,method-assign]
    texts = {name: kept.render("service_function.py.j2", fn=dataclasses.replace(FUNCTION, name=name)) for name in names}
    assert texts["first"].startswith("def first(") and texts["third"].startswith("def third(")
    assert texts["second"] == "rendered again"


def test_without_a_cache_folder_nothing_is_kept(tmp_path: Path) -> None:
    templates = TemplateSet()
    templates.use_cache(None)
    assert templates.render("service_function.py.j2", fn=FUNCTION).startswith("def save_item(")
    templates.save_renders()
    assert list(tmp_path.iterdir()) == []


class Opaque:
    def __init__(self, name: str) -> None:
        self.name = name


@dataclasses.dataclass
class Foreign:  # defined outside auditfix's package: its code is not part of the key
    name: str


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        pytest.param({"fn": FUNCTION}, True, id="auditfix-dataclass"),
        pytest.param({"a": [1, 2.5, None, True], "b": ("x",), "c": {"k": "v"}}, True, id="builtins"),
        pytest.param({"a": Opaque("x")}, False, id="object"),
        pytest.param({"a": {1: "x"}}, False, id="mapping-by-int"),
        pytest.param({"a": {"x"}}, False, id="set"),
        pytest.param({"a": Path("x")}, False, id="path"),
        pytest.param({"a": Foreign("x")}, False, id="foreign-dataclass"),
        pytest.param({"a": ServiceModule("s", [[Opaque("x")]], None, None)}, False, id="dataclass-holding-object"),  # type: ignore[list-item]
    ],
)
def test_only_plain_values_are_kept(value: dict[str, object], plain: bool) -> None:
    assert _plain(value) is plain


def test_a_dataclass_with_an_attribute_besides_its_fields_is_not_plain() -> None:
    module = ServiceModule("s", [], None, None)
    object.__setattr__(module, "extra", "x")
    assert not _plain({"module": module})


def test_a_run_on_a_route_file_renders_from_the_cache_without_jinja2(tmp_path: Path) -> None:
    """The pre-commit case: the route file changed, its service function did not."""
    make_tree(tmp_path, ROUTE_PROJECT)
    first = check("app/routes.py", tmp_path, "--dry-run")
    assert "jinja2" in imported(first)
    (tmp_path / "app/routes.py").write_text(ROUTES + "# edited\n")
    second = check("app/routes.py", tmp_path, "--dry-run")
    assert "jinja2" not in imported(second)
    uncached = check("app/routes.py", tmp_path, "--dry-run", "--no-cache")
    assert "jinja2" in imported(uncached) and second.stdout == uncached.stdout
    # Another statement moves with the commit: its service function is rendered again.
    edited = ROUTES.replace("    db.session.add(item)\n", "    db.session.add(item)\n    item.touched = True\n")
    (tmp_path / "app/routes.py").write_text(edited)
    third = check("app/routes.py", tmp_path, "--dry-run")
    assert "jinja2" in imported(third) and "+    item.touched = True\n" in third.stdout


# -- cache keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "parts"),
    [
        pytest.param(("0.1", "digest", "route-commit"), ("app/routes.py", b"\x00\x01"), id="index-key"),
        pytest.param((), ("a",), id="no-prefix"),
        pytest.param(("ab",), ("c",), id="parts-are-length-prefixed"),
        pytest.param(("a",), ("bc",), id="parts-are-length-prefixed-too"),
    ],
)
def test_a_key_after_a_prefix_is_the_content_key_of_all_parts(prefix: tuple[str, ...], parts: tuple[bytes | str, ...]) -> None:
    keys = KeyPrefix(*prefix)
    assert keys.key(*parts) == content_key(*prefix, *parts)
    assert keys.key(*parts) == content_key(*prefix, *parts)  # the prefix is not used up
    assert keys.key("other") != keys.key(*parts)
