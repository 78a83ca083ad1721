"""The engine's promises: one parse per file, nothing lost, every bad input reported, safe writes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from codemods.engine.config import resolve
from codemods.output.diffs import unified_diff
from codemods.engine.runner import Engine, RunReport, write_changes
from tests.engine.toy_codemods import CollectRegistered, Crasher, Flipper, MoveMarked, OldToNew


def make_tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def run_engine(root: Path, *codemods, jobs: int = 1, cache: bool = False, **kwargs) -> RunReport:
    settings = resolve(root, codemods or (OldToNew,), jobs=jobs, cache=cache, **kwargs)
    return Engine(root, settings).run()


def write(root: Path, *codemods, **kwargs) -> RunReport:
    report = run_engine(root, *codemods, **kwargs)
    assert write_changes(root, report.changes) == []
    return report


def problems(report: RunReport) -> dict[str, str]:
    return {p.path: p.message for p in [*report.skipped, *report.failed]}


# -- bytes come back exactly -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(b'x = "old"\n', b'x = "new"\n', id="plain"),
        pytest.param(b'\xef\xbb\xbfx = "old"\r\ny = 1\r\n', b'\xef\xbb\xbfx = "new"\r\ny = 1\r\n', id="bom-crlf"),
        pytest.param(b'x = "old"\r\ny = 1\n', b'x = "new"\r\ny = 1\n', id="mixed-line-endings"),
        pytest.param(
            b'# -*- coding: latin-1 -*-\nx = "old"\ny = "\xe9t\xe9"\n',
            b'# -*- coding: latin-1 -*-\nx = "new"\ny = "\xe9t\xe9"\n',
            id="cookie-latin-1",
        ),
        pytest.param(b'x = "old"', b'x = "new"', id="no-final-newline"),
        pytest.param(b'x = "old"  # keep   this\n\n\n\ty = 1 if True else 2\n', None, id="tab-indent-is-a-syntax-error"),
    ],
)
def test_untouched_bytes_come_back_exactly(tmp_path: Path, source: bytes, expected: bytes | None) -> None:
    make_tree(tmp_path, {"m.py": source})
    report = write(tmp_path)
    if expected is None:
        assert (tmp_path / "m.py").read_bytes() == source
        assert "m.py" in problems(report)
    else:
        assert (tmp_path / "m.py").read_bytes() == expected


# -- bad input: reported with a reason, nothing lost, the run goes on -----------------------------

BAD_INPUTS = [
    pytest.param("syntax.py", b'x = "old"\ndef broken(:\n', "syntax error at line 2", id="syntax-error"),
    pytest.param("py2.py", b'x = "old"\nprint "hello"\n', "looks like Python 2", id="python-2"),
    # libcst's grammar reads this and only its node checks reject it (speedups.parsing keeps them)
    pytest.param("mixed.py", b'x = "old"\ny = b"a" "b"\n', "cannot mix bytes and nonbytes", id="bytes-next-to-str"),
    pytest.param("latin.py", b'x = "old"\ny = "\xe9"\n', "not UTF-8 and no valid PEP 263", id="non-utf8-without-cookie"),
    pytest.param("bin.py", b'old\x00\x01\x02\xff', "binary file", id="binary-named-py"),
    pytest.param("cookie.py", b'# coding: klingon\nx = "old"\n', "not UTF-8 and no valid PEP 263", id="unknown-cookie"),
]


@pytest.mark.parametrize(("name", "content", "reason"), BAD_INPUTS)
def test_bad_input_is_skipped_with_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    make_tree(tmp_path, {name: content, "good.py": 'x = "old"\n'})
    report = write(tmp_path)
    assert reason in problems(report)[name]
    assert (tmp_path / name).read_bytes() == content
    assert (tmp_path / "good.py").read_text() == 'x = "new"\n'


def test_empty_file_is_fine(tmp_path: Path) -> None:
    make_tree(tmp_path, {"empty.py": b"", "good.py": 'x = "old"\n'})
    report = write(tmp_path)
    assert problems(report) == {}
    assert (tmp_path / "empty.py").read_bytes() == b""


def test_symlink_loop_is_reported_not_followed(tmp_path: Path) -> None:
    make_tree(tmp_path, {"good.py": 'x = "old"\n'})
    os.symlink("loop.py", tmp_path / "loop.py")
    os.symlink(tmp_path, tmp_path / "again")  # a folder loop: never entered
    report = write(tmp_path)
    assert "symbolic link" in problems(report)["loop.py"]
    assert (tmp_path / "good.py").read_text() == 'x = "new"\n'
    assert os.readlink(tmp_path / "loop.py") == "loop.py"


def test_read_only_file_reports_and_others_are_written(tmp_path: Path) -> None:
    make_tree(tmp_path, {"locked.py": 'x = "old"\n', "open.py": 'x = "old"\n'})
    os.chmod(tmp_path / "locked.py", 0o444)
    report = run_engine(tmp_path)
    errors = write_changes(tmp_path, report.changes)
    assert [e.path for e in errors] == ["locked.py"]
    assert "read-only" in errors[0].message
    assert (tmp_path / "locked.py").read_text() == 'x = "old"\n'
    assert (tmp_path / "open.py").read_text() == 'x = "new"\n'


def test_unreadable_file_is_skipped(tmp_path: Path) -> None:
    make_tree(tmp_path, {"secret.py": 'x = "old"\n'})
    os.chmod(tmp_path / "secret.py", 0)
    try:
        report = run_engine(tmp_path)
    finally:
        os.chmod(tmp_path / "secret.py", 0o644)
    if os.geteuid() != 0:
        assert "cannot read" in problems(report)["secret.py"]


def test_file_changed_between_read_and_write_is_not_overwritten(tmp_path: Path) -> None:
    make_tree(tmp_path, {"m.py": 'x = "old"\n'})
    report = run_engine(tmp_path)
    (tmp_path / "m.py").write_text('x = "old"  # edited meanwhile\n')
    errors = write_changes(tmp_path, report.changes)
    assert [(e.path, "changed on disk" in e.message) for e in errors] == [("m.py", True)]
    assert (tmp_path / "m.py").read_text() == 'x = "old"  # edited meanwhile\n'


def test_write_keeps_the_file_mode_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    make_tree(tmp_path, {"tool.py": 'x = "old"\n'})
    os.chmod(tmp_path / "tool.py", 0o750)
    write(tmp_path)
    assert stat.S_IMODE((tmp_path / "tool.py").stat().st_mode) == 0o750
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tool.py"]


# -- safety checks before writing ------------------------------------------------------------------


def test_a_rewrite_that_is_not_a_fixed_point_is_refused(tmp_path: Path) -> None:
    make_tree(tmp_path, {"m.py": "flag = True\n"})
    report = write(tmp_path, Flipper)
    assert "second pass would change the file again (flipper)" in problems(report)["m.py"]
    assert (tmp_path / "m.py").read_text() == "flag = True\n"


def test_a_crashing_codemod_fails_one_file_and_the_run_goes_on(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": 'boom = "old"\n', "b.py": 'x = "old"\n'})
    report = write(tmp_path, OldToNew, Crasher)
    failure = next(p for p in report.failed if p.path == "a.py")
    assert "internal error: RuntimeError: boom" in failure.message
    assert "Traceback" in failure.detail
    assert (tmp_path / "a.py").read_text() == 'boom = "old"\n'
    assert (tmp_path / "b.py").read_text() == 'x = "new"\n'


# -- discovery -----------------------------------------------------------------------------------------


def test_discovery_honours_gitignore_default_excludes_and_exclude(tmp_path: Path) -> None:
    old = 'x = "old"\n'
    make_tree(
        tmp_path,
        {
            ".gitignore": "generated/\n*_pb2.py\n",
            "app/main.py": old,
            "app/api_pb2.py": old,
            "generated/g.py": old,
            "app/sub/.gitignore": "local.py\n!keep_pb2.py\n",
            "app/sub/local.py": old,
            "app/sub/keep_pb2.py": old,
            "node_modules/x.py": old,
            ".venv/lib/x.py": old,
            "myenv/pyvenv.cfg": "",
            "myenv/lib/x.py": old,
            "build/x.py": old,
            "pkg.egg-info/x.py": old,
            "migrations/0001.py": old,
            "notes.txt": "old",
        },
    )
    report = run_engine(tmp_path, exclude=["migrations/"])
    assert sorted(c.path for c in report.changes) == ["app/main.py", "app/sub/keep_pb2.py"]


def test_single_file_path(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": 'x = "old"\n', "b.py": 'x = "old"\n'})
    settings = resolve(tmp_path / "a.py", (OldToNew,), jobs=1, cache=False)
    engine = Engine(tmp_path / "a.py", settings)
    report = engine.run()
    assert [c.path for c in report.changes] == ["a.py"]
    write_changes(engine.folder, report.changes)
    assert (tmp_path / "b.py").read_text() == 'x = "old"\n'


# -- pre-filter, parallelism, cache ----------------------------------------------------------------


def test_files_without_markers_are_never_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path, {"a.py": 'x = "old"\n', "b.py": "y = 1\n", "c.py": "def broken(:\n"})
    parsed: list[str] = []
    real_parse = cst.parse_module
    monkeypatch.setattr(cst, "parse_module", lambda source, *a, **k: parsed.append(source) or real_parse(source, *a, **k))
    report = run_engine(tmp_path)
    assert (report.files, report.parsed, report.filtered) == (3, 1, 2)
    assert problems(report) == {}  # the broken file has no marker, so it is not even read as Python


def test_parallel_run_gives_the_same_result_as_one_process(tmp_path: Path) -> None:
    make_tree(tmp_path, {f"m{i}.py": f'x{i} = "old"\ny = "old" if {i} else 0\n' for i in range(40)})
    make_tree(tmp_path, {"bad.py": b"def (:\n old"})
    one = run_engine(tmp_path, jobs=1)
    many = run_engine(tmp_path, jobs=2)
    assert one.changes == many.changes
    assert one.findings == many.findings
    assert one.skipped == many.skipped


def test_cache_reuses_results_and_misses_on_any_change(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": 'x = "old"\n', "b.py": 'y = "old"\n'})
    first = run_engine(tmp_path, cache=True)
    assert first.cached == 0
    assert (tmp_path / ".auditfix_cache" / ".gitignore").read_text().endswith("*\n")
    second = run_engine(tmp_path, cache=True)
    assert second.cached == 2 and second.changes == first.changes
    (tmp_path / "b.py").write_text('y = "old"  # edited\n')
    third = run_engine(tmp_path, cache=True)
    assert third.cached == 1
    make_tree(tmp_path, {"pyproject.toml": '[tool.auditfix.old-to-new]\nreplacement = "other"\n'})
    fourth = run_engine(tmp_path, cache=True)
    assert fourth.cached == 0
    assert {c.new for c in fourth.changes} == {b'x = "other"\n', b'y = "other"  # edited\n'}


def test_cached_results_and_index_facts_belong_to_the_code_that_computed_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A development build keeps its version number across code changes: the code's own digest
    # is part of every key.
    from codemods.engine import indexes
    from codemods.engine import runner as engine
    from codemods.registry import REGISTRY

    make_tree(tmp_path, {"a.py": 'x = "old"\n', "m.py": "class A(B):\n    class Config:\n        extra = 1\n"})
    pydantic_config = next(c for c in REGISTRY if c.name == "pydantic-config")
    indexed: list[str] = []
    original = pydantic_config.index_file.__func__

    def counting(cls: type, path: str, source: bytes) -> object:
        indexed.append(path)
        return original(cls, path, source)

    monkeypatch.setattr(pydantic_config, "index_file", classmethod(counting))
    assert run_engine(tmp_path, OldToNew, pydantic_config, cache=True).cached == 0
    assert run_engine(tmp_path, OldToNew, pydantic_config, cache=True).cached == 2 and indexed == ["m.py"]
    monkeypatch.setattr(engine, "tool_digest", lambda: "other code")
    monkeypatch.setattr(indexes, "tool_digest", lambda: "other code")  # the index pass's keys
    assert run_engine(tmp_path, OldToNew, pydantic_config, cache=True).cached == 0
    assert indexed == ["m.py", "m.py"]


def test_the_tool_digest_is_a_stable_hash_of_auditfixs_code() -> None:
    from codemods.engine.cache import tool_digest

    assert tool_digest() == tool_digest() and len(tool_digest()) == 40


def test_the_tool_files_are_all_of_auditfixs_code_and_templates_at_any_depth() -> None:
    from codemods.engine.cache import tool_files

    root = Path(__file__).resolve().parents[2]
    names = {path.relative_to(root).as_posix() for path in tool_files()}
    code = {p.relative_to(root).as_posix() for p in (root / "codemods").rglob("*.py") if "__pycache__" not in p.parts}
    templates = {p.relative_to(root).as_posix() for p in (root / "templates").iterdir() if p.is_file()}
    assert names == code | templates | {"cli.py"}
    assert "codemods/rules/bare_except.py" in names and "templates/service_function.py.j2" in names


def test_the_versions_of_python_libcst_and_jinja2_are_part_of_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import version

    from codemods.engine import cache, replay

    versions = cache.dependency_versions()
    libcst_line = f"libcst {version('libcst')}"
    assert versions.splitlines() == [f"python {sys.version}", libcst_line, f"jinja2 {version('jinja2')}"]
    assert versions.encode() in replay.tool_fingerprint()  # the replay key
    digest = cache.tool_digest()  # in the index and per-file result keys
    monkeypatch.setattr(cache, "_tool_digest", [])
    monkeypatch.setattr(cache, "_versions", [versions.replace(libcst_line, "libcst 0.0.1")])
    assert cache.tool_digest() != digest


def test_a_template_folder_digest_covers_every_file_at_any_depth(tmp_path: Path) -> None:
    from codemods.engine.cache import folder_digest

    make_tree(tmp_path, {"a.py.j2": "{% include 'parts/b.txt' %}", "parts/b.txt": "one", "parts/deeper/c.j2": "x"})
    before = folder_digest(tmp_path)
    (tmp_path / "parts" / "deeper" / "c.j2").write_text("y")
    after = folder_digest(tmp_path)
    (tmp_path / "parts" / "deeper" / "c.j2").rename(tmp_path / "parts" / "deeper" / "d.j2")
    renamed = folder_digest(tmp_path)
    assert len({before, after, renamed}) == 3
    make_tree(tmp_path, {".auditfix_cache/results.pickle": b"changes on every run", "parts/__pycache__/x.pyc": b""})
    assert folder_digest(tmp_path) == renamed


def test_damaged_cache_is_ignored(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": 'x = "old"\n', ".auditfix_cache/results.pickle": b"not a pickle"})
    report = run_engine(tmp_path, cache=True)
    assert [c.path for c in report.changes] == ["a.py"]


# -- generated files ---------------------------------------------------------------------------------


def test_finalize_generates_a_new_file_that_git_apply_accepts(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/jobs.py": "@register\ndef nightly():\n    pass\n\ndef helper():\n    pass\n",
            "pkg/more.py": "@register\ndef hourly():\n    pass\n",
        },
    )
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    report = run_engine(tmp_path, CollectRegistered, jobs=2)
    assert sorted(c.path for c in report.changes) == ["pkg/jobs.py", "pkg/more.py", "registry.py"]
    generated = next(c for c in report.changes if c.path == "registry.py")
    assert generated.old is None
    assert generated.new == b"from pkg.jobs import nightly\nfrom pkg.more import hourly\n"
    assert "index saw 3 functions" in report.findings[0].message
    (tmp_path / "change.diff").write_bytes(unified_diff(report.changes))
    subprocess.run(["git", "apply", "--check", "change.diff"], cwd=tmp_path, check=True)
    write_changes(tmp_path, report.changes)
    assert (tmp_path / "registry.py").read_bytes() == generated.new


def paths_indexed(monkeypatch: pytest.MonkeyPatch, codemod: type) -> list[str]:
    """The paths ``codemod.index_file`` is called with from now on (in this process: run with jobs=1)."""
    indexed: list[str] = []
    original = codemod.index_file.__func__

    def counting(cls: type, path: str, source: bytes) -> object:
        indexed.append(path)
        return original(cls, path, source)

    monkeypatch.setattr(codemod, "index_file", classmethod(counting))
    return indexed


def test_a_whole_tree_index_no_file_can_use_is_not_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codemods.rules.pydantic_config import PydanticConfig

    indexed = paths_indexed(monkeypatch, PydanticConfig)
    files = {
        "app/models.py": "from pydantic import BaseModel\n\nclass Base(BaseModel):\n    pass\n",
        # "class Config" in the text, but at module level: the pre-check rules the codemod out.
        "app/settings.py": "class Config:\n    DEBUG = False\n",
    }
    make_tree(tmp_path, files)
    assert run_engine(tmp_path, PydanticConfig).changes == [] and indexed == []

    (tmp_path / "app/user.py").write_text(
        "from app.models import Base\n\nclass User(Base):\n    class Config:\n        orm_mode = True\n"
    )
    report = run_engine(tmp_path, PydanticConfig)
    assert [c.path for c in report.changes] == ["app/user.py"]  # the model came from the index
    assert "app/models.py" in indexed


def test_a_codemod_whose_tree_markers_occur_nowhere_is_left_out_of_a_full_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codemods.rules.pydantic_api import PydanticApi

    indexed = paths_indexed(monkeypatch, PydanticApi)
    # ``.dict(`` and ``.json(`` are its markers, but no file names pydantic: no class is a model.
    files = {
        "app/schemas.py": "class Item:\n    def dict(self):\n        return {}\n",
        "app/views.py": "from app.schemas import Item\n\ndef show(item: Item):\n    return item.dict()\n",
    }
    make_tree(tmp_path, files)
    report = run_engine(tmp_path, PydanticApi)
    assert (report.changes, report.findings, report.parsed, indexed) == ([], [], 0, [])

    (tmp_path / "app/schemas.py").write_text(
        "from pydantic import BaseModel\n\nclass Item(BaseModel):\n    name: str\n"
    )
    report = run_engine(tmp_path, PydanticApi)
    assert [c.path for c in report.changes] == ["app/views.py"]  # item.dict() -> item.model_dump()
    assert "app/schemas.py" in indexed


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_the_index_pass_parsed_and_no_pre_check_passes_is_not_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    from codemods.engine import pipeline
    from codemods.rules.loop_commit import LoopCommit
    from codemods.rules.query_in_loop import QueryInLoop

    make_tree(tmp_path, {
        # A commit per row: loop-commit acts here, so its session index reads every file with "ession".
        "app/jobs.py": "def save_all(session, rows):\n    for row in rows:\n        session.add(row)\n        session.commit()\n",
        # "query" lets query-in-loop's markers through, but api is no session: its pre-check fails.
        "app/search.py": "def search(session, api, cache):\n    for hit in api.query('jobs'):\n        cache.get(hit)\n",
    })  # fmt: skip
    checked: list[str] = []  # files the rewriting pass gave the syntax pre-check (so parsed again)
    real_candidates = pipeline.candidates
    monkeypatch.setattr(pipeline, "candidates", lambda codemods, syntax, plan, path, source: checked.append(path) or real_candidates(codemods, syntax, plan, path, source))
    report = run_engine(tmp_path, LoopCommit, QueryInLoop, jobs=jobs)
    assert [c.path for c in report.changes] == ["app/jobs.py"] and report.findings[0].path == "app/jobs.py"
    assert (report.parsed, report.filtered) == (1, 1)
    if jobs == 1:  # (the workers' calls are not seen here)
        assert "app/search.py" not in checked and "app/jobs.py" in checked


def test_named_files_decide_whether_the_rest_of_the_tree_is_read_and_its_facts_come_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pre-commit's case: a run on a few files of a tree reads the other files only for a
    whole-tree index those files need, and then takes each unchanged file's facts from the cache."""
    from codemods.engine import runner
    from codemods.rules.pydantic_config import PydanticConfig

    indexed = paths_indexed(monkeypatch, PydanticConfig)
    read: list[str] = []
    read_sources = runner.read_sources
    monkeypatch.setattr(runner, "read_sources", lambda folder, paths, report: read_sources(folder, read.extend(paths) or paths, report))
    make_tree(
        tmp_path,
        {
            "app/models.py": "from pydantic import BaseModel\n\nclass Base(BaseModel):\n    pass\n",
            "app/user.py": "from app.models import Base\n\nclass User(Base):\n    class Config:\n        orm_mode = True\n",
            "app/plain.py": "x = 1\n",
        },
    )

    def run(*named: str) -> RunReport:
        read.clear()
        settings = resolve(tmp_path, (PydanticConfig,), jobs=1, cache=True)
        return Engine(tmp_path, settings, only=named).run()

    assert run("app/plain.py").changes == [] and read == ["app/plain.py"] and indexed == []
    report = run("app/user.py")
    assert [c.path for c in report.changes] == ["app/user.py"]  # the base came from the whole tree
    assert sorted(read) == ["app/models.py", "app/plain.py", "app/user.py"] and sorted(indexed) == ["app/models.py", "app/user.py"]
    (tmp_path / "app/user.py").write_text((tmp_path / "app/user.py").read_text() + "# changed\n")
    indexed.clear()
    assert [c.path for c in run("app/user.py").changes] == ["app/user.py"]
    assert indexed == ["app/user.py"]  # the unchanged model module's facts came from the cache


