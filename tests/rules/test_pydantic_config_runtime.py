"""pydantic-config, proven at runtime: converted models behave as v1 meant, under Pydantic v2.

Each case is v1 code; the codemod converts it and the result is imported under Pydantic v2 with
every warning turned into an error, so a key v2 does not understand (or a leftover
``class Config``) fails the test.  ``test_unconverted_v1_config_warns_or_misbehaves`` shows
the same checks fail on the code as it was.
"""

from __future__ import annotations

import sys
import textwrap
import types
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace

import pydantic.v1
import pytest
from pydantic import ValidationError

from codemods.engine.pipeline import CHANGED, FileOutcome
from codemods.rules.pydantic_config import PydanticConfig
from tests.rules.helpers import run_codemod


def convert(source: str, **kwargs) -> str:
    outcome = run_codemod(PydanticConfig, source, **kwargs)
    assert outcome.status == CHANGED, outcome.message
    code = outcome.new_source.decode()
    assert "class Config" not in code
    return code


def import_code(code: str, name: str = "converted_models") -> types.ModuleType:
    """Execute ``code`` as a module with every warning an error."""
    module = types.ModuleType(name)
    sys.modules[name] = module  # pydantic resolves annotations through sys.modules
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            exec(compile(code, f"<{name}>", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module


def load(source: str, **kwargs) -> types.ModuleType:
    return import_code(convert(source, **kwargs))


def convert_package(tmp_path: Path, files: Mapping[str, str]) -> dict[str, FileOutcome]:
    """Run the codemod over a package with the whole package as context; write the results."""
    sources = {path: textwrap.dedent(code) for path, code in files.items()}
    outcomes = {}
    for path, code in sources.items():
        others = {p: c for p, c in sources.items() if p != path}
        outcomes[path] = run_codemod(PydanticConfig, code, path=path, other_files=others)
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(outcomes[path].new_source.decode() if outcomes[path].new_source else code)
    return outcomes


ORM_ROW = SimpleNamespace(id=7, email="ana@example.com")


def test_orm_mode_model_validates_objects_with_attributes() -> None:
    models = load(
        """
        from pydantic import BaseModel

        class UserRead(BaseModel):
            id: int
            email: str

            class Config:
                # rows come from SQLAlchemy
                orm_mode = True
        """
    )
    assert models.UserRead.model_config["from_attributes"] is True
    assert models.UserRead.model_validate(ORM_ROW).id == 7


def test_allow_mutation_false_model_rejects_assignment() -> None:
    models = load(
        """
        from pydantic import BaseModel

        class Money(BaseModel):
            amount: int
            currency: str

            class Config:
                allow_mutation = False
        """
    )
    money = models.Money(amount=5, currency="EUR")
    with pytest.raises(ValidationError):
        money.amount = 6
    assert money.amount == 5


def test_extra_forbid_rejects_unknown_fields() -> None:
    models = load(
        """
        from pydantic import BaseModel, Extra

        class Signup(BaseModel):
            email: str

            class Config:
                extra = Extra.forbid
                anystr_strip_whitespace = True
                min_anystr_length = 3
                anystr_lower = True
        """
    )
    assert models.Signup(email="  ANA@example.com ").email == "ana@example.com"
    with pytest.raises(ValidationError):
        models.Signup(email="ana@example.com", admin=True)
    with pytest.raises(ValidationError):
        models.Signup(email=" a ")


def test_config_on_base_config_with_extra_enum_converts_cleanly() -> None:
    source = """
        from pydantic import BaseConfig, BaseModel, Extra

        class Strict(BaseModel):
            name: str

            class Config(BaseConfig):
                extra = Extra.forbid
        """
    with pytest.raises(Warning):
        import_code(textwrap.dedent(source))  # reading Extra.forbid is deprecated in v2
    code = convert(source)
    assert "BaseConfig" not in code and "Extra" not in code
    with pytest.raises(ValidationError):
        import_code(code).Strict(name="a", other=1)


def test_population_by_field_name_and_alias() -> None:
    models = load(
        """
        from pydantic import BaseModel, Field

        class OrderLine(BaseModel):
            item_id: int = Field(..., alias="itemId")

            class Config:
                allow_population_by_field_name = True
        """
    )
    assert models.OrderLine(itemId=1).item_id == 1
    assert models.OrderLine(item_id=2).item_id == 2


def test_schema_extra_validate_all_and_keep_untouched() -> None:
    models = load(
        """
        from functools import cached_property
        from pydantic import BaseModel, validator

        class Product(BaseModel):
            name: str = "unnamed"

            class Config:
                validate_all = True
                keep_untouched = (cached_property,)
                schema_extra = {
                    "example": {"name": "lamp"},
                }

            @cached_property
            def slug(self) -> str:
                return self.name.replace(" ", "-")
        """
    )
    assert models.Product.model_json_schema()["example"] == {"name": "lamp"}
    assert models.Product.model_config["validate_default"] is True
    assert models.Product(name="desk lamp").slug == "desk-lamp"


def test_removed_keys_leave_todos_and_the_rest_works() -> None:
    code = convert(
        """
        from pydantic import BaseModel

        class Legacy(BaseModel):
            id: int

            class Config:
                orm_mode = True
                smart_union = True
                underscore_attrs_are_private = True
                copy_on_model_validation = "none"
        """
    )
    assert code.count("# TODO[pydantic-config]:") == 3
    models = import_code(code)
    assert models.Legacy.model_validate(ORM_ROW).id == 7


def test_unknown_keys_kept_without_a_v2_warning() -> None:
    # Why the codemod keeps keys v2 does not know: v2 accepts them silently and code reads them.
    models = load(
        """
        from pydantic import BaseModel

        class Event(BaseModel):
            class Config:
                collection_name = "events"
        """
    )
    assert models.Event.model_config["collection_name"] == "events"


def test_annotated_keys_frozen_and_hashable() -> None:
    models = load(
        """
        from pydantic import BaseModel

        class Point(BaseModel):
            x: int

            class Config:
                frozen: bool = True
                arbitrary_types_allowed: bool = True
        """
    )
    assert models.Point.model_config["arbitrary_types_allowed"] is True
    assert hash(models.Point(x=1)) == hash(models.Point(x=1))


def test_merged_into_existing_model_config() -> None:
    models = load(
        """
        from pydantic import BaseModel, ConfigDict

        class Row(BaseModel):
            model_config = ConfigDict(str_strip_whitespace=True)
            id: int
            email: str

            class Config:
                orm_mode = True
        """
    )
    assert models.Row.model_validate(SimpleNamespace(id=1, email=" a@b.c ")).email == "a@b.c"


def test_settings_env_prefix_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_DATABASE_URL", "sqlite:///shop.db")
    monkeypatch.setenv("SHOP_DEBUG", "true")
    code = convert(
        """
        import pydantic_settings as ps

        class Settings(ps.BaseSettings):
            database_url: str
            debug: bool = False

            class Config:
                env_prefix = "SHOP_"
                case_sensitive = False
        """
    )
    assert "model_config = SettingsConfigDict(" in code
    settings = import_code(code).Settings()
    assert (settings.database_url, settings.debug) == ("sqlite:///shop.db", True)


def test_models_across_a_package_import_after_conversion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        "shopapp/__init__.py": "",
        "shopapp/base.py": """
            from pydantic import BaseModel as BM

            class APIModel(BM):
                class Config:
                    orm_mode = True
            """,
        "shopapp/users.py": """
            from .base import APIModel

            class UserRead(APIModel):
                id: int
                email: str

                class Config:
                    allow_mutation = False
            """,
    }
    convert_package(tmp_path, files)
    assert "ConfigDict(frozen=True)" in (tmp_path / "shopapp/users.py").read_text()
    monkeypatch.syspath_prepend(str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from shopapp.users import UserRead  # type: ignore[import-not-found]
    try:
        user = UserRead.model_validate(ORM_ROW)  # from_attributes inherited from APIModel
        with pytest.raises(ValidationError):
            user.email = "other@example.com"
    finally:
        for name in ("shopapp", "shopapp.base", "shopapp.users"):
            sys.modules.pop(name, None)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            "from pydantic import BaseModel\n\nclass M(BaseModel):\n    class Config:\n        orm_mode = True\n",
            id="renamed-key-only-warns",
        ),
        pytest.param(
            "from pydantic import BaseModel\n\nclass M(BaseModel):\n    class Config:\n        frozen = True\n",
            id="class-config-is-deprecated",
        ),
    ],
)
def test_unconverted_v1_config_warns_or_misbehaves(source: str) -> None:
    with pytest.raises(Warning):
        import_code(source)
    import_code(convert(source))


