"""Judge Pydantic v1 -> v2 ``class Config`` conversions, independently of the tools that made them.

    python benchmarks/pydantic_oracle.py ORIGINAL_TREE CONVERTED_TREE RESULT.json

Run it with an interpreter that has Pydantic v2 (and, to import more of the converted modules,
the libraries they use).  It imports nothing of auditfix.  For every class of the original tree
with a nested ``class Config``:

1. the **expected** configuration: each setting of the v1 ``Config`` (``key = value``, or a
   function defined in it), its value evaluated where the module can provide its names, and its
   key translated by :data:`RENAMED`, :data:`INVERTED` and :data:`REMOVED`, a table written from
   Pydantic's migration guide (https://docs.pydantic.dev/2.0/migration/, "Changes to config");
2. the **converted** class: *handled* when it no longer has a ``class Config`` and assigns
   ``model_config``; otherwise *left* (declined, or not touched);
3. for a handled class, the verdict: its ``model_config`` expression is evaluated the same way,
   a model is created with it under Pydantic v2 **with warnings as errors**, and the result
   compared with the expected configuration key by key.  The converted **module** is also
   imported under v2 with warnings as errors; when that fails for a reason of its own (another
   v1 API, a library not installed, a relative import), the class is judged on its
   ``model_config`` alone and the reason is recorded.

A conversion is *wrong* when the model cannot be created without a warning (a v1 key left, a
deprecated value), when a setting is lost, changed or added, or when the module import fails
because of the configuration.  A ``# TODO`` comment near the class that names a key as removed
while ``model_config`` keeps it is recorded as a *misleading comment*.
"""

from __future__ import annotations

import ast
import contextlib
import json
import sys
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Pydantic's migration guide, "Changes to config": keys renamed in V2.
RENAMED = {
    "allow_population_by_field_name": "populate_by_name",
    "anystr_lower": "str_to_lower",
    "anystr_strip_whitespace": "str_strip_whitespace",
    "anystr_upper": "str_to_upper",
    "keep_untouched": "ignored_types",
    "max_anystr_length": "str_max_length",
    "min_anystr_length": "str_min_length",
    "orm_mode": "from_attributes",
    "schema_extra": "json_schema_extra",
    "validate_all": "validate_default",
}
# "allow_mutation: this has been removed; use frozen (its inverse)".
INVERTED = {"allow_mutation": "frozen"}
# Keys removed in V2, with nothing that takes their place in model_config.
REMOVED = {
    "error_msg_templates", "fields", "getter_dict", "smart_union", "underscore_attrs_are_private",
    "json_loads", "json_dumps", "copy_on_model_validation", "post_init_call",
}  # fmt: skip
_UNSET = object()


def expected_settings(settings: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The V2 configuration the V1 ``settings`` translate to, and the keys with no V2 equivalent."""
    expected: dict[str, Any] = {}
    dropped = []
    for key, value in settings.items():
        if key in REMOVED:
            dropped.append(key)
        elif key in INVERTED:
            if value is not True:  # allow_mutation = True is the default: nothing to say
                expected[INVERTED[key]] = not value
        else:
            expected[RENAMED.get(key, key)] = value
    return expected, dropped


# -- reading the trees --------------------------------------------------------------------------------


def config_classes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    """Classes (by dotted qualname) that have a nested ``class Config``."""
    found: dict[str, ast.ClassDef] = {}

    def walk(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                name = f"{prefix}{node.name}"
                if any(isinstance(s, ast.ClassDef) and s.name == "Config" for s in node.body):
                    found[name] = node
                walk(node.body, name + ".")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                walk(node.body, f"{prefix}{node.name}.<locals>.")
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                walk(getattr(node, "body", []) + getattr(node, "orelse", []), prefix)

    walk(tree.body, "")
    return found


def find_class(tree: ast.Module, qualname: str) -> ast.ClassDef | None:
    body: list[ast.stmt] = tree.body
    found: ast.ClassDef | None = None
    for part in qualname.replace(".<locals>", "").split("."):
        match = None
        for node in _flatten(body):
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == part:
                match = node
                break
        if match is None:
            return None
        body = match.body
        found = match if isinstance(match, ast.ClassDef) else None
    return found


def _flatten(body: list[ast.stmt]) -> list[ast.stmt]:
    out = []
    for node in body:
        out.append(node)
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            out.extend(_flatten(getattr(node, "body", []) + getattr(node, "orelse", [])))
    return out


def module_namespace(tree: ast.Module, path: Path) -> dict[str, Any]:
    """The names the module's top-level imports and simple assignments bind, each executed on
    its own (one that fails leaves its names unbound)."""
    namespace: dict[str, Any] = {"__name__": "_oracle_" + path.stem, "__file__": str(path)}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not (isinstance(node, ast.ImportFrom) and node.level):
            statement: ast.stmt = node
        elif isinstance(node, (ast.Assign, ast.FunctionDef, ast.ClassDef)) and not _has_config(node):
            statement = node
        else:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(ast.Module([statement], []), str(path), "exec"), namespace)
        except BaseException:  # noqa: BLE001 - a name the module cannot provide here
            continue
    return namespace


def _has_config(node: ast.stmt) -> bool:
    return isinstance(node, ast.ClassDef) and any(
        isinstance(s, ast.ClassDef) and s.name == "Config" for s in ast.walk(node) if s is not node
    )


def evaluate(expression: ast.expr, namespace: dict[str, Any], *, strict: bool) -> Any:
    with strict_warnings() if strict else warnings.catch_warnings():
        if not strict:
            warnings.simplefilter("ignore")
        return eval(compile(ast.Expression(expression), "<oracle>", "eval"), dict(namespace))


def v1_settings(config: ast.ClassDef, namespace: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The settings of a V1 ``class Config`` body, and those whose value cannot be computed here."""
    settings: dict[str, Any] = {}
    unknown = []
    for node in config.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            key, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            key, value = node.target.id, node.value
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            settings[node.name] = ("function", node.name)
            continue
        else:
            continue
        try:
            settings[key] = evaluate(value, namespace, strict=False)
        except Exception:  # noqa: BLE001
            settings[key] = _UNSET
            unknown.append(key)
    return settings, unknown


def model_config_expression(cls: ast.ClassDef) -> ast.expr | None:
    for node in cls.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "model_config" for t in node.targets):
            return node.value
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "model_config":
            return node.value
    return None