def test_a_run_whose_files_no_codemod_can_act_on_imports_no_codemod_and_no_libcst(tmp_path: Path) -> None:
    make_tree(tmp_path, {"app/__init__.py": "", "app/plain.py": "x = 1\n", "app/jobs.py": "print('done')\n"})
    program = (
        "import sys\n"
        "from codemods.engine.commandline import run_command_line\n"
        "for files in (['app/plain.py', 'app/__init__.py'], ['app/jobs.py']):\n"
        "    run_command_line(['run', '--dry-run', *files])\n"
        "    print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(('libcst', 'typer', 'jinja2'))}),\n"
        "          sorted(m for m in sys.modules if m.startswith('codemods.rules.')), file=sys.stderr)\n"
    )

    def run() -> list[str]:
        environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        result = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, env=environment)
        return result.stderr.splitlines()

    run()  # the first run in a project reads the codemods' markers from their classes, and keeps them
    (tmp_path / "app/plain.py").write_text("x = 2\n")  # not replays of the first run
    (tmp_path / "app/jobs.py").write_text("print('done again')\n")
    lines = run()
    assert lines[0] == "auditfix: 2 files scanned (0 parsed, 2 skipped by the pre-filter), 0 changed, 0 skipped, 0 failed"
    assert lines[1] == "[] []"  # nothing imported for files without markers
    # A file with a print needs libcst and print-to-logging (and its markers let no other codemod in).
    assert lines[-1] == "['libcst'] ['codemods.rules.print_to_logging']"


