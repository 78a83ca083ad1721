"""Settings: ``[tool.auditfix]`` in the target's pyproject.toml, overridden by the command line.

Every key is checked; a wrong one is a one-line :class:`ConfigError` naming the key and
what is expected, before any file is read.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codemods.options import Option

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:  # imported when settings are resolved: a replayed run never needs them
    from codemods.base import Codemod
    from codemods.engine.templating import TemplateSet


class ConfigError(Exception):
    """A setting is wrong; the message names it and says what is expected."""


# The top-level keys of [tool.auditfix]; every codemod name may also be a table of its options.
TOP_LEVEL_OPTIONS: tuple[Option, ...] = (
    Option("select", [], "codemods to run (default: all)", list, item_kind=str),
    Option("ignore", [], "codemods not to run", list, item_kind=str),
    Option("exclude", [], "gitignore-style patterns of files to leave alone", list, item_kind=str),
    Option("jobs", 0, "worker processes (0: one per core)", int),
    Option("templates", "", "folder with templates overriding the packaged ones", str),
    Option("cache", True, "reuse results for files whose content did not change", bool),
    Option("branch-prefix", "auditfix/", "git mode: prefix of the branches it creates", str),
)


@dataclasses.dataclass(frozen=True)
class Settings:
    codemods: tuple[type[Codemod], ...]
    options: Mapping[str, Mapping[str, Any]]  # codemod name -> options with defaults filled in
    excludes: tuple[str, ...]
    jobs: int
    templates: TemplateSet
    cache: bool
    branch_prefix: str
    pyproject: Path | None  # where [tool.auditfix] was read from, if anywhere


def default_options(codemod: type[Codemod]) -> dict[str, Any]:
    return {option.name: option.default for option in codemod.options}


def find_pyproject(root: Path) -> Path | None:
    """The pyproject.toml of ``root``, or of the nearest parent up to the repository's top."""
    folder = root if root.is_dir() else root.parent
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
        if (candidate / ".git").exists():
            return None
    return None


def read_pyproject_table(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    table = data.get("tool", {}).get("auditfix", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.auditfix] must be a table")
    return table


def _check(option: Option, value: Any, where: str) -> Any:
    problem = option.check(value)
    if problem is not None:
        raise ConfigError(f"{where}: {problem}")
    return value


def _codemod_names(names: Iterable[str], registry: Sequence[type[Codemod]], where: str) -> list[str]:
    known = {c.name for c in registry}
    for name in names:
        if name not in known:
            raise ConfigError(f"{where}: unknown codemod {name!r}; expected one of {', '.join(sorted(known))}")
    return list(names)


def codemod_options(codemod: type[Codemod], table: Any, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table of {codemod.name} options")
    by_name = {option.name: option for option in codemod.options}
    values = default_options(codemod)
    for key, value in table.items():
        if key not in by_name:
            known = ", ".join(sorted(by_name)) or "none"
            raise ConfigError(f"{where}.{key}: unknown option of {codemod.name} (known: {known})")
        values[key] = _check(by_name[key], value, f"{where}.{key}")
    return values


def resolve(
    root: Path,
    registry: Sequence[type[Codemod]],
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    jobs: int | None = None,
    cache: bool | None = None,
    branch_prefix: str | None = None,
    pyproject: Path | None = None,
) -> Settings:
    """Merge pyproject settings with command-line values (which win)."""
    pyproject = pyproject or find_pyproject(root)
    table = read_pyproject_table(pyproject)
    where = f"{pyproject}: [tool.auditfix]" if pyproject else "[tool.auditfix]"
    top = {option.name: option for option in TOP_LEVEL_OPTIONS}
    codemods_by_name = {c.name: c for c in registry}
    values: dict[str, Any] = {option.name: option.default for option in TOP_LEVEL_OPTIONS}
    options: dict[str, dict[str, Any]] = {c.name: default_options(c) for c in registry}
    for key, value in table.items():
        if key in top:
            values[key] = _check(top[key], value, f"{where} {key}")
        elif key in codemods_by_name:
            options[key] = codemod_options(codemods_by_name[key], value, f"{where} {key}")
        else:
            known = ", ".join([*top, *codemods_by_name])
            raise ConfigError(f"{where}: unknown key {key!r} (known: {known})")

    selected = _codemod_names(select if select else values["select"], registry, "select")
    ignored = _codemod_names(ignore if ignore else values["ignore"], registry, "ignore")
    chosen = tuple(c for c in registry if (not selected or c.name in selected) and c.name not in ignored)
    if not chosen:
        raise ConfigError("no codemod selected: --select and --ignore leave nothing to run")

    job_count = jobs if jobs is not None else values["jobs"]
    if job_count < 0:
        raise ConfigError(f"jobs: expected a positive integer or 0, got {job_count}")
    if job_count == 0:
        job_count = os.cpu_count() or 1

    from codemods.engine.templating import TemplateError, TemplateSet

    templates = TemplateSet()
    if values["templates"]:
        folder = Path(values["templates"])
        if not folder.is_absolute() and pyproject is not None:
            folder = pyproject.parent / folder
        templates = TemplateSet(folder)
        try:
            templates.check()
        except TemplateError as exc:
            raise ConfigError(f"{where} templates: {exc}") from exc

    return Settings(
        codemods=chosen,
        options=options,
        excludes=(*values["exclude"], *exclude),
        jobs=job_count,
        templates=templates,
        cache=values["cache"] if cache is None else cache,
        branch_prefix=branch_prefix if branch_prefix is not None else values["branch-prefix"],
        pyproject=pyproject,
    )
