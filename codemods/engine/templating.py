"""Jinja2 templates: the packaged ones in ``templates/``, overridable from a user folder.

Every template is rendered with ``StrictUndefined``, so a missing value is an error, never
an empty string in generated code.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a template is first used: most runs render none
    import jinja2

from codemods.engine.cache import files_under


class TemplateError(Exception):
    """A template is missing, has a syntax error or failed to render."""


class TemplateSet:
    """The templates a run uses.  Picklable: worker processes rebuild the jinja2 environment."""

    def __init__(self, override_dir: str | Path | None = None) -> None:
        self.override_dir = str(override_dir) if override_dir is not None else None

    def __reduce__(self) -> tuple[Any, ...]:
        return (TemplateSet, (self.override_dir,))

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
