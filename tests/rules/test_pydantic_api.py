"""pydantic-api: the Pydantic v1 API that v2 removed or deprecated, rewritten on known models."""

from __future__ import annotations

import textwrap

import pytest

from codemods.options import CodeStyle
from codemods.rules.pydantic_api import PydanticApi
from codemods.rules.pydantic_api.index import ApiIndex
from codemods.engine.pipeline import FILTERED, transform_source
from tests.rules.helpers import (
    assert_noop,
    assert_precheck_invisible,
    assert_rewrite,
    declined,
    make_plan,
    run_codemod,
)

SCHEMAS = "app/schemas.py"
MODELS = """
from typing import Optional
from pydantic import BaseModel

class User(BaseModel):
    id: int
    name: str = "ana"
"""


def rewrite(before: str, after: str, **kwargs):
    return assert_rewrite(PydanticApi, before, after, **kwargs)


def noop(source: str, **kwargs):
    return assert_noop(PydanticApi, source, **kwargs)


def with_models(**kwargs):
    """The file under test sees app/schemas.py (MODELS) in the scanned tree."""
    return {"other_files": {SCHEMAS: MODELS}, **kwargs}


def declined_after_todo(before: str, after: str, **kwargs) -> list[str]:
    """A decline: the only change is the TODO comment, and a second run keeps reporting why."""
    rewrite(before, after, **kwargs)
    return declined(noop(after, **kwargs))


