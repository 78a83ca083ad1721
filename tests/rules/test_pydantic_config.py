"""pydantic-config: v1 ``class Config`` -> v2 ``model_config = ConfigDict(...)``."""

from __future__ import annotations

import pickle
import textwrap

import pytest

from codemods.analysis import precheck
from codemods.analysis.pydantic_models import FileFacts, ModelIndex
from codemods.analysis.wrapping import wrap_comment
from codemods.options import CodeStyle
from codemods.rules.pydantic_config import TODO_PREFIX, PydanticConfig
from tests.rules.helpers import assert_noop, assert_rewrite, declined, make_plan, run_codemod

BASE = "app/base.py"


def rewrite(before: str, after: str, **kwargs):
    return assert_rewrite(PydanticConfig, before, after, **kwargs)


def noop(source: str, **kwargs):
    return assert_noop(PydanticConfig, source, **kwargs)


def declined_after_todo(before: str, after: str, **kwargs) -> list[str]:
    """A decline: the only change is the TODO comment, and a second run keeps reporting why."""
    rewrite(before, after, **kwargs)
    return declined(noop(after, **kwargs))


# -- conversions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            """
            from pydantic import BaseModel

            class User(BaseModel):
                id: int

                class Config:
                    orm_mode = True
            """,
            """
            from pydantic import ConfigDict, BaseModel

            class User(BaseModel):
                id: int

                model_config = ConfigDict(from_attributes=True)
            """,
            id="orm-mode-renamed-single-key-on-one-line",
        ),
        pytest.param(
            """
            from pydantic import BaseModel

            class Name(BaseModel):
                class Config:
                    allow_population_by_field_name = True
                    anystr_strip_whitespace = True
                    min_anystr_length = 1
                    max_anystr_length = 50
                    anystr_lower = True
                    anystr_upper = False
                    keep_untouched = (property,)
                    schema_extra = {"example": {"name": "ana"}}
                    validate_all = True
            """,
            """
            from pydantic import ConfigDict, BaseModel

            class Name(BaseModel):
                model_config = ConfigDict(
                    populate_by_name=True,
                    str_strip_whitespace=True,
                    str_min_length=1,
                    str_max_length=50,
                    str_to_lower=True,
                    str_to_upper=False,
                    ignored_types=(property,),
                    json_schema_extra={"example": {"name": "ana"}},
                    validate_default=True,
                )
            """,
            id="every-renamed-key-of-the-migration-table",
        ),
        pytest.param(
            """
            from pydantic import BaseModel

            class Point(BaseModel):
                x: int

                class Config:
                    validate_assignment = True
                    use_enum_values = True
                    arbitrary_types_allowed = True
                    title = "A point"
                    json_encoders = {complex: str}
            """,
            """
            from pydantic import ConfigDict, BaseModel

            class Point(BaseModel):
                x: int

                model_config = ConfigDict(
                    validate_assignment=True,
                    use_enum_values=True,
                    arbitrary_types_allowed=True,
                    title="A point",
                    json_encoders={complex: str},
                )
            """,
            id="unchanged-keys-and-json-encoders-kept",
        ),
        pytest.param(
            """
            from pydantic import BaseModel

            class Schema(BaseModel):
                class Config:
                    schema_extra = {
                        "example": {
                            "id": 1,
                        },
                    }
                    orm_mode = True
            """,
            """
            from pydantic import ConfigDict, BaseModel

            class Schema(BaseModel):
                model_config = ConfigDict(
                    json_schema_extra={
                        "example": {
                            "id": 1,
                        },
                    },
                    from_attributes=True,
                )
            """,
            id="multi-line-value-moves-one-level-in",
        ),
        pytest.param(
            '''
            from pydantic import BaseModel

            class Doc(BaseModel):
                class Config:
                    title = """Line one
            line two"""
            ''',
            '''
            from pydantic import ConfigDict, BaseModel

            class Doc(BaseModel):
                model_config = ConfigDict(
                    title="""Line one
            line two""",
                )
            ''',
            id="multi-line-string-value-is-not-reindented",
        ),
        pytest.param(
            """
            from pydantic import BaseModel

            class Doc(BaseModel):
                class Config:
                    title = "part one, " \\
                        "part two"
                    json_encoders = {
                        complex: str,  # no JSON type for it
                    }  # encoders
                    extra = "forbid"; frozen = True  # both
            """,
            """
            from pydantic import ConfigDict, BaseModel

            class Doc(BaseModel):
                model_config = ConfigDict(
                    title="part one, " \\
                        "part two",
                    json_encoders={
                        complex: str,  # no JSON type for it
                    },  # encoders
                    extra="forbid",
                    frozen=True,  # both
                )
            """,
            id="backslash-continuation-and-comments-inside-values",
        ),
        pytest.param(
            """
            from pydantic import BaseModel

            class Profile(BaseModel):
                class Config:
                    description_of_the_profile_schema_for_documentation = "a long value that does not fit"
            """,
            """
            from pydantic import ConfigDict, BaseModel

            class Profile(BaseModel):
                model_config = ConfigDict(
                    description_of_the_profile_schema_for_documentation="a long value that does not fit",
                )
            """,
            id="single-key-too-long-for-one-line",
        ),
        pytest.param(
            """
            from pydantic import BaseModel

            class Tag(BaseModel):
                class Config: orm_mode = True
            """,
            """
            from pydantic import ConfigDict, BaseModel

            class Tag(BaseModel):
                model_config = ConfigDict(from_attributes=True)
            """,
            id="one-line-config",
        ),
        pytest.param(
            """
            from pydantic import BaseModel

            class Tag(BaseModel):
                class Config:
                    orm_mode = True; frozen = True
            """,
            """
            from pydantic import ConfigDict, BaseModel

            class Tag(BaseModel):
                model_config = ConfigDict(
                    from_attributes=True,
                    frozen=True,
                )
            """,
            id="several-keys-on-one-line",
        ),
        pytest.param(
            """
            from pydantic import BaseModel

            class Tag(BaseModel):
                class Config:
                    orm_mode = True

                name: str
            """,
            """
            from pydantic import ConfigDict, BaseModel

            class Tag(BaseModel):
                model_config = ConfigDict(from_attributes=True)

                name: str
            """,
            id="config-first-in-the-body-stays-first",
        ),
        pytest.param(
            """
            from pydantic import BaseModel

            class Order(BaseModel):
                class Line(BaseModel):
                    qty: int

                    class Config:
                        frozen = True

                lines: list[Line]

                class Config:
                    orm_mode = True
            """,
            """
            from pydantic import ConfigDict, BaseModel

            class Order(BaseModel):
                class Line(BaseModel):
                    qty: int

                    model_config = ConfigDict(frozen=True)

                lines: list[Line]

                model_config = ConfigDict(from_attributes=True)
            """,
            id="nested-model-classes",
        ),
        pytest.param(
            """
            from typing import Generic, TypeVar
            from pydantic.generics import GenericModel

            T = TypeVar("T")

            class Page(GenericModel, Generic[T]):
                items: list[T]

                class Config:
                    orm_mode = True

            class UserPage(Page[int]):
                class Config:
                    frozen = True
            """,
            """
            from typing import Generic, TypeVar
            from pydantic.generics import GenericModel
            from pydantic import ConfigDict

            T = TypeVar("T")

            class Page(GenericModel, Generic[T]):
                items: list[T]

                model_config = ConfigDict(from_attributes=True)

            class UserPage(Page[int]):
                model_config = ConfigDict(frozen=True)
            """,
            id="generic-models-and-their-subscripted-subclasses",
        ),
        pytest.param(
            """
            import abc
            from pydantic import BaseModel

            class Mixin:
                def describe(self):
                    return repr(self)

            class Shape(Mixin, BaseModel, metaclass=abc.ABCMeta):
                class Config:
                    orm_mode = True
            """,
            """
            import abc
            from pydantic import ConfigDict, BaseModel

            class Mixin:
                def describe(self):
                    return repr(self)

            class Shape(Mixin, BaseModel, metaclass=abc.ABCMeta):
                model_config = ConfigDict(from_attributes=True)
            """,
            id="mixins-and-metaclass",
        ),
        pytest.param(
            """
            import pydantic

            def build():
                class Local(pydantic.BaseModel):
                    class Config:
                        orm_mode = True
                return Local
            """,
            """
            import pydantic
            from pydantic import ConfigDict

            def build():
                class Local(pydantic.BaseModel):
                    model_config = ConfigDict(from_attributes=True)
                return Local
            """,
            id="model-defined-inside-a-function",
        ),
        pytest.param(
            """
            from pydantic import BaseModel

            class Plain(BaseModel):
                class Config:
                    pass

            class Only(BaseModel):
                class Config:
                    ...
            """,
            """
            from pydantic import BaseModel

            class Plain(BaseModel):
                pass

            class Only(BaseModel):
                pass
            """,
            id="empty-config-is-removed",
        ),
        pytest.param(
            """
            from pydantic import BaseModel

            class Plain(BaseModel):
                x: int

                class Config:
                    # nothing to configure yet
                    pass
            """,
            """
            from pydantic import ConfigDict, BaseModel

            class Plain(BaseModel):
                x: int

                model_config = ConfigDict(
                    # nothing to configure yet
                )
            """,
            id="empty-config-with-a-comment-keeps-the-comment",
        ),
        pytest.param(
            '''
            from pydantic import BaseModel

            class Item(BaseModel):
                class Config:
                    """Items come from the ORM.

                    Keep them immutable.
                    """

                    orm_mode = True
            ''',
            """
            from pydantic import ConfigDict, BaseModel

            class Item(BaseModel):
                # Items come from the ORM.
                #
                # Keep them immutable.
                model_config = ConfigDict(from_attributes=True)
            """,
            id="docstring-becomes-a-comment",
        ),
    ],
)
def test_converts(before: str, after: str) -> None:
    rewrite(before, after)


def test_old_style_config_object_base_is_not_a_parent() -> None:
    rewrite(
        """
        from pydantic import BaseModel, ConfigDict

        class M(BaseModel):
            class Config(object):
                orm_mode = True
        """,
        """
        from pydantic import BaseModel, ConfigDict

        class M(BaseModel):
            model_config = ConfigDict(from_attributes=True)
        """,
    )


@pytest.mark.parametrize(
    ("imports", "parent", "after_imports"),
    [
        pytest.param(
            "from pydantic import BaseConfig, BaseModel", "BaseConfig", "from pydantic import ConfigDict, BaseModel",
            id="base-config-import-removed",
        ),
        pytest.param("import pydantic", "pydantic.BaseConfig", "import pydantic\nfrom pydantic import ConfigDict", id="module-attribute"),
        pytest.param(
            "from pydantic import BaseModel", "BaseModel.Config", "from pydantic import ConfigDict, BaseModel",
            id="the-root-models-own-config",
        ),
    ],
)
def test_config_inheriting_pydantic_defaults_converts(imports: str, parent: str, after_imports: str) -> None:
    base = "pydantic.BaseModel" if imports == "import pydantic" else "BaseModel"
    rewrite(
        f"{imports}\n\nclass M({base}):\n    class Config({parent}):\n        orm_mode = True\n",
        f"{after_imports}\n\nclass M({base}):\n    model_config = ConfigDict(from_attributes=True)\n",
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            "from pydantic import BaseModel\r\n\r\nclass M(BaseModel):\r\n    class Config:\r\n"
            "        orm_mode = True  # c\r\n        frozen = True\r\n",
            "from pydantic import ConfigDict, BaseModel\r\n\r\nclass M(BaseModel):\r\n"
            "    model_config = ConfigDict(\r\n        from_attributes=True,  # c\r\n        frozen=True,\r\n    )\r\n",
            id="crlf-newlines",
        ),
        pytest.param(
            "from pydantic import BaseModel\n\nclass M(BaseModel):\n\tclass Config:\n"
            "\t\torm_mode = True\n\t\tschema_extra = {\n\t\t\t'a': 1,\n\t\t}\n",
            "from pydantic import ConfigDict, BaseModel\n\nclass M(BaseModel):\n\tmodel_config = ConfigDict(\n"
            "\t\tfrom_attributes=True,\n\t\tjson_schema_extra={\n\t\t\t'a': 1,\n\t\t},\n\t)\n",
            id="tab-indentation",
        ),
    ],
)
def test_keeps_the_file_newlines_and_indentation(before: str, after: str) -> None:
    rewrite(before, after)


def test_config_assigned_from_elsewhere_is_reported_not_changed() -> None:
    findings = noop(
        """
        from pydantic import BaseModel
        from app.config import SharedConfig

        class M(BaseModel):
            Config = SharedConfig
        """
    )
    assert declined(findings) == ["Config is assigned, not defined in the class: convert it to model_config by hand"]


def test_comments_inside_config_are_kept() -> None:
    rewrite(
        """
        from pydantic import BaseModel

        class Order(BaseModel):
            # how orders are read
            class Config:  # v1 style
                # rows come from SQLAlchemy
                orm_mode = True  # see services.orders
                validate_assignment = True
                # the storefront sends camelCase
                allow_population_by_field_name = True
                # end of settings
        """,
        """
        from pydantic import ConfigDict, BaseModel

        class Order(BaseModel):
            # how orders are read
            # v1 style
            model_config = ConfigDict(
                # rows come from SQLAlchemy
                from_attributes=True,  # see services.orders
                validate_assignment=True,
                # the storefront sends camelCase
                populate_by_name=True,
                # end of settings
            )
        """,
    )


def test_annotated_keys_converted() -> None:
    rewrite(
        """
        from pydantic import BaseModel

        class Blob(BaseModel):
            class Config:
                arbitrary_types_allowed: bool = True
                orm_mode: bool = True
        """,
        """
        from pydantic import ConfigDict, BaseModel

        class Blob(BaseModel):
            model_config = ConfigDict(
                arbitrary_types_allowed=True,
                from_attributes=True,
            )
        """,
    )


# -- allow_mutation and extra ---------------------------------------------------------------------


def test_allow_mutation_becomes_frozen_not_todo() -> None:
    outcome = rewrite(
        """
        from pydantic import BaseModel

        class Money(BaseModel):
            class Config:
                allow_mutation = False
        """,
        """
        from pydantic import ConfigDict, BaseModel

        class Money(BaseModel):
            model_config = ConfigDict(frozen=True)
        """,
    )
    assert not declined(outcome.findings)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param("allow_mutation = True", "model_config = ConfigDict(frozen=False)", id="mutable-stays-mutable"),
        pytest.param(
            "frozen = False\n                allow_mutation = False",
            "model_config = ConfigDict(frozen=True)",
            id="frozen-false-and-immutable-is-frozen",
        ),
        pytest.param(
            "allow_mutation = True\n                frozen = True",
            "model_config = ConfigDict(frozen=True)",
            id="frozen-wins-over-allow-mutation",
        ),
    ],
)
def test_allow_mutation_combinations(config: str, expected: str) -> None:
    rewrite(
        f"""
        from pydantic import BaseModel

        class Money(BaseModel):
            class Config:
                {config}
        """,
        f"""
        from pydantic import ConfigDict, BaseModel

        class Money(BaseModel):
            {expected}
        """,
    )


def test_allow_mutation_not_a_literal_is_a_todo() -> None:
    outcome = rewrite(
        """
        from pydantic import BaseModel
        from app.flags import MUTABLE

        class Money(BaseModel):
            class Config:
                allow_mutation = MUTABLE
                orm_mode = True
        """,
        """
        from pydantic import ConfigDict, BaseModel
        from app.flags import MUTABLE

        class Money(BaseModel):
            # TODO[pydantic-config]: `allow_mutation = MUTABLE` not converted: it is not a
            #   literal True/False; set frozen=True where it is False
            model_config = ConfigDict(from_attributes=True)
        """,
    )
    assert any("allow_mutation = MUTABLE" in message for message in declined(outcome.findings))


@pytest.mark.parametrize(
    ("imports", "value", "after_imports"),
    [
        pytest.param(
            "from pydantic import BaseModel, Extra", "Extra.forbid", "from pydantic import ConfigDict, BaseModel",
            id="from-import-removed-when-unused",
        ),
        pytest.param(
            "from pydantic import BaseModel, Extra as E", "E.allow", "from pydantic import ConfigDict, BaseModel",
            id="aliased-extra",
        ),
        pytest.param(
            "from pydantic import BaseModel\nfrom pydantic.config import Extra",
            "Extra.ignore",
            "from pydantic import ConfigDict, BaseModel",
            id="extra-from-pydantic-config",
        ),
        pytest.param(
            "import pydantic\nfrom pydantic import BaseModel",
            "pydantic.Extra.forbid",
            "import pydantic\nfrom pydantic import ConfigDict, BaseModel",
            id="attribute-of-the-pydantic-module",
        ),
        pytest.param(
            "from pydantic import BaseModel", '"forbid"', "from pydantic import ConfigDict, BaseModel",
            id="string-already",
        ),
    ],
)
def test_extra_becomes_a_string(imports: str, value: str, after_imports: str) -> None:
    member = value.rsplit(".", 1)[-1].strip('"')
    before = f"{imports}\n\nclass M(BaseModel):\n    class Config:\n        extra = {value}\n"
    after = f'{after_imports}\n\nclass M(BaseModel):\n    model_config = ConfigDict(extra="{member}")\n'
    rewrite(before, after)


def test_extra_import_kept_while_still_used() -> None:
    rewrite(
        """
        from pydantic import BaseModel, Extra

        DEFAULT = Extra.ignore

        class M(BaseModel):
            class Config:
                extra = Extra.forbid
        """,
        """
        from pydantic import ConfigDict, BaseModel, Extra

        DEFAULT = Extra.ignore

        class M(BaseModel):
            model_config = ConfigDict(extra="forbid")
        """,
    )


# -- removed and unknown keys ---------------------------------------------------------------------


def test_removed_keys_become_todos_not_config_dict_keys() -> None:
    outcome = rewrite(
        """
        from pydantic import BaseModel

        class Legacy(BaseModel):
            class Config:
                orm_mode = True
                smart_union = True
                underscore_attrs_are_private = True
                copy_on_model_validation = "none"
                # aliases for the old API
                fields = {"id": {"alias": "ID"}}
                getter_dict = MyGetter
                error_msg_templates = {}
                json_loads = orjson.loads
                json_dumps = orjson.dumps
                post_init_call = "after_validation"
        """,
        """
        from pydantic import ConfigDict, BaseModel

        class Legacy(BaseModel):
            # TODO[pydantic-config]: `smart_union = True` was removed in Pydantic v2: v2 unions
            #   are smart by default; delete it
            # TODO[pydantic-config]: `underscore_attrs_are_private = True` was removed in
            #   Pydantic v2: v2 always treats _underscore attributes as private; delete it
            # TODO[pydantic-config]: `copy_on_model_validation = "none"` was removed in Pydantic
            #   v2: v2 never copies nested model instances; use revalidate_instances='always' if
            #   they must be revalidated
            # aliases for the old API
            # TODO[pydantic-config]: `fields = {"id": {"alias": "ID"}}` was removed in Pydantic
            #   v2: declare aliases and field settings with Field(...) on each field (for
            #   settings env names: Field(validation_alias=...))
            # TODO[pydantic-config]: `getter_dict = MyGetter` was removed in Pydantic v2: use
            #   from_attributes=True with a model_validator(mode='before') for custom attribute
            #   access
            # TODO[pydantic-config]: `error_msg_templates = {}` was removed in Pydantic v2:
            #   customise messages by catching ValidationError or with custom types
            # TODO[pydantic-config]: `json_loads = orjson.loads` was removed in Pydantic v2:
            #   parse the JSON yourself and call model_validate(), or use model_validate_json()
            # TODO[pydantic-config]: `json_dumps = orjson.dumps` was removed in Pydantic v2:
            #   serialise with model_dump_json() or a model_serializer
            # TODO[pydantic-config]: `post_init_call = "after_validation"` was removed in
            #   Pydantic v2: a pydantic dataclass's __post_init__ now always runs after
            #   validation
            model_config = ConfigDict(from_attributes=True)
        """,
    )
    assert len(declined(outcome.findings)) == 9


def test_only_removed_keys_leave_an_empty_config_dict_under_the_todo() -> None:
    rewrite(
        """
        from pydantic import BaseModel

        class Legacy(BaseModel):
            class Config:
                smart_union = True
        """,
        """
        from pydantic import ConfigDict, BaseModel

        class Legacy(BaseModel):
            # TODO[pydantic-config]: `smart_union = True` was removed in Pydantic v2: v2 unions
            #   are smart by default; delete it
            model_config = ConfigDict()
        """,
    )


def test_unknown_keys_are_kept_and_reported() -> None:
    # v2 accepts unknown ConfigDict keys at runtime without a warning, and code may read them
    # from model_config; type checkers flag them, so the finding says so.
    outcome = rewrite(
        """
        from pydantic import BaseModel

        class Event(BaseModel):
            class Config:
                orm_mode = True
                collection_name = "events"
        """,
        """
        from pydantic import ConfigDict, BaseModel

        class Event(BaseModel):
            model_config = ConfigDict(
                from_attributes=True,
                collection_name="events",
            )
        """,
    )
    assert declined(outcome.findings) == ["`collection_name` is not a Pydantic v2 config key; kept in model_config"]


# -- settings -------------------------------------------------------------------------------------


def test_settings_use_settings_config_dict() -> None:
    outcome = rewrite(
        """
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            database_url: str

            class Config:
                env_prefix = "APP_"
                env_file = ".env"
                env_file_encoding = "utf-8"
                env_nested_delimiter = "__"
                case_sensitive = False
                secrets_dir = "/run/secrets"
        """,
        """
        from pydantic_settings import SettingsConfigDict, BaseSettings

        class Settings(BaseSettings):
            database_url: str

            model_config = SettingsConfigDict(
                env_prefix="APP_",
                env_file=".env",
                env_file_encoding="utf-8",
                env_nested_delimiter="__",
                case_sensitive=False,
                secrets_dir="/run/secrets",
            )
        """,
    )
    assert not declined(outcome.findings)


def test_settings_detected_through_alias_and_chain() -> None:
    base = """
        import pydantic_settings as ps

        class AppSettings(ps.BaseSettings):
            debug: bool = False
        """
    middle = """
        from app.base import AppSettings as Base

        class ServiceSettings(Base):
            pass
        """
    rewrite(
        """
        from app import middle

        class WorkerSettings(middle.ServiceSettings):
            class Config:
                env_prefix = "WORKER_"
        """,
        """
        from app import middle
        from pydantic_settings import SettingsConfigDict

        class WorkerSettings(middle.ServiceSettings):
            model_config = SettingsConfigDict(env_prefix="WORKER_")
        """,
        other_files={BASE: textwrap.dedent(base), "app/middle.py": textwrap.dedent(middle)},
    )


def test_v1_base_settings_from_pydantic_is_a_settings_class() -> None:
    rewrite(
        """
        from pydantic import BaseSettings

        class Settings(BaseSettings):
            class Config:
                env_prefix = "APP_"
        """,
        """
        from pydantic import BaseSettings
        from pydantic_settings import SettingsConfigDict

        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="APP_")
        """,
    )


def test_settings_fields_with_env_names_is_a_todo() -> None:
    outcome = rewrite(
        """
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            class Config:
                fields = {"url": {"env": "DATABASE_URL"}}
        """,
        """
        from pydantic_settings import SettingsConfigDict, BaseSettings

        class Settings(BaseSettings):
            # TODO[pydantic-config]: `fields = {"url": {"env": "DATABASE_URL"}}` was removed in
            #   Pydantic v2: declare aliases and field settings with Field(...) on each field
            #   (for settings env names: Field(validation_alias=...))
            model_config = SettingsConfigDict()
        """,
    )
    assert len(declined(outcome.findings)) == 1


# -- which classes are models ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "base"),
    [
        pytest.param("from pydantic import BaseModel as BM", "BM", id="from-import-alias"),
        pytest.param("import pydantic", "pydantic.BaseModel", id="module-import"),
        pytest.param("import pydantic as pd", "pd.BaseModel", id="module-alias"),
        pytest.param("from pydantic import main", "main.BaseModel", id="submodule"),
        pytest.param("from pydantic import BaseModel\nModel = BaseModel", "Model", id="assignment-alias"),
        pytest.param(
            "try:\n    from pydantic_settings import BaseSettings\nexcept ImportError:\n    from pydantic import BaseSettings",
            "BaseSettings",
            id="either-settings-import",
        ),
    ],
)
def test_model_detected_through_imports(header: str, base: str) -> None:
    outcome = run_codemod(PydanticConfig, f"{header}\n\nclass M({base}):\n    class Config:\n        orm_mode = True\n")
    assert outcome.status == "changed", outcome.message
    assert "model_config = " in outcome.new_source.decode()


def test_model_detected_through_a_chain_across_files() -> None:
    rewrite(
        """
        from .schemas import APIModel

        class UserRead(APIModel):
            class Config:
                orm_mode = True
        """,
        """
        from .schemas import APIModel
        from pydantic import ConfigDict

        class UserRead(APIModel):
            model_config = ConfigDict(from_attributes=True)
        """,
        other_files={
            "app/schemas.py": "from .base import Base\n\nclass APIModel(Base):\n    pass\n",
            BASE: "from pydantic import BaseModel\n\nclass Base(BaseModel):\n    pass\n",
        },
    )


def test_keys_do_not_leak_after_unconvertible_config() -> None:
    rewrite(
        """
        from pydantic import BaseModel

        class First(BaseModel):
            class Config:
                orm_mode = True

                @staticmethod
                def schema_extra(schema):
                    schema["title"] = "first"

        class Second(BaseModel):
            class Config:
                frozen = True
        """,
        """
        from pydantic import ConfigDict, BaseModel

        class First(BaseModel):
            # TODO[pydantic-config]: class Config not converted: it contains the method
            #   `schema_extra`, not only key assignments
            class Config:
                orm_mode = True

                @staticmethod
                def schema_extra(schema):
                    schema["title"] = "first"

        class Second(BaseModel):
            model_config = ConfigDict(frozen=True)
        """,
    )


def test_unparsable_file_elsewhere_does_not_stop_the_run() -> None:
    rewrite(
        """
        from app.base import Base

        class M(Base):
            class Config:
                orm_mode = True
        """,
        """
        from app.base import Base
        from pydantic import ConfigDict

        class M(Base):
            model_config = ConfigDict(from_attributes=True)
        """,
        other_files={
            BASE: "from pydantic import BaseModel\n\nclass Base(BaseModel):\n    pass\n",
            "app/py2.py": "class Old(object):\n    print 'hello'\n",
            "app/broken.py": "class Broken(Base:\n",
        },
    )


# -- no change: not a Pydantic v2 model -----------------------------------------------------------


def test_non_pydantic_class_config_untouched() -> None:
    # object is never a model: nothing to say about this Config.
    assert noop(
        """
        class Settings(object):
            class Config:
                orm_mode = True
        """
    ) == []


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        pytest.param(
            """
            class Service(SomeThirdPartyBase):
                class Config:
                    allow_mutation = False
            """,
            "depends on SomeThirdPartyBase, which no import of the scanned folder explains",
            id="base-nothing-explains",
        ),
        pytest.param(
            """
            from vendor.models import Document

            class Article(Document):
                class Config:
                    allow_mutation = False
            """,
            "depends on vendor.models.Document, which auditfix cannot find in the scanned folder",
            id="base-from-another-package",
        ),
        pytest.param(
            """
            from vendor.models import Document

            class Base(Document):
                pass

            class Article(Base):
                class Config:
                    allow_mutation = False
            """,
            "depends on vendor.models.Document, which auditfix cannot find in the scanned folder",
            id="through-a-class-of-the-tree",
        ),
    ],
)
def test_config_of_a_class_whose_base_is_unknown_is_reported_not_converted(source: str, reason: str) -> None:
    # The base may or may not be a Pydantic v2 model: converting could break a v1 model, so the
    # Config stays and the finding says what decides it.
    (message,) = declined(assert_noop(PydanticConfig, source))
    assert message.startswith("`class Config` of ") and reason in message
    assert message.endswith("convert it by hand if it is a v2 model")


def test_module_level_config_untouched() -> None:
    assert noop(
        """
        from pydantic.dataclasses import dataclass

        class Config:
            orm_mode = True

        @dataclass(config=Config)
        class Point:
            x: int
        """
    ) == []


def test_pydantic_dataclass_with_inner_config_untouched() -> None:
    assert noop(
        """
        import pydantic

        @pydantic.dataclasses.dataclass
        class Point:
            x: int

            class Config:
                validate_assignment = True
        """
    ) == []


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("from pydantic.v1 import BaseModel", id="from-pydantic-v1"),
        pytest.param("import pydantic.v1 as pydantic\nBaseModel = pydantic.BaseModel", id="v1-module-as-pydantic"),
        pytest.param("from pydantic import v1\nBaseModel = v1.BaseModel", id="v1-submodule"),
        pytest.param(
            "try:\n    from pydantic.v1 import BaseModel\nexcept ImportError:\n    from pydantic import BaseModel",
            id="v1-compat-fallback",
        ),
    ],
)
def test_pydantic_v1_api_keeps_its_config(header: str) -> None:
    findings = noop(f"{header}\n\nclass Legacy(BaseModel):\n    class Config:\n        orm_mode = True\n")
    assert all(not f.fixable for f in findings)


V1_API_REASON = (
    "`class Config` of Legacy left as it is: its base comes from {module}, the Pydantic v1 API, "
    "which still reads `class Config`"
)


@pytest.mark.parametrize(
    ("header", "base", "module"),
    [
        pytest.param("from pydantic.v1 import BaseModel", "BaseModel", "pydantic.v1", id="from-pydantic-v1"),
        pytest.param("import pydantic.v1 as pv1", "pv1.BaseModel", "pydantic.v1", id="module-alias"),
        pytest.param(
            "from langchain_core.pydantic_v1 import BaseModel",
            "BaseModel",
            "langchain_core.pydantic_v1",
            id="library-compat-shim",
        ),
    ],
)
def test_pydantic_v1_api_config_is_declined_visibly(header: str, base: str, module: str) -> None:
    # Under the v1 API `class Config` is still right: a silent skip would look like a miss.
    findings = noop(f"{header}\n\nclass Legacy({base}):\n    class Config:\n        orm_mode = True\n")
    assert declined(findings) == [V1_API_REASON.format(module=module)]


def test_third_party_subclass_of_a_same_named_class_is_not_guessed() -> None:
    # Two classes named Base in the tree: an unexplained `Base` matches neither.
    files = {
        "app/a.py": "from pydantic import BaseModel\n\nclass Base(BaseModel):\n    pass\n",
        "app/b.py": "class Base:\n    pass\n",
    }
    findings = noop("from somewhere import *\n\nclass M(Base):\n    class Config:\n        orm_mode = True\n", other_files=files)
    assert declined(findings) == [
        "`class Config` of M not converted: whether it is a Pydantic model depends on Base, which no import "
        "of the scanned folder explains; convert it by hand if it is a v2 model"
    ]


def test_already_converted_model_is_left_alone() -> None:
    assert noop(
        """
        from pydantic import BaseModel, ConfigDict

        class M(BaseModel):
            model_config = ConfigDict(from_attributes=True)
        """
    ) == []


# -- re-exports: through modules with no class of their own ------------------------------------------
# A compat shim, a package __init__ or a plain module that only imports is read when a base is
# looked up through it, so a base is followed to where it comes from, however many modules on.

V1_DERIVED = (
    "`class Config` of M left as it is: it derives from {base} of {module}, the Pydantic v1 API, "
    "which still reads `class Config`"
)
V1_MAYBE = (
    "`class Config` of M not converted: its base may be BaseModel of pydantic.v1, Pydantic's v1 API (where "
    "`model_config` would be an ordinary field), or something else, since the name is bound more than one way "
    "(a fallback import, a star import); convert it by hand if it is a v2 model"
)
COMPAT = "app/compat.py"


def model_using(header: str, base: str) -> str:
    return f"{header}\n\nclass M({base}):\n    class Config:\n        orm_mode = True\n"


@pytest.mark.parametrize(
    ("files", "header", "base", "root"),
    [
        pytest.param(
            {COMPAT: "from langchain_core.pydantic_v1 import BaseModel, Field\n"},
            "from app.compat import BaseModel",
            "BaseModel",
            "langchain_core.pydantic_v1.BaseModel",
            id="from-import-in-a-plain-module",
        ),
        pytest.param(
            {COMPAT: "from pydantic.v1 import BaseModel as V1Base\n"},
            "from app.compat import V1Base as Base",
            "Base",
            "pydantic.v1.BaseModel",
            id="from-import-as-on-both-sides",
        ),
        pytest.param(
            {COMPAT: "import pydantic.v1 as pv1\n"},
            "from app.compat import pv1",
            "pv1.BaseModel",
            "pydantic.v1.BaseModel",
            id="module-alias-re-exported",
        ),
        pytest.param(
            {COMPAT: "import pydantic.v1 as pv1\n\nBaseModel = pv1.BaseModel\n"},
            "import app.compat as compat",
            "compat.BaseModel",
            "pydantic.v1.BaseModel",
            id="import-as-then-attribute",
        ),
        pytest.param(
            {COMPAT: "from pydantic.v1 import BaseModel\n"},
            "from .compat import BaseModel",
            "BaseModel",
            "pydantic.v1.BaseModel",
            id="relative-import",
        ),
        pytest.param(
            {COMPAT: "from pydantic.v1 import BaseModel, Field\n\n__all__ = ['BaseModel', 'Field']\n"},
            "from app import compat",
            "compat.BaseModel",
            "pydantic.v1.BaseModel",
            id="module-with-all",
        ),
        pytest.param(
            {"app/compat/__init__.py": "from pydantic.v1 import *  # noqa: F403\n"},
            "from app.compat import BaseModel",
            "BaseModel",
            "pydantic.v1.BaseModel",
            id="star-import-of-pydantic-v1",
        ),
        pytest.param(
            {
                "app/a.py": "from app.b import Base\n",
                "app/b.py": "from .c import Base as Base\n",
                "app/c.py": "from pydantic.v1 import BaseModel as Base\n",
            },
            "from app.a import Base",
            "Base",
            "pydantic.v1.BaseModel",
            id="chain-of-three-modules",
        ),
    ],
)
def test_v1_api_base_re_exported_by_a_module_without_classes_keeps_its_config(
    files: dict[str, str], header: str, base: str, root: str
) -> None:
    module, _, name = root.rpartition(".")
    findings = noop(model_using(header, base), other_files=files)
    assert declined(findings) == [V1_DERIVED.format(base=name, module=module)]


def test_v1_api_base_re_exported_by_a_parent_package_keeps_its_config() -> None:
    files = {"app/__init__.py": "from .compat import BaseModel\n", COMPAT: "from pydantic.v1 import BaseModel\n"}
    findings = noop(model_using("from .. import BaseModel", "BaseModel"), path="app/models/user.py", other_files=files)
    assert declined(findings) == [V1_DERIVED.format(base="BaseModel", module="pydantic.v1")]


def test_v2_base_re_exported_by_a_module_without_classes_converts() -> None:
    rewrite(
        """
        from app.compat import BaseModel

        class M(BaseModel):
            class Config:
                orm_mode = True
        """,
        """
        from app.compat import BaseModel
        from pydantic import ConfigDict

        class M(BaseModel):
            model_config = ConfigDict(from_attributes=True)
        """,
        other_files={COMPAT: "from pydantic import BaseModel, Field\n\n__all__ = ['BaseModel', 'Field']\n"},
    )


def test_v2_base_star_imported_by_a_package_init_converts() -> None:
    # Two classes named Base below app.models: only the star import says which one it is.
    rewrite(
        """
        from app.models import Base

        class M(Base):
            class Config:
                orm_mode = True
        """,
        """
        from app.models import Base
        from pydantic import ConfigDict

        class M(Base):
            model_config = ConfigDict(from_attributes=True)
        """,
        other_files={
            "app/models/__init__.py": "from .base import *  # noqa: F403\n",
            "app/models/base.py": "from pydantic import BaseModel\n\nclass Base(BaseModel):\n    pass\n",
            "app/models/legacy.py": "class Base:\n    pass\n",
        },
    )


# Not provably a v2 model: one way or another the name may be the v1 API.
@pytest.mark.parametrize(
    "compat",
    [
        pytest.param(
            "try:\n    from pydantic.v1 import BaseModel\nexcept ImportError:\n    from pydantic import BaseModel\n",
            id="v1-first-fallback",
        ),
        pytest.param(
            "try:\n    from pydantic import BaseModel\nexcept ImportError:\n    from pydantic.v1 import BaseModel\n",
            id="v2-first-fallback",
        ),
        pytest.param(
            "try:\n    from pydantic.v1 import *\nexcept ImportError:\n    from pydantic import *\n",
            id="star-import-fallback",
        ),
        pytest.param(
            "from pydantic import BaseModel\nfrom pydantic.v1 import *\n",
            id="star-import-after-an-explicit-one",
        ),
    ],
)
def test_base_that_may_be_the_v1_api_is_declined_with_why(compat: str) -> None:
    findings = noop(model_using("from app.compat import BaseModel", "BaseModel"), other_files={COMPAT: compat})
    assert declined(findings) == [V1_MAYBE]


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(
            "try:\n    from pydantic.v1 import BaseModel\nexcept ImportError:\n    from pydantic import BaseModel",
            id="fallback-in-the-same-file",
        ),
        # BaseModel may also be a name the star import does not bind (a builtin, a later definition).
        pytest.param("from pydantic.v1 import *", id="star-import-in-the-same-file"),
    ],
)
def test_base_bound_more_than_one_way_in_the_model_file_is_declined_with_why(header: str) -> None:
    assert declined(noop(model_using(header, "BaseModel"))) == [V1_MAYBE]


def test_star_import_binds_only_what_all_lists() -> None:
    # app.legacy keeps its v1 BaseModel to itself: the star import cannot rebind the v2 one.
    rewrite(
        """
        from app.compat import BaseModel

        class M(BaseModel):
            class Config:
                orm_mode = True
        """,
        """
        from app.compat import BaseModel
        from pydantic import ConfigDict

        class M(BaseModel):
            model_config = ConfigDict(from_attributes=True)
        """,
        other_files={
            COMPAT: "from pydantic import BaseModel\nfrom app.legacy import *  # noqa: F403\n",
            "app/legacy.py": "from pydantic.v1 import BaseModel\n\n__all__ = ['helper']\n\ndef helper():\n    pass\n",
        },
    )


def test_class_defined_after_a_star_import_is_not_rebound_by_it() -> None:
    # app.shapes binds a v1 Shape, but the class statement below runs after the star import.
    rewrite(
        """
        from pydantic import BaseModel
        from app.shapes import *  # noqa: F403

        class Shape(BaseModel):
            pass

        class Square(Shape):
            class Config:
                orm_mode = True
        """,
        """
        from pydantic import ConfigDict, BaseModel
        from app.shapes import *  # noqa: F403

        class Shape(BaseModel):
            pass

        class Square(Shape):
            model_config = ConfigDict(from_attributes=True)
        """,
        other_files={"app/shapes.py": "from pydantic.v1 import BaseModel as Shape\n"},
    )


# vendor may bind any name, whichever import comes last: the base may be whatever
# vendor.BaseModel is, which nothing here shows.
@pytest.mark.parametrize(
    ("files", "header"),
    [
        pytest.param(
            {COMPAT: "from vendor import *  # noqa: F403\n"},
            "from app.compat import BaseModel",
            id="re-exported-by-a-star-import",
        ),
        pytest.param(
            {},
            "from pydantic import BaseModel\nfrom vendor import *  # noqa: F403",
            id="star-import-in-the-model-file",
        ),
    ],
)
def test_star_import_from_outside_the_tree_is_reported_not_converted(files: dict[str, str], header: str) -> None:
    (message,) = declined(noop(model_using(header, "BaseModel"), other_files=files))
    assert "depends on vendor.BaseModel, which auditfix cannot find in the scanned folder" in message


# -- declines: a TODO comment that says why, once ---------------------------------------------------


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        pytest.param(
            "class Config(Base.Config):\n        orm_mode = True",
            "it inherits from Base.Config; merge those keys into model_config by hand",
            id="inherits",
        ),
        pytest.param(
            "class Config(BaseConfig):\n        orm_mode = True",
            "it inherits from BaseConfig; merge those keys into model_config by hand",
            id="inherits-a-local-class-named-base-config",
        ),
        pytest.param(
            "class Config:\n        orm_mode = True\n\n        @classmethod\n        def customise_sources(cls, init, env, secrets):\n            return env, init",
            "it contains the method `customise_sources`, not only key assignments",
            id="method",
        ),
        pytest.param(
            "class Config:\n        if DEBUG:\n            orm_mode = True",
            "it contains an `if` statement, not only key assignments",
            id="if-statement",
        ),
        pytest.param(
            "class Config:\n        orm_mode = True\n        print(orm_mode)",
            "it contains `print(orm_mode)`, not only key assignments",
            id="expression",
        ),
        pytest.param(
            "class Config:\n        env_prefix = 'APP_'\n        env_file = env_prefix + 'env'",
            "the value of `env_file` refers to `env_prefix`, another Config key",
            id="refers-to-another-key",
        ),
        pytest.param(
            "class Config:\n        title = name",
            "the value of `title` refers to `name`, which the model class also defines",
            id="refers-to-a-model-attribute",
        ),
        pytest.param(
            "class Config:\n        orm_mode = True\n        orm_mode = False",
            "it assigns `orm_mode` twice",
            id="key-twice",
        ),
        pytest.param(
            "class Config:\n        orm_mode = True\n        from_attributes = True",
            "it sets both `orm_mode` and its v2 name `from_attributes`",
            id="old-and-new-name",
        ),
        pytest.param(
            "class Config:\n        a = b = True", "it contains `a = b = True`, not only key assignments", id="chained"
        ),
        pytest.param("class Config:\n        frozen: bool", "it contains `frozen: bool`, not only key assignments", id="bare-annotation"),
        pytest.param(
            "model_config = {'frozen': True}\n\n    class Config:\n        orm_mode = True",
            "the class already has a model_config that is not a plain ConfigDict(...) call",
            id="model-config-dict-literal",
        ),
        pytest.param(
            "model_config = ConfigDict(frozen=True)\n\n    class Config:\n        frozen = False",
            "model_config and class Config both set `frozen`, to different values",
            id="model-config-conflict",
        ),
        pytest.param(
            "__config__ = None\n\n    class Config:\n        orm_mode = True",
            "the class also sets __config__",
            id="dunder-config",
        ),
        pytest.param(
            "class Config:\n        orm_mode = True\n\n    class Config:\n        frozen = True",
            "the class defines more than one class Config",
            id="two-configs",
        ),
    ],
)
def test_declined_config_gets_one_todo(config: str, reason: str) -> None:
    header = "from pydantic import BaseModel, ConfigDict\n\n\nclass M(BaseModel):\n    name: str = 'x'\n\n    "
    before = header + config + "\n"
    # Wrapped at the project's line length (88 here), with the body's indentation.
    lines = wrap_comment(
        f"class Config not converted: {reason}", indent=4, limit=88, prefix=TODO_PREFIX + " ", continuation="#   "
    )
    todo = "".join(f"{line}\n    " for line in lines)
    at = before.index("class Config")
    after = before[:at] + todo + before[at:]
    assert declined_after_todo(before, after) == [f"class Config not converted: {reason}"]


def test_todo_comments_wrap_at_the_projects_line_length() -> None:
    before = """
        from pydantic import BaseModel, ConfigDict

        class M(BaseModel):
            class Config:
                smart_union = True
                orm_mode = True
        """
    after = """
        from pydantic import BaseModel, ConfigDict

        class M(BaseModel):
            # TODO[pydantic-config]: `smart_union = True`
            #   was removed in Pydantic v2: v2 unions are
            #   smart by default; delete it
            model_config = ConfigDict(from_attributes=True)
        """
    assert_rewrite(PydanticConfig, before, after, style=CodeStyle(line_length=52))


def test_a_stale_wrapped_todo_goes_with_all_its_lines() -> None:
    before = """
        from pydantic import BaseModel

        class M(BaseModel):
            # TODO[pydantic-config]: class Config not converted: it
            #   inherits from Other.Config; merge those keys by hand
            # kept: the user's own comment
            class Config:
                orm_mode = True
        """
    after = """
        from pydantic import ConfigDict, BaseModel

        class M(BaseModel):
            # kept: the user's own comment
            model_config = ConfigDict(from_attributes=True)
        """
    assert_rewrite(PydanticConfig, before, after)


def test_existing_todo_is_not_repeated() -> None:
    source = """
        from pydantic import BaseModel

        class M(BaseModel):
            # TODO[pydantic-config]: class Config not converted: an older reason
            class Config(Other.Config):
                pass
        """
    assert declined(noop(source)) == [
        "class Config not converted: it inherits from Other.Config; merge those keys into model_config by hand"
    ]


def test_stale_decline_todo_goes_once_the_config_converts() -> None:
    rewrite(
        """
        from pydantic import BaseModel

        class M(BaseModel):
            # keep in sync with the API docs
            # TODO[pydantic-config]: class Config not converted: it contains the method
            #   `schema_extra`, not only key assignments
            class Config:
                orm_mode = True
        """,
        """
        from pydantic import ConfigDict, BaseModel

        class M(BaseModel):
            # keep in sync with the API docs
            model_config = ConfigDict(from_attributes=True)
        """,
    )


# -- an existing model_config ---------------------------------------------------------------------


def test_config_merged_into_existing_model_config() -> None:
    rewrite(
        """
        from pydantic import BaseModel, ConfigDict

        class M(BaseModel):
            model_config = ConfigDict(
                # set by the v2 migration
                frozen=True,  # hashable
                str_strip_whitespace=True,
                # trailing note
            )

            # leftover from v1
            class Config:
                orm_mode = True  # rows
                frozen = True
        """,
        """
        from pydantic import BaseModel, ConfigDict

        class M(BaseModel):
            # leftover from v1
            model_config = ConfigDict(
                # set by the v2 migration
                frozen=True,  # hashable
                str_strip_whitespace=True,
                from_attributes=True,  # rows
                # trailing note
            )
        """,
    )


# -- the index -------------------------------------------------------------------------------------


def _index(files: dict[str, str]) -> ModelIndex:
    return make_plan(PydanticConfig, files).indexes[PydanticConfig.name]


def test_index_facts_are_small_and_picklable() -> None:
    facts = PydanticConfig.index_file("app/models.py", b"from pydantic import BaseModel as BM\nclass A(BM):\n    pass\n")
    assert isinstance(facts, FileFacts)
    assert pickle.loads(pickle.dumps(facts)) == facts
    assert facts.classes[0].bases == (("pydantic.BaseModel",),)


def test_index_reads_plain_classes_without_parsing_and_skips_unparsable_files() -> None:
    plain = PydanticConfig.index_file("a.py", b"class Plain:\n    pass\n")
    assert plain is not None and [(c.qualname, c.bases) for c in plain.classes] == [("a.Plain", ())]
    assert PydanticConfig.index_file("a.py", b"# a class of its own\n") is None
    assert PydanticConfig.index_file("a.py", b"class A(B:\n") is None
    assert PydanticConfig.index_file("a.py", b"class A(B):\n\x00") is None


def test_index_resolves_src_layout_and_subfolder_scans() -> None:
    # Scanned from the repository root: modules are src.shop.*, imports say shop.*.
    src = _index(
        {
            "src/shop/base.py": "from pydantic import BaseModel\nclass Base(BaseModel):\n    pass\n",
            "src/shop/user.py": "from shop.base import Base\nclass User(Base):\n    pass\n",
        }
    )
    assert src.models == {"src.shop.base.Base", "src.shop.user.User"}
    # Scanned from inside the package: modules are base, user; imports say shop.*.
    inner = _index(
        {
            "base.py": "from pydantic import BaseModel\nclass Base(BaseModel):\n    pass\n",
            "user.py": "from shop.base import Base\nclass User(Base):\n    pass\n",
        }
    )
    assert inner.models == {"base.Base", "user.User"}


def test_index_follows_reexports_through_package_init() -> None:
    files = {
        "app/models/base.py": "from pydantic import BaseModel\nclass Base(BaseModel):\n    pass\n",
        "app/models/__init__.py": "from .base import Base\nclass Marker:\n    pass\n",
        "app/user.py": "from app.models import Base\nclass User(Base):\n    pass\n",
        "app/order.py": "import app.models\nclass Order(app.models.Base):\n    pass\n",
    }
    assert _index(files).models == {"app.models.base.Base", "app.user.User", "app.order.Order"}
    del files["app/models/__init__.py"]  # an __init__ without classes is not indexed: matched by package
    assert _index(files).models == {"app.models.base.Base", "app.user.User", "app.order.Order"}


def test_index_follows_reexports_in_a_src_layout() -> None:
    files = {
        "src/shop/models/base.py": "from pydantic import BaseModel\nclass Base(BaseModel):\n    pass\n",
        "src/shop/models/__init__.py": "from .base import Base as ModelBase\nclass Marker:\n    pass\n",
        "src/shop/user.py": "from shop.models import ModelBase\nclass User(ModelBase):\n    pass\n",
    }
    assert _index(files).models == {"src.shop.models.base.Base", "src.shop.user.User"}


def test_index_star_import_matches_a_unique_class_name() -> None:
    files = {
        "app/base.py": "from pydantic import BaseModel\nclass Base(BaseModel):\n    pass\n",
        "app/user.py": "from app.base import *\nclass User(Base):\n    pass\n",
        "app/other.py": "from lib import *\nclass Thing(Unknown):\n    pass\n",
    }
    assert _index(files).models == {"app.base.Base", "app.user.User"}


def test_index_settings_are_models_too_and_cycles_terminate() -> None:
    files = {
        "app/s.py": "from pydantic_settings import BaseSettings\nclass S(BaseSettings):\n    pass\nclass T(S):\n    pass\n",
        "app/c.py": "from app.c import B\nclass A(B):\n    pass\nclass B(A):\n    pass\n",
    }
    index = _index(files)
    assert index.settings == {"app.s.S", "app.s.T"}
    assert index.models == {"app.s.S", "app.s.T"}


def test_index_keeps_a_module_without_classes_unparsed() -> None:
    # Most such modules are never looked up: reading one costs a parse only when a base is.
    source = b"from pydantic.v1 import BaseModel\n__all__ = ['BaseModel']\n"
    facts = PydanticConfig.index_file("app/compat.py", source)
    assert facts is not None and (facts.classes, facts.imports, facts.unparsed) == ((), (), source)
    assert pickle.loads(pickle.dumps(facts)) == facts
    assert PydanticConfig.index_file("app/constants.py", b"LIMIT = 10\n") is None


def test_index_parses_a_re_exporting_module_only_when_a_base_is_looked_up_through_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[bytes] = []
    parse = precheck.parse
    monkeypatch.setattr(precheck, "parse", lambda source: parsed.append(source) or parse(source))
    files = {
        "app/compat.py": "from pydantic.v1 import BaseModel\n",
        "app/unused.py": "import os\n",
        "app/m.py": "from app.compat import BaseModel\nclass M(BaseModel):\n    pass\n",
    }
    assert _index(files).v1_api == (("app.m.M", "pydantic.v1.BaseModel"),)
    assert b"from pydantic.v1 import BaseModel\n" in parsed and b"import os\n" not in parsed


def test_index_re_export_cycles_terminate_and_keep_their_way_out() -> None:
    files = {
        # a falls back to v1 when b (which imports a back) cannot give Base yet.
        "app/a.py": "try:\n    from app.b import Base\n"
        "except ImportError:\n    from pydantic.v1 import BaseModel as Base\n",
        "app/b.py": "from app.a import Base\n",
        "app/c.py": "from app.d import *\n",
        "app/d.py": "from app.c import *\nfrom app.a import Base\n",
        "app/m.py": "from app.a import Base as A\nfrom app.b import Base as B\nfrom app.c import Base as C\n"
        "class MA(A):\n    pass\nclass MB(B):\n    pass\nclass MC(C):\n    pass\n",
        # A cycle with no way out binds nothing.
        "app/loop.py": "from app.loop2 import X\n",
        "app/loop2.py": "from app.loop import X\n",
        "app/n.py": "from app.loop import X\nclass N(X):\n    class Config:\n        orm_mode = True\n",
    }
    index = _index(files)
    assert dict(index.v1_api) == {f"app.m.{m}": "pydantic.v1.BaseModel" for m in ("MA", "MB", "MC")}
    assert index.unknown == (("app.n.N", "app.loop.X"),) and not index.models


def test_without_an_index_the_file_alone_is_used() -> None:
    from codemods.base import FileContext
    from codemods.engine.templating import TemplateSet
    import libcst as cst

    codemod = PydanticConfig(FileContext(path="m.py", options={}, templates=TemplateSet()))
    tree, findings = codemod.run(
        cst.parse_module("from pydantic import BaseModel\nclass M(BaseModel):\n    class Config:\n        orm_mode = True\n")
    )
    assert "model_config = ConfigDict(from_attributes=True)" in tree.code
    assert [f.fixable for f in findings] == [True]


# -- a project still on Pydantic 1 ---------------------------------------------------------------

V1_PROJECT_FILES = {"app/crud.py": "from pydantic import BaseModel\n\n\ndef key_type(model):\n    return model.__fields__['id'].type_\n"}
ORM_MODEL = """\
    from pydantic import BaseModel


    class Item(BaseModel):
        id: int

        class Config:
            orm_mode = True
    """


def test_a_project_on_pydantic_1_keeps_its_config() -> None:
    # Under Pydantic 1 model_config would be a required field: every request would answer 422.
    (message,) = declined(assert_noop(PydanticConfig, ORM_MODEL, other_files=V1_PROJECT_FILES))
    assert message.startswith("`class Config` of Item left as it is: the project runs on Pydantic 1 ")
    assert "(app/crud.py, line 5: uses the Pydantic 1 field API (type_))" in message
    assert "pydantic-version = 2" in message


@pytest.mark.parametrize(
    ("options", "other_files"),
    [
        pytest.param({"pydantic-version": 2}, V1_PROJECT_FILES, id="the-project-moves-to-v2-now"),
        pytest.param({}, {}, id="no-evidence"),
    ],
)
def test_the_config_is_converted_without_evidence_or_when_told(options: dict, other_files: dict) -> None:
    after = """\
    from pydantic import ConfigDict, BaseModel


    class Item(BaseModel):
        id: int

        model_config = ConfigDict(from_attributes=True)
    """
    assert_rewrite(PydanticConfig, ORM_MODEL, after, options=options, other_files=other_files)


def test_pydantic_version_1_converts_nothing() -> None:
    (message,) = declined(assert_noop(PydanticConfig, ORM_MODEL, options={"pydantic-version": 1}))
    assert "(pydantic-version = 1)" in message
