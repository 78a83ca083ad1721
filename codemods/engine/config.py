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

from codemods.options import CodeStyle, Option

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:  # imported when settings are resolved: a replayed run never needs them
    import configparser

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
    Option("verify", "", "git mode: a command (tests, linters) every branch must pass before it is made", str),
    Option(
        "max-branch-files",
        25,
        "git mode: a codemod changing more files gets one branch per top-level package (0: never split)",
        int,
    ),
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
    style: CodeStyle = CodeStyle()  # the target's line length and import order (read_code_style)
    verify: str = ""  # git mode: the command a branch must pass (--verify)
    max_branch_files: int = 25  # git mode: split a larger change per top-level package (0: never)


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
    verify: str | None = None,
    max_branch_files: int | None = None,
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
    branch_files = max_branch_files if max_branch_files is not None else values["max-branch-files"]
    if branch_files < 0:
        raise ConfigError(f"max-branch-files: expected a positive integer or 0, got {branch_files}")

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
        style=read_code_style(root),
        verify=verify if verify is not None else values["verify"],
        max_branch_files=branch_files,
    )


# -- the target's code style ---------------------------------------------------------------

DEFAULT_LINE_LENGTH = 88  # ruff's and black's default

# isort settings that make isort order imports as ruff's isort rules (I001) do by default.
_RUFF_LIKE_ISORT = {
    "profile": "black",
    "multi_line_output": 3,
    "include_trailing_comma": True,
    "force_grid_wrap": 0,
    "use_parentheses": True,
    "ensure_newline_before_comments": True,
    "split_on_trailing_comma": True,
}
# [tool.ruff.lint.isort] keys and the isort settings they mean.
_RUFF_ISORT_KEYS = {
    "known-first-party": "known_first_party",
    "known-third-party": "known_third_party",
    "known-local-folder": "known_local_folder",
    "extra-standard-library": "extra_standard_library",
    "force-single-line": "force_single_line",
    "force-sort-within-sections": "force_sort_within_sections",
    "combine-as-imports": "combine_as_imports",
    "order-by-type": "order_by_type",
    "case-sensitive": "case_sensitive",
    "lines-after-imports": "lines_after_imports",
    "lines-between-types": "lines_between_types",
    "split-on-trailing-comma": "split_on_trailing_comma",
    "from-first": "from_first",
    "no-sections": "no_sections",
    "force-to-top": "force_to_top",
    "single-line-exclusions": "single_line_exclusions",
    "no-lines-before": "no_lines_before",
    "section-order": "sections",
}
_RUFF_SECTIONS = {
    "future": "FUTURE",
    "standard-library": "STDLIB",
    "third-party": "THIRDPARTY",
    "first-party": "FIRSTPARTY",
    "local-folder": "LOCALFOLDER",
}
_ISORT_FILES = (".isort.cfg", "pyproject.toml", "setup.cfg", "tox.ini")
_FLAKE8_FILES = (".flake8", "setup.cfg", "tox.ini")


