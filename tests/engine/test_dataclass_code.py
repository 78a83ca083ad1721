"""The dataclass code table (codemods.engine.dataclass_code): classes made with it behave as
classes made without it, it is read back by the next process, and a table that cannot be
trusted is ignored.

Each test installs the table into this process's ``dataclasses`` and removes it afterwards.
"""

from __future__ import annotations
import __future__

import dataclasses
import marshal
import os
import shutil
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from codemods.engine import dataclass_code
from tests.forking import in_a_forked_process

REPO = Path(__file__).resolve().parents[2]
SAMPLE_REPO = REPO / "sample_repo"

# Classes covering what the decorator writes: defaults and factories, frozen, ordering, keyword
# only, InitVar and __post_init__, fields left out of __init__, repr or comparison, slots,
# inheritance, and libcst's own frozen node classes.
DEFINITIONS = textwrap.dedent(
    """
    import dataclasses
    from dataclasses import InitVar, dataclass, field

    @dataclass
    class Plain:
        a: int
        b: str = "b"
        c: list = field(default_factory=list)

    @dataclass(frozen=True, order=True)
    class Frozen:
        x: int
        y: tuple = ()

    @dataclass(kw_only=True, eq=False)
    class KeywordOnly:
        name: str
        size: int = 3

    @dataclass
    class PostInit:
        base: int
        scale: InitVar[int] = 2
        total: int = field(init=False, repr=False, compare=False, default=0)

        def __post_init__(self, scale):
            self.total = self.base * scale

    @dataclass(slots=True, unsafe_hash=True)
    class Slotted:
        p: float
        q: float = 0.5

    @dataclass(frozen=True)
    class Child(Frozen):
        z: str = "z"
    """
)


def behaviour(namespace: dict[str, Any]) -> list[Any]:
    """What each class does: construction, repr, equality, hashing, ordering, frozenness, fields."""
    seen: list[Any] = []
    plain = namespace["Plain"](1)
    seen += [repr(plain), plain == namespace["Plain"](1, "b", []), plain.c is not namespace["Plain"](1).c]
    frozen = namespace["Frozen"](1, (2,))
    try:
        frozen.x = 5
    except dataclasses.FrozenInstanceError as error:
        seen.append(f"frozen: {error}")
    seen += [hash(frozen) == hash(namespace["Frozen"](1, (2,))), frozen < namespace["Frozen"](2), min([namespace["Frozen"](3), frozen]) == frozen]
    keyword = namespace["KeywordOnly"](name="n")
    seen += [repr(keyword), keyword == namespace["KeywordOnly"](name="n")]
    try:
        namespace["KeywordOnly"]("n")
    except TypeError as error:
        seen.append(str(error))
    post = namespace["PostInit"](3, 4)
    seen += [repr(post), post.total, post == namespace["PostInit"](3, 5)]
    slotted = namespace["Slotted"](1.0)
    seen += [repr(slotted), hash(slotted) == hash(namespace["Slotted"](1.0)), hasattr(slotted, "__dict__")]
    child = namespace["Child"](1)
    seen += [repr(child), [f.name for f in dataclasses.fields(child)], child == namespace["Child"](1, (), "z")]
    for name in ("Plain", "Frozen", "KeywordOnly", "PostInit", "Slotted", "Child"):
        cls = namespace[name]
        seen.append([(f.name, f.init, f.repr, f.compare, f.kw_only) for f in dataclasses.fields(cls)])
        methods = {key: value for key, value in vars(cls).items() if key.startswith("__") and hasattr(value, "__code__")}
        seen.append({key: (value.__code__.co_code, value.__code__.co_flags, repr(value.__annotations__)) for key, value in methods.items()})
    return seen


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[Callable[[], dataclass_code.CodeTable]]:
    """``install()`` with the table in tmp_path; removed after the test."""
    tables: list[dataclass_code.CodeTable] = []

    def install() -> dataclass_code.CodeTable:
        table = dataclass_code.install(tmp_path)
        assert table is not None
        tables.append(table)
        return table

    yield install
    for table in tables:
        dataclass_code.uninstall(table)
    assert "exec" not in vars(dataclasses)


