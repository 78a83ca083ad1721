"""pydantic-api, proven at runtime: converted code gives the values v1 gave, under Pydantic v2.

Each case is v1 code.  pydantic-config and pydantic-api convert it (as a run of auditfix does),
and the result is imported and exercised under Pydantic v2 with every warning an error, so a
v1 method, decorator or Field argument left behind fails the test.  The expected values are
written from v1's documented behaviour; each case also runs the original code under the v1 API
that Pydantic 2 still ships (``pydantic.v1``) and checks it gives those same values.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import textwrap
import types
import warnings
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic.v1 import ValidationError as V1ValidationError

from codemods.engine.config import default_options
from codemods.engine.pipeline import CHANGED, Plan, transform_source
from codemods.engine.templating import TemplateSet
from codemods.rules.pydantic_api import PydanticApi
from codemods.rules.pydantic_config import PydanticConfig

CODEMODS = (PydanticConfig, PydanticApi)
INVALID = (ValidationError, V1ValidationError)


def convert(source: str, path: str = "app/module.py") -> str:
    """The code after pydantic-config and pydantic-api, with the whole file as the tree."""
    source = textwrap.dedent(source)
    options = {c.name: default_options(c) for c in CODEMODS}
    indexes = {c.name: c.build_index({path: c.index_file(path, source.encode())}, options[c.name]) for c in CODEMODS}
    outcome = transform_source(path, source.encode(), Plan(CODEMODS, options, indexes, TemplateSet()))
    assert outcome.status == CHANGED, outcome.message
    return outcome.new_source.decode()


_modules = itertools.count()


def import_code(code: str, name: str) -> types.ModuleType:
    """Execute ``code`` as a new module with every warning an error.  It stays in sys.modules,
    where both Pydantic versions look up its annotations (v1 also later, for generics)."""
    name = f"{name}_{next(_modules)}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(code, f"<{name}>", "exec"), module.__dict__)
    return module


def as_v1(source: str) -> str:
    """The same code on the v1 API Pydantic 2 ships."""
    return re.sub(r"\bpydantic\b(?!\.v1)", "pydantic.v1", textwrap.dedent(source))


def both(source: str) -> tuple[types.ModuleType, types.ModuleType]:
    """(the converted code under v2, the original under v1): run each case on both."""
    converted = convert(source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # v1 on a new Python warns about itself; not the subject here
        original = import_code(as_v1(source), "v1_original")
    return import_code(converted, "v2_converted"), original


def check(
    source: str, expectations: Mapping[str, Callable[[types.ModuleType], Any]], expected: Mapping[str, Any]
) -> None:
    v2, v1 = both(source)
    for name, probe in expectations.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # v1's own deprecations (skip_defaults)
            v1_value = probe(v1)
        assert v1_value == expected[name], f"{name}: v1 gave {v1_value!r}; the expectation is wrong"
        assert probe(v2) == expected[name], f"{name}: v2 gives {probe(v2)!r}, v1 gave {expected[name]!r}"


SERVICE = """
    from typing import List, Optional
    from pydantic import BaseModel

    class Tag(BaseModel):
        label: str

    class User(BaseModel):
        id: int
        name: str = "ana"
        nickname: Optional[str]
        tags: List[Tag] = []

        class Config:
            orm_mode = True

        def public(self) -> dict:
            return self.dict(exclude={"id"})

    class Team(BaseModel):
        lead: "Member"

    class Member(BaseModel):
        user_id: int

    Team.update_forward_refs()

    def load(data: dict) -> User:
        return User.parse_obj(data)

    def dump(user: User) -> dict:
        return user.dict(exclude_none=True)

    def dump_unset(user: User) -> dict:
        return user.dict(skip_defaults=True)

    def to_json(user: User) -> str:
        return user.json(by_alias=True)

    def from_row(row) -> User:
        return User.from_orm(row)

    def from_text(text: str) -> User:
        return User.parse_raw(text)

    def renamed(user: User):
        copy = user.copy(update={"name": "bea"})
        return copy.name, user.name, sorted(copy.__fields_set__)

    def unchecked():
        user = User.construct(id="not an int")
        return user.id, sorted(user.__fields_set__)

    def field_names() -> list:
        return [name for name in User.__fields__]

    def has_field(user: User, name: str) -> bool:
        return name in user.__fields__

    def schema_keys():
        schema = User.schema()
        return sorted(schema["properties"]), schema["required"], schema["title"]

    def schema_text_keys():
        return sorted(json.loads(User.schema_json(indent=2))["properties"])
