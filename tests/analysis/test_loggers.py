"""The module logger both logging codemods call: which one is reused, where a new one goes."""

from __future__ import annotations

import textwrap

import pytest

from codemods.rules.bare_except import BareExcept
from codemods.engine.config import default_options
from codemods.engine.pipeline import CHANGED, Plan, transform_source
from codemods.rules.print_to_logging import PrintToLogging
from codemods.engine.templating import TemplateSet
from tests.rules.helpers import assert_noop, assert_rewrite, declined

SWALLOW = """

def load():
    try:
        read()
    except:
        pass
"""


def swallowed_with(logger_name: str) -> str:
    return SWALLOW.replace("except:", "except Exception:").replace(
        "        pass", f'        {logger_name}.exception("Unexpected error in load")'
    )  # the log call takes the place of the pass


# -- an existing logger is reused, however it is written ------------------------------------------


@pytest.mark.parametrize(
    ("header", "name"),
    [
        pytest.param("import logging\nlogger = logging.getLogger(__name__)\n", "logger", id="logging-getlogger"),
        pytest.param("from app.logs import logger\n", "logger", id="logger-imported-from-elsewhere"),
        pytest.param("import logging as lg\nlog = lg.getLogger(__name__)\n", "log", id="aliased-logging-module"),
        pytest.param("from logging import getLogger\n_logger = getLogger(__name__)\n", "_logger", id="from-logging-import"),
        pytest.param(
            "from logging import getLogger as get\nLOGGER = get(__name__)\n", "LOGGER", id="aliased-getlogger"
        ),
        pytest.param(
            "import logging\nLOGGER: logging.Logger = logging.getLogger(__name__)\n", "LOGGER", id="annotated"
        ),
        pytest.param("import logging.handlers\nlogger = logging.getLogger(__name__)\n", "logger", id="submodule-import"),
        pytest.param("import logging\nsync_log = logging.getLogger('app.sync')\n", "sync_log", id="any-name"),
        pytest.param(
            "import logging\naudit = logging.getLogger('audit')\nlogger = logging.getLogger(__name__)\n",
            "logger",
            id="preferred-name-wins",
        ),
        pytest.param(
            "import logging\naudit = logging.getLogger('audit')\nmain = logging.getLogger(__name__)\n",
            "main",
            id="module-name-logger-wins",
        ),
        pytest.param("from loguru import logger\n", "logger", id="loguru"),
        pytest.param("from loguru import logger as log\n", "log", id="loguru-aliased"),
    ],
)
def test_existing_logger_is_reused(header: str, name: str) -> None:
    assert_rewrite(BareExcept, header + SWALLOW, header + swallowed_with(name))


def test_logger_defined_below_the_function_is_reused() -> None:
    footer = "\n\nimport logging\nlogger = logging.getLogger(__name__)\n"
    assert_rewrite(BareExcept, SWALLOW + footer, swallowed_with("logger") + footer)


# -- a new logger: a name nothing in the module uses ------------------------------------------------


@pytest.mark.parametrize(
    ("header", "new_header", "name"),
    [
        pytest.param(
            "import logging\nlogger = logging.getLogger(__name__)\nlogger = logger.getChild('x')\n",
            "import logging\n\n_logger = logging.getLogger(__name__)\n\nlogger = logging.getLogger(__name__)\n"
            "logger = logger.getChild('x')\n",
            "_logger",
            id="rebound-logger-not-trusted",
        ),
        pytest.param(
            "def logger(): pass\ndef _logger(): pass\n",
            "import logging\n\nlog = logging.getLogger(__name__)\n\n\ndef logger(): pass\ndef _logger(): pass\n",
            "log",
            id="logger-and-underscore-logger-taken",
        ),
        pytest.param(
            "import logging as lg\n",
            "import logging as lg\n\nlogger = lg.getLogger(__name__)\n",
            "logger",
            id="aliased-logging-import-used-no-new-import",
        ),
    ],
)
def test_new_logger_name(header: str, new_header: str, name: str) -> None:
    assert_rewrite(BareExcept, header + SWALLOW, new_header + swallowed_with(name))


def test_a_local_variable_named_like_the_new_logger_makes_it_pick_another_name() -> None:
    before = "def other(logger):\n    return logger\n" + SWALLOW
    after = "import logging\n\n_logger = logging.getLogger(__name__)\n\n\ndef other(logger):\n    return logger\n"
    assert_rewrite(BareExcept, before, after + swallowed_with("_logger"))


def test_logging_bound_to_something_else_declines_the_log_call() -> None:
    before = "from app import logging\n" + SWALLOW
    outcome = assert_rewrite(BareExcept, before, "from app import logging\n" + SWALLOW.replace("except:", "except Exception:"))
    assert declined(outcome.findings) == [
        (
            "bare except swallows errors; no log call added: "
            "the name 'logging' is bound to something other than the logging module"
        )
    ]


