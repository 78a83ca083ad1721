"""The tree shows the architecture: which layer may import which, module sizes, the speed-up switch.

Layers, lowest first (an arrow is "may import"):

    speedups -> analysis.names, analysis.nodes (pure facts of a text or a node)
    analysis -> analysis, speedups
    base, options -> analysis, speedups
    rules/<rule> -> base, options, analysis, speedups, its own package
    engine -> base, options, analysis, speedups, engine, the registry
    output -> engine, base, the registry
    git, fleet -> engine, output, base
    cli.py -> anything; nothing in codemods/ imports cli

``codemods/__init__.py`` (the version) may be imported from anywhere.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "codemods"
MAX_LINES = 900

# Third-party packages that belong to the machinery (CLI, git, templates), never to a rule.
MACHINERY_PACKAGES = {"typer", "click", "rich", "git", "jinja2", "markupsafe", "pygments", "pathspec", "distributed", "dask"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def runtime_imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports when it runs (lazy imports included, TYPE_CHECKING blocks not)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # ``from codemods import traversal``: the names may be modules
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def product_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def own_modules(imports: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Imports of auditfix's own modules (``codemods.x.y``), minus names that are not modules."""
    modules = {module_name(p) for p in product_modules()} | {"codemods", "cli"}
    return [(line, name) for line, name in imports if name in modules]


def allowed_for(module: str) -> tuple[str, ...]:
    """Prefixes of auditfix's own modules that ``module`` may import."""
    if module.startswith("codemods.rules."):
        own_rule = ".".join(module.split(".")[:3])
        return ("codemods.base", "codemods.options", "codemods.analysis", "codemods.speedups", own_rule)
    if module.startswith("codemods.speedups"):
        return ("codemods.speedups", "codemods.analysis.names", "codemods.analysis.nodes")
    if module.startswith("codemods.analysis"):
        return ("codemods.analysis", "codemods.speedups")
    if module in ("codemods.base", "codemods.options"):
        return ("codemods.analysis", "codemods.speedups", "codemods.options")
    if module == "codemods.engine.commandline":
        # The console script's entry: a plain run is answered here, anything else is handed to
        # the Typer app in cli.py (imported then, never on the fast path).
        return ("codemods.base", "codemods.options", "codemods.analysis", "codemods.speedups", "codemods.engine", "codemods.registry", "codemods", "cli")
    if module.startswith("codemods.engine"):
        return ("codemods.base", "codemods.options", "codemods.analysis", "codemods.speedups", "codemods.engine", "codemods.registry", "codemods")
    if module.startswith("codemods.output"):
        return ("codemods.base", "codemods.options", "codemods.engine", "codemods.output", "codemods.registry", "codemods")
    if module == "codemods.registry":
        return ("codemods.base", "codemods.rules")
    # git mode, fleet mode and the package itself: anything but the CLI
    return ("codemods",)


def is_under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("path", product_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down_the_layers(path: Path) -> None:
    module = module_name(path)
    allowed = allowed_for(module)
    wrong = [
        f"line {line}: {name}"
        for line, name in own_modules(runtime_imports(path))
        if (name == "cli" and "cli" not in allowed) or (name != "codemods" and not any(is_under(name, prefix) for prefix in allowed))
    ]
    assert wrong == [], f"{module} may import only {', '.join(allowed)}"


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "rules").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_rules_import_no_machinery(path: Path) -> None:
    third_party = {name.split(".")[0] for _, name in runtime_imports(path)}
    assert third_party & MACHINERY_PACKAGES == set()


def test_the_import_check_sees_a_wrong_import(tmp_path: Path) -> None:
    # The check itself must be able to fail: a rule importing the engine lazily is caught.
    rule = PACKAGE / "rules" / "bare_except.py"
    imports = runtime_imports(rule) + [(1, "codemods.engine.runner")]
    assert any(not any(is_under(n, p) for p in allowed_for("codemods.rules.bare_except")) for _, n in own_modules(imports))


@pytest.mark.parametrize("path", [*product_modules(), ROOT / "cli.py"], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_product_module_is_over_900_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_every_rule_lives_under_rules_named_after_it() -> None:
    from codemods import REGISTRY

    for codemod in REGISTRY:
        snake = codemod.name.replace("-", "_")
        assert (PACKAGE / "rules" / f"{snake}.py").is_file() or (PACKAGE / "rules" / snake / "__init__.py").is_file()


def test_libcst_range_in_pyproject_is_the_verified_one() -> None:
    from codemods.speedups import VERIFIED_LIBCST

    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'"libcst>=(\d+)\.(\d+)[^,"]*,<(\d+)\.(\d+)"', text)
    assert match, "libcst must be pinned with an upper bound"
    low, high = (int(match[1]), int(match[2])), (int(match[3]), int(match[4]))
    assert (low, high) == VERIFIED_LIBCST


def test_an_unverified_libcst_turns_the_speedups_off_with_one_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    from codemods import speedups

    monkeypatch.setattr(speedups, "_libcst_version", lambda: (99, 0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert speedups._decide() is False
    assert [w.category for w in caught] == [speedups.UnverifiedLibcstWarning]
    assert "libcst 99.0" in str(caught[0].message)


def test_the_speedups_read_libcsts_version_from_its_version_file_as_its_metadata_gives_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read without importing importlib.metadata (a cost on every pre-commit check); the metadata
    is asked only when libcst has no version file."""
    import importlib.util
    from importlib import metadata

    from codemods import speedups

    expected = tuple(int(part) for part in metadata.version("libcst").split(".")[:2])
    assert speedups._libcst_version() == expected
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert speedups._libcst_version() == expected


def test_the_switch_turns_the_speedups_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from codemods import speedups

    monkeypatch.setenv(speedups.SWITCH, "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert speedups._decide() is False


def _dry_run(env_extra: dict[str, str], tmp: Path) -> str:
    import os
    import shutil

    target = tmp / "repo"
    if not target.exists():
        shutil.copytree(ROOT / "sample_repo", target)
    env = {**os.environ, **env_extra}
    result = subprocess.run(
        [sys.executable, "-c", "import cli; cli.entry()", "run", str(target), "--dry-run", "--no-cache", "--no-progress", "-j", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.stdout


def test_speedups_off_gives_the_same_output(tmp_path: Path) -> None:
    with_speedups = _dry_run({}, tmp_path)
    without = _dry_run({"AUDITFIX_NO_SPEEDUPS": "1"}, tmp_path)
    assert with_speedups and with_speedups == without
