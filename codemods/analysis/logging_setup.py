"""Whether a project configures logging anywhere: a whole-tree fact, read from the text of each file.

Without a configured handler, Python's last-resort handler shows WARNING and above only, so a
print converted to ``logger.info`` prints nothing.  A project configures logging when some file
calls ``basicConfig``/``dictConfig``/``fileConfig``, adds a handler, sets a level, defines
Django's ``LOGGING`` setting, configures structlog, or logs through a framework logger that has
a handler of its own (Flask's ``app.logger``) or through loguru (whose default sink is stderr).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from codemods.analysis.paths import is_test_path

_CONFIGURATION = re.compile(
    rb"(?P<what>basicConfig|dictConfig|fileConfig|addHandler|setLevel|structlog\.configure|coloredlogs\.install"
    rb"|(?:current_)?app\.logger\.|from loguru import|import loguru|^LOGGING\s*=|^LOGGING_CONFIG\s*=)",
    re.MULTILINE,
)
# Text every match of _CONFIGURATION contains: a file with none of it is not searched (most files;
# the alternation without a common prefix is tried at every position of the file).
_CONFIGURATION_TEXT = (b"Config", b"addHandler", b"setLevel", b"structlog", b"coloredlogs", b"app.logger.", b"loguru",
                       b"LOGGING")  # fmt: skip
_PRINT = re.compile(rb"(?<![\w.])print[ \t]*\(")
_COMMAND_LINE = re.compile(rb"__main__|\bimport (?:argparse|click|typer|optparse)|from (?:argparse|click|typer) import")

INDEX_MARKERS = (b"print", b"basicConfig", b"dictConfig", b"fileConfig", b"addHandler", b"setLevel",
                 b"structlog", b"coloredlogs", b"logger.", b"loguru", b"LOGGING")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class FileLogging:
    """One file's part: what in it configures logging, and whether it prints (as a library would)."""

    configures: str | None
    prints: bool


@dataclasses.dataclass(frozen=True)
class LoggingSetup:
    """The whole tree: what configures logging (None: nothing), and the one file that reports
    it when nothing does (the first library file that prints), so the project gets one finding."""

    configured_by: str | None
    reporter: str | None


def file_logging(path: str, source: bytes) -> FileLogging:
    found = _CONFIGURATION.search(source) if any(text in source for text in _CONFIGURATION_TEXT) else None
    configures = None
    if found is not None and not is_test_path(path):
        configures = f"{found['what'].decode().rstrip('.=( ')} in {path}"
    prints = b"print" in source and bool(_PRINT.search(source)) and not is_test_path(path) and not _COMMAND_LINE.search(source)
    return FileLogging(configures, prints)


def logging_setup(facts: Mapping[str, FileLogging | None]) -> LoggingSetup:
    known = {path: fact for path, fact in facts.items() if fact is not None}
    configured = sorted(f.configures for f in known.values() if f.configures)
    printing = sorted(path for path, fact in known.items() if fact.prints)
    return LoggingSetup(configured[0] if configured else None, printing[0] if printing else None)
