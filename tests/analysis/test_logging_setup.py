"""file_logging: the configuration search skipped where none of its text occurs, same answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.analysis import logging_setup
from codemods.analysis.paths import is_test_path

SAMPLE_REPO = Path(__file__).resolve().parents[2] / "sample_repo"

SOURCES = [
    pytest.param(b"x = 1\n", id="nothing"),
    pytest.param(b"import logging\nlogging.basicConfig(level=logging.INFO)\n", id="basic-config"),
    pytest.param(b"LOGGING = {}\n", id="django-setting"),
    pytest.param(b"LOGGING_CONFIG = None\n", id="django-config-setting"),
    pytest.param(b"x = {'LOGGING': 1}\n", id="setting-name-not-at-line-start"),
    pytest.param(b"current_app.logger.info('x')\n", id="flask-logger"),
    pytest.param(b"import structlog\nstructlog.configure()\n", id="structlog"),
    pytest.param(b"from loguru import logger\n", id="loguru"),
    pytest.param(b"handler.setLevel(10)\nprint('x')\n", id="set-level-and-print"),
    pytest.param(b"pprint('x')\nobj.print('y')\n", id="not-print"),
    pytest.param(b"print ('x')\nif __name__ == '__main__':\n    pass\n", id="print-in-a-script"),
]


def searched_everywhere(path: str, source: bytes) -> logging_setup.FileLogging:
    """file_logging without the text shortcut."""
    found = logging_setup._CONFIGURATION.search(source)
    configures = None
    if found is not None and not is_test_path(path):
        configures = f"{found['what'].decode().rstrip('.=( ')} in {path}"
    prints = bool(logging_setup._PRINT.search(source)) and not is_test_path(path)
    return logging_setup.FileLogging(configures, prints and not logging_setup._COMMAND_LINE.search(source))


@pytest.mark.parametrize("source", SOURCES)
def test_file_logging_answers_as_the_full_search(source: bytes) -> None:
    assert logging_setup.file_logging("app/module.py", source) == searched_everywhere("app/module.py", source)


def test_file_logging_answers_as_the_full_search_on_sample_repo() -> None:
    for path in sorted(SAMPLE_REPO.rglob("*.py")):
        relative = path.relative_to(SAMPLE_REPO).as_posix()
        data = path.read_bytes()
        assert logging_setup.file_logging(relative, data) == searched_everywhere(relative, data), relative
