"""pydantic-api: the rule (:mod:`.rule`), its whole-tree index (:mod:`.index`), which expressions
are models (:mod:`.scopes`) and the v1 -> v2 facts it rewrites by (:mod:`.tables`)."""

from codemods.rules.pydantic_api.rule import TODO_PREFIX, PydanticApi

__all__ = ["PydanticApi", "TODO_PREFIX"]