@pytest.mark.parametrize("jobs", [1, 2, 8])
@pytest.mark.parametrize(
    "sizes",
    [
        pytest.param([5], id="one-file"),
        pytest.param([10] * 500, id="many-equal"),
        pytest.param([100_000, 50_000] + [300] * 400 + [0] * 40, id="two-giants-and-a-crowd"),
        pytest.param(list(range(1000)), id="a-gradient"),
    ],
)
def test_work_units_cover_every_file_once_largest_first_and_end_short(sizes: list[int], jobs: int) -> None:
    from codemods.engine.runner import _UNITS_PER_WORKER, _batches

    items = [(f"f{i}.py", b"x" * size) for i, size in enumerate(sizes)]
    units = _batches(items, lambda item: len(item[1]), jobs)
    flat = [item for unit in units for item in unit]
    assert sorted(flat) == sorted(items)  # every file once
    assert [len(i[1]) for i in flat] == sorted(sizes, reverse=True)  # handed out largest first
    # Few enough round trips, and the last units are no longer than the average one, so
    # workers finish together.
    # (a unit closes on a file count or on a size, each bounded by the target number)
    assert len(units) <= 2 * max(jobs, 1) * _UNITS_PER_WORKER + 1
    average = sum(len(i[1]) + 1 for i in items) / len(units)
    assert sum(len(i[1]) + 1 for i in units[-1]) <= average + 1
    # A file larger than an average unit is a unit of its own.
    for unit in units:
        assert len(unit) == 1 or all(len(i[1]) + 1 < average for i in unit)


