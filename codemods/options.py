"""A codemod setting: its name, default, type and help (light: imported before libcst is)."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Option:
    """A setting a codemod reads from ``[tool.auditfix.<codemod-name>]``."""

    name: str
    default: Any
    help: str
    kind: type | tuple[type, ...] = object
    choices: tuple[Any, ...] = ()
    item_kind: type | None = None  # for list settings: the type of each item
    positive: bool = False  # for number settings: must be greater than zero

    def describe_type(self) -> str:
        if self.choices:
            return " or ".join(repr(c) for c in self.choices)
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        text = " or ".join(_TOML_TYPE_NAMES.get(k, k.__name__) for k in kinds)
        if self.item_kind is not None:
            text += f" of {_TOML_TYPE_NAMES.get(self.item_kind, self.item_kind.__name__)}"
        return text

    def check(self, value: Any) -> str | None:
        """Return why ``value`` is not acceptable, or None if it is."""
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        if isinstance(value, bool) and bool not in kinds and (int in kinds or float in kinds):
            return f"expected {self.describe_type()}, got {type(value).__name__}"
        if not isinstance(value, self.kind):
            return f"expected {self.describe_type()}, got {type(value).__name__}"
        if self.choices and value not in self.choices:
            return f"expected {self.describe_type()}, got {value!r}"
        if self.item_kind is not None and not all(isinstance(v, self.item_kind) for v in value):
            return f"expected {self.describe_type()}"
        if self.positive and not value > 0:
            return f"expected a number greater than 0, got {value!r}"
        return None


_TOML_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "a list", dict: "a table"}


@dataclasses.dataclass(frozen=True)
class CodeStyle:
    """The target project's own formatting rules, as its linters and formatters configure them.

    Read by :func:`codemods.engine.config.read_code_style` from its ruff, black, flake8,
    pycodestyle and isort settings.  Codemods read ``line_length`` (through
    ``FileContext.style``) to keep the comments and docstrings they write within the limit; the
    engine places imports with isort under ``isort_settings`` and wraps new lines that are too
    long (see :mod:`codemods.engine.style`).
    """

    line_length: int = 88
    # Keyword arguments of ``isort.Config`` (values hashable: lists become tuples); an isort
    # configuration file of the project, when there is one, is ``isort_file``.
    isort_settings: tuple[tuple[str, Any], ...] = (("profile", "black"), ("line_length", 88))
    isort_file: str = ""
    # The configuration files the style was read from (absolute paths), so that a cached or
    # replayed result is not reused after one of them changed.
    sources: tuple[str, ...] = ()
