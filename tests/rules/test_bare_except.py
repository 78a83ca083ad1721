"""bare-except: ``except:`` -> ``except Exception:`` (or ``BaseException`` when it re-raises)."""

from __future__ import annotations

import logging
import textwrap

import pytest

from codemods.rules.bare_except import BareExcept
from tests.rules.helpers import assert_noop, assert_rewrite, declined, run_codemod


def rewrite(before: str, after: str, **kwargs):
    return assert_rewrite(BareExcept, before, after, **kwargs)


def noop(source: str, **kwargs):
    return assert_noop(BareExcept, source, **kwargs)


# -- rewrites -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            """
            def save(row):
                try:
                    write(row)
                except:
                    rollback()
                    raise
            """,
            """
            def save(row):
                try:
                    write(row)
                except BaseException:
                    rollback()
                    raise
            """,
            id="cleanup-then-bare-raise-keeps-base-exception",
        ),
        pytest.param(
            """
            def save(row):
                try:
                    write(row)
                except: raise
            """,
            """
            def save(row):
                try:
                    write(row)
                except BaseException: raise
            """,
            id="one-line-bare-raise",
        ),
        pytest.param(
            """
            def save(row):
                try:
                    write(row)
                except:
                    notify(row)
            """,
            """
            def save(row):
                try:
                    write(row)
                except Exception:
                    notify(row)
            """,
            id="handler-that-does-work-is-not-logged",
        ),
        pytest.param(
            """
            def save(row):
                try:
                    write(row)
                except:
                    if fatal():
                        raise
                    retry(row)
            """,
            """
            def save(row):
                try:
                    write(row)
                except Exception:
                    if fatal():
                        raise
                    retry(row)
            """,
            id="raise-inside-an-if-is-not-ending-with-a-bare-raise",
        ),
        pytest.param(
            """
            def save(row):
                try:
                    write(row)
                except:
                    raise SaveError(row) from None
            """,
            """
            def save(row):
                try:
                    write(row)
                except Exception:
                    raise SaveError(row) from None
            """,
            id="raise-with-an-exception-is-not-a-bare-raise",
        ),
        pytest.param(
            """
            import logging

            logger = logging.getLogger(__name__)


            def load_config(path):
                try:
                    return read(path)
                except:
                    return {}
            """,
            """
            import logging

            logger = logging.getLogger(__name__)


            def load_config(path):
                try:
                    return read(path)
                except Exception:
                    logger.debug("Handled error in load_config", exc_info=True)
                    return {}
            """,
            id="swallowed-return-logged-with-existing-logger",
        ),
        pytest.param(
            """
            import os


            def size(path):
                try:
                    return os.path.getsize(path)
                except:
                    pass
            """,
            """
            import os
            import logging

            logger = logging.getLogger(__name__)


            def size(path):
                try:
                    return os.path.getsize(path)
                except Exception:
                    logger.exception("Unexpected error in size")
            """,
            id="swallowed-pass-creates-module-logger",
        ),
        pytest.param(
            """
            import logging

            logger = logging.getLogger(__name__)


            def size(path):
                try:
                    return os.path.getsize(path)
                except:
                    # the file may vanish meanwhile
                    pass  # keep going
            """,
            """
            import logging

            logger = logging.getLogger(__name__)


            def size(path):
                try:
                    return os.path.getsize(path)
                except Exception:
                    # the file may vanish meanwhile
                    # keep going
                    logger.exception("Unexpected error in size")
            """,
            id="swallowed-pass-replaced-by-the-log-call-comments-kept",
        ),
        pytest.param(
            """
            import logging

            logger = logging.getLogger(__name__)


            def size(path):
                try:
                    return os.path.getsize(path)
                except:
                    pass; value = None
                return value
            """,
            """
            import logging

            logger = logging.getLogger(__name__)


            def size(path):
                try:
                    return os.path.getsize(path)
                except Exception:
                    logger.exception("Unexpected error in size")
                    value = None
                return value
            """,
            id="swallowed-pass-beside-a-statement-dropped",
        ),
        pytest.param(
            """
            class Cache:
                def get(self, key):
                    try:
                        value = self.data[key]
                    except:
                        value = None
                        hits = -1
                    return value
            """,
            """
            import logging

            logger = logging.getLogger(__name__)


            class Cache:
                def get(self, key):
                    try:
                        value = self.data[key]
                    except Exception:
                        logger.debug("Handled error in Cache.get", exc_info=True)
                        value = None
                        hits = -1
                    return value
            """,
            id="fallback-assignments-in-method-named-class-dot-method",
        ),
        pytest.param(
            """
            def consume(items):
                for item in items:
                    try:
                        handle(item)
                    except:
                        continue
            """,
            """
            import logging

            logger = logging.getLogger(__name__)


            def consume(items):
                for item in items:
                    try:
                        handle(item)
                    except Exception:
                        logger.debug("Handled error in consume", exc_info=True)
                        continue
            """,
            id="swallowed-continue",
        ),
        pytest.param(
            """
            async def fetch(client):
                try:
                    return await client.get()
                except:
                    ...
            """,
            """
            import logging

            logger = logging.getLogger(__name__)


            async def fetch(client):
                try:
                    return await client.get()
                except Exception:
                    logger.exception("Unexpected error in fetch")
            """,
            id="async-function-ellipsis-body",
        ),
        pytest.param(
            """
            def outer():
                def inner():
                    try:
                        work()
                    except: pass  # best effort
                return inner
            """,
            """
            import logging

            logger = logging.getLogger(__name__)


            def outer():
                def inner():
                    try:
                        work()
                    except Exception:  # best effort
                        logger.exception("Unexpected error in outer.inner")
                return inner
            """,
            id="one-line-swallow-becomes-a-block-comment-kept",
        ),
        pytest.param(
            '''
            """Settings."""
            from __future__ import annotations

            try:
                SETTINGS = load()
            except:
                SETTINGS = {}
            ''',
            '''
            """Settings."""
            from __future__ import annotations
            import logging

            logger = logging.getLogger(__name__)

            try:
                SETTINGS = load()
            except Exception:
                logger.exception("Unexpected error in app.settings")
                SETTINGS = {}
            ''',
            id="module-level-swallow-names-the-module",
        ),
        pytest.param(
            """
            class Config:
                try:
                    DEBUG = read_flag()
                except:
                    DEBUG = False
            """,
            """
            import logging

            logger = logging.getLogger(__name__)


            class Config:
                try:
                    DEBUG = read_flag()
                except Exception:
                    logger.exception("Unexpected error in Config")
                    DEBUG = False
            """,
            id="class-body-names-the-class",
        ),
        pytest.param(
            """
            def save(row):
                try:
                    write(row)
                except:  # noqa: E722
                    rollback()
            """,
            """
            def save(row):
                try:
                    write(row)
                except Exception:
                    rollback()
            """,
            id="noqa-e722-dropped",
        ),
        pytest.param(
            """
            def save(row):
                try:
                    write(row)
                except:  # noqa: E722, BLE001
                    rollback()
                try:
                    write(row)
                except:  # pylint: disable=bare-except
                    rollback()
                try:
                    write(row)
                except:  # rollback on anything
                    rollback()
            """,
            """
            def save(row):
                try:
                    write(row)
                except Exception:  # noqa: BLE001
                    rollback()
                try:
                    write(row)
                except Exception:
                    rollback()
                try:
                    write(row)
                except Exception:  # rollback on anything
                    rollback()
            """,
            id="other-codes-and-comments-kept",
        ),
        pytest.param(
            """
            def size(path):
                try:
                    return stat(path)
                except: pass  # noqa: E722
            """,
            """
            import logging

            logger = logging.getLogger(__name__)


            def size(path):
                try:
                    return stat(path)
                except Exception:
                    logger.exception("Unexpected error in size")
            """,
            id="one-line-swallow-with-noqa",
        ),
        pytest.param(
            """
            def rows(cursor):
                try:
                    yield from cursor
                except:
                    pass
            """,
            """
            import logging

            logger = logging.getLogger(__name__)


            def rows(cursor):
                try:
                    yield from cursor
                except Exception:
                    logger.exception("Unexpected error in rows")
            """,
            id="generator-no-longer-swallows-generator-exit",
        ),
        pytest.param(
            """
            def save(row):
                try:
                    write(row)
                except :
                    rollback()
            """,
            """
            def save(row):
                try:
                    write(row)
                except Exception:
                    rollback()
            """,
            id="space-before-colon",
        ),
        pytest.param(
            """
            def save(row):
                try:
                    write(row)
                except ValueError:
                    pass
                except:
                    try:
                        rollback()
                    except:
                        raise
            """,
            """
            def save(row):
                try:
                    write(row)
                except ValueError:
                    pass
                except Exception:
                    try:
                        rollback()
                    except BaseException:
                        raise
            """,
            id="nested-try-in-handler-and-typed-handler-before",
        ),
        pytest.param(
            """
            import sys

            def save(row):
                try:
                    write(row)
                except:
                    report(sys.exc_info())
            """,
            """
            import sys

            def save(row):
                try:
                    write(row)
                except Exception:
                    report(sys.exc_info())
            """,
            id="exc-info-still-works",
        ),
        pytest.param(
            """
            try:
                import ujson as json
            except:
                import json
            try:
                import yaml
            except:
                yaml = None
            """,
            """
            try:
                import ujson as json
            except Exception:
                import json
            try:
                import yaml
            except Exception:
                yaml = None
            """,
            id="optional-import-fallback-not-logged",
        ),
        pytest.param(
            # Flask-Admin 1.6.1's shape: the optional import also sets a flag.
            """
            try:
                from playhouse.postgres_ext import JSONField, BinaryJSONField
                pg_ext = True
            except:
                pg_ext = False
            """,
            """
            try:
                from playhouse.postgres_ext import JSONField, BinaryJSONField
                pg_ext = True
            except Exception:
                pg_ext = False
            """,
            id="optional-import-that-sets-a-flag-not-logged",
        ),
        pytest.param(
            # Work after the import can fail for reasons of its own: logged as before.
            """
            try:
                import yaml
                config = yaml.safe_load(text)
            except:
                config = None
            """,
            """
            import logging

            logger = logging.getLogger(__name__)

            try:
                import yaml
                config = yaml.safe_load(text)
            except Exception:
                logger.exception("Unexpected error in app.settings")
                config = None
            """,
            id="import-then-work-is-still-logged",
        ),
    ],
)
def test_rewrites(before: str, after: str) -> None:
    rewrite(before, after, path="app/settings.py")


def test_log_swallowed_false_only_names_the_exception() -> None:
    rewrite(
        """
        def size(path):
            try:
                return stat(path)
            except:
                return 0
        """,
        """
        def size(path):
            try:
                return stat(path)
            except Exception:
                return 0
        """,
        options={"log-swallowed": False},
    )


def test_findings_say_what_changed() -> None:
    outcome = run_codemod(
        BareExcept,
        """
        def f():
            try:
                g()
            except:
                raise
            try:
                g()
            except:
                pass
        """,
    )
    assert [(f.line, f.message, f.fixable) for f in outcome.findings] == [
        (5, "bare except: → except BaseException:", True),
        (9, "bare except: → except Exception: + logger.exception()", True),
    ]


# -- declines: the except is rewritten, the log call is not, and a finding says why ----------------


def test_local_name_shadowing_the_logger_gets_no_log_call() -> None:
    outcome = rewrite(
        """
        import logging
        logger = logging.getLogger(__name__)

        def run(logger):
            try:
                step()
            except:
                pass
        """,
        """
        import logging
        logger = logging.getLogger(__name__)

        def run(logger):
            try:
                step()
            except Exception:
                pass
        """,
    )
    assert declined(outcome.findings) == [
        "bare except swallows errors; no log call added: 'logger' is a local name here, not the module logger"
    ]


def test_import_time_handler_before_the_logger_is_defined_gets_no_log_call() -> None:
    outcome = rewrite(
        """
        import logging
        try:
            CONFIG = load()
        except:
            CONFIG = None
        logger = logging.getLogger(__name__)
        """,
        """
        import logging
        try:
            CONFIG = load()
        except Exception:
            CONFIG = None
        logger = logging.getLogger(__name__)
        """,
    )
    assert declined(outcome.findings) == [
        "bare except swallows errors; no log call added: runs at import time before the module logger 'logger' is defined"
    ]


def test_rebound_exception_name_is_left_alone() -> None:
    findings = noop(
        """
        Exception = MyError

        def f():
            try:
                g()
            except:
                h()
        """
    )
    assert declined(findings) == ["bare except: not rewritten, 'Exception' is rebound in this module"]


# -- no-ops: nothing bare to rewrite ---------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("try:\n    f()\nexcept Exception:\n    pass\n", id="except-exception"),
        pytest.param("try:\n    f()\nexcept (ValueError, KeyError) as exc:\n    pass\n", id="typed-handler"),
        pytest.param("try:\n    f()\nexcept* ValueError:\n    pass\n", id="except-star"),
        pytest.param("text = 'except: pass'\n# except:\n", id="only-in-strings-and-comments"),
        pytest.param("try:\n    f()\nexcept BaseException:\n    raise\n", id="already-explicit"),
    ],
)
def test_noop(source: str) -> None:
    noop(source)


def test_prefilter_sees_unusual_spacing() -> None:
    assert BareExcept.applies_to(b"try:\n    f()\nexcept\t:\n    g()\n")
    assert not BareExcept.applies_to(b"try:\n    f()\nexcept ValueError:\n    g()\n")


# -- behaviour, proven by running the code ---------------------------------------------------------


def _run_module(source: str) -> dict:
    namespace: dict = {"__name__": "converted"}
    exec(compile(textwrap.dedent(source), "<converted>", "exec"), namespace)
    return namespace


def test_reraise_case_still_propagates_keyboard_interrupt() -> None:
    outcome = run_codemod(
        BareExcept,
        """
        cleaned = []

        def work():
            try:
                raise KeyboardInterrupt
            except:
                cleaned.append(True)
                raise
        """,
    )
    namespace = _run_module(outcome.new_source.decode())
    with pytest.raises(KeyboardInterrupt):
        namespace["work"]()
    assert namespace["cleaned"] == [True]


def test_swallow_case_logs_with_traceback_and_lets_keyboard_interrupt_through(caplog) -> None:
    outcome = run_codemod(
        BareExcept,
        """
        def refresh(error):
            try:
                raise error
            except:
                pass
        """,
    )
    namespace = _run_module(outcome.new_source.decode())
    with caplog.at_level(logging.ERROR, logger="converted"):
        assert namespace["refresh"](ValueError("broken")) is None
    [record] = caplog.records
    assert record.getMessage() == "Unexpected error in refresh"
    assert record.levelname == "ERROR"
    assert record.exc_info is not None and isinstance(record.exc_info[1], ValueError)
    with pytest.raises(KeyboardInterrupt):  # the intended change: Ctrl-C is no longer swallowed
        namespace["refresh"](KeyboardInterrupt())


# -- the level fits the handler; the module's own logger is reused ------------------------------------


def test_expected_failure_turned_into_an_answer_logs_at_debug(caplog) -> None:
    outcome = run_codemod(
        BareExcept,
        """
        class BadSignature(Exception):
            pass


        def verify_reset_token(token):
            try:
                return decode(token)
            except:
                return False


        def decode(token):
            raise BadSignature("expired")
        """,
    )
    source = outcome.new_source.decode()
    assert 'logger.debug("Handled error in verify_reset_token", exc_info=True)' in source
    namespace = _run_module(source)
    with caplog.at_level(logging.DEBUG, logger="converted"):
        assert namespace["verify_reset_token"]("bad") is False
    [record] = caplog.records
    assert record.levelname == "DEBUG" and record.exc_info is not None
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="converted"):  # production: no error, no mail
        namespace["verify_reset_token"]("bad")
    assert caplog.records == []


def test_a_fallback_in_an_ordinary_function_is_still_an_error() -> None:
    rewrite(
        """
        import logging

        logger = logging.getLogger(__name__)


        def send_welcome(user):
            try:
                mailer.send(user.email)
            except:
                return False
        """,
        """
        import logging

        logger = logging.getLogger(__name__)


        def send_welcome(user):
            try:
                mailer.send(user.email)
            except Exception:
                logger.exception("Unexpected error in send_welcome")
                return False
        """,
    )


@pytest.mark.parametrize("level", ["warning", "error", "exception"])
def test_a_fixed_log_level(level: str) -> None:
    source = "import logging\n\nlogger = logging.getLogger(__name__)\n\n\ndef parse(t):\n    try:\n        return int(t)\n    except:\n        return None\n"
    outcome = run_codemod(BareExcept, source, options={"log-level": level})
    assert f"logger.{level}(" in outcome.new_source.decode()


@pytest.mark.parametrize(
    ("header", "call"),
    [
        pytest.param(
            "from app.logging_setup import logger\n",
            'logger.exception("Unexpected error in refresh")',
            id="imported-project-logger",
        ),
        pytest.param(
            "from app.logging_setup import log as logger\n",
            'logger.exception("Unexpected error in refresh")',
            id="imported-under-a-logger-name",
        ),
        pytest.param(
            "import structlog\n\nlog = structlog.get_logger()\n",
            'log.exception("Unexpected error in refresh")',
            id="structlog",
        ),
        pytest.param(
            "from loguru import logger\n",
            'logger.exception("Unexpected error in refresh")',
            id="loguru",
        ),
    ],
)
def test_the_module_logger_is_reused(header: str, call: str) -> None:
    source = header + "\n\ndef refresh(cache):\n    try:\n        cache.reload()\n    except:\n        pass\n"
    converted = run_codemod(BareExcept, source).new_source.decode()
    assert converted == header + f"\n\ndef refresh(cache):\n    try:\n        cache.reload()\n    except Exception:\n        {call}\n"
    assert "_logger =" not in converted and "getLogger(__name__)" not in converted


def test_loguru_debug_keeps_the_traceback() -> None:
    source = "from loguru import logger\n\n\ndef parse(t):\n    try:\n        return int(t)\n    except:\n        return None\n"
    converted = run_codemod(BareExcept, source).new_source.decode()
    assert 'logger.opt(exception=True).debug("Handled error in parse")' in converted


def test_a_default_returned_after_the_try_is_the_answer() -> None:
    source = "def safe_int(value):\n    try:\n        return int(value)\n    except:\n        pass\n    return 0\n"
    converted = run_codemod(BareExcept, source).new_source.decode()
    assert 'logger.debug("Handled error in safe_int", exc_info=True)\n    return 0' in converted
    assert "pass" not in converted