# -- where a new logger goes: after the import header -------------------------------------------------


@pytest.mark.parametrize(
    ("header", "new_header"),
    [
        # the blank lines before the first statement belong to the module header, which stays first
        pytest.param("", "\n\nimport logging\n\nlogger = logging.getLogger(__name__)\n", id="no-imports"),
        pytest.param(
            '"""Loader."""\n',
            '"""Loader."""\nimport logging\n\nlogger = logging.getLogger(__name__)\n',
            id="after-docstring",
        ),
        pytest.param(
            '"""Loader."""\nfrom __future__ import annotations\n',
            '"""Loader."""\nfrom __future__ import annotations\nimport logging\n\nlogger = logging.getLogger(__name__)\n',
            id="after-future-import",
        ),
        pytest.param(
            "import os\nfrom typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from app.models import User\n",
            "import os\nfrom typing import TYPE_CHECKING\nimport logging\n\nif TYPE_CHECKING:\n    from app.models import User\n"
            "\nlogger = logging.getLogger(__name__)\n",
            id="after-type-checking-block",
        ),
        pytest.param(
            "import os\ntry:\n    import ujson as json\nexcept ImportError:\n    import json\n",
            "import os\nimport logging\n\ntry:\n    import ujson as json\nexcept ImportError:\n    import json\n"
            "\nlogger = logging.getLogger(__name__)\n",
            id="after-optional-import-block",
        ),
        pytest.param(
            "import os\n__all__ = ['load']\nimport sys\n",
            "import os\nimport logging\n\n__all__ = ['load']\nimport sys\n\nlogger = logging.getLogger(__name__)\n",
            id="dunder-assignments-are-part-of-the-header",
        ),
        pytest.param(
            "import os\nCACHE = {}\nimport sys\n",
            "import os\nimport logging\n\nlogger = logging.getLogger(__name__)\n\nCACHE = {}\nimport sys\n",
            id="header-ends-at-first-code",
        ),
        pytest.param(
            "import os\nCACHE = {}\nimport logging\n",
            "import os\nCACHE = {}\nimport logging\n\nlogger = logging.getLogger(__name__)\n",
            id="after-a-late-logging-import",
        ),
    ],
)
def test_new_logger_placement(header: str, new_header: str) -> None:
    assert_rewrite(BareExcept, header + SWALLOW, new_header + swallowed_with("logger"))


def test_no_logger_is_created_when_nothing_needs_one() -> None:
    before = "import os\n\ndef f():\n    try:\n        g()\n    except:\n        h()\n"
    assert_rewrite(BareExcept, before, before.replace("except:", "except Exception:"))


def test_print_before_a_late_logging_import_at_import_time_declines() -> None:
    configured = {"app/setup.py": "import logging\n\nlogging.basicConfig()\n"}
    findings = assert_noop(PrintToLogging, "import os\nprint('loading')\nimport logging\n", other_files=configured)
    assert declined(findings) == [
        "print() not converted: runs at import time before the module logger 'logger' is defined"
    ]


# -- both codemods in one pass: the second reuses the logger the first created ------------------------


def test_print_to_logging_reuses_the_logger_bare_except_created() -> None:
    before = textwrap.dedent(
        """
        import json


        def load(path):
            print("Loading", path)
            try:
                return json.load(open(path))
            except:
                return {}
        """
    )
    after = textwrap.dedent(
        """
        import json
        import logging

        logger = logging.getLogger(__name__)


        def load(path):
            logger.info("Loading %s", path)
            try:
                return json.load(open(path))
            except Exception:
                logger.debug("Handled error in load", exc_info=True)
                return {}
        """
    )
    codemods = (BareExcept, PrintToLogging)
    plan = Plan(codemods, {c.name: default_options(c) for c in codemods}, {}, TemplateSet())
    outcome = transform_source("app/loader.py", before.encode(), plan)
    assert outcome.status == CHANGED, outcome.message
    assert outcome.new_source.decode() == after
    assert outcome.changed_by == ("bare-except", "print-to-logging")
    assert [(f.line, f.codemod) for f in outcome.findings] == [(6, "print-to-logging"), (9, "bare-except")]


# -- known gaps ---------------------------------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="only single module-level assignments count as the logger; one bound in both branches of "
    "a try/except ImportError is not reused, so a second logger (_logger) is created",
)
def test_logger_bound_in_an_import_fallback_is_reused() -> None:
    header = (
        "try:\n    from loguru import logger\nexcept ImportError:\n"
        "    import logging\n    logger = logging.getLogger(__name__)\n"
    )
    assert_rewrite(BareExcept, header + SWALLOW, header + swallowed_with("logger"))