# -- generated files fail alone ------------------------------------------------------------------


def test_code_moved_into_a_generated_file_is_fixed_by_the_other_codemods_in_the_same_run(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": 'x = "old"  # move to shared\ny = 1\n'})
    # MoveMarked runs first: the line leaves a.py before OldToNew sees it there.
    report = write(tmp_path, MoveMarked, OldToNew)
    assert (tmp_path / "moved/shared.py").read_text() == 'x = "new"\n'
    assert {(f.path, f.message) for f in report.findings} >= {("moved/shared.py", "'old' replaced")}
    assert run_engine(tmp_path, MoveMarked, OldToNew).changes == []  # a fixed point in one run


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        pytest.param("flag = True  # move to bad", "second pass would change the file again (flipper)", id="not-a-fixed-point"),
        pytest.param("await fetch()  # move to bad", "does not compile", id="does-not-compile"),
    ],
)
def test_a_generated_file_that_fails_its_checks_fails_only_its_contributors(
    tmp_path: Path, bad_line: str, reason: str
) -> None:
    make_tree(
        tmp_path,
        {
            "feeds_bad.py": f'{bad_line}\nx = "old"\n',
            "feeds_good.py": 'y = "old"  # move to good\nkeep = 1\n',
            "unrelated.py": 'z = "old"\n',
        },
    )
    codemods = (MoveMarked, OldToNew, Flipper) if "True" in bad_line else (MoveMarked, OldToNew)
    report = write(tmp_path, *codemods)
    assert list(problems(report)) == ["feeds_bad.py"]
    assert reason in problems(report)["feeds_bad.py"] and "generated moved/bad.py" in problems(report)["feeds_bad.py"]
    assert (tmp_path / "feeds_bad.py").read_text() == f'{bad_line}\nx = "old"\n'
    assert not (tmp_path / "moved/bad.py").exists()
    assert (tmp_path / "moved/good.py").read_text() == 'y = "new"\n'
    assert (tmp_path / "feeds_good.py").read_text() == "keep = 1\n"
    assert (tmp_path / "unrelated.py").read_text() == 'z = "new"\n'


