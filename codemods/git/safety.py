"""What keeps the user's repository safe while git mode works: one run at a time (the
repository lock), Ctrl-C and SIGTERM turned into exceptions so that every cleanup runs, and no
git environment variable of a hook pointing git at the user's index or work tree."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import git

# Variables a git hook (or a wrapper script) may have set that would point our git commands
# at the user's index or work tree instead of the temporary worktree.
_REPOSITORY_ENVIRONMENT = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_COMMON_DIR")


class GitModeError(Exception):
    """A precondition of git mode does not hold; nothing was changed."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every ``finally`` block runs."""


# -- the repository lock ---------------------------------------------------------------------


class RepositoryLock:
    """One git-mode run per repository: a file holding ``<pid> <host>``, created atomically.

    A lock whose process is gone (same host, no such pid) is stale and taken over; a live one
    is waited for up to ``timeout`` seconds, then the run refuses.
    """

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.owner = f"{os.getpid()} {socket.gethostname()}\n"

    def __enter__(self) -> RepositoryLock:
        deadline = time.monotonic() + self.timeout
        while not self._try_create():
            holder = self._read()
            if holder is not None and self._is_stale(holder):
                self._take_over_stale(holder)
                continue
            if time.monotonic() >= deadline:
                who = f"pid {holder.split()[0]}" if holder else "another process"
                raise GitModeError(
                    f"another auditfix run ({who}) is working on this repository; try again when it has "
                    f"finished (if no such run exists, delete {self.path})"
                )
            time.sleep(0.1)
        return self

    def __exit__(self, *exc_info: object) -> None:
        with signals_deferred():
            if self._read() == self.owner:
                self.path.unlink(missing_ok=True)

    def _try_create(self) -> bool:
        # Written to a private file and hard-linked into place, so the lock is never seen half-written.
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
        temporary.write_text(self.owner)
        try:
            os.link(temporary, self.path)
            return True
        except FileExistsError:
            return False
        finally:
            temporary.unlink(missing_ok=True)

    def _read(self) -> str | None:
        try:
            return self.path.read_text()
        except (OSError, UnicodeDecodeError):
            return None

    @staticmethod
    def _is_stale(holder: str) -> bool:
        parts = holder.split()
        if len(parts) != 2 or not parts[0].isdigit():
            return True  # not written by auditfix as it is now
        pid, host = int(parts[0]), parts[1]
        if host != socket.gethostname() or os.name == "nt":
            # Cannot tell: another machine sharing the repository, or Windows, where os.kill
            # would terminate the process instead of probing it.
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def _take_over_stale(self, holder: str) -> None:
        # Move it aside first, so two runs that both saw the stale lock cannot delete a fresh one.
        aside = self.path.with_name(f"{self.path.name}.stale.{os.getpid()}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return
        if aside.read_text() != holder:
            with contextlib.suppress(FileExistsError):
                os.link(aside, self.path)  # it was a live run's fresh lock: put it back
        aside.unlink(missing_ok=True)


# -- signals and environment -----------------------------------------------------------------


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SIGNALLED = threading.Event()  # set by the run's Ctrl-C/SIGTERM handlers (see terminate_as_interrupt)


def interrupted(exc: git.GitCommandError) -> bool:
    """Whether a failed git command ended because the run was interrupted: git killed by SIGINT
    or SIGTERM (or a shell's 128 + n), or this process got one (handled, or still pending)."""
    status = exc.status if isinstance(exc.status, int) else None
    if status is not None and (status in (-s for s in _STOP_SIGNALS) or status in (128 + s for s in _STOP_SIGNALS)):
        return True
    pending = signal.sigpending() if hasattr(signal, "sigpending") else set()
    return SIGNALLED.is_set() or any(s in pending for s in _STOP_SIGNALS)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Make SIGTERM raise (like Ctrl-C does), so that worktrees and the lock are cleaned up."""
    if not _in_main_thread():
        yield
        return

    def raise_terminated(signum: int, frame: object) -> None:
        SIGNALLED.set()
        raise Terminated()

    def raise_interrupt(signum: int, frame: object) -> None:
        # As Python's own handler does, but remembered: a commit that fails meanwhile is then
        # known to be part of the interruption even if the exception got lost on its way.
        SIGNALLED.set()
        raise KeyboardInterrupt

    SIGNALLED.clear()
    previous = signal.signal(signal.SIGTERM, raise_terminated)
    previous_interrupt = signal.getsignal(signal.SIGINT)
    if previous_interrupt is signal.default_int_handler:
        signal.signal(signal.SIGINT, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        if previous_interrupt is signal.default_int_handler:
            signal.signal(signal.SIGINT, previous_interrupt)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while cleaning up; they are delivered when the cleanup is done."""
    if not _in_main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def without_repository_environment() -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in _REPOSITORY_ENVIRONMENT if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


# -- what a failed git command said ----------------------------------------------------------


def git_error_line(exc: BaseException) -> str:
    """The line of a failed git command (or other error) that says why, for the user."""
    if isinstance(exc, git.GitCommandError):
        text = (exc.stderr or exc.stdout or "").strip()
        for prefix in ("stderr:", "stdout:"):
            text = text.removeprefix(prefix).strip().strip("'").strip()
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[-1] if lines else f"git {exc.command[1] if len(exc.command) > 1 else ''} failed"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def command_output(exc: BaseException) -> str:
    """Everything a failed git command printed (a hook's output, say), for --verbose."""
    if not isinstance(exc, git.GitCommandError):
        return ""
    parts = []
    for text in (exc.stdout, exc.stderr):
        text = re.sub(r"^\s*(stdout|stderr): '?", "", text or "").rstrip().removesuffix("'")
        if text.strip():
            parts.append(text.rstrip())
    return "\n".join(parts)
