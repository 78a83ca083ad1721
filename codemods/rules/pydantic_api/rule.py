"""pydantic-api: the rest of the Pydantic v1 -> v2 migration, on the models the code really uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import libcst as cst

from codemods.analysis.precheck import SyntaxFacts
from codemods.analysis.pydantic_version import (
    PYDANTIC_VERSION_HELP,
    UPGRADE_FIRST,
    runs_on_pydantic_1,
)
from codemods.analysis.wrapping import wrap_comment
from codemods.base import Codemod, FileContext
from codemods.options import Option
from codemods.rules.pydantic_api import tables
from codemods.rules.pydantic_api.edits import (
    Decline,
    RequiredUses,
    append_args,
    keyword_arg,
    short,
)
from codemods.rules.pydantic_api.fields import FieldConversions
from codemods.rules.pydantic_api.index import (
    ApiFacts,
    ApiIndex,
    FileFactsPath,
    build_index,
    imports_pydantic,
    index_file,
)
from codemods.rules.pydantic_api.scopes import (
    IMPORT,
    Scope,
    ScopeBuilder,
    Types,
    dotted_name,
)
from codemods.rules.pydantic_api.validators import ValidatorConversions

TODO_PREFIX = "# TODO[pydantic-api]:"
TODO_CONTINUATION = "#   "  # the further lines of a TODO wrapped at the project's line length
_MODULE_FORM = "module"  # a decorator or Field written as pydantic.X







class PydanticApi(FieldConversions, ValidatorConversions, Codemod):
    """Migrate the Pydantic v1 API that v2 removed or deprecated, on models the code really uses.

    What it does:
    Completes what `pydantic-config` starts:

    - **Imports**: `BaseSettings` and `SettingsError` move to `pydantic_settings`; names v2
      moved (`pydantic.error_wrappers.ValidationError`, `PyObject` -> `ImportString`,
      `pydantic.utils.to_camel` -> `pydantic.alias_generators.to_pascal`, ...) are imported
      from their new place under the name the code uses; `GenericModel` bases become
      `BaseModel` (the class keeps its `Generic[T]` base); `parse_obj_as(T, x)` becomes
      `TypeAdapter(T).validate_python(x)`; `Required` becomes `...` where every use is a
      default; `validator`/`root_validator` give way to what the file now uses.  Names v2
      removed (`ConstrainedInt`, `NoneStr`, `pydantic.errors`, ...) are reported.
    - **Model methods**, only where the receiver is known to be a Pydantic model: `.dict()` ->
      `.model_dump()`, `.json()` -> `.model_dump_json()`, `.copy()` -> `.model_copy()`,
      `parse_obj` -> `model_validate`, `from_orm(x)` -> `model_validate(x,
      from_attributes=True)` (explicit, so it works whatever the model's config says),
      `parse_raw` -> `model_validate_json`, `.schema()` -> `.model_json_schema()`,
      `.schema_json()` -> `json.dumps(....model_json_schema())`, `construct` ->
      `model_construct`, `update_forward_refs()` -> `model_rebuild()`, `__fields__` ->
      `model_fields` (on an instance: `type(x).model_fields`), `__fields_set__` ->
      `model_fields_set`.  A receiver is known to be a model when every binding of its name
      says so: a model class of the scanned tree (pydantic-config's whole-tree index, through
      imports and re-exports) or its constructor call, a parameter annotated with a model
      (`User`, `Optional[User]`, `User | None`, `Annotated[User, Body()]`, `type[User]`; so
      FastAPI body parameters too), a variable annotated so, a call of a function of the file
      whose return annotation is a model, a model's `copy()`, a loop or comprehension variable
      over a name annotated as a collection of models (`users: list[User]`), a field that a
      model of the same file declares as a model or a collection of them
      (`order.customer`, `order.lines`), and `self`/`cls` in a model's methods and validators.
    - **Validators**: `@validator` -> `@field_validator` + `@classmethod` (`pre=True` ->
      `mode="before"`; `always=True` -> `validate_default=True` on the fields of the class; a
      `values` parameter -> `info: ValidationInfo`, with `values` read as `info.data`);
      `@root_validator(pre=True)` -> `@model_validator(mode="before")` + `@classmethod`; a post
      `@root_validator` -> `@model_validator(mode="after")` when its body only reads fields
      (`values["a"]`, `values.get("a")` -> `self.a`) and returns `values` (-> `self`).
    - **Fields**: in settings classes `Field(env=...)` -> `validation_alias=` (a list of names
      -> `AliasChoices(...)`); `regex=` -> `pattern=` (anchored with `^`, as v1's `re.match`
      was); `min_items`/`max_items` -> `min_length`/`max_length`; `allow_mutation=False` ->
      `frozen=True`; other unknown keywords (`example=...`) -> `json_schema_extra={...}`; in a
      module that shows v1 code (a nested `class Config`, v1 validators, `GenericModel`,
      `BaseSettings` from pydantic, v1-only keywords), an `Optional[...]` (or `Any`) field
      without a default gets `= None`, the default v1 gave it.

    Why is this bad?
    Under Pydantic v2 `from pydantic import BaseSettings` fails at import; `.dict()`, `.json()`,
    `parse_obj()`, `@validator` and friends warn (`PydanticDeprecatedSince20`) and are removed
    in v3; a post `@root_validator` without `skip_on_failure=True` fails when the class is
    defined; `Field(env=...)` and `Field(regex=...)` are ignored with a warning (a settings
    field then reads another variable), and `Optional` fields without a default become
    required.

    Example:
    ```python
    from pydantic import BaseModel, BaseSettings, Field, validator

    class Settings(BaseSettings):
        db_url: str = Field("sqlite://", env="DATABASE_URL")

    class User(BaseModel):
        name: str
        nickname: Optional[str]

        @validator("nickname", pre=True)
        def strip(cls, v, values):
            return v.strip() if v else values["name"]

    def save(user: User) -> dict:
        return user.dict(exclude_none=True)
    ```

    Use instead:
    ```python
    from pydantic import ValidationInfo, field_validator, BaseModel, Field
    from pydantic_settings import BaseSettings

    class Settings(BaseSettings):
        db_url: str = Field("sqlite://", validation_alias="DATABASE_URL")

    class User(BaseModel):
        name: str
        nickname: Optional[str] = None

        @field_validator("nickname", mode="before")
        @classmethod
        def strip(cls, v, info: ValidationInfo):
            return v.strip() if v else info.data["name"]

    def save(user: User) -> dict:
        return user.model_dump(exclude_none=True)
    ```

    Fix safety:
    A project whose code runs only on Pydantic 1 is left as it is, with a finding naming the
    file and line that shows it (`pydantic-version = 2` rewrites anyway).
    Every rewrite gives the value v1 gave, with these documented differences of v2:
    `model_dump_json()` writes compact JSON (no spaces after `,` and `:`), `Decimal` as a
    string, `timedelta` as an ISO 8601 duration and UTC datetimes ending in `Z`;
    `model_json_schema()` is v2's JSON Schema (`$defs`, `anyOf` for optionals), not v1's
    document; `model_validate_json()` parses the JSON itself.  A settings field converted to
    `validation_alias` reads the same variable, but is then set by that name only:
    `Settings(db_url=...)` needs `populate_by_name=True` (which also reads the prefixed
    variable).  `frozen=True` is enforced always, where v1 enforced `allow_mutation=False`
    only with `validate_assignment`.  A `pattern` whose regular expression Rust's engine
    cannot run (look-arounds, back-references) is reported, not converted.  Anything without
    an exact v2 form is left as it is and reported, with a short `# TODO[pydantic-api]:`
    comment (option `todo-comments`) that fits the project's line length.

    Limitations:
    Declined and reported: `.json(encoder=..., models_as_dict=..., sort_keys=...)`,
    `.copy(include=/exclude=)`, `parse_raw(content_type=...)`, `parse_file`, `Model.validate`,
    `update_forward_refs(**localns)`, calls with `*args`/`**kwargs`, a method a model (or a
    class above or below it in the tree) defines itself, `__fields__` used other than for its
    names (v2 holds `FieldInfo`, not v1's `ModelField`), validators with `each_item=True`, a
    `field` or `config` parameter, `**kwargs`, `always=True` on a field the class does not
    declare itself, post root validators that use `values` as a whole or assign into it,
    `Field(const=..., unique_items=..., include=...)` and non-literal `regex`/`env`/
    `allow_mutation` values.  Receivers whose type is not written down are not followed:
    fields declared in another file or inherited (`order.customer` where `Order` is imported),
    loops over anything else (`enumerate(users)`), results of methods and of functions of other
    modules.  Aliased v1 names are recognised through imports, not
    through assignments (`v = validator`).
    """

    name = "pydantic-api"
    summary = (
        "Migrate the rest of the Pydantic v1 API (.dict(), parse_obj, @validator, BaseSettings, Field args) to v2."
    )
    safety = (
        "Only calls on receivers known to be Pydantic models change, to the v2 method that returns the "
        "same value; arguments without an exact v2 form are declined with a finding. JSON text and JSON "
        "schemas are v2's (compact JSON, Decimal as string)."
    )
    markers = (
        b"pydantic",
        b".dict(",
        b".json(",
        b".copy(",
        b"parse_obj",
        b"parse_raw",
        b"parse_file",
        b"from_orm",
        b".schema(",
        b".schema_json(",
        b".construct(",
        b"update_forward_refs",
        b"__fields__",
        b"__fields_set__",
        b".validate(",
    )
    options = (
        Option("todo-comments", True, "leave a short # TODO[pydantic-api]: comment above what is declined", bool),
        Option("pydantic-version", "auto", PYDANTIC_VERSION_HELP, (str, int), choices=("auto", 1, 2)),
    )
    index_markers = (b"class ", b"import")
    # Every model root (pydantic.BaseModel, BaseSettings) is imported from pydantic or
    # pydantic_settings: a tree whose files never name pydantic has no model to act on.
    tree_markers = (b"pydantic",)

    # -- whole-tree pass --------------------------------------------------------------------------

    @classmethod
    def index_file(cls, path: str, source: bytes) -> ApiFacts | None:
        return index_file(path, source, cls.markers)

    @classmethod
    def build_index(cls, facts: Mapping[str, Any], options: Mapping[str, Any]) -> ApiIndex:
        return build_index(facts)

    @classmethod
    def may_change_file(
        cls, facts: SyntaxFacts, options: Mapping[str, Any], *, path: str, source: bytes, index: Any
    ) -> bool:
        # A module that defines or imports no model of the index has no receiver known to be a
        # model (what visit_Module skips when "pydantic" is not in the text), and one that also
        # imports nothing from pydantic has no name that resolves to pydantic's (Field,
        # validator, BaseSettings, moved imports): the Pydantic v1 shim of a project
        # (``from langchain.pydantic_v1 import BaseModel``) is not pydantic.
        summary = cls.precheck_summary(facts, options)
        return cls.may_change_summary(summary, options, path=path, source=source, index=index)

    @classmethod
    def precheck_summary(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> str:
        """Whether the module may import something from pydantic (what the file check reads of
        its tree)."""
        return _MAY_IMPORT_PYDANTIC if facts.tree is None or imports_pydantic(facts.tree) else _NO_PYDANTIC_IMPORT

    @classmethod
    def may_change_summary(
        cls, summary: Any, options: Mapping[str, Any], *, path: str, source: bytes, index: Any
    ) -> bool:
        if not isinstance(index, ApiIndex) or not source or FileFactsPath(path).name in index.users:
            return True
        return b"pydantic" in source and summary == _MAY_IMPORT_PYDANTIC

    # -- per file ---------------------------------------------------------------------------------

    def __init__(self, file: FileContext) -> None:
        super().__init__(file)
        self._module = cst.Module(body=[])
        self._types: Types | None = None
        self._builder: ScopeBuilder | None = None
        self._scopes: list[Scope] = []
        self._statements: list[cst.CSTNode] = []
        self._todos: dict[int, list[str]] = {}
        self._depth = 0
        self._field_views: set[int] = set()  # `__fields__` nodes used only for their names
        self._settings_fields: set[int] = set()  # Field(...) calls that are a settings field's value
        self._required: tuple[str, bool] | None = None  # pydantic.Required's name; all uses convertible

    @property
    def _index(self) -> ApiIndex:
        assert self._types is not None
        return self._types.index

    @property
    def _scope(self) -> Scope:
        return self._scopes[-1]

    def visit_Module(self, node: cst.Module) -> bool:
        self._module = node
        index = self.file.index
        if not isinstance(index, ApiIndex):  # run without the whole-tree pass: this file alone
            index = self.build_index({self.file.path: self.index_file(self.file.path, node.bytes)}, {})
        path = FileFactsPath(self.file.path)
        if (
            self.file.shortcuts
            and self.file.source
            and b"pydantic" not in self.file.source
            and path.name not in index.users
        ):
            return False  # nothing here is or imports a model: no receiver can be known (the tests compare)
        on_v1 = runs_on_pydantic_1(self.option("pydantic-version"), index.v1_project)
        if on_v1 is not None:
            message = f"Pydantic 1 API calls left as they are: the project runs on Pydantic 1 ({on_v1}), where the v2 "
            self.report(node, message + f"methods do not exist; {UPGRADE_FIRST}.pydantic-api]", fixable=False)
            return False
        self._builder = ScopeBuilder(path.name, path.package)
        node.visit(self._builder)
        self._types = Types(self._builder, index, self._decorator_name)
        self._scopes = [self._builder.module]
        if b"Required" in self.file.source or not self.file.source:
            self._required = self._required_uses(node)
        return True

    def _required_uses(self, module: cst.Module) -> tuple[str, bool] | None:
        """The local name of pydantic's ``Required``, and whether every use of it is a default
        (a keyword or positional argument, a parameter's default, a field's value) that becomes
        ``...``."""
        for name, bindings in self._scopes[0].bindings.items():
            if any(b.kind == IMPORT and b.target == "pydantic.Required" for b in bindings):
                uses = RequiredUses(name)
                module.visit(uses)
                return name, uses.total == uses.defaults
        return None

    # -- scopes and statements --------------------------------------------------------------------

    def _enter(self, node: cst.CSTNode) -> None:
        assert self._builder is not None
        scope = self._builder.scopes.get(node)
        if scope is not None:
            self._scopes.append(scope)

    def _exit(self, node: cst.CSTNode) -> None:
        assert self._builder is not None
        if node in self._builder.scopes:
            self._scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._statements.append(node)
        self._enter(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._statements.append(node)
        self._enter(node)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._enter(node)

    def leave_Lambda(self, original_node: cst.Lambda, updated_node: cst.Lambda) -> cst.BaseExpression:
        self._exit(original_node)
        return updated_node

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._enter(node)

    def leave_ListComp(self, original_node: cst.ListComp, updated_node: cst.ListComp) -> cst.BaseExpression:
        self._exit(original_node)
        return updated_node

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._enter(node)

    def leave_SetComp(self, original_node: cst.SetComp, updated_node: cst.SetComp) -> cst.BaseExpression:
        self._exit(original_node)
        return updated_node

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._enter(node)

    def leave_DictComp(self, original_node: cst.DictComp, updated_node: cst.DictComp) -> cst.BaseExpression:
        self._exit(original_node)
        return updated_node

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._enter(node)

    def leave_GeneratorExp(self, original_node: cst.GeneratorExp, updated_node: cst.GeneratorExp) -> cst.BaseExpression:
        self._exit(original_node)
        return updated_node

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._depth += 1

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        self._depth -= 1
        return updated_node

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._statements.append(node)

    def visit_If(self, node: cst.If) -> None:
        self._statements.append(node)

    def leave_If(self, original_node: cst.If, updated_node: cst.If) -> cst.BaseStatement:
        return self._leave_statement(original_node, updated_node)

    def visit_For(self, node: cst.For) -> None:
        self._statements.append(node)
        if self._fields_attribute(node.iter):
            self._field_views.add(id(node.iter))

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.BaseStatement:
        return self._leave_statement(original_node, updated_node)

    def visit_While(self, node: cst.While) -> None:
        self._statements.append(node)

    def leave_While(self, original_node: cst.While, updated_node: cst.While) -> cst.BaseStatement:
        return self._leave_statement(original_node, updated_node)

    def visit_With(self, node: cst.With) -> None:
        self._statements.append(node)

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.BaseStatement:
        return self._leave_statement(original_node, updated_node)

    def visit_Try(self, node: cst.Try) -> None:
        self._statements.append(node)

    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try) -> cst.BaseStatement:
        return self._leave_statement(original_node, updated_node)

    def _leave_statement(self, original: cst.CSTNode, updated: Any) -> Any:
        """Pop the statement; put the TODO comments of what was declined in it above it."""
        self._statements.pop()
        todos = self._todos.pop(id(original), None)
        if not todos or isinstance(updated, cst.RemovalSentinel):
            return updated
        if isinstance(updated, cst.FlattenSentinel):
            first, *rest = updated.nodes
            return cst.FlattenSentinel([self._with_todos(original, first, todos), *rest])
        return self._with_todos(original, updated, todos)

    def _with_todos(self, original: cst.CSTNode, updated: Any, todos: list[str]) -> Any:
        # (above a module's first statement, libcst reads comments as the module's header)
        above = [*updated.leading_lines, *(self._module.header if len(self._statements) == 0 else ())]
        present = {line.comment.value for line in above if line.comment is not None}
        lines: list[cst.EmptyLine] = []
        for todo in dict.fromkeys(todos):
            wrapped = self._wrap_todo(todo)
            if wrapped[0] in present:
                continue
            self.report(original, f"added a TODO comment: {todo}")
            lines.extend(cst.EmptyLine(comment=cst.Comment(text)) for text in wrapped)
        if not lines:
            return updated
        return updated.with_changes(leading_lines=[*updated.leading_lines, *lines])

    def _wrap_todo(self, todo: str) -> list[str]:
        """The lines of a TODO comment above the current statement, within the project's line length."""
        return wrap_comment(
            todo,
            indent=len(self._module.default_indent) * self._depth,
            limit=self.file.style.line_length,
            prefix=TODO_PREFIX + " ",
            continuation=TODO_CONTINUATION,
        )

    def _decline(self, node: cst.CSTNode, message: str, todo: str | None = None) -> None:
        self.report(node, message, fixable=False)
        if self.option("todo-comments") and self._statements:
            self._todos.setdefault(id(self._statements[-1]), []).append(todo or message)

    # -- names ------------------------------------------------------------------------------------

    def _resolve(self, expr: cst.BaseExpression, scope: Scope | None = None) -> str | None:
        assert self._types is not None
        return self._types.resolve(expr, scope or self._scope)

    def _pydantic_name(self, name: str, like: cst.BaseExpression) -> cst.BaseExpression:
        """``name`` of pydantic, written the way ``like`` (a pydantic name of this file) is:
        ``pydantic.name`` after ``pydantic.X``, else the bare name, imported if needed."""
        if isinstance(like, cst.Attribute) and self._resolve(like.value) == tables.PYDANTIC:
            return like.with_changes(attr=cst.Name(name))
        return self._import_name(tables.PYDANTIC, name)

    def _import_name(self, module: str, name: str) -> cst.Name:
        """The bare ``name`` from ``module``, imported at the top if the file does not yet bind it."""
        bindings = self._scopes[0].lookup(name) or []
        if any(b.kind != IMPORT or b.target != f"{module}.{name}" for b in bindings):
            raise Decline(f"the name `{name}` it needs is bound to something else in this file", f"`{name}` is taken")
        if not bindings:
            if self._reads(name):  # the import would give that code a meaning: a second run differs
                raise Decline(f"the name `{name}` it needs is read in this file but bound nowhere", f"`{name}` is read but never bound here")
            self.add_import(module, name)
        return cst.Name(name)

    def _reads(self, name: str) -> bool:
        if self.file.source and name.encode() not in self.file.source:
            return False
        uses = RequiredUses(name)
        self._module.visit(uses)
        return uses.total > 0

    def _usable_builtin(self, name: str) -> bool:
        return not self._scope.lookup(name)

    # -- imports ----------------------------------------------------------------------------------

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> Any:
        result: Any = updated_node
        if len(updated_node.body) == 1 and isinstance(updated_node.body[0], cst.ImportFrom):
            result = self._moved_imports(original_node, updated_node)
        return self._leave_statement(original_node, result)

    def _moved_imports(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine) -> Any:
        statement = updated.body[0]
        assert isinstance(statement, cst.ImportFrom)
        if statement.relative or statement.module is None or isinstance(statement.names, cst.ImportStar):
            return updated
        module = dotted_name(statement.module) or ""
        if module.partition(".")[0] != tables.PYDANTIC or module.startswith("pydantic.v1"):
            return updated
        guarded = any(isinstance(s, cst.Try) for s in self._statements[:-1])
        at_top = len(self._statements) == 1
        kept: list[cst.ImportAlias] = []
        added: list[tuple[str, str, str | None]] = []
        for alias in statement.names:
            name = dotted_name(alias.name) or ""
            asname = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
            moved = tables.MOVED.get((module, name))
            if moved is not None and not guarded:
                new_module, new_name = moved
                local = asname or name
                added.append((new_module, new_name, None if local == new_name else local))
                self.report(
                    original,
                    f"`{name}` is imported from {new_module}" + (f" (as {new_name})" if new_name != name else ""),
                )
                continue
            kept.append(alias)
            if guarded:
                continue
            reason = tables.REMOVED.get(name) if module == tables.PYDANTIC else None
            if name == "Required" and self._required is not None and self._required[1]:
                reason = None  # every use becomes ... (see _required_default)
            if reason is None and module in tables.REMOVED_MODULES and moved is None:
                reason = tables.REMOVED_MODULES[module]
            if reason is not None:
                self._decline(original, f"`{name}` of {module} has no v2 equivalent: {reason}", f"{name}: {reason}")
        if not added:
            return updated
        if kept:
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            remaining: Any = updated.with_changes(body=[statement.with_changes(names=kept)])
        else:
            remaining = None
        # At module level a name joins an existing import from its new module; otherwise its new
        # import line goes right below the old one (pydantic_settings sorts next to pydantic).
        existing = self._top_level_from_modules() if at_top else set()
        for new_module, new_name, asname in added:
            if new_module in existing:
                self.add_import(new_module, new_name, asname)
        by_module: dict[str, list[str]] = {}
        for new_module, new_name, asname in added:
            if new_module not in existing:
                by_module.setdefault(new_module, []).append(new_name + (f" as {asname}" if asname else ""))
        config = self._module.config_for_parsing
        new_lines = [
            cst.parse_statement(f"from {m} import {', '.join(names)}", config=config) for m, names in by_module.items()
        ]
        if not new_lines:
            return remaining if remaining is not None else cst.RemoveFromParent()
        if remaining is None:
            new_lines[0] = new_lines[0].with_changes(leading_lines=updated.leading_lines)
            return cst.FlattenSentinel(new_lines)
        return cst.FlattenSentinel([remaining, *new_lines])

    def _top_level_from_modules(self) -> set[str]:
        modules = set()
        for statement in self._module.body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
                        modules.add(dotted_name(small.module) or "")
        return modules

    # -- Required -> ... ---------------------------------------------------------------------------

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        new = self._required_default(original_node.value)
        return updated_node if new is None else updated_node.with_changes(value=new)

    def leave_Param(self, original_node: cst.Param, updated_node: cst.Param) -> cst.Param:
        new = self._required_default(original_node.default)
        return updated_node if new is None else updated_node.with_changes(default=new)

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.AnnAssign:
        new = self._required_default(original_node.value)
        return updated_node if new is None else updated_node.with_changes(value=new)

    # -- calls ------------------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "keys" and self._fields_attribute(func.value):
            self._field_views.add(id(func.value))
        elif (
            isinstance(func, cst.Name)
            and func.value in ("len", "list", "set", "sorted", "tuple", "frozenset")
            and len(node.args) == 1
            and self._fields_attribute(node.args[0].value)
        ):
            self._field_views.add(id(node.args[0].value))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if self._fields_attribute(node.iter):
            self._field_views.add(id(node.iter))

    def visit_ComparisonTarget(self, node: cst.ComparisonTarget) -> None:
        if isinstance(node.operator, (cst.In, cst.NotIn)) and self._fields_attribute(node.comparator):
            self._field_views.add(id(node.comparator))

    @staticmethod
    def _fields_attribute(node: cst.CSTNode) -> bool:
        return isinstance(node, cst.Attribute) and node.attr.value == "__fields__"

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if (
            isinstance(node.value, cst.Call)
            and self._scope.kind == "class"
            and self._scope.qualname in self._index.settings
        ):
            self._settings_fields.add(id(node.value))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        try:
            if isinstance(func, cst.Attribute):
                method = func.attr.value
                if (
                    method in tables.INSTANCE_METHODS
                    or method in tables.CLASS_METHODS
                    or method in tables.NO_EQUIVALENT
                ):
                    return self._method_call(original_node, updated_node, method)
            last = (
                func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
            )
            if last in ("Field", "parse_obj_as"):
                dotted = self._resolve(func)
                if dotted in tables.FIELD_NAMES:
                    return self._field_call(original_node, updated_node)
                if dotted in tables.PARSE_OBJ_AS_NAMES:
                    return self._parse_obj_as(original_node, updated_node)
        except Decline as decline:
            self._decline(original_node, str(decline), decline.todo)
        return updated_node

    def _method_call(self, original: cst.Call, updated: cst.Call, method: str) -> cst.BaseExpression:
        assert self._types is not None and isinstance(original.func, cst.Attribute)
        receiver = self._types.of(original.func.value, self._scope)
        if receiver is None or not receiver.models:
            return updated
        if method in tables.INSTANCE_METHODS and receiver.is_class:
            return updated  # Model.dict(instance): unbound calls are rare enough to leave alone
        what = short(self._module, original.func.value, 30)
        new_name = tables.INSTANCE_METHODS.get(method) or tables.CLASS_METHODS.get(method) or method
        for model in sorted(receiver.models):
            facts = self._index.facts.get(model)
            if facts is not None and method in facts.overridden:
                cls = model.rpartition(".")[2]
                raise Decline(
                    f"`{what}.{method}()` not converted: {cls} (or a class above or below it) defines its own "
                    f"{method}(), which {new_name}() would bypass",
                    f"{method}() is overridden in {cls}'s class hierarchy; migrate it and its callers",
                )
        if method in tables.NO_EQUIVALENT:
            raise Decline(
                f"`{what}.{method}()` has no exact v2 equivalent: {tables.NO_EQUIVALENT[method]}",
                f".{method}(): {tables.NO_EQUIVALENT[method]}",
            )
        args, dumps = self._method_args(updated, method, what)
        func = updated.func
        assert isinstance(func, cst.Attribute)
        new_func = func.with_changes(attr=cst.Name(new_name))
        if method == "from_orm":
            args = append_args(args, [keyword_arg("from_attributes", "True")])
        result: cst.BaseExpression = updated.with_changes(func=new_func, args=args)
        if method == "schema_json":
            call = cst.Call(
                func=cst.Attribute(value=self._json_module(), attr=cst.Name("dumps")), args=[cst.Arg(result)]
            )
            result = call.with_changes(args=append_args(call.args, dumps))
            self.report(original, f"`{what}.schema_json()` → json.dumps({what}.model_json_schema())")
            return result
        note = " (from_attributes=True, as from_orm required orm_mode)" if method == "from_orm" else ""
        self.report(original, f"`{what}.{method}()` → .{new_name}(){note}")
        return result

    def _json_module(self) -> cst.Name:
        bindings = self._scope.lookup("json") or []
        if any(b.kind != IMPORT or b.target != "json" for b in bindings):
            raise Decline(
                "`.schema_json()` needs the json module, and `json` is bound to something else here", "`json` is taken"
            )
        if not bindings:
            self.add_import("json")
        return cst.Name("json")

    def _method_args(self, call: cst.Call, method: str, what: str) -> tuple[list[cst.Arg], list[cst.Arg]]:
        """The arguments the v2 method takes (keywords renamed), and those for json.dumps."""
        kept: list[cst.Arg] = []
        dumps: list[cst.Arg] = []
        positional = 0
        present = {arg.keyword.value for arg in call.args if arg.keyword is not None}
        for arg in call.args:
            if arg.star == "**" and method == "construct":  # model_construct(**values) takes the same
                kept.append(arg)
                continue
            if arg.star:
                raise Decline(
                    f"`{what}.{method}({arg.star}...)`: which arguments it passes is unknown",
                    f".{method}() with {arg.star}args",
                )
            if arg.keyword is None:
                positional += 1
                if positional > tables.POSITIONAL.get(method, 0):
                    raise Decline(
                        f"`{what}.{method}()` with positional arguments v1 did not take", f".{method}() arguments"
                    )
                kept.append(arg)
                continue
            keyword = arg.keyword.value
            if keyword in tables.RENAMED_KEYWORDS and method in ("dict", "json"):
                new = tables.RENAMED_KEYWORDS[keyword]
                if new in present:
                    raise Decline(f"`{what}.{method}()` passes both {keyword} and {new}", f"{keyword} and {new}")
                kept.append(arg.with_changes(keyword=cst.Name(new)))
            elif keyword in tables.KEPT_KEYWORDS[method] or method == "construct":  # construct(**values)
                kept.append(arg)
            elif method == "schema_json":
                dumps.append(arg)
            else:
                reason = tables.DECLINED_KEYWORDS.get(keyword, "v2 has no such argument")
                raise Decline(
                    f"`{what}.{method}({keyword}=...)` not converted: {reason}", f".{method}({keyword}=...): {reason}"
                )
        last_comma = call.args[-1].comma if call.args else cst.MaybeSentinel.DEFAULT
        if kept:
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT if dumps else last_comma)
        if dumps:
            dumps[-1] = dumps[-1].with_changes(comma=last_comma)
        return kept, dumps

    def _parse_obj_as(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        args = updated.args
        if len(args) != 2 or any(a.keyword is not None or a.star for a in args):
            raise Decline(
                "`parse_obj_as(...)` with other arguments than (type, value)",
                "parse_obj_as: TypeAdapter(T).validate_python(x)",
            )
        adapter = self._pydantic_name("TypeAdapter", original.func)
        call = cst.Call(func=adapter, args=[args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)])
        result = cst.Call(func=cst.Attribute(value=call, attr=cst.Name("validate_python")), args=[args[1]])
        self.report(original, "parse_obj_as(T, x) → TypeAdapter(T).validate_python(x)")
        self._remove_import_of(original.func)
        return result

    def _remove_import_of(self, expr: cst.BaseExpression) -> None:
        """Ask to remove the from-import that binds a bare name, should nothing use it any more."""
        if not isinstance(expr, cst.Name):
            return
        for binding in self._scopes[0].lookup(expr.value) or []:
            alias = binding.node
            if binding.kind == IMPORT and isinstance(alias, cst.ImportAlias) and "." in binding.target:
                module, _, name = binding.target.rpartition(".")
                asname = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
                self.remove_import(module, name, asname)

    # -- attributes -------------------------------------------------------------------------------

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        attr = original_node.attr.value
        if attr not in ("__fields__", "__fields_set__", "BaseSettings"):
            return updated_node
        try:
            if attr == "BaseSettings":
                return self._settings_attribute(original_node, updated_node)
            return self._fields_access(original_node, updated_node)
        except Decline as decline:
            self._decline(original_node, str(decline), decline.todo)
            return updated_node

    def _settings_attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        if self._resolve(original) not in ("pydantic.BaseSettings", "pydantic.env_settings.BaseSettings"):
            return updated
        bindings = self._scopes[0].lookup("pydantic_settings") or []
        if any(b.kind != IMPORT or b.target != "pydantic_settings" for b in bindings):
            raise Decline("`pydantic.BaseSettings` moved to pydantic_settings, a name bound to something else here")
        if not bindings:
            self.add_import("pydantic_settings")
        self.report(original, "pydantic.BaseSettings → pydantic_settings.BaseSettings")
        return cst.Attribute(value=cst.Name("pydantic_settings"), attr=cst.Name("BaseSettings"))

    def _fields_access(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        assert self._types is not None
        receiver = self._types.of(original.value, self._scope)
        if receiver is None or not receiver.models:
            return updated
        what = short(self._module, original.value, 30)
        if original.attr.value == "__fields_set__":
            if receiver.is_class:
                return updated
            self.report(original, f"`{what}.__fields_set__` → .model_fields_set")
            return updated.with_changes(attr=cst.Name("model_fields_set"))
        if id(original) not in self._field_views:
            raise Decline(
                f"`{what}.__fields__` not converted: its values are v1 ModelField objects, v2's model_fields "
                "holds FieldInfo (`.required` -> `.is_required()`, `.type_` -> `.annotation`)",
                "__fields__ values are FieldInfo in v2 (model_fields); convert by hand",
            )
        if receiver.is_class:
            self.report(original, f"`{what}.__fields__` → .model_fields")
            return updated.with_changes(attr=cst.Name("model_fields"))
        if not self._usable_builtin("type"):
            raise Decline(f"`{what}.__fields__` needs type(), which is rebound here", "type() is rebound")
        self.report(original, f"`{what}.__fields__` → type({what}).model_fields")
        owner = cst.Call(func=cst.Name("type"), args=[cst.Arg(updated.value)])
        return updated.with_changes(value=owner, attr=cst.Name("model_fields"))

    # -- Field(...) -------------------------------------------------------------------------------

    # -- classes ----------------------------------------------------------------------------------

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> Any:
        self._exit(original_node)
        return self._leave_statement(original_node, updated_node)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> Any:
        qualname = self._scope.qualname
        self._exit(original_node)
        try:
            updated_node = self._generic_bases(original_node, updated_node)
        except Decline as decline:
            self._decline(original_node, str(decline), decline.todo)
        if qualname in self._index.models and isinstance(updated_node.body, cst.IndentedBlock):
            updated_node = self._model_body(original_node, updated_node, qualname)
        return self._leave_statement(original_node, updated_node)

    def _generic_bases(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        bases = list(updated.bases)
        changed = False
        for i, arg in enumerate(original.bases):
            if arg.keyword is None and self._resolve(arg.value, self._scope) in tables.GENERIC_MODEL_NAMES:
                base_model = self._pydantic_name("BaseModel", arg.value)
                bases[i] = bases[i].with_changes(value=base_model)
                self._remove_import_of(arg.value)
                changed = True
        if not changed:
            return updated
        self.report(
            original, f"{original.name.value}: GenericModel → BaseModel (its Generic[...] base makes it generic)"
        )
        return updated.with_changes(bases=bases)

    def _model_body(self, original: cst.ClassDef, updated: cst.ClassDef, qualname: str) -> cst.ClassDef:
        assert isinstance(original.body, cst.IndentedBlock) and isinstance(updated.body, cst.IndentedBlock)
        body = list(updated.body.body)
        fields = self._own_fields(original)
        known = set(fields) | set(self._index.facts[qualname].fields if qualname in self._index.facts else ())
        validate_default: dict[str, cst.CSTNode] = {}
        for i, statement in enumerate(original.body.body):
            if not isinstance(statement, cst.FunctionDef):
                continue
            kind = self._validator_kind(statement)
            if kind is None:
                continue
            self._statements.append(statement)
            try:
                result = self._convert_validator(statement, body[i], kind, fields, known)
            except Decline as decline:
                self._decline(statement, f"{statement.name.value}: {decline}", decline.todo)
                result = None
            self._statements.pop()
            if result is not None:
                body[i] = self._leave_statement_again(statement, result.function)
                for name in result.validate_default:
                    validate_default[name] = statement
            else:
                body[i] = self._leave_statement_again(statement, body[i])
        for i, statement in enumerate(original.body.body):
            if isinstance(statement, cst.SimpleStatementLine) and isinstance(statement.body[0], cst.AnnAssign):
                body[i] = self._field_default(statement, body[i], validate_default)
        return updated.with_changes(body=updated.body.with_changes(body=body))

    def _leave_statement_again(self, original: cst.CSTNode, updated: Any) -> Any:
        """The TODO comments of declines found after the statement itself was left."""
        self._statements.append(original)
        return self._leave_statement(original, updated)

    def _own_fields(self, cls: cst.ClassDef) -> dict[str, int]:
        assert isinstance(cls.body, cst.IndentedBlock)
        fields = {}
        for i, statement in enumerate(cls.body.body):
            if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
                small = statement.body[0]
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    fields[small.target.value] = i
        return fields


_MAY_IMPORT_PYDANTIC = "may import from pydantic"
_NO_PYDANTIC_IMPORT = "imports nothing from pydantic"