def test_a_generated_file_several_files_feed_is_written_without_the_failing_ones(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "a.py": "await fetch()  # move to mixed\n",
            "b.py": "await fetch()  # move to mixed\nw = 1  # move to other\n",
            "c.py": 'v = "old"  # move to other\n',
        },
    )
    report = write(tmp_path, MoveMarked, OldToNew)
    # a.py and b.py feed the module that cannot compile; b.py's other line must not reach
    # moved/other.py either, or that module would hold code its file still has.
    assert sorted(problems(report)) == ["a.py", "b.py"]
    assert (tmp_path / "moved/other.py").read_text() == 'v = "new"\n'
    assert (tmp_path / "b.py").read_text() == "await fetch()  # move to mixed\nw = 1  # move to other\n"


def test_a_crashing_finalize_fails_the_files_whose_extras_crash_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = MoveMarked.finalize.__func__

    def finalize(cls, extras, read_file, options, templates):
        if any(extra.target == "crash" for _, extra in extras):
            raise RuntimeError("finalize bug")
        return original(cls, extras, read_file, options, templates)

    monkeypatch.setattr(MoveMarked, "finalize", classmethod(finalize))
    make_tree(tmp_path, {"a.py": "x = 1  # move to crash\n", "b.py": "y = 2  # move to fine\n"})
    report = write(tmp_path, MoveMarked)
    assert list(problems(report)) == ["a.py"]
    assert "internal error: RuntimeError: finalize bug" in problems(report)["a.py"]
    assert (tmp_path / "moved/fine.py").read_text() == "y = 2\n"


