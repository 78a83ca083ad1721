"""auditfix codemods and the engine that runs them.

``REGISTRY`` (the ordered codemods, see :mod:`codemods.registry`) and ``by_name`` are imported
on first use: importing them imports libcst and every codemod, which a repeated run answered
from ``.auditfix_cache/`` (see :mod:`codemods.engine.replay`) never needs.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in ("REGISTRY", "by_name"):
        from codemods import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'codemods' has no attribute {name!r}")
