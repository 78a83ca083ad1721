"""pydantic-config: Pydantic v1 ``class Config`` -> v2 ``model_config = ConfigDict(...)``."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import libcst as cst

from codemods.analysis.nodes import dotted_name, has_multiline_string, loaded_names
from codemods.analysis.precheck import SyntaxFacts
from codemods.analysis.pydantic_models import (
    MODEL_ROOTS,
    SETTINGS_ROOTS,
    UNRESOLVED,
    V1_API,
    FileFacts,
    ModelIndex,
    build_model_index,
    index_file,
    join_name,
)
from codemods.analysis.pydantic_version import (
    PYDANTIC_VERSION_HELP,
    UPGRADE_FIRST,
    runs_on_pydantic_1,
)
from codemods.analysis.wrapping import wrap_comment
from codemods.base import Codemod, FileContext
from codemods.options import Option

TODO_PREFIX = "# TODO[pydantic-config]:"
TODO_CONTINUATION = "#   "  # the further lines of a TODO wrapped at the project's line length

# Pydantic's own migration table (pydantic._internal._config.V2_RENAMED_KEYS).  The guide's
# name for allow_population_by_field_name, populate_by_name, works in every v2 release;
# validate_by_name only exists from 2.11 on.
RENAMED_KEYS: Mapping[str, str] = {
    "allow_population_by_field_name": "populate_by_name",
    "anystr_lower": "str_to_lower",
    "anystr_strip_whitespace": "str_strip_whitespace",
    "anystr_upper": "str_to_upper",
    "keep_untouched": "ignored_types",
    "max_anystr_length": "str_max_length",
    "min_anystr_length": "str_min_length",
    "orm_mode": "from_attributes",
    "schema_extra": "json_schema_extra",
    "validate_all": "validate_default",
}

# Keys v2 removed without a replacement key (V2_REMOVED_KEYS, less allow_mutation, which
# becomes frozen), with what to do instead.
REMOVED_KEYS: Mapping[str, str] = {
    "copy_on_model_validation": "v2 never copies nested model instances; "
    "use revalidate_instances='always' if they must be revalidated",
    "error_msg_templates": "customise messages by catching ValidationError or with custom types",
    "fields": "declare aliases and field settings with Field(...) on each field "
    "(for settings env names: Field(validation_alias=...))",
    "getter_dict": "use from_attributes=True with a model_validator(mode='before') for custom attribute access",
    "json_dumps": "serialise with model_dump_json() or a model_serializer",
    "json_loads": "parse the JSON yourself and call model_validate(), or use model_validate_json()",
    "post_init_call": "a pydantic dataclass's __post_init__ now always runs after validation",
    "smart_union": "v2 unions are smart by default; delete it",
    "underscore_attrs_are_private": "v2 always treats _underscore attributes as private; delete it",
}

# Every key of pydantic.ConfigDict in Pydantic 2 (a key outside these is kept, and reported).
V2_KEYS = frozenset(
    """
    alias_generator allow_inf_nan arbitrary_types_allowed cache_strings coerce_numbers_to_str
    defer_build extra field_title_generator from_attributes frozen hide_input_in_errors
    ignored_types json_encoders json_schema_extra json_schema_mode_override
    json_schema_serialization_defaults_required loc_by_alias model_title_generator
    plugin_settings populate_by_name protected_namespaces regex_engine revalidate_instances
    schema_generator ser_json_bytes ser_json_inf_nan ser_json_temporal ser_json_timedelta
    serialize_by_alias str_max_length str_min_length str_strip_whitespace str_to_lower
    str_to_upper strict title use_attribute_docstrings use_enum_values val_json_bytes
    validate_assignment validate_by_alias validate_by_name validate_default validate_return
    validation_error_cause
    """.split()
)

# The v1 BaseSettings keys that pydantic_settings.SettingsConfigDict still accepts.
SETTINGS_KEYS = frozenset(
    "case_sensitive env_file env_file_encoding env_nested_delimiter env_prefix secrets_dir".split()
)

EXTRA_VALUES = frozenset({"allow", "ignore", "forbid"})

# Config parents that add nothing: v1's defaults, which v2 applies anyway.
NEUTRAL_CONFIG_BASES = frozenset(
    {"pydantic.BaseConfig", "pydantic.config.BaseConfig", *(f"{root}.Config" for root in MODEL_ROOTS | SETTINGS_ROOTS)}
)

DECLINED = "class Config not converted:"


# -- the whole-tree index ------------------------------------------------------------------------


# -- the per-file rewrite ----------------------------------------------------------------------------


class _Decline(Exception):
    """A Config this codemod must not convert; the message says why."""


@dataclasses.dataclass
class _Entry:
    key: str
    value: str  # source code, continuation lines relative to the entry's line
    node: cst.BaseExpression
    comments: list[str] = dataclasses.field(default_factory=list)
    trailing: str | None = None


@dataclasses.dataclass
class _Conversion:
    entries: list[_Entry]
    comments_above: list[str]  # header comment, docstring, comments of removed keys, TODOs
    footer: list[str]
    removed: list[str]  # messages for the keys left as TODOs
    unknown: list[str]
    extra_imports: set[tuple[str, str, str | None]]  # Extra/BaseConfig imports that may now be unused

    @property
    def is_empty(self) -> bool:
        return not (self.entries or self.comments_above or self.footer)


class PydanticConfig(Codemod):
    """Convert Pydantic v1 `class Config` into v2 `model_config = ConfigDict(...)`.

    What it does:
    Replaces the `class Config:` of every Pydantic model with `model_config =
    ConfigDict(...)` at the same place (`SettingsConfigDict` for settings classes), applying
    Pydantic's table of renamed keys (`orm_mode` -> `from_attributes`,
    `allow_population_by_field_name` -> `populate_by_name`, ...), turning
    `allow_mutation = False` into `frozen=True` and `extra = Extra.forbid` into
    `extra="forbid"`.  Comments inside the Config stay next to their key; a docstring
    becomes a comment.  A class is a model if it inherits, through any chain of classes in the
    scanned tree, import aliases and re-exports, from `pydantic.BaseModel`, `GenericModel` or
    a `BaseSettings`; `pydantic.v1` models and classes that are not models are left alone.
    Re-exports are followed through any module of the tree, with or without classes of its
    own (a compat shim, a package `__init__`), over any number of modules: `from x import Y`,
    `from x import Y as Z`, `import x.y as z` then `z.Y`, relative imports (`from .compat
    import Y`, `from .. import Y`), aliases (`Y = z.Y`), fallback imports in `try`/`except`
    or `if` blocks, and star imports (a module of the tree binds what its `__all__` lists,
    else the public names it binds; a module outside the tree may bind any public name).
    Three kinds of Config stay and are reported, with why: one of a class on the v1 API (a
    `pydantic.v1` or `*.pydantic_v1` base, directly or through classes and re-exports of the
    tree), where `model_config` would be an ordinary field and the settings would be lost;
    one of a class whose base may be the v1 API or something else (a fallback import, a star
    import), which is not provably a v2 model; and one of a class whose base the scanned
    folder does not define, so nobody can tell from here.

    Why is this bad?
    Pydantic v2 still reads a `class Config` but ignores renamed keys with only a warning
    (so `model_validate(orm_object)` fails without `from_attributes`) and silently drops
    `allow_mutation = False`, so a model meant to be immutable becomes mutable.

    Example:
    ```python
    class User(BaseModel):
        class Config:
            orm_mode = True
            allow_mutation = False  # users are shared between requests
    ```

    Use instead:
    ```python
    class User(BaseModel):
        model_config = ConfigDict(
            from_attributes=True,
            frozen=True,  # users are shared between requests
        )
    ```

    Fix safety:
    A project whose code runs only on Pydantic 1 (it imports what Pydantic 2 removed, uses the
    v1 field API or `__root__` fields, or its `setup.py` excludes 2) keeps every Config, with one
    finding per class naming the file and line; `pydantic-version = 2` converts anyway.
    Keys are renamed to the v2 names Pydantic itself documents, so the model behaves as it
    did under v1.  `frozen=True` also makes instances hashable, which `allow_mutation =
    False` did not.  Keys v2 removed (`smart_union`, `fields`, `getter_dict`,
    `json_loads`, ...) are not carried over: a `# TODO[pydantic-config]:` comment above
    `model_config` names each with its old value and what to do instead.  A Config with
    no keys and no comments is deleted.

    Limitations:
    Not converted, with a TODO comment and a finding saying why: a Config that inherits from
    another class, defines methods (`schema_extra` as a function, `customise_sources`)
    or holds anything but key assignments; a value that refers to another Config key or to a
    name the model class defines; a class whose existing `model_config` sets one of the same
    keys differently.  Subclasses of third-party models (SQLModel, Beanie, ...) are not
    recognised as models (their Config is reported as undecidable).  What a module binds is
    read without regard to order or which branch runs: every import of a name counts, so
    `try: from pydantic.v1 import BaseModel` / `except ImportError: from pydantic import
    BaseModel` is declined as "may be the v1 API" (under either major version it is), and a
    star import from a module outside the tree may rebind every imported name of its file,
    so the bases imported there become undecidable.  Not followed: names bound by a function
    or a computed value (`Base = declarative_base()`), a module `__getattr__` (lazy
    re-exports), an `__all__` built by anything but literal lists (it counts as absent),
    `importlib` and `sys.modules` tricks, and chains of more than 40 re-exports.  `from
    pydantic import BaseSettings` is not rewritten to `pydantic_settings`.  Keys Pydantic v2
    does not know are kept and reported.
    """

    name = "pydantic-config"
    summary = "Convert Pydantic v1 `class Config` into v2 `model_config = ConfigDict(...)`."
    safety = (
        "Keys are renamed to their documented v2 names, so models behave as under v1; frozen=True "
        "also makes instances hashable. Removed keys are left as TODO comments, never guessed."
    )
    markers = (b"class Config", b" Config = ")
    index_markers = (b"class ", b"import")  # classes, and the modules that may re-export them
    options = (Option("pydantic-version", "auto", PYDANTIC_VERSION_HELP, (str, int), choices=("auto", 1, 2)),)

    @classmethod
    def may_change(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> bool:
        return facts.config_in_class  # only a class whose own body defines or assigns Config

    # -- whole-tree pass --------------------------------------------------------------------------

    @classmethod
    def index_file(cls, path: str, source: bytes) -> FileFacts | None:
        return index_file(path, source)

    @classmethod
    def build_index(cls, facts: Mapping[str, Any], options: Mapping[str, Any]) -> ModelIndex:
        return build_model_index(facts.values())

    # -- per file ---------------------------------------------------------------------------------

    def __init__(self, file: FileContext) -> None:
        super().__init__(file)
        self._scope: list[str] = []
        self._module = cst.Module(body=[])
        self._index = ModelIndex(frozenset(), frozenset())
        # Top-level imports: local name -> (module, name, asname) of `from` imports; -> module of `import`.
        self._from_imports: dict[str, tuple[str, str, str | None]] = {}
        self._module_imports: dict[str, str] = {}
        self._enclosing: set[str] = set()  # qualnames of the models and what encloses them
        self._imported: set[tuple[str, str]] = set()  # (module, name) of top-level `from` imports

    def visit_Module(self, node: cst.Module) -> None:
        self._module = node
        index = self.file.index
        if not isinstance(index, ModelIndex):  # run without the whole-tree pass: this file alone
            index = self.build_index({self.file.path: self.index_file(self.file.path, node.bytes)}, {})
        self._index = index
        # Only the classes and functions that are or enclose a model (or a class whose Config is
        # reported) of this file need visiting.
        own = join_name(self.file.module_name, "")
        reported = [qualname for qualname, _ in (*index.v1_api, *index.v1_maybe, *index.unknown)]
        for qualname in (*index.models, *reported):
            if qualname.startswith(own):
                parts = qualname.split(".")
                self._enclosing.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        self._collect_imports(node)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        return False  # nothing this codemod rewrites is inside a simple statement

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._scope.append(node.name.value)
        return self._qualname() in self._enclosing

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._scope.append(node.name.value)
        return self._qualname() in self._enclosing

    def _qualname(self) -> str:
        return join_name(self.file.module_name, ".".join(self._scope))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self._scope.pop()
        return updated_node

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        qualname = self._qualname()
        self._scope.pop()
        if not isinstance(updated_node.body, cst.IndentedBlock):
            return updated_node
        if qualname not in self._index.models:
            self._report_v1_api_model(original_node, qualname)
            return updated_node
        on_v1 = self._runs_on_v1()
        if on_v1 is not None:
            config = next((s for s in original_node.body.body if _is_config_class(s)), None)
            if config is not None:
                message = (
                    f"`class Config` of {original_node.name.value} left as it is: the project runs on Pydantic 1 "
                    f"({on_v1}), where `model_config` would be a required field; {UPGRADE_FIRST}.pydantic-config]"
                )
                self.report(config, message, fixable=False)
            return updated_node
        return self._convert_model(original_node, updated_node, qualname in self._index.settings)

    def _report_v1_api_model(self, node: cst.ClassDef, qualname: str) -> None:
        """Say why a Config under a Pydantic v1-API base stays: there, it is still correct."""
        config = next((s for s in node.body.body if _is_config_class(s)), None)
        if config is None:
            return
        root = dict(self._index.v1_api).get(qualname)
        if root is not None:
            direct = self._direct_v1_module(node)
            if direct is not None:
                reason = f"its base comes from {direct}"
            else:  # further up: through classes or re-exports of the scanned tree
                module, _, base = root.rpartition(".")
                reason = f"it derives from {base} of {module}"
            message = f"`class Config` of {node.name.value} left as it is: {reason}, the Pydantic v1 API, "
            self.report(config, message + "which still reads `class Config`", fixable=False)
            return
        maybe = dict(self._index.v1_maybe).get(qualname)
        if maybe is not None:
            module, _, base = maybe.rpartition(".")
            self.report(
                config,
                f"`class Config` of {node.name.value} not converted: its base may be {base} of {module}, Pydantic's "
                "v1 API (where `model_config` would be an ordinary field), or something else, since the name is "
                "bound more than one way (a fallback import, a star import); convert it by hand if it is a v2 model",
                fixable=False,
            )
            return
        outside = dict(self._index.unknown).get(qualname)
        if outside is not None:
            where = (
                "which no import of the scanned folder explains"
                if outside.startswith(UNRESOLVED)
                else "which auditfix cannot find in the scanned folder"
            )
            self.report(
                config,
                f"`class Config` of {node.name.value} not converted: whether it is a Pydantic model depends on "
                f"{outside.removeprefix(UNRESOLVED)}, {where}; convert it by hand if it is a v2 model",
                fixable=False,
            )

    def _runs_on_v1(self) -> str | None:
        """Why the project is taken to run on Pydantic 1, or None (see analysis/pydantic_version)."""
        return runs_on_pydantic_1(self.option("pydantic-version"), self._index.v1_project)

    def _direct_v1_module(self, node: cst.ClassDef) -> str | None:
        """The v1-API module a base of ``node`` is imported from in this file, if one is."""
        for arg in node.bases:
            resolved, _ = self._resolve(arg.value) if arg.keyword is None else (None, None)
            if resolved is not None and V1_API.search(resolved):
                return resolved.rpartition(".")[0]
        return None

    # -- one model ----------------------------------------------------------------------------------

    def _convert_model(self, original: cst.ClassDef, updated: cst.ClassDef, settings: bool) -> cst.ClassDef:
        body = list(updated.body.body)
        original_body = original.body.body
        config_positions = [i for i, stmt in enumerate(body) if _is_config_class(stmt)]
        if not config_positions:
            for statement in original_body:
                if _assigns(statement, "Config"):
                    message = "Config is assigned, not defined in the class: convert it to model_config by hand"
                    self.report(statement, message, fixable=False)
            return updated
        position = config_positions[0]
        config = original_body[position]
        assert isinstance(config, cst.ClassDef)
        callee = "SettingsConfigDict" if settings else "ConfigDict"
        existing = [i for i, stmt in enumerate(body) if _assigns(stmt, "model_config")]
        try:
            if len(config_positions) > 1:
                raise _Decline("the class defines more than one class Config")
            if any(_assigns(stmt, "__config__") for stmt in body):
                raise _Decline("the class also sets __config__")
            conversion = self._analyse(config, settings, _names_bound_before(body[:position]))
            if existing:
                return self._merge(original, updated, position, existing, conversion)
        except _Decline as decline:
            return self._decline(updated, position, config, str(decline))

        self._report_conversion(config, conversion, callee)
        if conversion.is_empty and not _comments(config.leading_lines):
            del body[position]
            if not body:
                body.append(cst.SimpleStatementLine([cst.Pass()]))
        else:
            statement = self._render(conversion, callee)
            body[position] = statement.with_changes(
                leading_lines=[*_without_stale_todo(config.leading_lines), *statement.leading_lines]
            )
            self._import_callee(settings)
        return updated.with_changes(body=updated.body.with_changes(body=body))

    def _merge(
        self, original: cst.ClassDef, updated: cst.ClassDef, position: int, existing: list[int], conversion: _Conversion
    ) -> cst.ClassDef:
        """Fold the Config's keys into the model_config the class already has."""
        body = list(updated.body.body)
        config = original.body.body[position]
        if len(existing) > 1:
            raise _Decline("the class assigns model_config more than once")
        statement = body[existing[0]]
        assert isinstance(statement, cst.SimpleStatementLine)
        assignment = statement.body[0]
        call = assignment.value if isinstance(assignment, cst.Assign) and len(statement.body) == 1 else None
        plain_call = isinstance(call, cst.Call) and _is_config_dict(call.func)
        if not (plain_call and all(_plain_keyword(arg) for arg in call.args)):
            raise _Decline("the class already has a model_config that is not a plain ConfigDict(...) call")
        entries, footer = self._call_entries(call)
        present = {entry.key: _normalised(entry.value) for entry in entries}
        for entry in conversion.entries:
            if entry.key not in present:
                entries.append(entry)
            elif present[entry.key] != _normalised(entry.value):
                raise _Decline(f"model_config and class Config both set `{entry.key}`, to different values")
        merged = dataclasses.replace(conversion, entries=entries, footer=[*footer, *conversion.footer])
        callee = self._module.code_for_node(call.func)
        self._report_conversion(config, merged, callee)
        new_statement = self._render(merged, callee)
        config_comments = [line for line in _without_stale_todo(config.leading_lines) if line.comment is not None]
        body[existing[0]] = new_statement.with_changes(
            leading_lines=[*statement.leading_lines, *config_comments, *new_statement.leading_lines]
        )
        del body[position]
        return updated.with_changes(body=updated.body.with_changes(body=body))

    def _decline(self, updated: cst.ClassDef, position: int, config: cst.ClassDef, reason: str) -> cst.ClassDef:
        message = f"{DECLINED} {reason}"
        self.report(config, message, fixable=False)
        if any(comment.startswith(TODO_PREFIX) for comment in _comments(config.leading_lines)):
            return updated  # the TODO is already there: a second run changes nothing
        self.report(config, f"added a TODO comment: {message}")
        body = list(updated.body.body)
        todo = [cst.EmptyLine(comment=cst.Comment(line)) for line in self._todo(message)]
        body[position] = body[position].with_changes(leading_lines=[*body[position].leading_lines, *todo])
        return updated.with_changes(body=updated.body.with_changes(body=body))

    def _report_conversion(self, config: cst.ClassDef, conversion: _Conversion, callee: str) -> None:
        if conversion.is_empty:
            self.report(config, "empty class Config removed")
        else:
            self.report(config, f"class Config → model_config = {callee}(...)")
        for message in (*conversion.removed, *conversion.unknown):
            self.report(config, message, fixable=False)
        for module, obj, asname in sorted(conversion.extra_imports, key=str):
            self.remove_import(module, obj, asname)

    def _import_callee(self, settings: bool) -> None:
        module, name = ("pydantic_settings", "SettingsConfigDict") if settings else ("pydantic", "ConfigDict")
        if (module, name) not in self._imported:  # AddImportsVisitor walks the whole file: only when needed
            self.add_import(module, name)

    def _render(self, conversion: _Conversion, callee: str) -> cst.BaseStatement:
        entries = conversion.entries
        one_line = not entries and not conversion.footer
        if len(entries) == 1 and not conversion.footer:
            entry = entries[0]
            line = f"model_config = {callee}({entry.key}={entry.value})"
            depth = len(self._scope) + 1
            one_line = (
                not entry.comments
                and entry.trailing is None
                and "\n" not in entry.value
                and len(self._module.default_indent) * depth + len(line) <= self.file.style.line_length
            )
        text = self.render(
            "pydantic_config.py.j2",
            callee=callee,
            entries=entries,
            comments_above=conversion.comments_above,
            footer=conversion.footer,
            one_line=one_line,
            indent=self._module.default_indent,
        )
        return cst.parse_statement(text, config=self._module.config_for_parsing)

    # -- reading a Config -----------------------------------------------------------------------------

    def _analyse(self, config: cst.ClassDef, settings: bool, model_names: set[str]) -> _Conversion:
        unused_imports: set[tuple[str, str, str | None]] = set()
        parents = self._parents(config, unused_imports)
        if parents:
            raise _Decline(f"it inherits from {', '.join(parents)}; merge those keys into model_config by hand")
        if config.decorators:
            raise _Decline("it is decorated")
        comments_above: list[str] = []
        if isinstance(config.body, cst.IndentedBlock) and config.body.header.comment is not None:
            comments_above.append(config.body.header.comment.value)
        raw: list[_Entry] = []
        pending: list[str] = []
        for comments, small_statements, trailing in self._config_lines(config):
            pending.extend(comments)
            keyed: list[_Entry] = []
            for small in small_statements:
                docstring = _docstring_lines(small)
                if docstring is not None:
                    comments_above.extend(docstring)
                elif not _is_noop(small):
                    key, value = self._key_assignment(small)
                    keyed.append(_Entry(key, "", value))
            if keyed:
                keyed[0].comments, pending = pending, []
                keyed[-1].trailing = trailing
                raw.extend(keyed)
            elif trailing is not None:
                pending.append(trailing)
        footer = pending
        if isinstance(config.body, cst.IndentedBlock):
            footer = [*pending, *_comments(config.body.footer)]
        conversion = self._convert_keys(raw, comments_above, footer, settings, model_names)
        conversion.extra_imports.update(unused_imports)
        return conversion

    def _config_lines(
        self, config: cst.ClassDef
    ) -> Iterable[tuple[list[str], Sequence[cst.BaseSmallStatement], str | None]]:
        """(own-line comments before, small statements, trailing comment) per line of the Config."""
        block = config.body
        if isinstance(block, cst.SimpleStatementSuite):
            trailing = block.trailing_whitespace.comment
            yield [], block.body, trailing.value if trailing else None
            return
        for statement in block.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                raise _Decline(f"it contains {_describe_compound(statement)}, not only key assignments")
            trailing = statement.trailing_whitespace.comment
            yield _comments(statement.leading_lines), statement.body, trailing.value if trailing else None

    def _key_assignment(self, small: cst.BaseSmallStatement) -> tuple[str, cst.BaseExpression]:
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
            return small.targets[0].target.value, small.value
        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
            return small.target.value, small.value
        code = _short(self._module.code_for_node(small))
        raise _Decline(f"it contains `{code}`, not only key assignments")

    def _convert_keys(
        self, raw: list[_Entry], comments_above: list[str], footer: list[str], settings: bool, model_names: set[str]
    ) -> _Conversion:
        keys = [entry.key for entry in raw]
        self._check_values(raw, model_names)
        for old, new in RENAMED_KEYS.items():
            if old in keys and new in keys:
                raise _Decline(f"it sets both `{old}` and its v2 name `{new}`")
        conversion = _Conversion([], comments_above, footer, [], [], set())
        frozen = next((e for e in raw if e.key == "frozen"), None)
        frozen_literal = _bool_literal(frozen.node) if frozen is not None else None
        mutation = next((e for e in raw if e.key == "allow_mutation"), None)
        allowed = _bool_literal(mutation.node) if mutation is not None else None
        if frozen is not None and frozen_literal is not None and allowed is not None:
            # v1: immutable if frozen or not allow_mutation; both become the one v2 key.
            frozen.node = cst.Name(str(frozen_literal or not allowed))
        for entry in raw:
            key = entry.key
            if key == "allow_mutation":
                self._convert_allow_mutation(entry, frozen, frozen_literal, conversion)
                continue
            if key in REMOVED_KEYS:
                self._leave_todo(entry, REMOVED_KEYS[key], conversion)
                continue
            entry.key = RENAMED_KEYS.get(key, key)
            extra = self._extra_value(entry.node, conversion) if key == "extra" else None
            entry.value = extra or self._value_code(entry.node, reindent=True)
            if entry.key not in V2_KEYS and not (settings and entry.key in SETTINGS_KEYS):
                conversion.unknown.append(f"`{entry.key}` is not a Pydantic v2 config key; kept in model_config")
            conversion.entries.append(entry)
        return conversion

    def _check_values(self, raw: list[_Entry], model_names: set[str]) -> None:
        """Refuse values whose names would mean something else once moved into the model's body."""
        earlier: set[str] = set()
        for entry in raw:
            if entry.key in earlier:
                raise _Decline(f"it assigns `{entry.key}` twice")
            for name in sorted(loaded_names(entry.node)):
                if name in earlier:
                    raise _Decline(f"the value of `{entry.key}` refers to `{name}`, another Config key")
                if name in model_names:
                    raise _Decline(f"the value of `{entry.key}` refers to `{name}`, which the model class also defines")
            earlier.add(entry.key)

    def _convert_allow_mutation(
        self, entry: _Entry, frozen: _Entry | None, frozen_literal: bool | None, conversion: _Conversion
    ) -> None:
        allowed = _bool_literal(entry.node)
        if allowed is None:
            self._leave_todo(entry, "it is not a literal True/False; set frozen=True where it is False", conversion)
        elif frozen is None:
            entry.key, entry.value = "frozen", str(not allowed)
            conversion.entries.append(entry)
        elif frozen_literal is not None:
            frozen.comments.extend([*entry.comments, *([entry.trailing] if entry.trailing else [])])
        else:
            advice = "the Config also sets frozen to a non-literal value; fold both into frozen"
            self._leave_todo(entry, advice, conversion)

    def _todo(self, text: str) -> list[str]:
        """The lines of a TODO comment in the model's body, within the project's line length."""
        indent = len(self._module.default_indent) * (len(self._scope) + 1)
        return wrap_comment(
            text,
            indent=indent,
            limit=self.file.style.line_length,
            prefix=TODO_PREFIX + " ",
            continuation=TODO_CONTINUATION,
        )

    def _leave_todo(self, entry: _Entry, advice: str, conversion: _Conversion) -> None:
        old = f"{entry.key} = {_short(self._module.code_for_node(entry.node))}"
        what = f"`{old}` was removed in Pydantic v2" if entry.key in REMOVED_KEYS else f"`{old}` not converted"
        conversion.comments_above.extend(entry.comments)
        if entry.trailing:
            conversion.comments_above.append(entry.trailing)
        conversion.comments_above.extend(self._todo(f"{what}: {advice}"))
        conversion.removed.append(f"{what}: {advice} (TODO left above model_config)")

    def _extra_value(self, node: cst.BaseExpression, conversion: _Conversion) -> str | None:
        """`Extra.forbid` (however Extra is imported) as the string v2 expects."""
        if not (isinstance(node, cst.Attribute) and node.attr.value in EXTRA_VALUES):
            return None
        resolved, from_import = self._resolve(node.value)
        if resolved not in ("pydantic.Extra", "pydantic.config.Extra"):
            return None
        if from_import is not None and isinstance(node.value, cst.Name):
            conversion.extra_imports.add(from_import)
        return f'"{node.attr.value}"'

    def _value_code(self, node: cst.BaseExpression, *, reindent: bool) -> str:
        """Source of a value; continuation lines move one level in when it becomes a call argument."""
        code = self._module.code_for_node(node)
        if not reindent or "\n" not in code or "\\\n" in code or has_multiline_string(self._module, node):
            return code  # backslash continuations keep their absolute indentation in libcst
        first, *rest = code.split("\n")
        indent = self._module.default_indent
        return "\n".join([first, *(indent + line if line.strip() else line for line in rest)])

    def _call_entries(self, call: cst.Call) -> tuple[list[_Entry], list[str]]:
        """The keyword arguments of an existing ConfigDict(...) call, with their comments."""
        entries: list[_Entry] = []
        pending = _whitespace_comments(call.whitespace_before_args)
        for arg in call.args:
            assert arg.keyword is not None
            entry = _Entry(arg.keyword.value, self._value_code(arg.value, reindent=False), arg.value, pending)
            after = arg.comma.whitespace_after if isinstance(arg.comma, cst.Comma) else arg.whitespace_after_arg
            entry.trailing, *pending = _whitespace_comments(after, split_first=True)
            entries.append(entry)
        return entries, pending

    def _collect_imports(self, module: cst.Module) -> None:
        for small in _top_level_small_statements(module.body):
            if isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
                if isinstance(small.names, cst.ImportStar):
                    continue
                source = self._module.code_for_node(small.module)
                for alias in small.names:
                    if isinstance(alias.name, cst.Name):
                        asname = _alias_name(alias)
                        self._from_imports[asname or alias.name.value] = (source, alias.name.value, asname)
                        if asname is None:
                            self._imported.add((source, alias.name.value))
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    dotted = self._module.code_for_node(alias.name)
                    asname = _alias_name(alias)
                    head = asname or dotted.partition(".")[0]
                    self._module_imports[head] = dotted if asname else head

    def _resolve(self, expr: cst.BaseExpression) -> tuple[str | None, tuple[str, str, str | None] | None]:
        """The dotted name ``expr`` denotes through this file's imports, and the from-import it uses."""
        dotted = dotted_name(expr)
        if dotted is None:
            return None, None
        head, dot, rest = dotted.partition(".")
        if head in self._from_imports:
            module, name, _ = self._from_imports[head]
            return f"{module}.{name}{dot}{rest}", self._from_imports[head]
        if head in self._module_imports:
            return self._module_imports[head] + dot + rest, None
        return None, None

    def _parents(self, config: cst.ClassDef, conversion_imports: set[tuple[str, str, str | None]]) -> list[str]:
        """The Config's real parents: not `object`, `BaseConfig` or a Pydantic base's own Config."""
        parents = []
        for arg in (*config.bases, *config.keywords):
            if arg.keyword is None and isinstance(arg.value, cst.Name) and arg.value.value == "object":
                continue
            resolved, from_import = self._resolve(arg.value) if arg.keyword is None else (None, None)
            if resolved in NEUTRAL_CONFIG_BASES:
                if from_import is not None and from_import[1] == "BaseConfig":
                    conversion_imports.add(from_import)
                continue
            parents.append(_short(self._module.code_for_node(arg.value)))
        return parents