def test_a_run_on_named_files_keeps_the_others_results_and_only_the_named_files_current_ones(tmp_path: Path) -> None:
    """The pre-commit hook runs on each commit's files: the results cache keeps one result per
    named file (its current content) instead of one more per edit, and every other file's."""
    from codemods.engine.cache import ResultCache

    make_tree(tmp_path, {"a.py": 'x = "old"\n', "b.py": 'y = "old"\n'})
    run_engine(tmp_path, cache=True)

    def cached_paths() -> list[str]:
        return sorted(outcome.path for outcome in ResultCache(tmp_path / ".auditfix_cache", "results").entries.values())

    assert cached_paths() == ["a.py", "b.py"]
    for edit in range(3):
        (tmp_path / "a.py").write_text(f'x = "old"  # edit {edit}\n')
        settings = resolve(tmp_path, (OldToNew,), jobs=1, cache=True)
        assert Engine(tmp_path, settings, only=["a.py"]).run().changes[0].new == f'x = "new"  # edit {edit}\n'.encode()
        assert cached_paths() == ["a.py", "b.py"]
    assert run_engine(tmp_path, cache=True).cached == 2  # both current results were kept


def test_the_syntax_facts_of_a_file_are_taken_once_for_every_codemod_asking_whether_it_may_act(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each codemod with a whole-tree index asks whether it may act on the named files: one walk of
    a file's CPython tree answers them all, with the answers a fresh walk gives each."""
    import dataclasses

    from codemods.analysis import precheck
    from codemods.engine import runner
    from codemods.registry import REGISTRY

    code = "from flask import request\nfrom pydantic import BaseModel\n\ndef save():\n    db.session.commit()\n    print(1)\n"
    make_tree(tmp_path, {"app.py": code})
    engine = Engine(tmp_path, resolve(tmp_path, REGISTRY, jobs=1))
    sources = runner.read_sources(tmp_path, ["app.py"], RunReport(tmp_path, ()))
    asking = [c for c in REGISTRY if c.applies_to(sources[0].data)]
    expected = [c.may_change(precheck.facts_of(precheck.parse(sources[0].data)), {}) for c in asking]
    walks: list[object] = []
    facts_of = precheck.facts_of
    monkeypatch.setattr(precheck, "facts_of", lambda tree: walks.append(tree) or facts_of(tree))
    assert len(asking) > 2 and [engine._may_act_anywhere(c, sources) for c in asking] == expected
    assert len(walks) == 1
    sources = [dataclasses.replace(sources[0], data=code.encode() + b"# edited\n")]  # other bytes: walked again
    engine._may_act_anywhere(asking[0], sources)
    assert len(walks) == 2
