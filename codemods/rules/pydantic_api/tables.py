"""What changed between Pydantic v1 and v2, as data: the facts pydantic-api rewrites by.

Facts only, from Pydantic's migration guide and the v1/v2 signatures; no behaviour lives here.
"""

from __future__ import annotations

from collections.abc import Mapping

# Names a v1 import statement may bind that live elsewhere in v2: (module, name) -> (module, name).
# A name that changed is imported under the old name (``import to_pascal as to_camel``) so the
# code using it stays as it is.
MOVED: Mapping[tuple[str, str], tuple[str, str]] = {
    ("pydantic", "BaseSettings"): ("pydantic_settings", "BaseSettings"),
    ("pydantic.env_settings", "BaseSettings"): ("pydantic_settings", "BaseSettings"),
    ("pydantic.env_settings", "SettingsError"): ("pydantic_settings", "SettingsError"),
    ("pydantic.error_wrappers", "ValidationError"): ("pydantic", "ValidationError"),
    ("pydantic.utils", "version_info"): ("pydantic.version", "version_info"),
    ("pydantic", "PyObject"): ("pydantic", "ImportString"),
    ("pydantic.types", "PyObject"): ("pydantic", "ImportString"),
    ("pydantic.utils", "to_camel"): ("pydantic.alias_generators", "to_pascal"),
    ("pydantic.utils", "to_lower_camel"): ("pydantic.alias_generators", "to_camel"),
}

_CONSTRAINED = "subclass-style constrained types were removed: use Annotated[..., Field(...)] or conint()/constr()"
_OPTIONAL = "removed: write Optional[...] instead"

# Names v2 removed, with what to use instead.  Imported from ``pydantic`` (or the v1 module).
REMOVED: Mapping[str, str] = {
    **{
        f"Constrained{kind}": _CONSTRAINED
        for kind in ["Bytes", "Date", "Decimal", "Float", "FrozenSet", "Int", "List", "Set", "Str"]
    },
    **{name: _OPTIONAL for name in ("NoneBytes", "NoneStr", "NoneStrBytes", "StrBytes")},
    "Required": "removed: use ... (Ellipsis) as the default of a required field",
    "JsonWrapper": "removed: use pydantic.Json",
    "parse_raw_as": "removed: use TypeAdapter(T).validate_json(data)",
    "parse_file_as": "removed: read the file and use TypeAdapter(T).validate_json(text)",
    "stricturl": "removed: use AnyUrl with Annotated[..., UrlConstraints(...)]",
    "validate_model": "removed: use Model.model_validate(data) and catch ValidationError",
    "create_model_from_namedtuple": "removed: use TypeAdapter(the_namedtuple)",
    "create_model_from_typeddict": "removed: use TypeAdapter(the_typeddict)",
    "compiled": "removed: pydantic-core is always compiled",
    "Protocol": "removed: load the data yourself and use model_validate_json()",
}

# Modules whose v1 contents v2 removed or moved to pydantic.v1 (a ``from`` import of anything
# in them is reported, unless MOVED says where the name went).
REMOVED_MODULES: Mapping[str, str] = {
    "pydantic.errors": "v1's error classes were removed: raise ValueError, AssertionError or PydanticCustomError",
    "pydantic.typing": "v1's typing helpers were removed: use typing / typing_extensions",
    "pydantic.utils": "v1's utils were removed (some live on in pydantic.v1.utils)",
    "pydantic.datetime_parse": "removed: validate through a model or TypeAdapter(datetime)",
    "pydantic.env_settings": "use pydantic_settings",
    "pydantic.error_wrappers": "use pydantic.ValidationError",
}

# v1 model methods and their v2 names.  Keywords: kept as they are, renamed, or declined with why.
INSTANCE_METHODS: Mapping[str, str] = {"dict": "model_dump", "json": "model_dump_json", "copy": "model_copy"}
CLASS_METHODS: Mapping[str, str] = {
    "parse_obj": "model_validate",
    "from_orm": "model_validate",
    "parse_raw": "model_validate_json",
    "schema": "model_json_schema",
    "schema_json": "model_json_schema",
    "construct": "model_construct",
    "update_forward_refs": "model_rebuild",
}
# Methods with no exact v2 counterpart: reported, never rewritten.
NO_EQUIVALENT: Mapping[str, str] = {
    "parse_file": "read the file and call model_validate_json()",
    "validate": "v2's model_validate() returns a model instance as it is, where v1 copied it",
}
# Methods that make a new instance of the class they are called on.
CONSTRUCTORS = frozenset(
    {"parse_obj", "parse_raw", "parse_file", "from_orm", "construct", "validate"}
    | {"model_validate", "model_validate_json", "model_construct"}
)

