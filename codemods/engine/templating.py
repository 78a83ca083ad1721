"""Jinja2 templates: the packaged ones in ``templates/``, overridable from a user folder.

Every template is rendered with ``StrictUndefined``, so a missing value is an error, never
an empty string in generated code.

A run with a cache keeps what its templates rendered from plain values (strings, numbers,
lists, mappings and auditfix's own dataclasses of them) in ``.auditfix_cache/renders.pickle``,
keyed on the template's name, the values, auditfix's files (the packaged templates and the code
of the dataclasses among them), the jinja2 version and every file of the override folder: a
later run renders the same text without importing jinja2 (a route's service function is the same
text until that route's moved code changes).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a template is first used: most runs render none
    import jinja2

from codemods.engine.cache import ResultCache, content_key, files_under, folder_digest, stable_bytes, tool_digest


# Renders kept in the cache: those of the routes a project's recent commits touched (a
# pre-commit run on one file must not drop the renders of the others).
KEPT_RENDERS = 2000


class TemplateError(Exception):
    """A template is missing, has a syntax error or failed to render."""


class TemplateSet:
    """The templates a run uses.  Picklable: worker processes rebuild the jinja2 environment."""

    def __init__(self, override_dir: str | Path | None = None) -> None:
        self.override_dir = str(override_dir) if override_dir is not None else None
        self._renders: ResultCache | None = None  # see use_cache(); least recently used first

    def __reduce__(self) -> tuple[Any, ...]:
        return (TemplateSet, (self.override_dir,))  # a worker process renders without the cache

    def use_cache(self, folder: Path | None) -> None:
        """Keep renders of plain values in ``folder`` (None: no cache), until :meth:`save_renders`."""
        self._renders = ResultCache(folder, "renders") if folder is not None else None

    def save_renders(self) -> None:
        """Save the renders, the :data:`KEPT_RENDERS` used most recently (this run's among them)."""
        if self._renders is None:
            return
        entries = self._renders.entries
        if len(entries) > KEPT_RENDERS:
            self._renders.retain(set(list(entries)[-KEPT_RENDERS:]))
        self._renders.save()

    @functools.cached_property
    def _override_digest(self) -> bytes:
        return folder_digest(Path(self.override_dir)) if self.override_dir is not None else b""

    def _render_key(self, name: str, values: Mapping[str, Any]) -> str | None:
        """The cache key of a render, or None when the values are not plain (nothing is kept)."""
        if self._renders is None or not _plain(values):
            return None
        return content_key(tool_digest(), self._override_digest, name, stable_bytes(dict(values)))

    @functools.cached_property
    def environment(self) -> jinja2.Environment:
        import jinja2

        loaders: list[jinja2.BaseLoader] = []
        if self.override_dir is not None:
            loaders.append(jinja2.FileSystemLoader(self.override_dir))
        loaders.append(jinja2.PackageLoader("templates", "."))
        return jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )

    def render(self, name: str, /, **values: Any) -> str:
        key = self._render_key(name, values)
        if key is None:
            return self._render(name, values)
        assert self._renders is not None
        text = self._renders.entries.pop(key, None)
        if not isinstance(text, str):
            text = self._render(name, values)
        self._renders.put(key, text)  # the most recently used now
        return text

    def _render(self, name: str, values: Mapping[str, Any]) -> str:
        import jinja2

        try:
            return self.environment.get_template(name).render(**values)
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or name
            raise TemplateError(f"{where}:{exc.lineno}: template syntax error: {exc.message}") from exc
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"template {name!r} not found") from exc
        except jinja2.TemplateError as exc:
            raise TemplateError(f"{name}: {exc}") from exc

    def check(self) -> None:
        """Compile every template of the override folder (at any depth: the partials its templates
        include too), so a syntax error is reported before any work."""
        if self.override_dir is None:
            return
        folder = Path(self.override_dir)
        if not folder.is_dir():
            raise TemplateError(f"templates folder {self.override_dir} does not exist")
        import jinja2

        for path in files_under(folder):
            if path.suffix != ".j2":
                continue
            try:
                self.environment.get_template(path.relative_to(folder).as_posix())
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(f"{path}:{exc.lineno}: template syntax error: {exc.message}") from exc


def _plain(value: Any) -> bool:
    """Is ``value`` plain data: what :func:`stable_bytes` describes completely, and a template can
    read nothing else of (None, numbers, strings, lists, tuples, mappings by string, and
    dataclasses of auditfix's own, whose code is part of the key)?"""
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) in (list, tuple):
        return all(_plain(item) for item in value)
    if type(value) is dict:
        return all(type(key) is str and _plain(item) for key, item in value.items())
    kind = type(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and kind.__module__.startswith("codemods."):
        fields = dataclasses.fields(value)
        if not set(getattr(value, "__dict__", {})) <= {field.name for field in fields}:
            return False  # an attribute set besides the fields: the key would not describe it
        return all(_plain(getattr(value, field.name)) for field in fields)
    return False