# -- small helpers over libcst nodes -------------------------------------------------------------------


def _is_config_class(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.ClassDef) and statement.name.value == "Config"


def _assigns(statement: cst.BaseStatement, name: str) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, cst.Assign) and any(
            isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets
        ):
            return True
        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.target.value == name:
            return True
    return False


def _names_bound_before(statements: Sequence[cst.BaseStatement]) -> set[str]:
    """Names the model's body binds before the Config: a moved value would see them."""
    names: set[str] = set()
    for statement in statements:
        if isinstance(statement, (cst.ClassDef, cst.FunctionDef)):
            names.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        names.update(_target_names(target.target))
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    names.update(_target_names(small.target))
                elif isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        names.add(_alias_name(alias) or _head_name(alias.name))
    return names


def _target_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {n for element in target.elements for n in _target_names(element.value)}
    return set()


def _alias_name(alias: cst.ImportAlias) -> str | None:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return None


def _head_name(name: cst.BaseExpression) -> str:
    while isinstance(name, cst.Attribute):
        name = name.value
    return name.value if isinstance(name, cst.Name) else ""


def _bool_literal(node: cst.BaseExpression | None) -> bool | None:
    if isinstance(node, cst.Name) and node.value in ("True", "False") and not node.lpar:
        return node.value == "True"
    return None