def define() -> dict[str, Any]:
    """The classes, defined in a module of their own (dataclasses looks the module up)."""
    module = types.ModuleType("dataclass_code_definitions")
    sys.modules[module.__name__] = module
    try:
        exec(DEFINITIONS, vars(module))  # noqa: S102 - the test's own class definitions
    finally:
        del sys.modules[module.__name__]
    return vars(module)


def test_classes_made_from_the_table_behave_as_without_it(installed: Callable[[], dataclass_code.CodeTable], monkeypatch: pytest.MonkeyPatch) -> None:
    without = behaviour(define())
    first = installed()
    compiled = behaviour(define())  # texts compiled, added to the table
    assert first.added > 0 and first.save()
    dataclass_code.uninstall(first)
    second = installed()  # a new process reads the table back
    assert len(second.codes) == len(first.codes)
    from_table = behaviour(define())
    assert second.added == 0  # every text came from the table
    assert compiled == without
    assert from_table == without


def test_a_second_process_compiles_nothing_the_first_one_stored(tmp_path: Path) -> None:
    program = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from codemods.engine import dataclass_code
        table = dataclass_code.install(Path({str(tmp_path)!r}))
        import libcst
        code = "def f(a, *, b=1):\\n    return [x async for x in a]\\n"
        assert libcst.parse_module(code).code == code
        print(table.added, len(table.used))
        """
    )
    runs = [subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)}) for _ in range(2)]
    first_added, first_used = map(int, runs[0].stdout.split())
    second_added, second_used = map(int, runs[1].stdout.split())
    assert first_added == first_used > 500  # libcst's node classes
    assert (second_added, second_used) == (0, first_used)


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(b"", id="empty-file"),
        pytest.param(b"\x00garbage", id="not-marshal"),
        pytest.param(marshal.dumps([1, 2, 3]), id="not-a-tuple"),
        pytest.param(marshal.dumps((1, "3.0.0 (another interpreter)", b"xxxx", {})), id="another-interpreter"),
        pytest.param(marshal.dumps((1, sys.version, b"\x00\x00\r\n", {})), id="another-magic-number"),
        pytest.param(marshal.dumps((99, sys.version, None, {})), id="another-format"),
        pytest.param(None, id="text-mapped-to-a-string"),
    ],
)
def test_a_table_that_cannot_be_trusted_is_ignored(installed: Callable[[], dataclass_code.CodeTable], tmp_path: Path, stored: bytes | None) -> None:
    from importlib.util import MAGIC_NUMBER

    if stored is None:
        stored = marshal.dumps((1, sys.version, MAGIC_NUMBER, {"def __create_fn__():\n return 1\n": "not code"}))
    dataclass_code.table_path(tmp_path).write_bytes(stored)
    table = installed()
    assert table.codes == {}
    assert behaviour(define()) == behaviour_without_table()
    assert table.save()  # replaced by a good table
    assert dataclass_code.CodeTable(table.path).codes.keys() == table.codes.keys()


def behaviour_without_table() -> list[Any]:
    saved = vars(dataclasses).pop("exec", None)
    try:
        return behaviour(define())
    finally:
        if saved is not None:
            dataclasses.exec = saved  # type: ignore[attr-defined]


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="giving a file to another user needs root")
def test_a_table_owned_by_another_user_is_ignored(installed: Callable[[], dataclass_code.CodeTable], tmp_path: Path) -> None:
    first = installed()
    define()
    assert first.save()
    dataclass_code.uninstall(first)
    os.chown(first.path, 54321, 54321)
    assert installed().codes == {}


def test_a_forked_process_does_not_write_the_table(installed: Callable[[], dataclass_code.CodeTable]) -> None:
    table = installed()
    define()
    assert not in_a_forked_process(table.save)
    assert not table.path.exists()
    assert table.save() and table.path.exists()


def test_nothing_is_written_when_nothing_was_compiled(installed: Callable[[], dataclass_code.CodeTable]) -> None:
    table = installed()
    assert not table.save()
    assert not table.path.exists()


def test_a_full_table_keeps_only_what_this_run_used(installed: Callable[[], dataclass_code.CodeTable], monkeypatch: pytest.MonkeyPatch) -> None:
    table = installed()
    stale = {f"def __create_fn__():\n def f{n}():\n  return {n}\n return f{n}": compile("x = 1", "<string>", "exec") for n in range(30)}
    table.codes.update(stale)
    define()
    monkeypatch.setattr(dataclass_code, "MAX_ENTRIES", 10)
    assert table.save()
    kept = dataclass_code.CodeTable(table.path).codes
    assert kept.keys() == table.used and not kept.keys() & stale.keys()


def test_an_unwritable_folder_leaves_the_run_alone(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder would be")
    table = dataclass_code.install(blocker)
    assert table is not None
    try:
        define()
        assert not table.save()
    finally:
        dataclass_code.uninstall(table)


@pytest.mark.parametrize("variable, value", [("AUDITFIX_CODE_CACHE", "0"), ("AUDITFIX_NO_SPEEDUPS", "1")])
def test_switched_off_it_leaves_dataclasses_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    assert dataclass_code.install(tmp_path) is None
    assert "exec" not in vars(dataclasses)


def test_it_steps_aside_when_dataclasses_has_future_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """exec() compiles with its caller's __future__ flags; the table's texts are compiled with none."""
    monkeypatch.setattr(dataclasses, "annotations", __future__.annotations, raising=False)
    assert dataclass_code.install(tmp_path) is None
    assert "exec" not in vars(dataclasses)


def test_installing_twice_keeps_the_first_table(installed: Callable[[], dataclass_code.CodeTable], tmp_path: Path) -> None:
    table = installed()
    assert dataclass_code.install(tmp_path) is None
    assert vars(dataclasses)["exec"] == table.exec


def test_importing_auditfix_as_a_library_installs_nothing() -> None:
    program = "import dataclasses, cli, codemods.engine.console, codemods.engine.commandline, codemods.registry; print('exec' in vars(dataclasses))"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=REPO)
    assert result.stdout.strip() == "False"


PROGRAM = "import sys\nfrom codemods.engine.console import entry\nsys.argv[0] = 'auditfix'\nentry()\n"


def test_the_console_script_keeps_the_table_and_prints_the_same_diff(tmp_path: Path) -> None:
    copy = tmp_path / "sample_repo"
    shutil.copytree(SAMPLE_REPO, copy, ignore=shutil.ignore_patterns(".auditfix_cache", "__pycache__"))
    users = tmp_path / "user-cache"
    environment = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(users)}
    command = [sys.executable, "-c", PROGRAM, "run", ".", "--dry-run", "--no-progress", "--no-cache"]

    def run(**env: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(command, cwd=copy, env={**environment, **env}, capture_output=True, timeout=300, check=False)

    without = run(AUDITFIX_CODE_CACHE="0")
    assert not dataclass_code.table_path(users / "auditfix").exists()
    filling = run()
    table = dataclass_code.table_path(users / "auditfix")
    assert table.is_file() and oct(table.stat().st_mode & 0o777) == "0o600"
    stored = table.read_bytes()
    from_table = run()
    assert table.read_bytes() == stored  # nothing new compiled, nothing written
    assert without.returncode == filling.returncode == from_table.returncode == 1, from_table.stderr.decode()[-2000:]
    assert b"\n+" in without.stdout
    assert filling.stdout == from_table.stdout == without.stdout
    assert filling.stderr == from_table.stderr == without.stderr