"""


def test_model_methods_give_v1s_values() -> None:
    source = "import json\n" + textwrap.dedent(SERVICE)
    check(
        source,
        {
            "parse_obj coerces": lambda m: m.load({"id": "2"}).id,
            "dict": lambda m: m.dump(m.User(id=1, tags=[{"label": "x"}])),
            "dict, unset only": lambda m: m.dump_unset(m.User(id=1, tags=[])),
            "own method": lambda m: m.User(id=1).public(),
            "json (as data)": lambda m: json.loads(m.to_json(m.User(id=1))),
            "from_orm": lambda m: m.from_row(SimpleNamespace(id=3, name="cy", nickname=None, tags=[])).name,
            "parse_raw": lambda m: m.from_text('{"id": 4}').id,
            "copy(update=)": lambda m: m.renamed(m.User(id=1)),
            "construct skips validation": lambda m: m.unchecked(),
            "__fields__": lambda m: m.field_names(),
            "__fields__ of an instance": lambda m: m.has_field(m.User(id=1), "nickname"),
            "forward refs resolved": lambda m: m.Team(lead={"user_id": 7}).lead.user_id,
            "schema": lambda m: m.schema_keys(),
            "schema_json": lambda m: m.schema_text_keys(),
        },
        {
            "parse_obj coerces": 2,
            "dict": {"id": 1, "name": "ana", "tags": [{"label": "x"}]},
            "dict, unset only": {"id": 1, "tags": []},
            "own method": {"name": "ana", "nickname": None, "tags": []},
            "json (as data)": {"id": 1, "name": "ana", "nickname": None, "tags": []},
            "from_orm": "cy",
            "parse_raw": 4,
            "copy(update=)": ("bea", "ana", ["id", "name"]),
            "construct skips validation": ("not an int", ["id"]),
            "__fields__": ["id", "name", "nickname", "tags"],
            "__fields__ of an instance": True,
            "forward refs resolved": 7,
            "schema": (["id", "name", "nickname", "tags"], ["id"], "User"),
            "schema_json": ["id", "name", "nickname", "tags"],
        },
    )


def test_model_dump_json_is_compact_json_of_the_same_data() -> None:
    """The documented difference: v2 writes no spaces after separators; the data is v1's."""
    v2, v1 = both("import json\n" + textwrap.dedent(SERVICE))
    assert v1.to_json(v1.User(id=1)) == '{"id": 1, "name": "ana", "nickname": null, "tags": []}'
    assert v2.to_json(v2.User(id=1)) == '{"id":1,"name":"ana","nickname":null,"tags":[]}'


VALIDATORS = """
    from typing import Optional
    from pydantic import BaseModel, Field, root_validator, validator

    class Signup(BaseModel):
        email: str
        password: str
        confirm: str
        tag: str = "New"
        nickname: Optional[str] = Field(None, max_length=20)

        @validator("email", pre=True)
        def lower(cls, v):
            return v.strip().lower() if isinstance(v, str) else v

        @validator("confirm")
        def matches(cls, v, values):
            if "password" in values and v != values["password"]:
                raise ValueError("passwords differ")
            return v

        @validator("tag", always=True)
        def tag_lower(cls, v):
            return v.lower()

        @validator("nickname", always=True)
        def default_nickname(cls, v, values):
            return v or values.get("email", "").split("@")[0]

    class Window(BaseModel):
        start: int
        end: int

        @root_validator(pre=True)
        def swap(cls, values):
            if values.get("reverse"):
                return {"start": values["end"], "end": values["start"]}
            return values

        @root_validator(skip_on_failure=True)
        def ordered(cls, values):
            if values["start"] > values.get("end"):
                raise ValueError("start after end")
            return values

    def signup(**data):
        try:
            return Signup(**data).dict()
        except (ValueError, TypeError) as error:
            return type(error).__name__

    def window(**data):
        try:
            created = Window(**data)
            return created.start, created.end
        except ValueError:
            return "invalid"
"""


