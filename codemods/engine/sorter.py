"""The project's isort, asked in a second process that imports it while this one imports libcst.

A plain run on a few named files (the pre-commit hook) spends half its time importing: libcst, the
codemods, and last isort, which the tidy step needs as soon as a rewrite adds an import.  isort
costs 50-70 ms before its first answer: its own modules, the ``importlib.metadata`` it reads its
version with, and the patterns its first call compiles.  With a second core, none of that needs
to wait in line: when the console script allows it (:func:`allow`), :func:`start`, called where the run
imports its first codemod (and so libcst: 0.2 s or more before the first import is placed), forks
a process that imports isort and warms it up; :func:`sort_code` asks that process.  A run that
needs no codemod (a changed file without markers, a replayed run) starts none.

The answers are isort's own.  The child is a copy of this process (same working directory, same
``sys.path``, same isort), it builds the config from the same :class:`CodeStyle` with
:func:`isort_config`, and it runs ``isort.code`` on the same text; an exception there is raised
here as :class:`SortError`, which the caller treats as it treats isort's own exceptions.  Where
the child cannot answer (it died, or the caller is another process: a pool worker forked from
this one inherits the pipes), isort runs in this process as before.

Not started without ``os.fork``, with one usable core (the two processes would take turns), when
threads are running, or with ``AUDITFIX_ISORT_PROCESS=0``.  The child ignores Ctrl-C (this
process reports it), writes nothing to the terminal, and exits when this process closes the pipe
or ends.
"""

from __future__ import annotations

import functools
import os
import pickle
import struct
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codemods.options import CodeStyle

_LENGTH = struct.Struct("!Q")
_WARM_UP = "import sys\nimport os\nfrom b import c, a\n"


class SortError(Exception):
    """isort raised in the second process; the message names the exception."""


@functools.lru_cache(maxsize=8)
def isort_config(style: CodeStyle) -> Any:
    """isort's Config for the project's settings (from its settings file, when it names one)."""
    import isort

    settings = {**dict(style.isort_settings), "quiet": True}
    if style.isort_file:
        return isort.Config(settings_file=style.isort_file, **settings)
    return isort.Config(**settings)


def sort_code(text: str, style: CodeStyle) -> str:
    """``isort.code(text)`` under the project's settings: by the second process when it runs.
    Raises what isort raises (as :class:`SortError` when the second process ran it)."""
    client = _client if _client is not None and _client.owner == os.getpid() else None
    if client is not None:
        answer = client.ask(style, text)
        if answer is not None:
            sorted_text, error = answer
            if error is not None:
                raise SortError(error)
            return sorted_text
    import isort

    return isort.code(text, config=isort_config(style))


class _Client:
    """This process's end of the two pipes, and whether the child still answers."""

    def __init__(self, pid: int, requests: int, answers: int) -> None:
        self.pid = pid
        self.owner = os.getpid()
        self.requests = requests
        self.answers = answers
        self.alive = True

    def ask(self, style: CodeStyle, text: str) -> tuple[str, str | None] | None:
        """The child's answer, or None when it cannot give one (it is not asked again then)."""
        if not self.alive:
            return None
        try:
            _send(self.requests, (style, text))
            answer = _receive(self.answers)
        except (OSError, EOFError, pickle.PickleError):
            answer = None
        if answer is None:
            self.close()
        return answer

    def close(self) -> None:
        if not self.alive:
            return
        self.alive = False
        for fd in (self.requests, self.answers):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.waitpid(self.pid, os.WNOHANG)  # reaped now if it has ended; else init reaps it
        except ChildProcessError:
            pass


_client: _Client | None = None
_allowed_in: int | None = None  # the process the console script allowed it in (not its forks)


def allow() -> None:
    """Let :func:`start` fork: called by the console script only (never in a library call, a test
    process or a fleet worker, which must not find a process of ours beside them).  Not inherited:
    a pool worker forked from the console script asks isort itself."""
    global _allowed_in
    _allowed_in = os.getpid()


def start() -> bool:
    """Fork the isort process, once per process that :func:`allow` was called in; whether one
    runs for this process now."""
    global _client
    if _client is not None and _client.owner == os.getpid():
        return _client.alive
    if _allowed_in != os.getpid() or not _may_fork():
        return False
    requests_read, requests_write = os.pipe()
    answers_read, answers_write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        try:
            os.close(requests_write)
            os.close(answers_read)
            _serve(requests_read, answers_write)
        finally:
            os._exit(0)
    os.close(requests_read)
    os.close(answers_write)
    _client = _Client(pid, requests_write, answers_read)
    return True


def stop() -> None:
    """Close the pipes (the child then exits) and disallow :func:`start` again.  The console
    script leaves this to its own exit."""
    global _client, _allowed_in
    if _client is not None and _client.owner == os.getpid():
        _client.close()
    _client = None
    _allowed_in = None


def _may_fork() -> bool:
    if os.environ.get("AUDITFIX_ISORT_PROCESS") == "0" or not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return False  # forking a process with threads can deadlock the child
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores > 1


def _serve(requests: int, answers: int) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    quiet = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(quiet, fd)
    if quiet > 2:
        os.close(quiet)
    import isort

    try:
        isort.code(_WARM_UP, config=isort.Config(quiet=True))  # compiles the patterns every call uses
    except Exception:  # noqa: BLE001,S110 - a warm-up only; the real calls report their own errors
        pass
    while True:
        try:
            style, text = _receive(requests)
        except (OSError, EOFError):
            return  # the run ended
        try:
            answer: tuple[str, str | None] = (isort.code(text, config=isort_config(style)), None)
        except Exception as exc:  # noqa: BLE001 - raised in the asking process instead
            answer = ("", f"{type(exc).__name__}: {exc}")
        _send(answers, answer)


def _send(fd: int, value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _receive(fd: int) -> Any:
    (length,) = _LENGTH.unpack(_read_exactly(fd, _LENGTH.size))
    return pickle.loads(_read_exactly(fd, length))  # our own process's message


def _read_exactly(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("the other process closed the pipe")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
