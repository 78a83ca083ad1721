"""A repeated preview is replayed from .auditfix_cache/, and only while nothing it depends on changed.

These run the real CLI in a subprocess (as the console script does), because what matters is
also what the process does *not* do: a replay must not import libcst or the codemods.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.engine import commandline
from codemods.engine.commandline import FastPath
from tests.engine.test_engine import make_tree

REPO = Path(__file__).resolve().parent.parent
# The console script, plus lines on stderr saying whether libcst was imported, whether Typer
# parsed the command line (its parameter handling imports typer._adapters, and pydantic) and
# whether Typer was imported at all.
PROGRAM = (
    "import sys\n"
    "from codemods.engine.commandline import entry\n"
    "try:\n"
    "    entry()\n"
    "except SystemExit as stop:\n"
    "    code = stop.code\n"
    "print('libcst imported:', 'libcst' in sys.modules, file=sys.stderr)\n"
    "print('typer parsed:', 'typer._adapters' in sys.modules, file=sys.stderr)\n"
    "print('typer imported:', 'typer' in sys.modules, file=sys.stderr)\n"
    "sys.exit(code)\n"
)
ROUTES = '''
from flask import Blueprint
from app.extensions import db

bp = Blueprint("jobs", __name__)


@bp.route("/jobs", methods=["POST"])
def create_job():
    job = Job(title="x")
    db.session.add(job)
    db.session.commit()
    return {"id": job.id}
'''


def auditfix(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    make_tree(
        tmp_path / "proj",
        {
            "app/__init__.py": "import logging\n\nlogging.basicConfig(level=logging.INFO)\n",  # prints convert
            "app/jobs.py": "def run():\n    try:\n        work()\n    except:\n        pass\n    print('done')\n",
            "app/clean.py": "x = 1\n",
        },
    )
    return tmp_path / "proj"


def summary(result: subprocess.CompletedProcess[str]) -> str:
    return next(line for line in result.stderr.splitlines() if line.startswith("auditfix: "))


def replayed(result: subprocess.CompletedProcess[str]) -> bool:
    return "replayed: nothing changed since an identical run" in result.stderr


def test_a_second_identical_preview_is_replayed_without_libcst(project: Path) -> None:
    first = auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    second = auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    assert first.returncode == second.returncode == 1, first.stderr
    assert "except Exception:" in first.stdout
    assert second.stdout == first.stdout
    assert not replayed(first) and "libcst imported: True" in first.stderr
    assert replayed(second) and "libcst imported: False" in second.stderr


def test_a_changed_file_is_a_full_run_with_the_new_content(project: Path) -> None:
    auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    (project / "app/clean.py").write_text("try:\n    x = 1\nexcept:\n    raise\n")
    again = auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    assert not replayed(again)
    assert "+except BaseException:" in again.stdout


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda p: (p / "pyproject.toml").write_text("[tool.auditfix]\nselect = ['bare-except']\n"), id="pyproject"),
        pytest.param(lambda p: (p / "app/new.py").write_text("print(1)\n"), id="new-file"),
        pytest.param(lambda p: (p / "app/clean.py").unlink(), id="deleted-file"),
        pytest.param(lambda p: (p / ".gitignore").write_text("app/jobs.py\n"), id="gitignore"),
    ],
)
def test_any_input_change_is_a_full_run(project: Path, change) -> None:
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    first = auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    change(project)
    again = auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    assert not replayed(again), again.stderr
    assert (again.stdout, summary(again)) != (first.stdout, summary(first))  # the change shows


@pytest.mark.parametrize(
    "other",
    [["--select", "bare-except"], ["--exclude", "app/jobs.py"], ["--check"], ["--verbose"]],
    ids=["select", "exclude", "check-instead", "verbose"],
)
def test_other_arguments_are_not_replayed_from_this_run(project: Path, other: list[str]) -> None:
    auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    mode = [] if "--check" in other else ["--dry-run"]
    again = auditfix("run", project, *mode, *other, "--no-progress", cwd=project.parent)
    assert not replayed(again)


def test_no_cache_neither_replays_nor_records(project: Path) -> None:
    auditfix("run", project, "--dry-run", "--no-progress", "--no-cache", cwd=project.parent)
    assert not (project / ".auditfix_cache").exists()
    auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    again = auditfix("run", project, "--dry-run", "--no-progress", "--no-cache", cwd=project.parent)
    assert not replayed(again)


def test_no_cache_keeps_the_codemods_metadata_in_the_users_cache_folder(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fact of auditfix's own files, not of the project: a --no-cache run (fleet mode, the
    # benchmarks) need not import every codemod to learn their markers each time.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    report = "print('registry imported:', 'codemods.registry' in sys.modules, file=sys.stderr)\n"
    program = PROGRAM.replace("sys.exit(code)", report + "sys.exit(code)")
    command = [sys.executable, "-c", program, "run", str(project), "--dry-run", "--no-progress", "--no-cache"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    runs = [subprocess.run(command, cwd=project.parent, env=env, capture_output=True, text=True, check=False) for _ in range(2)]
    assert (tmp_path / "user-cache" / "auditfix" / "registry.pickle").is_file()
    assert not (project / ".auditfix_cache").exists()
    assert runs[0].stdout == runs[1].stdout and "except Exception" in runs[1].stdout
    assert "registry imported: False" in runs[1].stderr, runs[1].stderr


def test_check_lists_paths_relative_to_the_current_folder_so_the_folder_is_part_of_the_key(project: Path) -> None:
    first = auditfix("run", project, "--check", cwd=project.parent)
    same = auditfix("run", project, "--check", cwd=project.parent)
    elsewhere = auditfix("run", project, "--check", cwd=project)
    assert first.stdout == same.stdout == "proj/app/jobs.py\n" and replayed(same)
    assert elsewhere.stdout == "app/jobs.py\n" and not replayed(elsewhere)
    assert first.returncode == same.returncode == elsewhere.returncode == 1


def test_a_changed_service_module_outside_the_scanned_files_stops_the_replay(tmp_path: Path) -> None:
    # route-commit extends app/services/jobs_service.py, which --exclude keeps out of the scan:
    # the run reads it anyway, so the replay depends on it.
    project = tmp_path / "proj"
    make_tree(
        project,
        {
            "app/__init__.py": "",
            "app/extensions.py": "db = None\n",
            "app/models.py": "class Job:\n    pass\n",
            "app/routes/__init__.py": "",
            "app/routes/jobs.py": "from app.models import Job\n" + ROUTES,
            "app/services/__init__.py": "",
            "app/services/jobs_service.py": '"""Job services."""\n',
        },
    )
    args = ("run", project, "--dry-run", "--no-progress", "--select", "route-commit", "--exclude", "app/services/")
    first = auditfix(*args, cwd=tmp_path)
    assert "app/services/jobs_service.py" in first.stdout, first.stderr
    assert replayed(auditfix(*args, cwd=tmp_path))
    (project / "app/services/jobs_service.py").write_text('"""Job services, changed."""\n')
    again = auditfix(*args, cwd=tmp_path)
    assert not replayed(again)
    assert "Job services, changed." in again.stdout


def test_a_damaged_replay_file_is_ignored(project: Path) -> None:
    first = auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    (project / ".auditfix_cache" / "replay.pickle").write_bytes(b"not a pickle")
    again = auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    assert again.stdout == first.stdout and not replayed(again)
    assert replayed(auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent))


# -- the console script's fast path -----------------------------------------------------------


def test_a_plain_preview_runs_without_typer_and_its_repetition_is_replayed(project: Path) -> None:
    first = auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    second = auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    assert "typer imported: False" in first.stderr and "libcst imported: True" in first.stderr
    assert replayed(second) and "typer imported: False" in second.stderr
    assert (second.stdout, second.returncode) == (first.stdout, first.returncode)
    odd = auditfix("run", project, "--no-progress", "--dry-run", "-j", "1", cwd=project.parent)
    assert replayed(odd) and "typer imported: False" in odd.stderr
    typer_replay = auditfix("run", project, "--dry-run", "--no-progress", "--jobs=+1", cwd=project.parent)
    assert replayed(typer_replay) and "typer parsed: True" in typer_replay.stderr  # a form left to Typer
    # The lines on stderr are those the CLI itself prints when it replays.
    assert typer_replay.stderr.splitlines()[:-3] == second.stderr.splitlines()[:-3]


@pytest.mark.parametrize("extra", [pytest.param([], id="cached"), pytest.param(["--no-cache"], id="no-cache")])
def test_check_and_write_run_without_typer_and_print_what_the_typer_command_prints(tmp_path: Path, extra: list[str]) -> None:
    from typer.testing import CliRunner

    import cli

    trees = {}
    for name in ("fast", "typer"):
        make_tree(tmp_path / name, {"app/__init__.py": "", "app/jobs.py": "try:\n    x = 1\nexcept:\n    pass\n"})
        trees[name] = tmp_path / name
    fast = [auditfix("run", mode, "app/jobs.py", *extra, cwd=trees["fast"]) for mode in ("--check", "--write")]
    assert all("typer imported: False" in result.stderr for result in fast)
    outputs = []
    for mode in ("--check", "--write"):
        os.chdir(trees["typer"])
        try:
            outputs.append(CliRunner().invoke(cli.app, ["run", mode, "app/jobs.py", *extra]))
        finally:
            os.chdir(REPO)
    for result, typer_result in zip(fast, outputs):
        assert (result.returncode, result.stdout) == (typer_result.exit_code, typer_result.stdout)
        assert result.stderr.splitlines()[:-3] == typer_result.stderr.splitlines()
    assert (trees["fast"] / "app/jobs.py").read_text() == (trees["typer"] / "app/jobs.py").read_text()
    assert "except Exception:" in (trees["fast"] / "app/jobs.py").read_text()
    # --no-cache reads and writes no state, on either path.
    assert all(any(tree.rglob(".auditfix_cache")) == (not extra) for tree in trees.values())


PLAIN_FORMS = [
    pytest.param(["run", "{p}", "--dry-run"], id="dry-run"),
    pytest.param(["run", "--check", "{p}"], id="check-first"),
    pytest.param(["run", "{p}", "--dry-run", "--select", "bare-except,print-to-logging"], id="select"),
    pytest.param(["run", "{p}", "--dry-run", "--select=bare-except", "--ignore", "loop-commit"], id="equals-forms"),
    pytest.param(["run", "{p}", "--check", "--exclude", "app/x.py", "--exclude=app/y/"], id="repeated-exclude"),
    pytest.param(["run", "{p}", "--dry-run", "-j", "2", "--no-progress", "-v"], id="jobs-and-flags"),
    pytest.param(["run", "{p}", "--dry-run", "-j4"], id="short-jobs-attached"),
    pytest.param(["run", "{p}/app/jobs.py", "{p}/app/clean.py", "--check"], id="several-files"),
    pytest.param(["run", "--dry-run", "--", "{p}"], id="double-dash"),
    pytest.param(["run", "{p}", "--dry-run", "--select", ""], id="empty-select"),
]

# A value for every option of ``run`` that takes one: an option added without one fails below.
EXAMPLE_VALUES = {
    "select": "bare-except", "ignore": "loop-commit", "exclude": "app/x.py", "jobs": "2", "html": "r.html",
    "base": "HEAD", "branch_prefix": "fix/", "push": "origin", "pr_body_dir": "bodies", "verify": "pytest -x",
    "max_branch_files": "10",
}  # fmt: skip


def with_each_option() -> list:
    cases = []
    for option in commandline.RUN_OPTIONS:
        if option.fast_path in (FastPath.PREVIEW_MODE, FastPath.WRITE_MODE):
            continue
        value = [EXAMPLE_VALUES[option.name]] if option.takes_value else []
        cases.append(pytest.param(option, ["run", "{p}", "--check", option.flags[0], *value], id=option.name))
    return cases


def cli_key(project: Path, arguments: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple | None:
    """The (root, command, excludes) the Typer command computes its replay key from (None: none)."""
    import typer
    from typer.testing import CliRunner

    import cli

    seen: list[tuple[Path, tuple[str, ...], tuple[str, ...]]] = []

    def capture(cls: type, root: Path, command: tuple[str, ...], excludes: tuple[str, ...]) -> None:
        seen.append((root, tuple(command), tuple(excludes)))
        raise typer.Exit(0)

    monkeypatch.setattr(commandline.ReplayKey, "compute", classmethod(capture))
    monkeypatch.chdir(project.parent)
    result = CliRunner().invoke(cli.app, arguments)
    assert len(seen) <= 1, result.output
    return seen[0] if seen else None


def fast_path_key(arguments: list[str]) -> tuple | None:
    run = commandline.parse_plain_run(arguments)
    if run is None:
        return None
    where = commandline.plain_run_key(run)
    assert where is not None
    root, _, command = where
    return root, command, run.excludes


@pytest.mark.parametrize("argv", PLAIN_FORMS)
def test_the_fast_path_computes_the_key_the_cli_computes(project: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    arguments = [a.format(p=project) for a in argv]
    key = fast_path_key(arguments)
    assert key is not None and key == cli_key(project, arguments, monkeypatch)


def test_every_option_of_run_is_in_the_table_the_fast_path_reads() -> None:
    """The Typer command ``run`` is built from RUN_OPTIONS: an option added to it any other way
    (so that the fast path does not know whether it may replay or run it) fails here."""
    import typer.main

    import cli

    command = typer.main.get_command(cli.app).commands["run"]  # type: ignore[attr-defined]
    params = [p for p in command.params if p.param_type_name == "option"]
    options = {p.name: (tuple(p.opts + p.secondary_opts), not p.is_flag) for p in params}
    table = {o.name: (o.flags, o.takes_value) for o in commandline.RUN_OPTIONS}
    assert options == table
    assert all(isinstance(o.fast_path, FastPath) for o in commandline.RUN_OPTIONS)


@pytest.mark.parametrize(("option", "argv"), with_each_option())
def test_each_option_is_replayed_by_its_role_and_keyed_as_the_cli_keys_it(
    project: Path, option: commandline.CommandOption, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    arguments = [a.format(p=project) for a in argv]
    key = fast_path_key(arguments)
    if option.fast_path is FastPath.CLI_ONLY:
        assert key is None  # left to the Typer app
        return
    if option.fast_path is FastPath.NO_CACHE:
        run = commandline.parse_plain_run(arguments)
        assert run is not None and not run.cache and not run.replayable
        assert cli_key(project, arguments, monkeypatch) is None  # neither computes a replay key
        return
    assert key is not None and key == cli_key(project, arguments, monkeypatch)
    without = fast_path_key(["run", str(project), "--check"])
    # An option that changes the output is part of the key; one that does not, is not.
    assert (key != without) == (option.fast_path is FastPath.IN_KEY)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["run", "{p}"], id="git-mode"),
        pytest.param(["run", "{p}", "--dry-run", "--check"], id="both-modes"),
        pytest.param(["run", "{p}", "--dry-run", "--write"], id="preview-and-write"),
        pytest.param(["run", "{p}", "--dry-run", "--html", "r.html"], id="html"),
        pytest.param(["run", "{p}", "--dry-run", "--select", "a", "--select", "b"], id="repeated-select"),
        pytest.param(["run", "{p}", "--dry-run", "-j", "-1"], id="negative-jobs"),
        pytest.param(["run", "{p}", "--dry-run", "-j"], id="missing-value"),
        pytest.param(["run", "{p}", "--dry-run", "-vj2"], id="combined-short-flags"),
        pytest.param(["run", "{p}", "--dry-run", "--verbose=1"], id="flag-with-value"),
        pytest.param(["run", "--dry-run"], id="no-path"),
        pytest.param(["scan", "{p}"], id="another-command"),
        pytest.param(["--version"], id="global-option"),
        pytest.param([], id="nothing"),
    ],
)
def test_other_command_lines_are_left_to_the_cli(project: Path, argv: list[str]) -> None:
    assert commandline.parse_plain_run([a.format(p=project) for a in argv]) is None


def test_a_write_is_plain_but_never_replayed(project: Path) -> None:
    run = commandline.parse_plain_run(["run", str(project), "--write"])
    assert run is not None and run.mode == "write" and not run.replayable


def test_a_path_that_does_not_exist_is_left_to_the_cli(project: Path) -> None:
    run = commandline.parse_plain_run(["run", str(project / "missing"), "--dry-run"])
    assert run is not None and commandline.plain_run_key(run) is None
    assert commandline.run_command_line(["run", str(project / "missing"), "--dry-run"]) is None


def test_a_configuration_error_is_left_to_the_cli_which_reports_it(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.auditfix]\nselect = ['no-such-codemod']\n")
    result = auditfix("run", project, "--check", cwd=project.parent)
    assert result.returncode == 2 and "unknown codemod 'no-such-codemod'" in result.stderr
    assert "typer parsed: True" in result.stderr


def test_an_edited_partial_of_the_template_override_shows_in_every_mode(tmp_path: Path) -> None:
    # The override's template includes a file from a subfolder: editing only that file must
    # change the output of a repeated preview (the replay key), of a full run (the per-file
    # cache) and of --write.
    packaged = (REPO / "templates" / "pydantic_config.py.j2").read_text()
    project = tmp_path / "proj"
    make_tree(
        project,
        {
            "pyproject.toml": '[tool.auditfix]\ntemplates = "tpl"\n',
            "tpl/pydantic_config.py.j2": "{% include 'partials/note.j2' %}" + packaged,
            "tpl/partials/note.j2": "# house style: v1\n",
            "app/models.py": "from pydantic import BaseModel\n\n\nclass User(BaseModel):\n    name: str\n\n"
            "    class Config:\n        orm_mode = True\n",
        },
    )
    note = project / "tpl" / "partials" / "note.j2"
    first = auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    repeat = auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    assert "+    # house style: v1\n+    model_config = ConfigDict(from_attributes=True)\n" in first.stdout, first.stderr
    assert replayed(repeat) and repeat.stdout == first.stdout

    note.write_text("# house style: v2\n")
    edited = auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    edited_repeat = auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    assert not replayed(edited), edited.stderr
    assert edited.stdout == first.stdout.replace("house style: v1", "house style: v2")
    assert replayed(edited_repeat) and edited_repeat.stdout == edited.stdout

    note.write_text("# house style: v3\n")
    written = auditfix("run", project, "--write", "--no-progress", cwd=project.parent)
    assert written.returncode == 0, written.stderr
    assert "    # house style: v3\n    model_config = ConfigDict(from_attributes=True)\n" in (
        project / "app" / "models.py"
    ).read_text()


def test_a_syntax_error_in_an_included_partial_is_reported_before_any_work(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    make_tree(
        project,
        {
            "pyproject.toml": '[tool.auditfix]\ntemplates = "tpl"\n',
            "tpl/pydantic_config.py.j2": '{% include "partials/note.j2" %}\n',
            "tpl/partials/note.j2": "{% if %}",
            "app/models.py": "x = 1\n",
        },
    )
    result = auditfix("run", project, "--dry-run", "--no-progress", cwd=project.parent)
    assert result.returncode == 2
    assert f"{project / 'tpl' / 'partials' / 'note.j2'}:1: template syntax error" in result.stderr


# -- the run works on the tree its key read ------------------------------------------------------


def _preview_of(root: Path, named: list[str], excludes: tuple[str, ...] = (), cache: bool = False):
    """(the key of ``run --check NAMED...``, an engine given the tree it read, one without it)."""
    from codemods.engine.config import resolve
    from codemods.engine.runner import Engine
    from codemods.registry import REGISTRY

    command = commandline.replay.preview_command(True, "", "", named, False)
    key = commandline.ReplayKey.compute(root, command, excludes)
    settings = resolve(root, REGISTRY, exclude=excludes, jobs=1, cache=cache)
    assert key.key is not None and key.key.tree is not None
    return key, Engine(root, settings, only=named, tree=key.key.tree), Engine(root, settings, only=named)


def test_a_preview_reads_each_file_once_for_its_key_and_its_run(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay key reads every discovered file; the run it keys works on those bytes (same
    files, same content) instead of discovering and reading the tree again, and reports the same."""
    from codemods.engine import runner

    make_tree(project, {"pyproject.toml": "[tool.auditfix]\nexclude = ['app/clean.py']\n", "app/other.py": "x = 2\n"})
    key, with_tree, without = _preview_of(project, ["app/jobs.py"], ("app/other.py",))
    assert sorted(key.key.tree.files) == ["app/__init__.py", "app/jobs.py"]  # both excludes applied
    expected = without.run()

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the tree was read again")

    monkeypatch.setattr(runner, "discover", no_reading)
    monkeypatch.setattr(runner, "read_sources", no_reading)
    report = with_tree.run()
    assert report == expected and [c.path for c in report.changes] == ["app/jobs.py"]
    assert report.changes[0].old == (project / "app/jobs.py").read_bytes()