def same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, tuple) and len(expected) == 2 and expected[0] == "function":
        return callable(actual) and getattr(actual, "__name__", None) in (expected[1], "<lambda>")
    if callable(expected) and callable(actual) and hasattr(expected, "__code__") and hasattr(actual, "__code__"):
        return expected.__code__.co_code == actual.__code__.co_code
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(same(expected[k], actual[k]) for k in expected)
    if isinstance(expected, (list, tuple)) and isinstance(actual, (list, tuple)):
        return len(expected) == len(actual) and all(same(e, a) for e, a in zip(expected, actual))
    try:
        return bool(expected == actual)
    except Exception:  # noqa: BLE001
        return False


def misleading_todos(source: str, cls: ast.ClassDef, config: dict[str, Any]) -> list[str]:
    """Keys a TODO comment just above or inside the class says were removed, but model_config keeps."""
    lines = source.splitlines()
    start, end = max(cls.lineno - 4, 0), getattr(cls, "end_lineno", cls.lineno) or cls.lineno
    claims = []
    for line in lines[start:end]:
        if "TODO" in line and "removed" in line:
            for key in config:
                if f"`{key}`" in line or f"'{key}'" in line:
                    claims.append(key)
    return sorted(set(claims))


# -- judging one class -------------------------------------------------------------------------------


