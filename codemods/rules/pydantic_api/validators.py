"""pydantic-api's validator conversions: @validator and @root_validator to their v2 forms."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import libcst as cst

from codemods.rules.pydantic_api import tables
from codemods.rules.pydantic_api.edits import (
    Decline,
    ReplaceName,
    RootValuesToSelf,
    append_args,
    bool_literal,
    keyword_arg,
    name_uses,
    short,
    string_literal,
)
from codemods.rules.pydantic_api.scopes import Scope


@dataclasses.dataclass
class _ValidatorResult:
    function: cst.FunctionDef
    validate_default: tuple[str, ...] = ()  # fields whose default the validator must see


class ValidatorConversions:
    """Methods of :class:`PydanticApi` (a mixin: it reads the rule's state)."""

    def _decorator_name(self, decorator: cst.Decorator, scope: Scope) -> str | None:
        """What a decorator is to the validator conversions: validator, root_validator, ..."""
        expr = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
        if (
            isinstance(expr, cst.Name)
            and expr.value in ("classmethod", "staticmethod")
            and not scope.lookup(expr.value)
        ):
            return expr.value
        dotted = self._resolve(expr, scope)
        if dotted is None:
            return None
        if dotted in tables.VALIDATOR_NAMES:
            return "validator"
        if dotted in tables.ROOT_VALIDATOR_NAMES:
            return "root_validator"
        if dotted in ("pydantic.field_validator", "pydantic.model_validator"):
            return dotted.rpartition(".")[2]
        return None

    def _validator_kind(self, function: cst.FunctionDef) -> str | None:
        for decorator in function.decorators:
            name = self._decorator_name(decorator, self._scope)
            if name in ("validator", "root_validator"):
                return name
        return None

    def _convert_validator(
        self, original: cst.FunctionDef, updated: Any, kind: str, fields: Mapping[str, int], known: set[str]
    ) -> _ValidatorResult | None:
        if not isinstance(updated, cst.FunctionDef):
            return None
        decorators = list(updated.decorators)
        positions = [i for i, d in enumerate(original.decorators) if self._decorator_name(d, self._scope) == kind]
        if len(positions) != 1:
            raise Decline(f"it has {len(positions)} {kind} decorators", f"several {kind} decorators")
        position = positions[0]
        decorator = original.decorators[position].decorator
        call_args = list(decorator.args) if isinstance(decorator, cst.Call) else []
        head = decorator.func if isinstance(decorator, cst.Call) else decorator
        if kind == "validator":
            return self._field_validator(original, updated, decorators, position, head, call_args, fields)
        return self._root_validator(original, updated, decorators, position, head, call_args, known)

    def _field_validator(
        self,
        original: cst.FunctionDef,
        updated: cst.FunctionDef,
        decorators: list[cst.Decorator],
        position: int,
        head: cst.BaseExpression,
        call_args: list[cst.Arg],
        fields: Mapping[str, int],
    ) -> _ValidatorResult:
        names: list[str] = []
        kept: list[cst.Arg] = []
        mode: str | None = None
        always = False
        for arg in call_args:
            if arg.keyword is None:
                if arg.star:
                    raise Decline("its field names are passed with *", "validator(*fields): convert by hand")
                name = string_literal(arg.value)
                if name is None:
                    raise Decline("a field name is not a string literal", "validator field names: not literal")
                names.append(name)
                kept.append(arg)
                continue
            keyword, flag = arg.keyword.value, bool_literal(arg.value)
            if (
                keyword in ("pre", "always", "each_item", "whole", "allow_reuse")
                and flag is None
                and keyword != "allow_reuse"
            ):
                raise Decline(f"`{keyword}=` is not a literal True/False", f"validator {keyword}=: not literal")
            if keyword == "pre":
                mode = "before" if flag else None
            elif keyword == "always":
                always = bool(flag)
            elif keyword == "each_item" and flag or keyword == "whole" and flag is False:
                raise Decline(
                    "each_item=True has no v2 form: validate the items with an Annotated item type "
                    "(list[Annotated[T, AfterValidator(f)]])",
                    "each_item=True: use Annotated item validators",
                )
            elif keyword == "check_fields":
                kept.append(arg)
            elif keyword not in ("each_item", "whole", "allow_reuse"):
                raise Decline(f"`validator({keyword}=...)` has no v2 equivalent", f"validator {keyword}=")
        if not names:
            raise Decline("it names no field", "validator without fields")
        if always:
            if "*" in names:
                raise Decline("always=True on '*' would need validate_default on every field", "always=True on '*'")
            missing = [n for n in names if n not in fields]
            if missing:
                raise Decline(
                    f"always=True for {', '.join(missing)}, which this class does not declare: set "
                    "validate_default=True where it is declared",
                    f"always=True: validate_default=True on {', '.join(missing)}",
                )
        function, uses_info = self._validator_signature(original, updated)
        new_head = self._pydantic_name("field_validator", head)
        new_args = [*kept[:-1], kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)] if kept else []
        if mode is not None:
            new_args = append_args(new_args, [keyword_arg("mode", f'"{mode}"')])
        new_decorator = decorators[position].with_changes(decorator=cst.Call(func=new_head, args=new_args))
        decorators = self._with_classmethod(decorators, position, new_decorator)
        self._remove_import_of(head)
        what = f'@field_validator(mode="{mode}")' if mode else "@field_validator"
        extra = "; values → info.data" if uses_info else ""
        self.report(original, f"{original.name.value}: @validator → {what} + @classmethod{extra}")
        return _ValidatorResult(function.with_changes(decorators=decorators), tuple(names) if always else ())

    def _with_classmethod(
        self, decorators: list[cst.Decorator], position: int, new: cst.Decorator
    ) -> list[cst.Decorator]:
        decorators = [*decorators[:position], new, *decorators[position + 1 :]]
        if any(isinstance(d.decorator, cst.Name) and d.decorator.value == "classmethod" for d in decorators):
            return decorators
        if not self._usable_builtin("classmethod"):
            raise Decline("`classmethod` is rebound in this file", "classmethod is rebound")
        classmethod = new.with_changes(decorator=cst.Name("classmethod"))
        return [*decorators[: position + 1], classmethod, *decorators[position + 1 :]]

    def _validator_signature(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> tuple[cst.FunctionDef, bool]:
        params = updated.params
        if isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None:
            raise Decline(
                "it takes *args or **kwargs (v1 passed values/field/config through them)",
                "validator **kwargs: convert by hand",
            )
        if params.kwonly_params or params.posonly_params:
            raise Decline("it has keyword-only or positional-only parameters", "validator signature")
        positional = list(params.params)
        if len(positional) < 2:
            raise Decline("it does not take (cls, value)", "validator signature")
        extra = positional[2:]
        names = [p.name.value for p in extra]
        for name in names:
            if name in ("field", "config"):
                raise Decline(
                    f"it takes `{name}`: v2 passes a ValidationInfo instead (info.field_name, the model's config)",
                    f"validator `{name}` parameter: use info: ValidationInfo",
                )
            if name != "values":
                raise Decline(f"its parameter `{name}` is not one v1 passes", f"validator parameter `{name}`")
        if not names:
            return updated, False
        uses = name_uses(original.body)
        if "info" in uses.all or "info" in uses.stored:
            raise Decline("it uses the name `info`, which its ValidationInfo parameter needs", "`info` is taken")
        if "values" in uses.stored:
            raise Decline("it rebinds `values`", "validator rebinds values")
        annotation = self._pydantic_name("ValidationInfo", self._validator_head(original))
        info = extra[0].with_changes(name=cst.Name("info"), annotation=cst.Annotation(annotation))
        data = cst.Attribute(value=cst.Name("info"), attr=cst.Name("data"))
        body = updated.body.visit(ReplaceName("values", data))
        new_params = params.with_changes(params=[*positional[:2], info])
        return updated.with_changes(params=new_params, body=body), True

    def _validator_head(self, function: cst.FunctionDef) -> cst.BaseExpression:
        for decorator in function.decorators:
            if self._decorator_name(decorator, self._scope) in ("validator", "root_validator"):
                expr = decorator.decorator
                return expr.func if isinstance(expr, cst.Call) else expr
        return cst.Name("validator")

    def _root_validator(
        self,
        original: cst.FunctionDef,
        updated: cst.FunctionDef,
        decorators: list[cst.Decorator],
        position: int,
        head: cst.BaseExpression,
        call_args: list[cst.Arg],
        known: set[str],
    ) -> _ValidatorResult:
        pre = False
        for arg in call_args:
            keyword = arg.keyword.value if arg.keyword is not None else None
            flag = bool_literal(arg.value)
            if keyword == "pre" and flag is not None:
                pre = flag
            elif keyword in ("allow_reuse", "skip_on_failure") and flag is not None:
                continue
            else:
                raise Decline(
                    f"`root_validator({short(self._module, arg)})` not understood", "root_validator arguments"
                )
        params = updated.params
        positional = list(params.params)
        if (
            len(positional) != 2
            or params.kwonly_params
            or params.posonly_params
            or params.star_kwarg is not None
            or isinstance(params.star_arg, cst.Param)
        ):
            raise Decline("it does not take exactly (cls, values)", "root_validator signature")
        new_head = self._pydantic_name("model_validator", head)
        if pre:
            decorator = decorators[position].with_changes(
                decorator=cst.Call(func=new_head, args=[keyword_arg("mode", '"before"')])
            )
            decorators = self._with_classmethod(decorators, position, decorator)
            self._remove_import_of(head)
            self.report(
                original,
                f'{original.name.value}: @root_validator(pre=True) → @model_validator(mode="before") + @classmethod',
            )
            return _ValidatorResult(updated.with_changes(decorators=decorators))
        if any(isinstance(d.decorator, cst.Name) and d.decorator.value == "classmethod" for d in decorators):
            raise Decline("it is also a classmethod", "root_validator with @classmethod")
        cls_name, values = positional[0].name.value, positional[1].name.value
        uses = name_uses(original.body)
        if cls_name in uses.all:
            raise Decline(
                f"its body uses `{cls_name}`; an after-validator gets the instance", "root_validator uses cls"
            )
        if values in uses.stored:
            raise Decline(f"it rebinds `{values}`", "root_validator rebinds values")
        body = original.body
        last: Any = body.body[-1] if body.body else None
        if isinstance(last, cst.SimpleStatementLine):
            last = last.body[-1]
        if not (isinstance(last, cst.Return) and isinstance(last.value, cst.Name) and last.value.value == values):
            raise Decline(
                f"it does not end with `return {values}`", f"root_validator: does not end with return {values}"
            )
        rewriter = RootValuesToSelf(values, known)
        new_body = updated.body.visit(rewriter)
        if rewriter.problem is not None:
            raise Decline(
                'a post root_validator becomes @model_validator(mode="after") on the model instance, and '
                + rewriter.problem,
                f"root_validator: {rewriter.problem}",
            )
        decorator = decorators[position].with_changes(
            decorator=cst.Call(func=new_head, args=[keyword_arg("mode", '"after"')])
        )
        decorators[position] = decorator
        self_param = positional[0].with_changes(name=cst.Name("self"), comma=cst.MaybeSentinel.DEFAULT)
        function = updated.with_changes(
            decorators=decorators, params=params.with_changes(params=[self_param]), body=new_body
        )
        self._remove_import_of(head)
        self.report(
            original, f'{original.name.value}: @root_validator → @model_validator(mode="after"), values["a"] → self.a'
        )
        return _ValidatorResult(function)