def test_a_tree_read_with_other_excludes_or_a_second_run_reads_the_files_again(project: Path) -> None:
    from codemods.engine.config import resolve
    from codemods.engine.runner import Engine
    from codemods.registry import REGISTRY

    key, engine, _ = _preview_of(project, ["app/jobs.py"])
    other = resolve(project, REGISTRY, exclude=("app/clean.py",), jobs=1, cache=False)
    assert Engine(project, other, only=["app/jobs.py"], tree=key.key.tree).tree is None
    engine.run()
    (project / "app/jobs.py").write_text("x = 1\n")  # a second run of the same engine sees the change
    assert engine.run().changes == []


def test_a_run_on_the_keys_tree_is_recorded_for_that_content_even_if_a_file_changed_since(project: Path) -> None:
    """The run worked on the bytes the key read, so its output belongs to the key even when a
    file changes while it runs (without the key's tree, a changed file means no record); the
    changed tree has another key, and the old content again replays the old output."""
    key, engine, without = _preview_of(project, ["app/jobs.py"], cache=True)
    report = engine.run()
    original = (project / "app/jobs.py").read_text()
    (project / "app/jobs.py").write_text("x = 1\n")  # changed during the run
    commandline.remember(engine, report, key, b"app/jobs.py\n", [], 1)
    assert commandline.replay.lookup(project, key.value) is not None
    commandline.remember(without, without.run(), key, b"stale\n", [], 1)  # it read the new content: not recorded
    assert commandline.replay.lookup(project, key.value).stdout == b"app/jobs.py\n"
    assert commandline.ReplayKey.compute(key.root, key.command, key.excludes).value != key.value
    (project / "app/jobs.py").write_text(original)
    assert commandline.ReplayKey.compute(key.root, key.command, key.excludes).value == key.value


def test_a_changed_pyproject_after_the_key_still_means_no_record(project: Path) -> None:
    make_tree(project, {"pyproject.toml": "[tool.auditfix]\n"})
    key, engine, _ = _preview_of(project, ["app/jobs.py"], cache=True)
    report = engine.run()
    (project / "pyproject.toml").write_text("[tool.auditfix]\nselect = ['bare-except']\n")  # the settings read it again
    commandline.remember(engine, report, key, b"app/jobs.py\n", [], 1)
    assert commandline.replay.lookup(project, key.value) is None