# -- imports ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            """
            from pydantic import BaseSettings

            class Settings(BaseSettings):
                debug: bool = False
            """,
            """
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                debug: bool = False
            """,
            id="base-settings-alone",
        ),
        pytest.param(
            """
            from pydantic import BaseSettings, Field
            from pydantic_settings import SettingsConfigDict

            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_prefix="APP_")
                debug: bool = Field(False)
            """,
            """
            from pydantic import Field
            from pydantic_settings import BaseSettings, SettingsConfigDict

            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_prefix="APP_")
                debug: bool = Field(False)
            """,
            id="base-settings-joins-the-pydantic-settings-import-pydantic-config-added",
        ),
        pytest.param(
            """
            from pydantic import BaseSettings as Base

            class Settings(Base):
                debug: bool = False
            """,
            """
            from pydantic_settings import BaseSettings as Base

            class Settings(Base):
                debug: bool = False
            """,
            id="alias-kept",
        ),
        pytest.param(
            """
            import os

            from pydantic import BaseModel, BaseSettings

            from app.db import engine
            """,
            """
            import os

            from pydantic import BaseModel
            from pydantic_settings import BaseSettings

            from app.db import engine
            """,
            id="new-line-right-below-the-old-one",
        ),
        pytest.param(
            """
            import pydantic

            class Settings(pydantic.BaseSettings):
                debug: bool = False
            """,
            """
            import pydantic
            import pydantic_settings

            class Settings(pydantic_settings.BaseSettings):
                debug: bool = False
            """,
            id="module-attribute",
        ),
        pytest.param(
            """
            from pydantic.env_settings import BaseSettings, SettingsError
            from pydantic.error_wrappers import ValidationError
            """,
            """
            from pydantic_settings import BaseSettings, SettingsError
            from pydantic import ValidationError
            """,
            id="v1-submodules",
        ),
        pytest.param(
            """
            from pydantic.utils import to_camel

            def alias(name):
                return to_camel(name)
            """,
            """
            from pydantic.alias_generators import to_pascal as to_camel

            def alias(name):
                return to_camel(name)
            """,
            id="renamed-function-imported-under-the-name-the-code-uses",
        ),
        pytest.param(
            """
            import sys

            if sys.version_info >= (3, 8):
                from pydantic import BaseSettings, Field
            """,
            """
            import sys

            if sys.version_info >= (3, 8):
                from pydantic import Field
                from pydantic_settings import BaseSettings
            """,
            id="inside-a-block-stays-in-the-block",
        ),
    ],
)
def test_moves_imports(before: str, after: str) -> None:
    # Imports only Pydantic 1 serves mark a project still on it: these cases migrate one.
    rewrite(before, after, options={"pydantic-version": 2})


def test_guarded_import_is_already_v2_ready() -> None:
    # Under v2 the first import raises PydanticImportError, an ImportError: the fallback runs.
    noop(
        """
        try:
            from pydantic import BaseSettings
        except ImportError:
            from pydantic_settings import BaseSettings
        """
    )


def test_removed_name_is_reported_with_a_todo() -> None:
    reasons = declined_after_todo(
        """
        from pydantic import BaseModel, ConstrainedInt

        class Port(ConstrainedInt):
            ge = 1
        """,
        """
        # TODO[pydantic-api]: ConstrainedInt: subclass-style constrained types were removed: use
        #   Annotated[..., Field(...)] or conint()/constr()
        from pydantic import BaseModel, ConstrainedInt

        class Port(ConstrainedInt):
            ge = 1
        """,
        options={"pydantic-version": 2},
    )
    assert reasons == [
        "`ConstrainedInt` of pydantic has no v2 equivalent: "
        + "subclass-style constrained types were removed: use Annotated[..., Field(...)] or conint()/constr()"
    ]


def test_generic_model_becomes_base_model_with_generic() -> None:
    rewrite(
        """
        from typing import Generic, TypeVar
        from pydantic.generics import GenericModel

        T = TypeVar("T")

        class Page(GenericModel, Generic[T]):
            items: list[T]
        """,
        """
        from typing import Generic, TypeVar
        from pydantic import BaseModel

        T = TypeVar("T")

        class Page(BaseModel, Generic[T]):
            items: list[T]
        """,
    )


def test_generic_model_is_declined_when_the_file_reads_base_model_unbound() -> None:
    # Importing BaseModel would make `Broken` a model too, so a second run would convert
    # its __fields__ (found by benchmarks/write_runs.py: the write run was no fixed point).
    reasons = declined_after_todo(
        """
        from typing import Generic, TypeVar
        from pydantic.generics import GenericModel

        T = TypeVar("T")

        class Page(GenericModel, Generic[T]):
            items: list[T]

        class Broken(BaseModel):
            pass

        def names():
            return list(Broken.__fields__)
        """,
        """
        from typing import Generic, TypeVar
        from pydantic.generics import GenericModel

        T = TypeVar("T")

        # TODO[pydantic-api]: `BaseModel` is read but never bound here
        class Page(GenericModel, Generic[T]):
            items: list[T]

        class Broken(BaseModel):
            pass

        def names():
            return list(Broken.__fields__)
        """,
    )
    assert reasons == ["the name `BaseModel` it needs is read in this file but bound nowhere"]


def test_parse_obj_as_becomes_a_type_adapter() -> None:
    rewrite(
        """
        from pydantic import parse_obj_as

        def ids(raw):
            return parse_obj_as(list[int], raw)
        """,
        """
        from pydantic import TypeAdapter

        def ids(raw):
            return TypeAdapter(list[int]).validate_python(raw)
        """,
    )


# -- model methods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param("user.dict()", "user.model_dump()", id="dict"),
        pytest.param(
            "user.dict(by_alias=True, exclude_none=True)",
            "user.model_dump(by_alias=True, exclude_none=True)",
            id="dict-args",
        ),
        pytest.param("user.dict(skip_defaults=True)", "user.model_dump(exclude_unset=True)", id="skip-defaults"),
        pytest.param("user.json()", "user.model_dump_json()", id="json"),
        pytest.param(
            "user.json(indent=2, exclude={'id'})", "user.model_dump_json(indent=2, exclude={'id'})", id="json-indent"
        ),
        pytest.param("user.copy()", "user.model_copy()", id="copy"),
        pytest.param(
            "user.copy(update={'name': 'x'}, deep=True)",
            "user.model_copy(update={'name': 'x'}, deep=True)",
            id="copy-update",
        ),
        pytest.param("User.parse_obj(data)", "User.model_validate(data)", id="parse-obj"),
        pytest.param("User.from_orm(row)", "User.model_validate(row, from_attributes=True)", id="from-orm"),
        pytest.param("User.parse_raw(text)", "User.model_validate_json(text)", id="parse-raw"),
        pytest.param("User.schema(by_alias=False)", "User.model_json_schema(by_alias=False)", id="schema"),
        pytest.param("User.construct(id=1)", "User.model_construct(id=1)", id="construct"),
        pytest.param("User.construct(**data)", "User.model_construct(**data)", id="construct-star-star"),
        pytest.param("User.update_forward_refs()", "User.model_rebuild()", id="update-forward-refs"),
        pytest.param("user.__fields_set__", "user.model_fields_set", id="fields-set"),
        pytest.param("list(User.__fields__)", "list(User.model_fields)", id="fields-names"),
        pytest.param("'id' in user.__fields__", "'id' in type(user).model_fields", id="fields-of-an-instance"),
        pytest.param("[n for n in User.__fields__.keys()]", "[n for n in User.model_fields.keys()]", id="fields-keys"),
    ],
)
def test_methods_of_a_model_parameter(before: str, after: str) -> None:
    template = """
        from app.schemas import User

        def handle(user: User, data, row, text):
            return {}
        """
    rewrite(template.format(before), template.format(after), **with_models())


def test_schema_json_becomes_json_dumps_of_the_schema() -> None:
    rewrite(
        """
        from app.schemas import User

        def document():
            return User.schema_json(by_alias=False, indent=2)
        """,
        """
        from app.schemas import User
        import json

        def document():
            return json.dumps(User.model_json_schema(by_alias=False), indent=2)
        """,
        **with_models(),
    )


@pytest.mark.parametrize(
    ("binding", "use"),
    [
        pytest.param("def f(user: Optional[User]):", "user.dict()", id="optional"),
        pytest.param("def f(user: User | None = None):", "user.dict()", id="pep604-union"),
        pytest.param("def f(user: 'User'):", "user.dict()", id="string-annotation"),
        pytest.param("def f(user: Annotated[User, Body()]):", "user.dict()", id="fastapi-annotated-body"),
        pytest.param("def f(model: type[User]):", "model.parse_obj({})", id="type-of-model"),
        pytest.param("def f():\n    user = User(id=1)", "user.dict()", id="constructor"),
        pytest.param("def f(data):\n    user = User.parse_obj(data)", "user.dict()", id="parse-obj-result"),
        pytest.param("def f(data):\n    user: User = load(data)", "user.dict()", id="annotated-variable"),
        pytest.param("def f(data):\n    user = make()", "user.dict()", id="function-return-annotation"),
        pytest.param("async def f(data):\n    user = await fetch()", "user.dict()", id="awaited-async-function"),
        pytest.param("def f(data):\n    user = User(id=1).copy()", "user.dict()", id="copy-of-a-model"),
        pytest.param("def f():", "schemas.User.parse_obj({})", id="module-attribute"),
        pytest.param(
            "def f(users: list[User]):\n    for user in users:\n        pass", "user.dict()", id="loop-over-a-list"
        ),
        pytest.param(
            "def f(users: Optional[Sequence['User']]):", "[u.dict() for u in users]", id="comprehension-over-a-sequence"
        ),
        pytest.param(
            "def f(users: tuple[User, ...]):\n    for user in users:\n        pass",
            "user.dict()",
            id="loop-over-a-tuple",
        ),
    ],
)
def test_receiver_known_to_be_a_model(binding: str, use: str) -> None:
    template = """
        from typing import Annotated, Optional, Sequence
        from fastapi import Body
        from app import schemas
        from app.schemas import User

        def make() -> User:
            return User(id=1)

        async def fetch() -> User:
            return User(id=1)

        {}
            return {}
        """

    def v2(code: str) -> str:
        return (
            code.replace(".dict()", ".model_dump()")
            .replace(".parse_obj(", ".model_validate(")
            .replace(".copy()", ".model_copy()")
        )

    binding = binding.replace("\n", "\n        ")
    rewrite(template.format(binding, use), template.format(v2(binding), v2(use)), **with_models())


def test_self_and_cls_in_a_model() -> None:
    rewrite(
        """
        from pydantic import BaseModel

        class User(BaseModel):
            id: int

            def payload(self):
                return self.json()

            @classmethod
            def load(cls, raw):
                return cls.parse_raw(raw)
        """,
        """
        from pydantic import BaseModel

        class User(BaseModel):
            id: int

            def payload(self):
                return self.model_dump_json()

            @classmethod
            def load(cls, raw):
                return cls.model_validate_json(raw)
        """,
    )


def test_fields_declared_as_models_in_the_same_file() -> None:
    rewrite(
        """
        from typing import Optional
        from pydantic import BaseModel

        class Customer(BaseModel):
            name: str

        class Order(BaseModel):
            customer: Customer
            backup: Optional[Customer] = None
            lines: list[Customer] = []
            note: str = ""

            def summary(self):
                return self.customer.dict(), self.note.copy()

        def show(order: Order):
            return order.backup.json(), [line.dict() for line in order.lines]
        """,
        """
        from typing import Optional
        from pydantic import BaseModel

        class Customer(BaseModel):
            name: str

        class Order(BaseModel):
            customer: Customer
            backup: Optional[Customer] = None
            lines: list[Customer] = []
            note: str = ""

            def summary(self):
                return self.customer.model_dump(), self.note.copy()

        def show(order: Order):
            return order.backup.model_dump_json(), [line.model_dump() for line in order.lines]
        """,
    )


def test_module_level_settings_instance() -> None:
    rewrite(
        """
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            debug: bool = False

        settings = Settings()

        def describe():
            return settings.dict()
        """,
        """
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            debug: bool = False

        settings = Settings()

        def describe():
            return settings.model_dump()
        """,
    )


def test_model_re_exported_by_a_package_init() -> None:
    rewrite(
        """
        from app.models import User

        def handle(user: User):
            return user.dict()
        """,
        """
        from app.models import User

        def handle(user: User):
            return user.model_dump()
        """,
        other_files={"app/models/__init__.py": "from .user import User\n", "app/models/user.py": MODELS},
    )


def test_generic_model_parametrised_and_called() -> None:
    rewrite(
        """
        from typing import Generic, TypeVar
        from pydantic import BaseModel

        T = TypeVar("T")

        class Page(BaseModel, Generic[T]):
            items: list[T]

        def first():
            return Page[int](items=[1]).dict()
        """,
        """
        from typing import Generic, TypeVar
        from pydantic import BaseModel

        T = TypeVar("T")

        class Page(BaseModel, Generic[T]):
            items: list[T]

        def first():
            return Page[int](items=[1]).model_dump()
        """,
    )


def test_required_becomes_ellipsis() -> None:
    rewrite(
        """
        from fastapi import Query
        from pydantic import BaseModel, Field, Required

        class Item(BaseModel):
            name: str = Required
            price: float = Field(Required, gt=0)

        def search(q: str = Query(default=Required, min_length=3)):
            return q
        """,
        """
        from fastapi import Query
        from pydantic import BaseModel, Field

        class Item(BaseModel):
            name: str = ...
            price: float = Field(..., gt=0)

        def search(q: str = Query(default=..., min_length=3)):
            return q
        """,
    )


def test_required_used_otherwise_is_reported() -> None:
    reasons = declined(noop("from pydantic import Required\n\nMISSING = Required\n", options={"todo-comments": False}))
    assert reasons == [
        "`Required` of pydantic has no v2 equivalent: removed: use ... (Ellipsis) as the default of a required field"
    ]


# -- look-alikes and unknown receivers: never touched -----------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        # response.json() of an HTTP client, dict.copy(), a plain class's own dict()
        pytest.param(
            """
            import requests

            class Cache:
                def dict(self):
                    return {}

            def fetch(cache: Cache, options: dict):
                response = requests.get("https://example.com")
                return response.json(), options.copy(), cache.dict()
            """,
            id="look-alikes",
        ),
        # nothing says what `user` is
        pytest.param(
            """
            def handle(user):
                return user.dict()
            """,
            id="unannotated-parameter",
        ),
        # one binding is a model, another is not: the name is not known to be a model
        pytest.param(
            """
            from app.schemas import User

            def handle(raw):
                user = User(id=1)
                if raw:
                    user = raw
                return user.dict()
            """,
            id="rebound-to-something-else",
        ),
        # a loop over something whose items nothing describes
        pytest.param(
            """
            from app.schemas import User

            def handle(users: list[User], rows):
                return [user.dict() for user in rows], [u.dict() for _, u in enumerate(users)]
            """,
            id="loop-over-undescribed-items",
        ),
        # a local `User` shadows the model in this function
        pytest.param(
            """
            from app.schemas import User

            def handle(User):
                return User.parse_obj({})
            """,
            id="shadowed-class-name",
        ),
        # a global rebinding the analysis does not follow
        pytest.param(
            """
            from app.schemas import User

            user = User(id=1)

            def reset():
                global user
                user = None

            def show():
                return user.dict()
            """,
            id="global-rebinding",
        ),
    ],
)
def test_not_known_to_be_a_model(source: str) -> None:
    assert noop(source, **with_models()) == []


def test_pydantic_v1_api_models_are_left_alone() -> None:
    # A model of pydantic.v1 keeps the v1 API, which is right there.
    noop(
        """
        from pydantic.v1 import BaseModel, validator

        class User(BaseModel):
            id: int

            @validator("id")
            def positive(cls, v):
                return v

        def handle(user: User):
            return user.dict()
        """
    )


def test_a_project_s_v1_shim_is_not_even_parsed() -> None:
    # "pydantic" in the text, but no import from pydantic and no model of the index: the syntax
    # pre-check leaves the file out (langchain 0.0.350: 119 such modules, nothing to convert).
    source = textwrap.dedent(
        """
        from langchain.pydantic_v1 import BaseModel, Field

        class Prompt(BaseModel):
            text: str = Field(default="")

        def serialise(prompt: Prompt):
            return prompt.dict()
        """
    )
    plan = make_plan(PydanticApi, {"app/prompts.py": source, **with_models()["other_files"]})
    outcome = transform_source("app/prompts.py", source.encode(), plan)
    assert outcome.status == FILTERED
    assert_precheck_invisible(outcome, transform_source("app/prompts.py", source.encode(), plan, precheck=False))


# -- declined -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        pytest.param(
            "user.json(encoder=str)", "`user.json(encoder=...)` not converted: v2 has no per-call encoder", id="encoder"
        ),
        pytest.param(
            "user.json(models_as_dict=False)", "`user.json(models_as_dict=...)` not converted", id="models-as-dict"
        ),
        pytest.param("user.json(sort_keys=True)", "`user.json(sort_keys=...)` not converted", id="json-dumps-kwargs"),
        pytest.param(
            "user.copy(include={'id'})",
            "`user.copy(include=...)` not converted: model_copy() has no",
            id="copy-include",
        ),
        pytest.param(
            "User.parse_raw(b, content_type='application/pickle')",
            "`User.parse_raw(content_type=...)`",
            id="parse-raw-pickle",
        ),
        pytest.param("User.parse_file('u.json')", "`User.parse_file()` has no exact v2 equivalent", id="parse-file"),
        pytest.param("User.validate(user)", "`User.validate()` has no exact v2 equivalent", id="validate-copies"),
        pytest.param(
            "User.update_forward_refs(Tag=Tag)", "`User.update_forward_refs(Tag=...)`", id="forward-refs-namespace"
        ),
        pytest.param(
            "user.dict(**options)", "`user.dict(**...)`: which arguments it passes is unknown", id="star-star"
        ),
        pytest.param(
            "User.__fields__['id'].required",
            "`User.__fields__` not converted: its values are v1 ModelField",
            id="model-field",
        ),
    ],
)
def test_declined_calls_keep_the_code_and_say_why(call: str, reason: str) -> None:
    source = f"""
        from app.schemas import User

        def handle(user: User, b, options):
            return {call}
        """
    findings = noop(source, options={"todo-comments": False}, **with_models())
    assert len(declined(findings)) == 1 and declined(findings)[0].startswith(reason), declined(findings)


def test_decline_leaves_a_todo_within_the_line_length() -> None:
    before = """
        from app.schemas import User

        def handle(user: User):
            return user.json(encoder=str)
        """
    after = """
        from app.schemas import User

        def handle(user: User):
            # TODO[pydantic-api]: .json(encoder=...): v2 has no per-call
            #   encoder: use a field_serializer or model_serializer
            return user.json(encoder=str)
        """
    declined_after_todo(before, after, style=CodeStyle(line_length=70), **with_models())
    assert all(len(line) <= 70 for line in textwrap.dedent(after).splitlines())


def test_method_a_model_overrides_is_not_bypassed() -> None:
    reasons = declined(
        noop(
            """
            from pydantic import BaseModel

            class Base(BaseModel):
                id: int

            class Secret(Base):
                token: str

                def dict(self, **kwargs):
                    return {**super().dict(**kwargs), "token": "***"}

            def show(item: Base):
                return item.dict()
            """,
            options={"todo-comments": False},
        )
    )
    # `item` may be a Secret, whose dict() hides the token: model_dump() would bypass it
    assert reasons == [
        "`item.dict()` not converted: Base (or a class above or below it) defines its own dict(), which "
        "model_dump() would bypass"
    ]


# -- validators -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            """
            @validator("name")
            def strip(cls, v):
                return v.strip()
            """,
            """
            @field_validator("name")
            @classmethod
            def strip(cls, v):
                return v.strip()
            """,
            id="plain",
        ),
        pytest.param(
            """
            @validator("name", "email", pre=True, allow_reuse=True, check_fields=False)
            def strip(cls, v):
                return v.strip()
            """,
            """
            @field_validator("name", "email", check_fields=False, mode="before")
            @classmethod
            def strip(cls, v):
                return v.strip()
            """,
            id="pre-several-fields",
        ),
        pytest.param(
            """
            @validator("email")
            def differs(cls, v, values):
                if "name" in values and values["name"] == v:
                    raise ValueError("same as name")
                return v
            """,
            """
            @field_validator("email")
            @classmethod
            def differs(cls, v, info: ValidationInfo):
                if "name" in info.data and info.data["name"] == v:
                    raise ValueError("same as name")
                return v
            """,
            id="values-becomes-info-data",
        ),
        pytest.param(
            """
            @classmethod
            @validator("name")
            def strip(cls, v):
                return v.strip()
            """,
            """
            @classmethod
            @field_validator("name")
            def strip(cls, v):
                return v.strip()
            """,
            id="already-a-classmethod",
        ),
    ],
)
def test_field_validators(before: str, after: str) -> None:
    def model(imports: str, validator: str) -> str:
        body = textwrap.indent(textwrap.dedent(validator).strip(), "    ")
        return f"from pydantic import {imports}\n\nclass User(BaseModel):\n    name: str\n    email: str\n\n{body}\n"

    imports = (
        "ValidationInfo, field_validator, BaseModel" if "ValidationInfo" in after else "field_validator, BaseModel"
    )
    rewrite(model("BaseModel, validator", before), model(imports, after))


def test_module_form_decorator_stays_in_module_form() -> None:
    rewrite(
        """
        import pydantic

        class User(pydantic.BaseModel):
            name: str

            @pydantic.validator("name", pre=True)
            def strip(cls, v, values):
                return v.strip()
        """,
        """
        import pydantic

        class User(pydantic.BaseModel):
            name: str

            @pydantic.field_validator("name", mode="before")
            @classmethod
            def strip(cls, v, info: pydantic.ValidationInfo):
                return v.strip()
        """,
    )


@pytest.mark.parametrize(
    ("imports", "field", "after_imports", "after_field"),
    [
        pytest.param(
            "BaseModel",
            'tag: str = "new"',
            "Field, field_validator, BaseModel",
            'tag: str = Field("new", validate_default=True)',
            id="plain-default",
        ),
        pytest.param(
            "BaseModel, Field",
            'tag: str = Field("new", max_length=9)',
            "field_validator, BaseModel, Field",
            'tag: str = Field("new", max_length=9, validate_default=True)',
            id="field-default",
        ),
        pytest.param(
            "BaseModel",
            "tag: Optional[str]",
            "Field, field_validator, BaseModel",
            "tag: Optional[str] = Field(None, validate_default=True)",
            id="optional-default-none",
        ),
        # a required field always has a value to validate
        pytest.param("BaseModel", "tag: str", "field_validator, BaseModel", "tag: str", id="required-field"),
    ],
)
def test_always_becomes_validate_default(imports: str, field: str, after_imports: str, after_field: str) -> None:
    template = """
        from typing import Optional
        from pydantic import {}

        class Post(BaseModel):
            {}

            @{}{}
            def lower(cls, v):
                return (v or "none").lower()
        """
    rewrite(
        template.format(imports + ", validator", field, 'validator("tag", always=True)', ""),
        template.format(after_imports, after_field, 'field_validator("tag")', "\n            @classmethod"),
    )


def test_root_validators() -> None:
    rewrite(
        """
        from pydantic import BaseModel, root_validator

        class Window(BaseModel):
            start: int
            end: int

            @root_validator(pre=True)
            def swap(cls, values):
                return {"start": values.get("end"), "end": values.get("start")} if values.get("swap") else values

            @root_validator(skip_on_failure=True)
            def ordered(cls, values):
                if values["start"] > values.get("end"):
                    raise ValueError("start after end")
                return values
        """,
        """
        from pydantic import model_validator, BaseModel

        class Window(BaseModel):
            start: int
            end: int

            @model_validator(mode="before")
            @classmethod
            def swap(cls, values):
                return {"start": values.get("end"), "end": values.get("start")} if values.get("swap") else values

            @model_validator(mode="after")
            def ordered(self):
                if self.start > self.end:
                    raise ValueError("start after end")
                return self
        """,
    )


@pytest.mark.parametrize(
    ("decorator", "signature", "body", "reason"),
    [
        pytest.param(
            'validator("tags", each_item=True)', "cls, v", "return v", "each_item=True has no v2 form", id="each-item"
        ),
        pytest.param('validator("tags")', "cls, v, field", "return v", "it takes `field`", id="field-param"),
        pytest.param('validator("tags")', "cls, v, values, config", "return v", "it takes `config`", id="config-param"),
        pytest.param('validator("tags")', "cls, v, **kwargs", "return v", "it takes *args or **kwargs", id="kwargs"),
        pytest.param(
            'validator("tags")', "cls, v, values", "info = 1\n    return v", "it uses the name `info`", id="info-taken"
        ),
        pytest.param(
            'validator("inherited", always=True)',
            "cls, v",
            "return v",
            "always=True for inherited",
            id="always-inherited",
        ),
        pytest.param(
            "root_validator",
            "cls, values",
            "return dict(values)",
            "it does not end with `return values`",
            id="root-returns-new",
        ),
        pytest.param(
            "root_validator",
            "cls, values",
            "check(values)\n    return values",
            "it uses `values` as a whole",
            id="root-values-whole",
        ),
        pytest.param(
            "root_validator",
            "cls, values",
            'values["tags"] = []\n    return values',
            "it assigns into `values`",
            id="root-assigns",
        ),
        pytest.param(
            "root_validator",
            "cls, values",
            "cls.seen = True\n    return values",
            "its body uses `cls`",
            id="root-uses-cls",
        ),
        pytest.param(
            "root_validator",
            "cls, values",
            'values.get("nope")\n    return values',
            "key that is not a field",
            id="root-unknown-key",
        ),
    ],
)
def test_validators_declined(decorator: str, signature: str, body: str, reason: str) -> None:
    body_lines = "\n".join("        " + line.strip() for line in body.split("\n"))
    source = (
        "from pydantic import BaseModel, root_validator, validator\n\n"
        "class Post(BaseModel):\n"
        "    tags: list\n\n"
        f"    @{decorator}\n"
        f"    def check({signature}):\n"
        f"{body_lines}\n"
    )
    findings = declined(noop(source, options={"todo-comments": False}))
    assert len(findings) == 1 and reason in findings[0], findings


# -- Field arguments --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param('Field(regex="^[a-z]+$")', 'Field(pattern="^[a-z]+$")', id="regex-anchored"),
        pytest.param('Field(regex=r"[a-z]+\\d")', 'Field(pattern=r"^[a-z]+\\d")', id="regex-anchored-like-re-match"),
        pytest.param('Field(regex="cat|dog")', 'Field(pattern="^(?:cat|dog)")', id="regex-alternation"),
        pytest.param("Field(min_items=1, max_items=3)", "Field(min_length=1, max_length=3)", id="items-to-length"),
        pytest.param("Field(0, allow_mutation=False)", "Field(0, frozen=True)", id="allow-mutation-false"),
        pytest.param("Field(0, allow_mutation=True)", "Field(0)", id="allow-mutation-true-is-the-default"),
        pytest.param(
            'Field(0, example=3, env="X")',
            'Field(0, json_schema_extra={"example": 3, "env": "X"})',
            id="extras-to-schema",
        ),
        pytest.param(
            "Field(\n    0,\n    example=3,\n)",
            'Field(\n    0,\n    json_schema_extra={"example": 3},\n)',
            id="multi-line-call",
        ),
    ],
)
def test_field_arguments(before: str, after: str) -> None:
    template = """
        from pydantic import BaseModel, Field

        class Item(BaseModel):
            value: list = {}
        """
    indent = lambda code: code.replace("\n", "\n            ")  # noqa: E731
    rewrite(template.format(indent(before)), template.format(indent(after)))


@pytest.mark.parametrize(
    ("env", "alias", "imports"),
    [
        pytest.param('"DATABASE_URL"', '"DATABASE_URL"', "Field", id="one-name"),
        pytest.param(
            '["DATABASE_URL", "DB_URL"]', 'AliasChoices("DATABASE_URL", "DB_URL")', "AliasChoices, Field", id="names"
        ),
    ],
)
def test_settings_env_becomes_validation_alias(env: str, alias: str, imports: str) -> None:
    rewrite(
        f"""
        from pydantic import Field
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            db_url: str = Field("sqlite://", env={env})
        """,
        f"""
        from pydantic import {imports}
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            db_url: str = Field("sqlite://", validation_alias={alias})
        """,
    )


@pytest.mark.parametrize(
    ("argument", "reason"),
    [
        pytest.param("const=True", "`Field(const=...)` not converted: const was removed", id="const"),
        pytest.param("unique_items=True", "`Field(unique_items=...)` not converted", id="unique-items"),
        pytest.param("regex=PATTERN", "`Field(regex=...)` with a value that is not a string literal", id="regex-name"),
        pytest.param('regex="(?<=a)b"', "look-arounds", id="regex-python-only"),
        pytest.param(
            "allow_mutation=FLAG", "`Field(allow_mutation=...)` with a value that is not True/False", id="mutation-name"
        ),
    ],
)
def test_field_arguments_declined(argument: str, reason: str) -> None:
    findings = declined(
        noop(
            f"""
            from pydantic import BaseModel, Field

            class Item(BaseModel):
                value: list = Field(0, {argument})
            """,
            options={"todo-comments": False},
        )
    )
    assert len(findings) == 1 and reason in findings[0], findings


@pytest.mark.parametrize(
    ("field", "after"),
    [
        pytest.param("note: Optional[str]", "note: Optional[str] = None", id="optional"),
        pytest.param("note: Union[str, None]", "note: Union[str, None] = None", id="union-none"),
        pytest.param("note: str | None", "note: str | None = None", id="pep604"),
        pytest.param("note: Any", "note: Any = None", id="any"),
        pytest.param(
            'note: Optional[str] = Field(description="x")',
            'note: Optional[str] = Field(description="x", default=None)',
            id="field-without-default",
        ),
    ],
)
def test_optional_fields_keep_v1s_default_none(field: str, after: str) -> None:
    template = """
        from typing import Any, ClassVar, Optional, Union
        from pydantic import BaseModel, Field

        class Item(BaseModel):
            {}
            required: Optional[int] = Field(...)
            counter: ClassVar[Optional[int]]
            _private: Optional[int]

            class Config:
                orm_mode = True
        """
    rewrite(template.format(field), template.format(after))


def test_optional_fields_of_v2_code_stay_required() -> None:
    # Nothing in the module is Pydantic v1 code: a required Optional field is meant so in v2.
    noop(
        """
        from typing import Optional
        from pydantic import BaseModel, ConfigDict

        class Item(BaseModel):
            model_config = ConfigDict(from_attributes=True)
            note: Optional[str]
        """
    )


# -- the whole-tree index ----------------------------------------------------------------------------


def test_index_knows_models_re_exports_and_overrides() -> None:
    files = {
        "app/models/__init__.py": "from .user import User\n",
        "app/models/user.py": MODELS + "\nclass Admin(User):\n    def json(self):\n        return '{}'\n",
        "app/use.py": "from app.models import User\nuser: User\nuser.dict()\n",
    }
    facts = {path: PydanticApi.index_file(path, code.encode()) for path, code in files.items()}
    index = PydanticApi.build_index(facts, {})
    assert isinstance(index, ApiIndex)
    assert index.models_of("app.models.User") == {"app.models.user.User"}
    assert index.facts["app.models.user.User"].overridden == ("json",)
    assert index.facts["app.models.user.Admin"].fields == ("id", "name")


def test_runs_without_the_whole_tree_pass() -> None:
    outcome = run_codemod(
        PydanticApi, "from pydantic import BaseModel\nclass A(BaseModel):\n    x: int\nA(x=1).dict()\n"
    )
    assert outcome.new_source.decode().endswith("A(x=1).model_dump()\n")


# -- a project still on Pydantic 1 ---------------------------------------------------------------

V1_USER = """\
    from pydantic import BaseModel
    from pydantic.fields import ModelField


    class User(BaseModel):
        name: str


    def payload(user: User) -> dict:
        return user.dict()
    """


def test_a_project_on_pydantic_1_keeps_its_v1_calls() -> None:
    # Under Pydantic 1 `.model_dump()` does not exist: the call would raise AttributeError.
    (message,) = declined(assert_noop(PydanticApi, V1_USER))
    assert "the project runs on Pydantic 1 (app/module.py, line 2: imports ModelField from pydantic.fields" in message


def test_a_project_moving_to_pydantic_2_gets_its_calls_rewritten() -> None:
    outcome = run_codemod(PydanticApi, V1_USER, options={"pydantic-version": 2})
    assert b"return user.model_dump()" in outcome.new_source
