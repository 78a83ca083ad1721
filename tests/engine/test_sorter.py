"""isort in a second process (codemods.engine.sorter): the same answers as isort in this process,
isort's errors raised as errors, and isort in this process whenever the second one cannot answer.

The console script allows the second process; these tests allow it explicitly and stop it after
each test, so no process of theirs outlives the test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import isort
import pytest

from codemods.engine import sorter
from codemods.engine.style import sort_imports
from codemods.options import CodeStyle
from tests.forking import in_a_forked_process

REPO = Path(__file__).resolve().parents[2]
SAMPLE_REPO = REPO / "sample_repo"

UNSORTED = "import sys\nimport os\nfrom b import d, c\n\nprint(os, sys, c, d)\n"
SORTED = "import os\nimport sys\n\nfrom b import c, d\n\nprint(os, sys, c, d)\n"
SKIPPED = "# isort: skip_file\nimport sys\nimport os\n"
FLOATING = "import os\n\nx = 1\nimport sys  # late\n"
STYLES = [
    pytest.param(CodeStyle(), id="black-profile-88"),
    pytest.param(CodeStyle(isort_settings=(("profile", "google"), ("line_length", 40))), id="google-profile-40"),
    pytest.param(CodeStyle(isort_settings=(("force_single_line", True),)), id="force-single-line"),
    pytest.param(CodeStyle(isort_settings=(("float_to_top", True),)), id="float-to-top"),
]


@pytest.fixture
def second_process() -> Iterator[None]:
    sorter.allow()
    assert sorter.start(), "the machine has one core or no fork: these tests need the second process"
    try:
        yield
    finally:
        sorter.stop()


def in_this_process(text: str, style: CodeStyle) -> str:
    return isort.code(text, config=sorter.isort_config(style))


def outcome(sort: Callable[[str, CodeStyle], str], text: str, style: CodeStyle) -> tuple[str, str]:
    """The sorted text, or the name of the exception isort raised (SortError's message starts with it)."""
    try:
        return "sorted", sort(text, style)
    except sorter.SortError as error:
        return "raised", str(error).split(":")[0]
    except Exception as error:  # noqa: BLE001 - isort's own, raised here
        return "raised", type(error).__name__


needs_fork = pytest.mark.skipif(
    not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="the second process needs fork and two cores"
)


@needs_fork
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("text", [UNSORTED, SORTED, SKIPPED, FLOATING, ""], ids=["unsorted", "sorted", "skip-file", "late-import", "empty"])
def test_the_second_process_answers_as_isort_here(second_process: None, style: CodeStyle, text: str) -> None:
    assert outcome(sorter.sort_code, text, style) == outcome(in_this_process, text, style)
    assert sorter._client is not None and sorter._client.alive  # it was the second process that answered


@needs_fork
def test_a_settings_file_is_read_by_the_second_process_as_here(second_process: None, tmp_path: Path) -> None:
    settings = tmp_path / "setup.cfg"
    settings.write_text("[isort]\nforce_single_line = true\n")
    style = CodeStyle(isort_settings=(), isort_file=str(settings))
    text = "from typing import List, Any\n"
    assert sorter.sort_code(text, style) == "from typing import Any\nfrom typing import List\n"
    assert sorter.sort_code(text, style) == in_this_process(text, style)


@needs_fork
def test_a_large_text_crosses_the_pipes_whole(second_process: None) -> None:
    text = "import sys\nimport os\n" + "".join(f"value_{n} = {n!r}  # {'x' * 60}\n" for n in range(40_000))
    assert len(text) > 1 << 21  # more than one read of the pipe
    assert sorter.sort_code(text, CodeStyle()) == in_this_process(text, CodeStyle())


@needs_fork
def test_isorts_error_is_raised_here_and_the_rewrite_keeps_its_placement(second_process: None, tmp_path: Path) -> None:
    style = CodeStyle(isort_settings=(("profile", "no-such-profile"),))
    here = outcome(in_this_process, UNSORTED, style)
    assert here[0] == "raised"
    with pytest.raises(sorter.SortError, match=f"^{here[1]}: "):
        sorter.sort_code(UNSORTED, style)
    new = b"import os\nimport sys\nimport json\n"
    assert sort_imports(b"import os\nimport sys\n", new, style) == new  # as when isort raises here
    assert sorter._client is not None and sorter._client.alive  # an error is an answer: still asked


@needs_fork
def test_when_the_second_process_is_gone_isort_runs_here(second_process: None) -> None:
    assert sorter._client is not None
    os.kill(sorter._client.pid, signal.SIGKILL)
    os.waitpid(sorter._client.pid, 0)
    assert sorter.sort_code(UNSORTED, CodeStyle()) == in_this_process(UNSORTED, CodeStyle())
    assert not sorter._client.alive  # not asked again
    assert sorter.sort_code(UNSORTED, CodeStyle()) == in_this_process(UNSORTED, CodeStyle())


@needs_fork
def test_a_process_forked_from_this_one_does_not_use_its_pipes(second_process: None) -> None:
    def answers_as_isort_here() -> bool:  # a pool worker, say: the pipes are the console script's
        ok = sorter.sort_code(UNSORTED, CodeStyle()) == in_this_process(UNSORTED, CodeStyle())
        return ok and sorter._client is not None and sorter._client.owner != os.getpid()

    assert in_a_forked_process(answers_as_isort_here)
    assert sorter.sort_code(UNSORTED, CodeStyle()) == in_this_process(UNSORTED, CodeStyle())  # not disturbed


@needs_fork
def test_a_process_forked_from_the_allowed_one_starts_none_of_its_own(second_process: None) -> None:
    # A pool worker loading a codemod the console script had not imported yet.
    assert in_a_forked_process(lambda: not sorter.start())


# -- when it does not start --------------------------------------------------------------------


def test_not_started_unless_the_console_script_allowed_it() -> None:
    sorter.stop()
    assert not sorter.start()
    assert sorter._client is None
    assert sorter.sort_code(UNSORTED, CodeStyle()) == in_this_process(UNSORTED, CodeStyle())


def test_not_started_when_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITFIX_ISORT_PROCESS", "0")
    sorter.allow()
    try:
        assert not sorter.start()
    finally:
        sorter.stop()


def test_not_started_on_one_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    sorter.allow()
    try:
        assert not sorter.start()
    finally:
        sorter.stop()


def test_not_started_while_threads_run() -> None:
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    sorter.allow()
    try:
        assert not sorter.start()
    finally:
        release.set()
        worker.join()
        sorter.stop()


# -- the console script ---------------------------------------------------------------------------

PROGRAM = "import sys\nfrom codemods.engine.commandline import entry\nsys.argv[0] = 'auditfix'\nentry()\n"


def console_script(cwd: Path, *arguments: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **env}
    command = [sys.executable, "-c", PROGRAM, *arguments]
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, timeout=300, check=False)


@needs_fork
def test_the_console_script_prints_the_same_diff_with_and_without_the_second_process(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "sample_repo"
    shutil.copytree(SAMPLE_REPO, copy, ignore=shutil.ignore_patterns(".auditfix_cache", "__pycache__"))
    arguments = ("run", ".", "--dry-run", "--no-progress", "--no-cache")
    alone = console_script(copy, *arguments, AUDITFIX_ISORT_PROCESS="0")
    beside = console_script(copy, *arguments)
    assert alone.returncode == beside.returncode == 1, beside.stderr.decode()[-2000:]
    assert b"\n+import logging\n" in beside.stdout or b"\n+from " in beside.stdout  # imports were placed
    assert beside.stdout == alone.stdout
    assert beside.stderr == alone.stderr


@needs_fork
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads the child's file descriptors in /proc")
def test_the_second_process_holds_none_of_the_callers_streams(second_process: None) -> None:
    """pre-commit reads a hook's output to its end: the child must not keep that pipe open."""
    assert sorter._client is not None
    sorter.sort_code(UNSORTED, CodeStyle())  # answered: the child is past its start
    for fd in (0, 1, 2):
        assert os.readlink(f"/proc/{sorter._client.pid}/fd/{fd}") == os.devnull