@contextlib.contextmanager
def strict_warnings() -> Iterator[None]:
    """Warnings are errors, except the one for ``json_encoders``: the migration guide keeps it as a
    V2 setting (deprecated, but working), so keeping it is the faithful conversion."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=".*json_encoders.*is deprecated")
        yield


def create_model(name: str, config: Any) -> str | None:
    """Why Pydantic v2 will not create a model with ``config`` without a warning, or None."""
    import pydantic

    try:
        with strict_warnings():
            type(name, (pydantic.BaseModel,), {"model_config": config, "__module__": "_oracle"})
    except BaseException as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def import_module(path: Path, root: Path) -> tuple[types.ModuleType | None, str]:
    """The converted module imported under v2 with warnings as errors (or why not): by its dotted
    name when its package is found in the converted tree (so relative imports work), else from
    its file under a private name (an installed library of the same name must not be replaced)."""
    import importlib
    import importlib.util

    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    depth = 1
    while depth < len(parts) and (root.joinpath(*parts[:depth]) / "__init__.py").is_file():
        depth += 1
    try:
        with strict_warnings():
            if depth == len(parts) and len(parts) > 1 or (len(parts) == 1 and path.name != "__init__.py"):
                spec = importlib.util.find_spec(parts[0])
                if spec is not None and spec.origin and Path(spec.origin).resolve().is_relative_to(root):
                    return importlib.import_module(".".join(parts)), ""
            name = "_oracle_converted_" + "_".join(parts)
            file_spec = importlib.util.spec_from_file_location(name, path)
            if file_spec is None or file_spec.loader is None:
                return None, "no import spec"
            module = importlib.util.module_from_spec(file_spec)
            sys.modules[name] = module
            file_spec.loader.exec_module(module)
            return module, ""
    except BaseException as exc:  # noqa: BLE001
        text = str(exc).splitlines()[0] if str(exc) else ""
        return None, f"{type(exc).__name__}: {text}"[:200]


def _is_config_problem(reason: str) -> bool:
    return any(word in reason for word in ("config", "Config", "model_config", "renamed", "removed in V2"))


def judge_file(original: Path, converted: Path, root: Path, relative: str) -> list[dict[str, Any]]:
    source = original.read_text(encoding="utf-8", errors="replace")
    try:
        before = ast.parse(source)
    except SyntaxError:
        return []
    classes = config_classes(before)
    if not classes:
        return []
    new_source = converted.read_text(encoding="utf-8", errors="replace") if converted.is_file() else ""
    try:
        after = ast.parse(new_source)
    except SyntaxError as exc:
        return [{"path": relative, "class": q, "handled": True, "wrong": f"the converted file does not parse: {exc}"} for q in classes]
    old_namespace = module_namespace(before, original)
    new_namespace = module_namespace(after, converted)
    module, import_problem = import_module(converted, root)
    results = []
    for qualname, old_class in classes.items():
        config = next(s for s in old_class.body if isinstance(s, ast.ClassDef) and s.name == "Config")
        settings, unknown = v1_settings(config, old_namespace)
        expected, dropped = expected_settings(settings)
        result: dict[str, Any] = {"path": relative, "class": qualname, "v1_keys": sorted(settings), "dropped_keys": dropped}
        new_class = find_class(after, qualname)
        expression = model_config_expression(new_class) if new_class is not None else None
        still_config = new_class is not None and any(isinstance(s, ast.ClassDef) and s.name == "Config" for s in new_class.body)
        result["handled"] = new_class is not None and not still_config
        if not result["handled"]:
            results.append(result)
            continue
        result["empty_v1_config"] = not settings
        if expression is None:  # the Config is gone and nothing replaces it
            if expected:
                result["wrong"] = f"settings lost: {', '.join(sorted(expected))}"
            results.append(result)
            continue
        try:
            actual = evaluate(expression, new_namespace, strict=True)
        except Exception as exc:  # noqa: BLE001
            try:
                evaluate(expression, new_namespace, strict=False)
            except Exception:  # noqa: BLE001
                result["unjudged"] = f"model_config cannot be evaluated here: {type(exc).__name__}: {exc}"[:200]
                results.append(result)
                continue
            result["wrong"] = f"model_config warns under Pydantic v2: {type(exc).__name__}: {exc}"[:240]
            results.append(result)
            continue
        problem = create_model(qualname.rsplit(".", 1)[-1], actual)
        mismatches = []
        if problem is not None:
            mismatches.append(f"Pydantic v2 refuses or warns: {problem}")
        if isinstance(actual, dict):
            for key, value in expected.items():
                if key in {k for k, v in settings.items() if v is _UNSET}:
                    continue
                if key not in actual:
                    mismatches.append(f"`{key}` lost")
                elif not same(value, actual[key]):
                    mismatches.append(f"`{key}` is {actual[key]!r}, expected {value!r}")
            for key in actual.keys() - expected.keys():
                if key not in {RENAMED.get(k, INVERTED.get(k, k)) for k in unknown}:
                    mismatches.append(f"`{key}` added")
        else:
            mismatches.append(f"model_config is a {type(actual).__name__}, not a dict")
        if module is None:
            result["module_import"] = import_problem
            if _is_config_problem(import_problem):
                mismatches.append(f"the module does not import under Pydantic v2: {import_problem}")
        else:
            result["module_import"] = "ok"
            live = module
            try:
                for part in qualname.split("."):
                    live = getattr(live, part)
                live_config = dict(live.model_config)  # type: ignore[attr-defined]
                for key, value in expected.items():
                    if key in live_config and not same(value, live_config[key]):
                        mismatches.append(f"imported model: `{key}` is {live_config[key]!r}, expected {value!r}")
            except AttributeError:
                pass  # defined inside a function: judged on the class alone
        if unknown:
            result["unjudged_keys"] = unknown
        result["misleading_todos"] = misleading_todos(new_source, new_class, actual if isinstance(actual, dict) else {})
        if mismatches:
            result["wrong"] = "; ".join(mismatches)
        results.append(result)
    return results


def main(argv: list[str]) -> int:
    original, converted, output = Path(argv[0]).resolve(), Path(argv[1]).resolve(), Path(argv[2])
    import pydantic

    results = []
    for path in sorted(original.rglob("*.py")):
        relative = path.relative_to(original).as_posix()
        if b"class Config" not in path.read_bytes():
            continue
        results.extend(judge_file(path, converted / relative, converted, relative))
    summary = {
        "pydantic": pydantic.VERSION,
        "classes": len(results),
        "handled": sum(1 for r in results if r["handled"]),
        "wrong": sum(1 for r in results if r.get("wrong")),
        "unjudged": sum(1 for r in results if r.get("unjudged")),
        "modules_imported": sum(1 for r in results if r.get("module_import") == "ok"),
        "misleading_todos": sum(1 for r in results if r.get("misleading_todos")),
        "results": results,
    }
    output.write_text(json.dumps(summary, indent=2, default=repr) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    # The converted tree goes last on the path: its own copy of a library (fastapi's sdist holds
    # fastapi) must not hide the installed one the examples are written for.
    sys.path.append(str(Path(sys.argv[2]).resolve()))
    sys.exit(main(sys.argv[1:]))