def test_validators_give_v1s_values() -> None:
    data = {"email": " Ana@Example.COM ", "password": "s3cret", "confirm": "s3cret"}
    check(
        VALIDATORS,
        {
            "pre validator and always on defaults": lambda m: m.signup(**data),
            "values of earlier fields": lambda m: m.signup(**{**data, "confirm": "other"}),
            "root pre": lambda m: m.window(start=5, end=1, reverse=True),
            "root post passes": lambda m: m.window(start=1, end=5),
            "root post rejects": lambda m: m.window(start=5, end=1),
        },
        {
            "pre validator and always on defaults": {
                "email": "ana@example.com",
                "password": "s3cret",
                "confirm": "s3cret",
                "tag": "new",
                "nickname": "ana",
            },
            "values of earlier fields": "ValidationError",
            "root pre": (1, 5),
            "root post passes": (1, 5),
            "root post rejects": "invalid",
        },
    )


FIELDS = """
    from typing import Any, List, Optional
    from pydantic import BaseModel, Field

    class Product(BaseModel):
        sku: str = Field(..., regex="[A-Z]{3}-[0-9]+")
        kind: str = Field("mug", regex="mug|cup")
        tags: List[str] = Field(default_factory=list, min_items=1, max_items=3)
        code: int = Field(0, allow_mutation=False)
        color: Optional[str] = Field(description="if any")
        note: Optional[str]
        extra: Any
        size: int = Field(1, example=3)

        class Config:
            validate_assignment = True

    def valid(**data) -> bool:
        try:
            Product(**data)
            return True
        except ValueError:
            return False

    def reassign_code() -> str:
        product = Product(sku="ABC-1", tags=["a"])
        try:
            product.code = 5
        except (TypeError, ValueError):
            return "refused"
        return "assigned"

    def defaults():
        product = Product(sku="ABC-1", tags=["a"])
        return product.color, product.note, product.extra

    def example():
        return Product.schema()["properties"]["size"]["example"]
"""


def test_field_arguments_give_v1s_values() -> None:
    ok = {"sku": "ABC-1", "tags": ["a"]}
    check(
        FIELDS,
        {
            "valid": lambda m: m.valid(**ok),
            "regex anchored at the start like re.match": lambda m: m.valid(**{**ok, "sku": "xABC-1"}),
            "regex not anchored at the end (re.match)": lambda m: m.valid(**{**ok, "sku": "ABC-1x"}),
            "alternation anchored as a whole": lambda m: (
                m.valid(**{**ok, "kind": "cup"}),
                m.valid(**{**ok, "kind": "a cup"}),
            ),
            "min_items": lambda m: m.valid(**{**ok, "tags": []}),
            "max_items": lambda m: m.valid(**{**ok, "tags": ["a", "b", "c", "d"]}),
            "allow_mutation=False (with validate_assignment)": lambda m: m.reassign_code(),
            "Optional and Any default to None": lambda m: m.defaults(),
            "extra keywords in the schema": lambda m: m.example(),
        },
        {
            "valid": True,
            "regex anchored at the start like re.match": False,
            "regex not anchored at the end (re.match)": True,
            "alternation anchored as a whole": (True, False),
            "min_items": False,
            "max_items": False,
            "allow_mutation=False (with validate_assignment)": "refused",
            "Optional and Any default to None": (None, None, None),
            "extra keywords in the schema": 3,
        },
    )


GENERICS = """
    from typing import Generic, List, TypeVar
    from pydantic import parse_obj_as
    from pydantic.generics import GenericModel

    T = TypeVar("T")

    class Page(GenericModel, Generic[T]):
        items: List[T]
        total: int

    def first_page(raw) -> Page[int]:
        return Page[int].parse_obj(raw)

    def ids(raw):
        return parse_obj_as(List[int], raw)
"""


def test_generic_models_and_parse_obj_as_give_v1s_values() -> None:
    check(
        GENERICS,
        {
            "generic model validates its items": lambda m: m.Page[int](items=["1", 2], total=2).items,
            "parse_obj_as": lambda m: m.ids(["3", 4]),
            "generic rejects": lambda m: pytest.raises(INVALID, m.Page[int], items=["x"], total=1) is not None,
        },
        {"generic model validates its items": [1, 2], "parse_obj_as": [3, 4], "generic rejects": True},
    )