def read_code_style(root: Path) -> CodeStyle:
    """The line length and import order the target's own tools enforce, read from ``root`` and
    its parents up to the repository's top: ruff (``ruff.toml``, ``.ruff.toml``,
    ``[tool.ruff]``), black, flake8 and pycodestyle (``.flake8``, ``setup.cfg``, ``tox.ini``) and
    isort (``.isort.cfg``, ``[tool.isort]``, ``[isort]``).  The nearest file of each tool counts;
    the line length is the smallest any of them enforces (88 when none does).  Imports are
    ordered by the project's isort configuration when it has one, else as ruff orders them
    (its settings translated), which is also what happens when nothing is configured.
    A file that cannot be read is ignored here: the project's tools will complain about it.
    """
    folder = root if root.is_dir() else root.parent
    ruff: tuple[Path, dict[str, Any]] | None = None
    black: tuple[Path, dict[str, Any]] | None = None
    flake8: tuple[Path, int] | None = None
    isort_file: Path | None = None
    for candidate in (folder, *folder.parents):
        if ruff is None:
            ruff = _ruff_settings(candidate)
        if black is None:
            table = _pyproject_tool(candidate / "pyproject.toml", "black")
            black = (candidate / "pyproject.toml", table) if table else None
        if flake8 is None:
            flake8 = _flake8_line_length(candidate)
        if isort_file is None:
            isort_file = _isort_file(candidate)
        if (candidate / ".git").exists():
            break
    limits = []
    sources: list[Path] = []
    if ruff is not None:
        path, table = ruff
        lint = table.get("lint", {}) if isinstance(table.get("lint"), dict) else {}
        pycodestyle = lint.get("pycodestyle", table.get("pycodestyle", {}))
        limit = pycodestyle.get("max-line-length") if isinstance(pycodestyle, dict) else None
        limits.append(limit if isinstance(limit, int) else table.get("line-length", DEFAULT_LINE_LENGTH))
        sources.append(path)
    if black is not None:
        limits.append(black[1].get("line-length", DEFAULT_LINE_LENGTH))
        sources.append(black[0])
    if flake8 is not None:
        limits.append(flake8[1])
        sources.append(flake8[0])
    limits = [limit for limit in limits if isinstance(limit, int) and limit > 0]
    line_length = min(limits) if limits else DEFAULT_LINE_LENGTH
    settings: dict[str, Any]
    if isort_file is not None:
        sources.append(isort_file)
        settings = {"src_paths": (str(isort_file.parent), str(isort_file.parent / "src"))}
    else:
        settings = {**_RUFF_LIKE_ISORT, "line_length": line_length}
        project = ruff[0].parent if ruff is not None else folder
        source_folders = ruff[1].get("src", [".", "src"]) if ruff is not None else [".", "src"]
        settings["src_paths"] = tuple(
            str((project / s).resolve()) for s in (source_folders if isinstance(source_folders, list) else [])
        )
        if ruff is not None:
            settings.update(_isort_from_ruff(ruff[1]))
    return CodeStyle(
        line_length=line_length,
        isort_settings=tuple(sorted((key, _hashable(value)) for key, value in settings.items())),
        isort_file=str(isort_file) if isort_file is not None else "",
        sources=tuple(sorted({str(path) for path in sources})),
    )


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _pyproject_tool(path: Path, tool: str) -> dict[str, Any]:
    table = _load_toml(path).get("tool", {}).get(tool)
    return table if isinstance(table, dict) else {}


def _ruff_settings(folder: Path) -> tuple[Path, dict[str, Any]] | None:
    """Ruff's settings in ``folder``, in ruff's own order of precedence."""
    for name in (".ruff.toml", "ruff.toml"):
        if (folder / name).is_file():
            return folder / name, _load_toml(folder / name)
    table = _pyproject_tool(folder / "pyproject.toml", "ruff")
    return (folder / "pyproject.toml", table) if table else None


def _isort_from_ruff(table: dict[str, Any]) -> dict[str, Any]:
    lint = table.get("lint", {}) if isinstance(table.get("lint"), dict) else {}
    options = lint.get("isort", table.get("isort", {}))
    settings: dict[str, Any] = {}
    if not isinstance(options, dict):
        return settings
    for key, value in options.items():
        name = _RUFF_ISORT_KEYS.get(key)
        if name == "sections" and isinstance(value, list):
            value = [_RUFF_SECTIONS.get(section, section.upper()) for section in value]
        if name is not None:
            settings[name] = value
    if options.get("relative-imports-order") == "closest-to-furthest":
        settings["reverse_relative"] = True
    return settings


def _read_ini(path: Path) -> configparser.ConfigParser | None:
    if not path.is_file():
        return None
    import configparser  # only where a project has an ini file

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    return parser


def _flake8_line_length(folder: Path) -> tuple[Path, int] | None:
    for name in _FLAKE8_FILES:
        parser = _read_ini(folder / name)
        if parser is None:
            continue
        for section in ("flake8", "pycodestyle"):
            if parser.has_option(section, "max-line-length") or parser.has_option(section, "max_line_length"):
                value = parser.get(section, "max-line-length", fallback=parser.get(section, "max_line_length", fallback=""))
                if value.strip().isdigit():
                    return folder / name, int(value)
    return None


def _isort_file(folder: Path) -> Path | None:
    for name in _ISORT_FILES:
        path = folder / name
        if name == "pyproject.toml":
            if _pyproject_tool(path, "isort"):
                return path
            continue
        parser = _read_ini(path)
        if parser is not None and (
            name == ".isort.cfg" or parser.has_section("isort") or parser.has_section("tool:isort")
        ):
            return path
    return None


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, _hashable(item)) for key, item in value.items()))
    return value