V1_MODEL = """
from pydantic.v1 import BaseModel

class Frozen(BaseModel):
    x: int

    class Config:
        allow_mutation = False
        extra = "forbid"
"""


def test_a_v1_api_model_keeps_its_config_because_model_config_would_be_a_field() -> None:
    # On the Pydantic v1 API (pydantic.v1, langchain's pydantic_v1 shim), `model_config` is not
    # configuration but an ordinary field: a conversion would lose every setting and add a field
    # to the model's data.  So the codemod leaves such a Config and says why.
    outcome = run_codemod(PydanticConfig, V1_MODEL)
    assert outcome.status != CHANGED
    assert [f.message for f in outcome.findings] == [
        "`class Config` of Frozen left as it is: its base comes from pydantic.v1, the Pydantic v1 API, "
        "which still reads `class Config`"
    ]
    kept = import_code(textwrap.dedent(V1_MODEL), "v1_kept").Frozen(x=1)
    with pytest.raises(TypeError):
        kept.x = 2
    converted_by_hand = textwrap.dedent(V1_MODEL).replace(
        '    class Config:\n        allow_mutation = False\n        extra = "forbid"\n',
        '    model_config = ConfigDict(frozen=True, extra="forbid")\n',
    ).replace("from pydantic.v1 import BaseModel", "from pydantic import ConfigDict\nfrom pydantic.v1 import BaseModel")
    wrong = import_code(converted_by_hand, "v1_converted").Frozen
    instance = wrong(x=1, unknown=2)  # extra="forbid" is gone
    instance.x = 2  # and so is immutability
    assert "model_config" in instance.dict()  # the "configuration" is now data