_EXPORT = ("include", "exclude", "by_alias", "exclude_unset", "exclude_defaults", "exclude_none")
KEPT_KEYWORDS: Mapping[str, frozenset[str]] = {
    "dict": frozenset(_EXPORT),
    "json": frozenset({*_EXPORT, "indent"}),
    "copy": frozenset({"update", "deep"}),
    "parse_obj": frozenset({"obj"}),
    "from_orm": frozenset(),
    "parse_raw": frozenset(),
    "schema": frozenset({"by_alias", "ref_template"}),
    "schema_json": frozenset({"by_alias", "ref_template"}),  # the others go to json.dumps
    "construct": frozenset({"_fields_set"}),
    "update_forward_refs": frozenset(),
}
RENAMED_KEYWORDS: Mapping[str, str] = {"skip_defaults": "exclude_unset"}  # v1 deprecated alias
DECLINED_KEYWORDS: Mapping[str, str] = {
    "encoder": "v2 has no per-call encoder: use a field_serializer or model_serializer",
    "models_as_dict": "v2 has no models_as_dict",
    "include": "model_copy() has no include/exclude: copy then model_dump(include=...)",
    "exclude": "model_copy() has no include/exclude: copy then model_dump(exclude=...)",
    "content_type": "model_validate_json() reads JSON only",
    "encoding": "model_validate_json() reads JSON only",
    "proto": "model_validate_json() reads JSON only",
    "allow_pickle": "v2 does not unpickle",
}
POSITIONAL: Mapping[str, int] = {"parse_obj": 1, "from_orm": 1, "parse_raw": 1}  # positional arguments allowed

# Field(...) keywords.  v2's Field signature (2.5 and later): anything else is an extra that v1
# put into the JSON schema and v2 wants in json_schema_extra.
V2_FIELD_KEYWORDS = frozenset(
    [
        "default",
        "default_factory",
        "alias",
        "alias_priority",
        "validation_alias",
        "serialization_alias",
        "title",
        "field_title_generator",
        "description",
        "examples",
        "exclude",
        "discriminator",
        "deprecated",
        "json_schema_extra",
        "frozen",
        "validate_default",
        "repr",
        "init",
        "init_var",
        "kw_only",
        "pattern",
        "strict",
        "coerce_numbers_to_str",
        "gt",
        "ge",
        "lt",
        "le",
        "multiple_of",
        "allow_inf_nan",
        "max_digits",
        "decimal_places",
        "min_length",
        "max_length",
        "union_mode",
    ]
)
FIELD_RENAMES: Mapping[str, str] = {"min_items": "min_length", "max_items": "max_length"}
FIELD_DECLINED: Mapping[str, str] = {
    "const": "const was removed: annotate the field with Literal[value]",
    "unique_items": "unique_items was removed: annotate the field as a set",
    "include": "Field(include=...) was removed: pass include= to model_dump()",
}

# Where the names pydantic-api adds come from.
PYDANTIC = "pydantic"
VALIDATOR_NAMES = frozenset({"pydantic.validator", "pydantic.class_validators.validator"})
ROOT_VALIDATOR_NAMES = frozenset({"pydantic.root_validator", "pydantic.class_validators.root_validator"})
FIELD_NAMES = frozenset({"pydantic.Field", "pydantic.fields.Field"})
GENERIC_MODEL_NAMES = frozenset({"pydantic.generics.GenericModel"})
PARSE_OBJ_AS_NAMES = frozenset({"pydantic.parse_obj_as", "pydantic.tools.parse_obj_as"})

# Annotations that made a field optional (default None) in v1 and required in v2.
OPTIONAL_NAMES = frozenset({"typing.Optional", "typing_extensions.Optional"})
UNION_NAMES = frozenset({"typing.Union", "typing_extensions.Union"})
ANY_NAMES = frozenset({"typing.Any", "typing_extensions.Any"})
ANNOTATED_NAMES = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
CLASSVAR_NAMES = frozenset({"typing.ClassVar", "typing_extensions.ClassVar"})
TYPE_NAMES = frozenset({"type", "typing.Type", "typing_extensions.Type"})

# Regular expression syntax Python's re has and Rust's regex (v2's default engine) lacks.
PYTHON_ONLY_REGEX = ("(?=", "(?!", "(?<=", "(?<!", "(?P=", "\\1", "\\2", "\\3", "*+", "++", "?+", "(?>")