def _docstring_lines(small: cst.BaseSmallStatement) -> list[str] | None:
    """A bare string statement as comment lines, or None if ``small`` is something else."""
    if not (isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString))):
        return None
    value = small.value.evaluated_value
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")
    return [f"# {line}".rstrip() for line in inspect.cleandoc(text).splitlines()] or ["#"]


def _is_noop(small: cst.BaseSmallStatement) -> bool:
    return isinstance(small, cst.Pass) or (isinstance(small, cst.Expr) and isinstance(small.value, cst.Ellipsis))


def _describe_compound(statement: cst.BaseStatement) -> str:
    if isinstance(statement, cst.FunctionDef):
        return f"the method `{statement.name.value}`"
    if isinstance(statement, cst.ClassDef):
        return f"the class `{statement.name.value}`"
    kind = type(statement).__name__.lower()
    return f"an `{kind}` statement" if kind[0] in "aeiou" else f"a `{kind}` statement"


def _without_stale_todo(lines: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    """Leading lines without an earlier run's decline TODO (and its further lines), once the
    Config does convert."""
    stale = f"{TODO_PREFIX} {DECLINED}"
    kept: list[cst.EmptyLine] = []
    in_stale = False
    for line in lines:
        text = line.comment.value if line.comment is not None else None
        if text is not None and text.startswith(stale):
            in_stale = True
            continue
        if in_stale and text is not None and text.startswith(TODO_CONTINUATION):
            continue
        in_stale = False
        kept.append(line)
    return kept


def _comments(lines: Sequence[cst.EmptyLine]) -> list[str]:
    return [line.comment.value for line in lines if line.comment is not None]


def _whitespace_comments(whitespace: cst.BaseParenthesizableWhitespace, *, split_first: bool = False) -> list[Any]:
    """Comments in call whitespace; with ``split_first`` the first item is the same-line comment or None."""
    if not isinstance(whitespace, cst.ParenthesizedWhitespace):
        return [None] if split_first else []
    first = whitespace.first_line.comment.value if whitespace.first_line.comment else None
    own = _comments(whitespace.empty_lines)
    if split_first:
        return [first, *own]
    return [*([first] if first else []), *own]


def _is_config_dict(func: cst.BaseExpression) -> bool:
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    return name in ("ConfigDict", "SettingsConfigDict")


def _plain_keyword(arg: cst.Arg) -> bool:
    return arg.keyword is not None and arg.star == ""


def _normalised(code: str) -> str:
    return " ".join(code.split())


def _short(code: str, limit: int = 60) -> str:
    text = " ".join(code.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _top_level_small_statements(body: Sequence[cst.CSTNode]) -> Iterable[cst.BaseSmallStatement]:
    """Small statements at module level, also inside if/try blocks (guarded imports)."""
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body
        elif isinstance(statement, (cst.If, cst.Try, cst.TryStar, cst.With)):
            blocks: list[cst.CSTNode] = [statement.body]
            if isinstance(statement, cst.If) and statement.orelse is not None:
                blocks.append(statement.orelse)
            if isinstance(statement, (cst.Try, cst.TryStar)):
                blocks.extend(handler.body for handler in statement.handlers)
                blocks.extend(b.body for b in (statement.orelse, statement.finalbody) if b is not None)
            for block in blocks:
                if isinstance(block, cst.If):
                    yield from _top_level_small_statements([block])
                elif isinstance(block, cst.Else):
                    yield from _top_level_small_statements(block.body.body)
                elif isinstance(block, cst.IndentedBlock):
                    yield from _top_level_small_statements(block.body)
