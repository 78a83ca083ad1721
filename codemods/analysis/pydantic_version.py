"""Which major version of Pydantic a project runs on, from what its code uses.

pydantic-config and pydantic-api write the v2 API (`model_config = ConfigDict(...)`,
`.model_dump()`).  In a project still installed with Pydantic 1 that breaks it: under v1
`model_config` is an ordinary required field (every request answers 422) and `.model_dump`
does not exist.  A project is taken to run on v1 when its code uses something Pydantic 2
removed and no v2 replacement of it is imported next to it, at module level (an import inside
`try`/`if` is a compatibility fallback, not evidence):

- imports of names Pydantic 2 removed (its own migration table: `pydantic.fields.ModelField`,
  the `Constrained*` types, `pydantic.error_wrappers`, `pydantic.typing`, `pydantic.env_settings`,
  `pydantic.datetime_parse`, the v1 error classes, ...; not what v2 still serves deprecated);
- the v1 field API: `.outer_type_`, `.sub_fields`, `__fields__[name].type_`/`.required`;
- a custom root type declared as a `__root__` field (v2 refuses the class);
- a requirement written in `setup.py` that excludes Pydantic 2 (`pydantic<2`, `==1.*`, `~=1.10`).

What `pyproject.toml` or requirements files declare is not read: the code and `setup.py` are.
"""

from __future__ import annotations

import re

PYDANTIC_VERSION_HELP = (
    'the Pydantic the project runs on: "auto" (Pydantic 1 if its code uses what Pydantic 2 removed), '
    "1 (change nothing), or 2 (convert: the project moves to Pydantic 2 now)"
)
UPGRADE_FIRST = "upgrade to Pydantic 2 first, or set pydantic-version = 2 in [tool.auditfix"


def runs_on_pydantic_1(setting: object, evidence: str | None) -> str | None:
    """Why the project counts as running on Pydantic 1 under the ``pydantic-version`` setting."""
    if setting == 1:
        return "pydantic-version = 1"
    return evidence if setting == "auto" else None

# Modules of Pydantic 1 whose every name Pydantic 2 removed or moved to pydantic.v1 (importing
# one raises there).  Names of pydantic.utils or pydantic.class_validators that v2 still serves
# (deprecated) are not evidence.
_V1_MODULES = ("error_wrappers", "typing", "datetime_parse", "env_settings")

# Names Pydantic 2's migration table lists as removed (module: names; "" is the package).
_REMOVED = {
    "": r"Constrained\w+|NoneStr|NoneBytes|StrBytes|NoneStrBytes|JsonWrapper|PyObject|stricturl|validate_model"
    r"|create_model_from_namedtuple|create_model_from_typeddict|compiled",
    "fields": r"ModelField|SHAPE_\w+",
    "types": r"Constrained\w+|NoneStr|NoneBytes|StrBytes|NoneStrBytes|JsonWrapper",
    "main": r"validate_model",
    "utils": r"ClassAttribute|DUNDER_ATTRIBUTES|PyObjectStr|ValueItems|almost_equal_floats|get_discriminator_alias_and_values"
    r"|get_model|get_unique_discriminator_alias|in_ipython|is_valid_identifier|path_type|validate_field_name",
    "networks": r"stricturl",
    "errors": r"(?!Pydantic(?:User|Schema|Import|Undefined|Invalid|Error))\w+Error|InvalidByteSize\w*",
}

_IMPORT = re.compile(rb"^from[ \t]+pydantic(?:\.(\w+))?[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)", re.MULTILINE)
_FIELD_API = re.compile(
    rb"\.outer_type_\b|\.sub_fields\b|__fields__\[[^\]\n]+\]\.(?:type_|required|allow_none|shape)\b"
)
_ROOT_FIELD = re.compile(rb"^[ \t]+__root__[ \t]*:", re.MULTILINE)
_SETUP_REQUIREMENT = re.compile(rb"""["']pydantic(?:\[[^\]]*\])?[ \t]*([<>=!~][^"']*)["']""")
_EXCLUDES_V2 = re.compile(rb"<[ \t]*2(?:\.0)*(?![.\d])|<=[ \t]*1\b|==[ \t]*1\b|~=[ \t]*1\b")


def v1_evidence(path: str, source: bytes) -> str | None:
    """Where and why ``source`` shows code that runs only on Pydantic 1 ("line 3: imports
    ModelField from pydantic.fields, which Pydantic 2 removed"), or None."""
    if b"pydantic" not in source and b"__root__" not in source and b"outer_type_" not in source:
        return None
    found: list[tuple[int, str]] = []
    for match in _IMPORT.finditer(source):
        module = (match[1] or b"").decode()
        names = [part.split()[0] for part in match[2].decode().strip("()").split(",") if part.split()]
        where = f"pydantic.{module}" if module else "pydantic"
        if module in _V1_MODULES and names:
            found.append((match.start(), f"imports {names[0]} from {where}, a Pydantic 1 module"))
            continue
        pattern = _REMOVED.get(module)
        removed = [n for n in names if pattern and re.fullmatch(pattern, n)]
        if removed:
            found.append((match.start(), f"imports {removed[0]} from {where}, which Pydantic 2 removed"))
    for match in _FIELD_API.finditer(source):
        found.append((match.start(), f"uses the Pydantic 1 field API ({match[0].decode().rsplit('.', 1)[-1]})"))
    for match in _ROOT_FIELD.finditer(source):
        found.append((match.start(), "declares a __root__ field, which Pydantic 2 refuses"))
    if path.rsplit("/", 1)[-1] == "setup.py":
        for match in _SETUP_REQUIREMENT.finditer(source):
            if _EXCLUDES_V2.search(match[1]):
                found.append((match.start(), f"requires {match[0].decode()[1:-1]}"))
    if not found:
        return None
    offset, reason = min(found)
    line = source.count(b"\n", 0, offset) + 1
    return f"line {line}: {reason}"