SETTINGS = """
    from typing import List, Optional
    from pydantic import BaseSettings, Field, validator

    class Settings(BaseSettings):
        app_name: str = "inventory"
        database_url: str = Field("sqlite:///local.db", env="DATABASE_URL")
        debug: bool = False
        allowed_hosts: List[str] = Field(default_factory=list, env=["ALLOWED_HOSTS", "HOSTS"])
        redis_url: Optional[str]

        class Config:
            env_prefix = "APP_"

        @validator("database_url")
        def no_trailing_slash(cls, v):
            return v.rstrip("/")

    def current():
        settings = Settings()
        return settings.dict()
"""


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        pytest.param(
            {},
            {
                "app_name": "inventory",
                "database_url": "sqlite:///local.db",
                "debug": False,
                "allowed_hosts": [],
                "redis_url": None,
            },
            id="defaults",
        ),
        pytest.param(
            {
                "APP_APP_NAME": "shop",
                "DATABASE_URL": "postgresql://db/shop/",
                "APP_DATABASE_URL": "ignored: env= names the variable, without the prefix",
                "APP_DEBUG": "true",
                "HOSTS": '["a.example", "b.example"]',
                "APP_REDIS_URL": "redis://cache",
            },
            {
                "app_name": "shop",
                "database_url": "postgresql://db/shop",
                "debug": True,
                "allowed_hosts": ["a.example", "b.example"],
                "redis_url": "redis://cache",
            },
            id="prefixed-and-per-field-names",
        ),
        pytest.param(
            {"ALLOWED_HOSTS": '["first"]', "HOSTS": '["second"]', "APP_ALLOWED_HOSTS": '["ignored"]'},
            {
                "app_name": "inventory",
                "database_url": "sqlite:///local.db",
                "debug": False,
                "allowed_hosts": ["first"],
                "redis_url": None,
            },
            id="first-of-several-names-wins",
        ),
    ],
)
def test_settings_module_reads_the_same_environment(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], expected: dict[str, Any]
) -> None:
    """pydantic-config plus pydantic-api turn a v1 settings module into one that imports and
    reads the same environment under v2."""
    for name in ("APP_APP_NAME", "DATABASE_URL", "APP_DATABASE_URL", "APP_DEBUG", "HOSTS", "ALLOWED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    for name in ("APP_ALLOWED_HOSTS", "APP_REDIS_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    converted = convert(SETTINGS)
    assert "from pydantic_settings import BaseSettings, SettingsConfigDict" in converted
    check(SETTINGS, {"settings": lambda m: m.current()}, {"settings": expected})


def test_the_checks_are_not_vacuous() -> None:
    """The unconverted code fails the same import under v2 with warnings as errors."""
    with pytest.raises(Exception, match="BaseSettings"):
        import_code(textwrap.dedent(SETTINGS), "unconverted_settings")
    with pytest.raises(Exception, match="deprecated"):
        import_code(textwrap.dedent(VALIDATORS), "unconverted_validators")
    module = import_code(convert("import json\n" + textwrap.dedent(SERVICE)), "converted_service")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DeprecationWarning):
            module.User(id=1).dict()  # what a leftover v1 call would do


def test_look_alikes_are_unchanged_and_still_work() -> None:
    source = """
        import copy
        from pydantic import BaseModel

        class User(BaseModel):
            id: int

        class Page:
            def __init__(self, rows):
                self.rows = rows

            def dict(self):
                return {"rows": self.rows}

            def json(self):
                return "page"

        def describe(page: Page, options: dict, user: User):
            cloned = options.copy()
            return page.dict(), page.json(), cloned, copy.copy(options), user.dict()
    """
    converted = convert(source)
    assert "page.dict(), page.json(), cloned, copy.copy(options), user.model_dump()" in converted
    assert "options.copy()" in converted
    module = import_code(converted, "look_alikes")
    assert module.describe(module.Page([1]), {"a": 1}, module.User(id=2)) == (
        {"rows": [1]},
        "page",
        {"a": 1},
        {"a": 1},
        {"id": 2},
    )