SHIM_MODELS = """
    from compatapp.compat import BaseModel

    class Frozen(BaseModel):
        x: int

        class Config:
            allow_mutation = False
            extra = "forbid"
    """


@pytest.mark.parametrize(
    ("compat", "converted"),
    [
        pytest.param("from pydantic.v1 import BaseModel\n\n__all__ = ['BaseModel']\n", False, id="v1-shim"),
        pytest.param("from pydantic import BaseModel\n\n__all__ = ['BaseModel']\n", True, id="v2-shim"),
    ],
)
def test_a_base_re_exported_by_a_module_without_classes_is_followed_at_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compat: str, converted: bool
) -> None:
    # compat.py defines no class: what it re-exports decides whether Frozen's Config may become
    # model_config, and importing the package shows the index decided as Python does.
    files = {"compatapp/__init__.py": "", "compatapp/compat.py": compat, "compatapp/models.py": SHIM_MODELS}
    outcome = convert_package(tmp_path, files)["compatapp/models.py"]
    assert (outcome.status == CHANGED) is converted
    if not converted:
        assert [f.message for f in outcome.findings] == [
            "`class Config` of Frozen left as it is: it derives from BaseModel of pydantic.v1, the Pydantic v1 API, "
            "which still reads `class Config`"
        ]
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            from compatapp.models import Frozen  # type: ignore[import-not-found]
        assert issubclass(Frozen, pydantic.v1.BaseModel) is not converted
        frozen = Frozen(x=1)
        with pytest.raises((TypeError, ValidationError)):  # v1 raises TypeError, v2 ValidationError
            frozen.x = 2
        with pytest.raises((pydantic.v1.ValidationError, ValidationError)):
            Frozen(x=1, unknown=2)
    finally:
        for name in ("compatapp", "compatapp.compat", "compatapp.models"):
            sys.modules.pop(name, None)
