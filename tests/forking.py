"""Running a check in a process forked from the test's own (tests that need a forked copy of
this process's state: a forked pool worker, a child that must not write)."""

from __future__ import annotations

import os
from collections.abc import Callable


def in_a_forked_process(check: Callable[[], bool]) -> bool:
    """``check()`` as a process forked from this one answers it."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, b"1" if check() else b"0")
        finally:
            os._exit(0)
    os.close(write)
    try:
        return os.read(read, 1) == b"1"
    finally:
        os.waitpid(pid, 0)
        os.close(read)
