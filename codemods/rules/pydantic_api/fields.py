"""pydantic-api's Field conversions: v1 Field arguments and defaults to their v2 forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import libcst as cst

from codemods.rules.pydantic_api import tables
from codemods.rules.pydantic_api.edits import (
    Decline,
    append_args,
    bool_literal,
    keyword_arg,
    string_literal,
    without_args,
)
from codemods.rules.pydantic_api.scopes import (
    IMPORT,
)


class FieldConversions:
    """Methods of :class:`PydanticApi` (a mixin: it reads the rule's state)."""

    def _required_default(self, value: cst.BaseExpression | None) -> cst.BaseExpression | None:
        """``...`` for a default that is pydantic's ``Required`` (v1 defined it as ``...``)."""
        if self._required is None or not self._required[1] or not isinstance(value, cst.Name):
            return None
        if value.value != self._required[0] or self._resolve(value) != "pydantic.Required":
            return None
        self.report(value, "Required → ... (v2 removed Required; v1 defined it as ...)")
        self.remove_import("pydantic", "Required", None if self._required[0] == "Required" else self._required[0])
        return cst.Ellipsis(lpar=value.lpar, rpar=value.rpar)

    def _field_call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        settings_field = id(original) in self._settings_fields
        args = list(updated.args)
        present = {a.keyword.value for a in args if a.keyword is not None}
        dropped: set[int] = set()
        extras: list[int] = []  # keywords v2 does not know: v1 put them into the JSON schema
        changes: list[str] = []
        for i, arg in enumerate(args):
            if arg.keyword is None or arg.star:
                if arg.star:
                    raise Decline(
                        f"`Field({arg.star}...)`: which arguments it passes is unknown", f"Field({arg.star}...)"
                    )
                continue
            keyword = arg.keyword.value
            if keyword == "regex":
                args[i] = arg.with_changes(keyword=cst.Name("pattern"), value=self._pattern(arg.value))
                changes.append("regex= → pattern=")
            elif keyword in tables.FIELD_RENAMES:
                new = tables.FIELD_RENAMES[keyword]
                if new in present:
                    raise Decline(f"`Field()` sets both {keyword} and {new}", f"Field: both {keyword} and {new}")
                args[i] = arg.with_changes(keyword=cst.Name(new))
                changes.append(f"{keyword}= → {new}=")
            elif keyword == "allow_mutation":
                allowed = bool_literal(arg.value)
                if allowed is None:
                    raise Decline(
                        "`Field(allow_mutation=...)` with a value that is not True/False",
                        "allow_mutation: set frozen=True by hand",
                    )
                if allowed:
                    dropped.add(i)
                    changes.append("allow_mutation=True dropped (the default)")
                else:
                    if "frozen" in present:
                        raise Decline(
                            "`Field()` sets both allow_mutation and frozen", "Field: allow_mutation and frozen"
                        )
                    args[i] = arg.with_changes(keyword=cst.Name("frozen"), value=cst.Name("True"))
                    changes.append("allow_mutation=False → frozen=True")
            elif keyword in tables.FIELD_DECLINED:
                raise Decline(
                    f"`Field({keyword}=...)` not converted: {tables.FIELD_DECLINED[keyword]}",
                    tables.FIELD_DECLINED[keyword],
                )
            elif keyword == "env" and settings_field:
                if "validation_alias" in present or "alias" in present:
                    raise Decline(
                        "`Field(env=...)` on a field that also has an alias",
                        "env= and alias: set validation_alias by hand",
                    )
                args[i] = arg.with_changes(
                    keyword=cst.Name("validation_alias"), value=self._env_alias(arg.value, original)
                )
                changes.append("env= → validation_alias=")
            elif keyword not in tables.V2_FIELD_KEYWORDS:
                dropped.add(i)
                extras.append(i)
        if extras:
            if "json_schema_extra" in present:
                raise Decline(
                    "`Field()` has extra keywords and json_schema_extra", "merge extra keywords into json_schema_extra"
                )
            names = [args[i].keyword.value for i in extras if args[i].keyword is not None]
            values = [self._module.code_for_node(args[i].value) for i in extras]
            entries = ", ".join(f'"{name}": {value}' for name, value in zip(names, values, strict=True))
            args[extras[0]] = keyword_arg("json_schema_extra", "{" + entries + "}").with_changes(
                comma=args[extras[0]].comma
            )
            dropped.discard(extras[0])
            changes.append(f"{', '.join(names)} → json_schema_extra")
        if not changes:
            return updated
        self.report(original, f"Field(): {'; '.join(changes)}")
        return updated.with_changes(args=without_args(args, dropped))

    def _pattern(self, value: cst.BaseExpression) -> cst.BaseExpression:
        """v1's regex (``re.match``: anchored at the start) as a v2 pattern (searched anywhere)."""
        text = string_literal(value)
        if text is None or not isinstance(value, cst.SimpleString):
            raise Decline(
                "`Field(regex=...)` with a value that is not a string literal", "regex: make it pattern='^...'"
            )
        if any(feature in text for feature in tables.PYTHON_ONLY_REGEX):
            raise Decline(
                "`Field(regex=...)` uses look-arounds, back-references or possessive repeats, which v2's default "
                "regex engine lacks (set regex_engine='python-re' in model_config)",
                "regex needs regex_engine='python-re'",
            )
        if text.startswith(("^", "\\A")):
            return value
        quote = value.quote
        body = value.value[len(value.prefix) + len(quote) : -len(quote)]
        anchored = f"^{body}" if "|" not in text else f"^(?:{body})"
        return value.with_changes(value=f"{value.prefix}{quote}{anchored}{quote}")

    def _env_alias(self, value: cst.BaseExpression, original: cst.Call) -> cst.BaseExpression:
        if string_literal(value) is not None:
            return value
        literals = isinstance(value, (cst.List, cst.Tuple, cst.Set)) and value.elements
        if literals and all(string_literal(e.value) is not None for e in value.elements):
            if isinstance(value, cst.Set):
                raise Decline(
                    "`Field(env={...})`: a set of names has no order; v2 tries names in order",
                    "env set: use AliasChoices",
                )
            choices = self._pydantic_name("AliasChoices", original.func)
            names = [cst.Arg(e.value) for e in value.elements]
            return cst.Call(func=choices, args=append_args([], names))
        raise Decline(
            "`Field(env=...)` with a value that is not a literal name or list of names",
            "env: set validation_alias by hand",
        )

    def _field_default(
        self, original: cst.SimpleStatementLine, updated: Any, validate_default: Mapping[str, cst.CSTNode]
    ) -> Any:
        if not isinstance(updated, cst.SimpleStatementLine) or len(updated.body) != 1:
            return updated
        small = updated.body[0]
        if not isinstance(small, cst.AnnAssign) or not isinstance(small.target, cst.Name):
            return updated
        name = small.target.value
        if name.startswith("_") or self._classvar(small.annotation.annotation):
            return updated
        optional = self.file.module_name in self._index.v1_modules and self._optional(small.annotation.annotation)
        value = small.value
        new_value = value
        notes = []
        if value is None and optional:
            new_value = cst.Name("None")
            notes.append("default None (v1 gave Optional fields one; v2 would make it required)")
        elif (
            optional
            and isinstance(value, cst.Call)
            and self._resolve(value.func) in tables.FIELD_NAMES
            and not any(a.keyword is None or a.keyword.value in ("default", "default_factory") for a in value.args)
        ):
            new_value = value.with_changes(args=append_args(value.args, [keyword_arg("default", "None")]))
            notes.append("default=None (v1 gave Optional fields one; v2 would make it required)")
        if name in validate_default:
            try:
                new_value = self._with_validate_default(new_value)
            except Decline as decline:
                self._decline(validate_default[name], str(decline), decline.todo)
                return updated
            if new_value is not value:
                notes.append("validate_default=True (its validator had always=True)")
        if new_value is value:
            return updated
        self.report(original, f"field {name}: {'; '.join(notes)}")
        equal = small.equal if value is not None else cst.AssignEqual()
        return updated.with_changes(body=[small.with_changes(value=new_value, equal=equal)])

    def _with_validate_default(self, value: cst.BaseExpression | None) -> cst.BaseExpression | None:
        if value is None:
            return None  # a required field: its validator always runs
        if isinstance(value, cst.Call) and self._resolve(value.func) in tables.FIELD_NAMES:
            if any(a.keyword is not None and a.keyword.value == "validate_default" for a in value.args):
                return value
            return value.with_changes(args=append_args(value.args, [keyword_arg("validate_default", "True")]))
        field = self._field_name()
        return cst.Call(func=field, args=append_args([cst.Arg(value)], [keyword_arg("validate_default", "True")]))

    def _field_name(self) -> cst.BaseExpression:
        for binding in self._scopes[0].lookup("Field") or []:
            if binding.kind == IMPORT and binding.target in tables.FIELD_NAMES:
                return cst.Name("Field")
        pydantic = self._scopes[0].lookup(tables.PYDANTIC) or []
        if pydantic and all(b.kind == IMPORT and b.target == tables.PYDANTIC for b in pydantic):
            return cst.Attribute(value=cst.Name(tables.PYDANTIC), attr=cst.Name("Field"))
        return self._import_name(tables.PYDANTIC, "Field")

    def _optional(self, annotation: cst.BaseExpression) -> bool:
        """Whether v1 gave a field with this annotation the default None (Optional, a union with
        None, Any)."""
        if isinstance(annotation, cst.SimpleString):
            text = annotation.evaluated_value
            try:
                annotation = cst.parse_expression(text) if isinstance(text, str) else annotation
            except cst.ParserSyntaxError:
                return False
        if isinstance(annotation, cst.Name) and annotation.value == "None":
            return True
        if isinstance(annotation, (cst.Name, cst.Attribute)):
            return self._resolve(annotation) in tables.ANY_NAMES
        if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
            return self._optional(annotation.left) or self._optional(annotation.right)
        if isinstance(annotation, cst.Subscript):
            head = self._resolve(annotation.value)
            if head in tables.OPTIONAL_NAMES:
                return True
            elements = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
            if head in tables.UNION_NAMES:
                return any(self._optional(e) for e in elements)
            if head in tables.ANNOTATED_NAMES and elements:
                return self._optional(elements[0])
        return False

    def _classvar(self, annotation: cst.BaseExpression) -> bool:
        target = annotation.value if isinstance(annotation, cst.Subscript) else annotation
        return self._resolve(target) in tables.CLASSVAR_NAMES
