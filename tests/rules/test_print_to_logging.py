"""print-to-logging: ``print()`` in library code -> lazy calls on the module logger."""

from __future__ import annotations

import contextlib
import io
import logging
import textwrap

import pytest

from codemods.rules.print_to_logging import PrintToLogging
from tests.rules.helpers import assert_noop, assert_rewrite, declined, run_codemod

HEADER = "import logging\n\nlogger = logging.getLogger(__name__)\n\n\n"


# Most cases are single modules of a project that configures logging elsewhere.
CONFIGURED = {"app/logging_setup.py": "import logging\n\nlogging.basicConfig(level=logging.INFO)\n"}


def rewrite(before: str, after: str, **kwargs):
    kwargs.setdefault("other_files", CONFIGURED)
    return assert_rewrite(PrintToLogging, before, after, **kwargs)


def noop(source: str, **kwargs):
    kwargs.setdefault("other_files", CONFIGURED)
    return assert_noop(PrintToLogging, source, **kwargs)


def with_sys(module: str) -> str:
    """``module`` using ``sys`` apart from any ``file=sys.stderr``, so its import stays."""
    return f"import sys\n{module}\nPLATFORM = sys.platform\n"


def in_function(body: str) -> str:
    """A library module with an existing logger and ``body`` inside ``def run(...)``."""
    indented = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    return f"{HEADER}def run(a, b, e, x, n, s, items, d):\n{indented}\n"


# -- one print statement, before -> after (inside a function of a module with a logger) ------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # arguments
        pytest.param('print("x", a, b)', 'logger.info("x %s %s", a, b)', id="several-args-joined-by-space"),
        pytest.param("print(a)", "logger.info(a)", id="single-value-is-the-message"),
        pytest.param('print("Done")', 'logger.info("Done")', id="single-literal"),
        pytest.param('print("a", "b")', 'logger.info("a b")', id="literals-folded-together"),
        pytest.param('print(a, b, sep=", ")', 'logger.info("%s, %s", a, b)', id="literal-sep"),
        pytest.param('print(a, b, sep="")', 'logger.info("%s%s", a, b)', id="empty-sep"),
        pytest.param("print(a, b, sep=None)", 'logger.info("%s %s", a, b)', id="sep-none-is-space"),
        pytest.param('print("x", a, end="")', 'logger.info("x %s", a)', id="end-empty-dropped"),
        pytest.param('print("x", a, flush=True)', 'logger.info("x %s", a)', id="flush-dropped"),
        pytest.param('print("Loading", end="...")', 'logger.info("Loading...")', id="end-with-text-kept"),
        pytest.param('print(b"raw", a)', 'logger.info("%s %s", b"raw", a)', id="bytes-are-a-value"),
        pytest.param('print("a" "b", a)', 'logger.info("ab %s", a)', id="implicit-concatenation"),
        pytest.param("print('it\\'s', a)", 'logger.info("it\'s %s", a)', id="quotes-normalised"),
        pytest.param('print("tab\\there", a)', 'logger.info("tab\\there %s", a)', id="escapes-kept"),
        # % in the text
        pytest.param('print("100% done", a)', 'logger.info("100%% done %s", a)', id="percent-escaped-with-args"),
        pytest.param('print("100% done")', 'logger.info("100% done")', id="percent-kept-without-args"),
        pytest.param('print(a, b, sep="%")', 'logger.info("%s%%%s", a, b)', id="percent-sep-escaped"),
        # f-strings
        pytest.param('print(f"Failed: {e}")', 'logger.error("Failed: %s", e)', id="fstring-error-word"),
        pytest.param('print(f"{x!r} {s!s} {s!a}")', 'logger.info("%r %s %a", x, s, s)', id="fstring-conversions"),
        pytest.param(
            'print(f"{x:.2f} {n:d} {n:5d} {n:+05d} {n:#x} {x:e} {x:<10.3f}")',
            'logger.info("%.2f %d %5d %+05d %#x %e %-10.3f", x, n, n, n, n, x, x)',
            id="fstring-numeric-specs-translated",
        ),
        pytest.param(
            'print(f"{s:>10s} {s:8s} {s:.3s} {s!r:>12}")',
            'logger.info("%10s %-8s %.3s %12r", s, s, s, s)',
            id="fstring-string-specs-translated",
        ),
        pytest.param(
            'print(f"{x:,.2f} {s:>10} {n:{w}}")',
            'logger.info("%s %s %s", f"{x:,.2f}", f"{s:>10}", f"{n:{w}}")',
            id="fstring-specs-without-exact-placeholder-stay-fstrings",
        ),
        pytest.param('print(f"{x=}")', 'logger.info("x=%r", x)', id="fstring-self-documenting"),
        pytest.param(
            'print(f"{ x = } {n=:5d} {s=!s}")', 'logger.info(" x = %r n=%5d s=%s", x, n, s)', id="fstring-self-documenting-variants"
        ),
        pytest.param('print(f"{{literal}} {a}")', 'logger.info("{literal} %s", a)', id="fstring-escaped-braces"),
        pytest.param("print(f\"{d['k']}\")", "logger.info(d['k'])", id="fstring-single-field"),
        pytest.param('print(f"{a}" f" and {b}")', 'logger.info("%s and %s", a, b)', id="concatenated-fstrings"),
        pytest.param('print(f"{a, b} {a}")', 'logger.info("%s %s", (a, b), a)', id="fstring-tuple-field-parenthesized"),
        pytest.param("print(x for x in items)", "logger.info(x for x in items)", id="sole-generator-argument"),
        # %-formatting and .format()
        pytest.param('print("x %s %d" % (s, n))', 'logger.info("x %s %d", s, n)', id="percent-tuple-folded"),
        pytest.param('print("x %5.1f%%" % (x,))', 'logger.info("x %5.1f%%", x)', id="percent-one-tuple-and-escape"),
        pytest.param('print("x %s" % "lit")', 'logger.info("x %s", "lit")', id="percent-literal-operand-folded"),
        pytest.param('print("x %s" % a)', 'logger.info("x %s" % a)', id="percent-name-operand-kept-whole"),
        pytest.param('print("x %(k)s" % d)', 'logger.info("x %(k)s" % d)', id="percent-mapping-kept-whole"),
        pytest.param('print("x %s", "y %s" % (a,))', 'logger.info("x %%s y %s", a)', id="percent-mixed-args"),
        pytest.param('print("Error: {}".format(a))', 'logger.error("Error: {}".format(a))', id="format-call-kept"),
        pytest.param('print("Error: " + str(a))', 'logger.error("Error: " + str(a))', id="concatenation-level-from-its-text"),
        pytest.param(
            'print("""Usage:\n  run FILE""")', 'logger.info("""Usage:\n  run FILE""")', id="single-literal-kept-as-written"
        ),
        # levels
        pytest.param('print("ERROR: disk full")', 'logger.error("disk full")', id="level-error-upper-prefix-dropped"),
        pytest.param('print("[fatal]", a)', 'logger.error("[fatal] %s", a)', id="level-fatal-after-punctuation"),
        pytest.param('print("Failure in", a)', 'logger.error("Failure in %s", a)', id="level-failure"),
        pytest.param('print("Exception:", e)', 'logger.error("Exception: %s", e)', id="level-exception-word"),
        pytest.param('print("critical:", a)', 'logger.error(a)', id="level-critical-prefix-dropped"),
        pytest.param('print("Warning:", a)', 'logger.warning(a)', id="level-warning-prefix-dropped"),
        pytest.param('print("Warning - slow:", a)', 'logger.warning("slow: %s", a)', id="level-warning-dash-prefix-dropped"),
        pytest.param('print("Error: ", repr(a))', 'logger.error("%r", a)', id="repr-argument-is-percent-r"),
        pytest.param('print(f"bad value {repr(a)}")', 'logger.info("bad value %r", a)', id="repr-in-fstring-is-percent-r"),
        pytest.param('print("Error:")', 'logger.error("Error:")', id="prefix-alone-is-the-message"),
        pytest.param('print("caution: warning ahead")', 'logger.warning("caution: warning ahead")', id="caution-is-no-prefix"),
        pytest.param('print("warn", a)', 'logger.warning("warn %s", a)', id="level-warn"),
        pytest.param('print("caution!")', 'logger.warning("caution!")', id="level-caution"),
        pytest.param('print("Errorless run", a)', 'logger.info("Errorless run %s", a)', id="level-word-must-be-whole"),
        pytest.param('print("No errors", a)', 'logger.info("No errors %s", a)', id="level-only-first-word"),
        pytest.param("print(a, file=sys.stderr)", "logger.error(a)", id="stderr-is-error"),
        pytest.param(
            'print("Warning: slow", a, file=sys.stderr)', 'logger.warning("slow %s", a)', id="stderr-warning-text-is-warning"
        ),
        pytest.param("print(a, file=sys.stdout)", "logger.info(a)", id="stdout-is-info"),
        pytest.param("print(a, file=None)", "logger.info(a)", id="file-none-is-stdout"),
        pytest.param('if a: print("x", a)', 'if a: logger.info("x %s", a)', id="one-line-block"),
        pytest.param('print("a"); print("b")', 'logger.info("a"); logger.info("b")', id="two-on-one-line"),
    ],
)
def test_print_rewrites(before: str, after: str) -> None:
    rewrite(with_sys(in_function(before)), with_sys(in_function(after)))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            """
            try:
                step()
            except Exception:
                print("Retrying", a)
            """,
            """
            try:
                step()
            except Exception:
                logger.exception("Retrying %s", a)
            """,
            id="unexpected-error-in-a-broad-handler-is-exception",
        ),
        pytest.param(
            """
            try:
                step()
            except:
                print("step crashed")
            """,
            """
            try:
                step()
            except:
                logger.exception("step crashed")
            """,
            id="bare-handler-is-exception",
        ),
        pytest.param(
            """
            try:
                n = int(s)
            except ValueError:
                print("not a number, using 0")
                n = 0
            """,
            """
            try:
                n = int(s)
            except ValueError:
                logger.warning("not a number, using 0")
                n = 0
            """,
            id="expected-fallback-is-warning",
        ),
        pytest.param(
            """
            try:
                step()
            except (KeyError, ValueError) as err:
                print("Error: bad entry", err)
            """,
            """
            try:
                step()
            except (KeyError, ValueError) as err:
                logger.error("bad entry %s", err)
            """,
            id="expected-failure-reported-as-error-without-traceback",
        ),
        pytest.param(
            """
            try:
                step()
            except Exception:
                print("Error:", a, file=sys.stderr)
            """,
            """
            try:
                step()
            except Exception:
                logger.exception(a)
            """,
            id="handler-wins-over-stderr",
        ),
        pytest.param(
            """
            try:
                step()
            except ValueError:
                def later():
                    print("later", a)
            finally:
                print("done")
            """,
            """
            try:
                step()
            except ValueError:
                def later():
                    logger.info("later %s", a)
            finally:
                logger.info("done")
            """,
            id="function-in-handler-and-finally-are-not-in-the-handler",
        ),
        pytest.param(
            """
            try:
                import ujson as json
            except ImportError:
                print("Warning: ujson missing")
                print("using json")
                import json
            """,
            """
            try:
                import ujson as json
            except ImportError:
                logger.warning("ujson missing")
                logger.info("using json")
                import json
            """,
            id="optional-import-handler-uses-the-message-level",
        ),
        pytest.param(
            """
            print(
                "Processing",  # what we do
                a,
                # the count
                b,
            )
            """,
            """
            # what we do
            # the count
            logger.info(
                "Processing %s %s",
                a,
                b,
            )
            """,
            id="multi-line-layout-kept-comments-moved-above",
        ),
        pytest.param(
            """
            print("Processing",
                  a, b)
            """,
            """
            logger.info("Processing %s %s",
                  a,
                  b)
            """,
            id="hanging-indent",
        ),
        pytest.param(
            """
            print("a"  # first half
                  "b", a)
            """,
            """
            # first half
            logger.info("ab %s", a)
            """,
            id="comment-between-concatenated-strings",
        ),
        pytest.param(
            """
            print(compute(a,  # keep me
                          b))
            """,
            """
            logger.info(compute(a,  # keep me
                          b))
            """,
            id="comment-inside-a-reused-expression-stays",
        ),
    ],
)
def test_statement_rewrites(before: str, after: str) -> None:
    rewrite(with_sys(in_function(before)), with_sys(in_function(after)))


# -- traceback.print_exc() ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            """
            import traceback


            def load():
                try:
                    read()
                except OSError:
                    traceback.print_exc()
            """,
            """
            import logging

            logger = logging.getLogger(__name__)


            def load():
                try:
                    read()
                except OSError:
                    logger.exception("Unexpected error in load")
            """,
            id="print-exc-import-removed",
        ),
        pytest.param(
            """
            import logging

            logger = logging.getLogger(__name__)


            def send(message):
                try:
                    deliver(message)
                except Exception as exc:
                    print(f"Warning: delivery to {message['to']} failed: {exc}")
                    print("Gave up:", exc)
                    print(f"Gave up ({exc}).")
                    print(f"Failed: {exc!r}")
                    print(exc)
            """,
            """
            import logging

            logger = logging.getLogger(__name__)


            def send(message):
                try:
                    deliver(message)
                except Exception:
                    logger.exception("Warning: delivery to %s failed", message['to'])
                    logger.exception("Gave up")
                    logger.exception("Gave up")
                    logger.exception("Failed")
                    logger.exception("Unexpected error in send")
            """,
            id="caught-exception-not-logged-twice",
        ),
        pytest.param(
            """
            import logging

            logger = logging.getLogger(__name__)


            def send(message):
                try:
                    deliver(message)
                except Exception as exc:
                    print(f"{exc} while sending, retrying")
            """,
            """
            import logging

            logger = logging.getLogger(__name__)


            def send(message):
                try:
                    deliver(message)
                except Exception as exc:
                    logger.error("%s while sending, retrying", exc)
            """,
            # In mid-sentence the exception is part of the text: logged as printed, without traceback.
            id="caught-exception-inside-the-text-kept",
        ),
        pytest.param(
            """
            import sys
            import traceback as tb


            class Loader:
                def load(self):
                    try:
                        read()
                    except OSError:
                        tb.print_exc(file=sys.stderr)
                    return tb.format_exc()
            """,
            """
            import sys
            import traceback as tb
            import logging

            logger = logging.getLogger(__name__)


            class Loader:
                def load(self):
                    try:
                        read()
                    except OSError:
                        logger.exception("Unexpected error in Loader.load")
                    return tb.format_exc()
            """,
            id="aliased-and-still-used-import-kept",
        ),
        pytest.param(
            """
            from traceback import print_exc


            def load():
                try:
                    read()
                except OSError:
                    print_exc()
            """,
            """
            import logging

            logger = logging.getLogger(__name__)


            def load():
                try:
                    read()
                except OSError:
                    logger.exception("Unexpected error in load")
            """,
            id="from-import-form",
        ),
    ],
)
def test_print_exc_rewrites(before: str, after: str) -> None:
    rewrite(before, after)


def test_import_time_print_in_the_import_header_moves_the_new_logger_up() -> None:
    rewrite(
        """
        import os
        try:
            import ujson as json
        except ImportError:
            print("Warning: ujson missing, using json")
            import json


        def f():
            print("x")
        """,
        """
        import os
        import logging

        logger = logging.getLogger(__name__)

        try:
            import ujson as json
        except ImportError:
            logger.warning("ujson missing, using json")
            import json


        def f():
            logger.info("x")
        """,
    )


def test_print_exc_outside_a_handler_is_left_alone() -> None:
    noop("import traceback\n\ndef f():\n    traceback.print_exc()\n")


def test_print_exc_with_limit_is_declined() -> None:
    findings = noop(
        "import traceback\n\ndef f():\n    try:\n        g()\n    except Exception:\n        traceback.print_exc(limit=1)\n"
    )
    assert declined(findings) == ["print() not converted: print_exc() with limit/chain/file arguments; convert by hand"]


# -- the module logger ----------------------------------------------------------------------------


def test_module_logger_created_after_imports_and_stream_import_removed() -> None:
    rewrite(
        '''
        """Sync rows."""
        import sys

        from app.db import session


        def sync(rows):
            print("Syncing", len(rows), "rows", file=sys.stderr)
        ''',
        '''
        """Sync rows."""

        from app.db import session
        import logging

        logger = logging.getLogger(__name__)


        def sync(rows):
            logger.error("Syncing %s rows", len(rows))
        ''',
    )


def test_loguru_logger_gets_brace_style() -> None:
    rewrite(
        """
        from loguru import logger


        def sync(rows, x):
            print("Syncing", len(rows), "rows {ok}", f"{x:>10} {x!r}")
            print("{raw}")
        """,
        """
        from loguru import logger


        def sync(rows, x):
            logger.info("Syncing {} rows {{ok}} {:>10} {!r}", len(rows), x, x)
            logger.info("{raw}")
        """,
    )


# -- declines: left as is, with a finding saying why -----------------------------------------------


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        pytest.param("print(*items)", "print(*...) unpacks arguments; convert by hand", id="star-args"),
        pytest.param("print(**d)", "print(**...) unpacks arguments; convert by hand", id="star-star-kwargs"),
        pytest.param("print(a, sep=s)", "sep= is not a string literal", id="non-literal-sep"),
        pytest.param("print(a, end=s)", "end= is not a string literal", id="non-literal-end"),
        pytest.param("print(a, flush=should_flush())", "flush= is an expression that would no longer be evaluated", id="flush-call"),
        pytest.param("if a: print(a,  # why\n    b)", "comments inside a one-line block's print(); convert by hand", id="comment-in-one-line-block"),
    ],
)
def test_declines(statement: str, reason: str) -> None:
    findings = noop(in_function(statement))
    assert declined(findings) == [f"print() not converted: {reason}"]


def test_local_logger_name_declines() -> None:
    findings = noop(HEADER + "def run(logger):\n    print('x', logger)\n")
    assert declined(findings) == ["print() not converted: 'logger' is a local name here, not the module logger"]


def test_import_time_print_before_logger_declines() -> None:
    findings = noop("import logging\nprint('loading')\nlogger = logging.getLogger(__name__)\n")
    assert declined(findings) == [
        "print() not converted: runs at import time before the module logger 'logger' is defined"
    ]


# -- no-ops: command-line programs and tests print on purpose ---------------------------------------

LIBRARY_PRINT = "def run(a):\n    print('x', a)\n"


@pytest.mark.parametrize(
    "path",
    [
        "tests/test_sync.py",
        "app/tests/helpers.py",
        "test/util.py",
        "app/test_models.py",
        "app/models_test.py",
        "conftest.py",
    ],
)
def test_untransformed_in_tests(path: str) -> None:
    assert noop(LIBRARY_PRINT, path=path) == []


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("app/__main__.py", "__main__.py is a command-line program: its prints are its output"),
        ("manage.py", "manage.py is a command-line program: its prints are its output"),
        ("scripts/backfill.py", "a script under scripts/: its prints are its output"),
        ("project/bin/rotate_keys.py", "a script under bin/: its prints are its output"),
        ("tools/report.py", "a script under tools/: its prints are its output"),
        ("shop/migrations/0007_backfill.py", "a database migration; migrations are history and are never edited"),
    ],
)
def test_programs_and_migrations_are_declined_by_path(path: str, reason: str) -> None:
    assert [f.message for f in noop(LIBRARY_PRINT, path=path)] == [f"print() not converted: {reason}"]


def test_alembic_revision_is_never_edited() -> None:
    source = 'revision = "a1"\ndown_revision = "a0"\n\n\ndef upgrade():\n    print("backfilling")\n'
    findings = noop(source, path="migrations/versions/a1_backfill.py")
    assert [f.message for f in findings] == [
        "print() not converted: a database migration; migrations are history and are never edited"
    ]


# -- the program's interface: commands, prompts, notices ------------------------------------------

COMMAND_REASON = "print() not converted: {name}() is a command-line command (@{decorator}): its prints are its output"


@pytest.mark.parametrize(
    ("source", "decorator"),
    [
        pytest.param(
            "@app.cli.command('count-users')\ndef count_users():\n    print(User.query.count())\n",
            "app.cli.command",
            id="flask-app-cli",
        ),
        pytest.param(
            "@bp.cli.command()\ndef count_users():\n    print(42)\n", "bp.cli.command", id="flask-blueprint-cli"
        ),
        pytest.param(
            "from flask.cli import AppGroup\n\nuser_cli = AppGroup('user')\n\n\n"
            "@user_cli.command('count')\ndef count_users():\n    print(42)\n",
            "user_cli.command",
            id="flask-appgroup",
        ),
        pytest.param(
            "@cli.command()\n@with_appcontext\ndef count_users():\n    print(42)\n",
            "cli.command",
            id="click-group-command",
        ),
    ],
)
def test_command_functions_keep_their_prints(source: str, decorator: str) -> None:
    findings = noop(HEADER + "\n" + source)
    assert [f.message for f in findings] == [COMMAND_REASON.format(name="count_users", decorator=decorator)]


def test_a_command_registered_with_add_command_keeps_its_prints() -> None:
    source = HEADER + "def count_users():\n    print(42)\n\n\napp.cli.add_command(count_users)\n"
    assert [f.message for f in noop(source)] == [
        "print() not converted: count_users() is a command (registered with add_command): its prints are its output"
    ]


def test_django_management_command_keeps_its_prints() -> None:
    source = HEADER + (
        "from django.core.management.base import BaseCommand\n\n\n"
        "class Command(BaseCommand):\n    def handle(self, *args, **options):\n        print('Closed', 3, 'jobs')\n"
    )
    assert [f.message for f in noop(source)] == [
        "print() not converted: Command.handle() is a Django management command: its prints are its output"
    ]


def test_prints_before_a_prompt_stay() -> None:
    source = in_function(
        """
        print("Back up your database before proceeding!")
        print("This drops", n, "tables.")
        answer = input("Continue? [y/N] ")
        print("Dropping", n)
        """
    )
    outcome = run_codemod(PrintToLogging, source, other_files=CONFIGURED)
    assert 'logger.info("Dropping %s", n)' in outcome.new_source.decode()
    assert [f.message for f in outcome.findings if not f.fixable] == [
        "print() not converted: it prompts the user (the input that follows needs it on screen)"
    ] * 2


def test_deprecation_notice_is_declined() -> None:
    assert [f.message for f in noop(in_function('print("old_api() is deprecated, use new_api()")'))] == [
        "print() not converted: a deprecation notice; it should be warnings.warn(..., DeprecationWarning), "
        "which the caller can see"
    ]


@pytest.mark.parametrize(
    "statement",
    ["print()", 'print("-" * 40)', 'print(40 * "=")', 'print("==========")', 'print("")'],
)
def test_blank_lines_and_separators_stay(statement: str) -> None:
    # layout for a reader of the console, not a message worth a log record
    assert noop(in_function(statement)) == []


# -- only where the output stays visible ----------------------------------------------------------


def test_project_without_logging_configuration_gets_one_finding() -> None:
    library = HEADER + "def sync(rows):\n    print('Syncing', len(rows))\n    print('done')\n"
    other = {"app/other.py": "def f():\n    print('other')\n"}
    first = run_codemod(PrintToLogging, library, path="app/jobs.py", other_files=other)
    second = run_codemod(PrintToLogging, other["app/other.py"], path="app/other.py", other_files={"app/jobs.py": library})
    assert first.new_source is None and second.new_source is None
    assert second.findings == []
    assert [f.message for f in first.findings] == [
        "print() not converted anywhere: the project configures no logging (no basicConfig, dictConfig or "
        "fileConfig, no handler, no level, no framework logger), so the converted prints would show nothing below "
        "WARNING; configure logging, or set assume-logging-configured = true"
    ]


@pytest.mark.parametrize(
    "configuration",
    [
        "logging.basicConfig(level=logging.INFO)\n",
        "logging.config.dictConfig(LOGGING)\n",
        "app.logger.setLevel(logging.INFO)\n",
        "root = logging.getLogger()\nroot.addHandler(logging.StreamHandler())\n",
        "LOGGING = {'version': 1}\n",
        "app.logger.info('started')\n",
    ],
)
def test_any_logging_configuration_in_the_project_allows_converting(configuration: str) -> None:
    library = "def sync(rows):\n    print('Syncing', len(rows))\n"
    outcome = run_codemod(PrintToLogging, library, other_files={"app/setup.py": "import logging\n" + configuration})
    assert b"logger.info" in outcome.new_source


def test_assume_logging_configured_converts_anyway() -> None:
    library = "def sync(rows):\n    print('Syncing', len(rows))\n"
    outcome = run_codemod(PrintToLogging, library, other_files={}, options={"assume-logging-configured": True})
    assert b"logger.info" in outcome.new_source


# -- proofs: the command still prints, the levels are the ones the messages call for -------------


def test_flask_cli_command_still_prints_after_the_codemod() -> None:
    flask = pytest.importorskip("flask")
    source = HEADER + (
        "from flask import Flask\n\napp = Flask(__name__)\n\n\n"
        "@app.cli.command('count-users')\ndef count_users():\n    print(42)\n\n\n"
        "def sync(rows):\n    print('Syncing', len(rows))\n"
    )
    outcome = run_codemod(PrintToLogging, source, other_files=CONFIGURED)
    converted = outcome.new_source.decode()
    assert "logger.info(\"Syncing %s\", len(rows))" in converted
    namespace: dict = {"__name__": "cli_app"}
    exec(compile(converted, "cli_app.py", "exec"), namespace)
    result = namespace["app"].test_cli_runner().invoke(args=["count-users"])
    assert result.exit_code == 0 and result.output == "42\n"
    assert isinstance(namespace["app"], flask.Flask)


def test_levels_follow_the_message(caplog: pytest.LogCaptureFixture) -> None:
    source = HEADER + (
        "def parse(text):\n"
        "    try:\n        return int(text)\n    except ValueError:\n        print('not a number, using 0')\n        return 0\n\n\n"
        "def run(step):\n"
        "    try:\n        step()\n    except Exception:\n        print('step failed')\n\n\n"
        "def check(value):\n    print('Warning: odd value', repr(value))\n"
    )
    converted = run_codemod(PrintToLogging, source, other_files=CONFIGURED).new_source.decode()
    namespace: dict = {"__name__": "levels"}
    exec(compile(converted, "levels.py", "exec"), namespace)
    with caplog.at_level(logging.DEBUG, logger="levels"):
        assert namespace["parse"]("x") == 0
        namespace["run"](lambda: 1 / 0)
        namespace["check"]("7")
    records = [(r.levelname, r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert records == [
        ("WARNING", "not a number, using 0", False),
        ("ERROR", "step failed", True),
        ("WARNING", "odd value '7'", False),
    ]


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param("if __name__ == '__main__':\n    run(1)\n", id="main-guard"),
        pytest.param("if '__main__' == __name__:\n    run(1)\n", id="main-guard-reversed"),
        pytest.param("import argparse\n", id="argparse"),
        pytest.param("from argparse import ArgumentParser\n", id="from-argparse"),
        pytest.param("import click\n", id="click"),
        pytest.param("import typer\n", id="typer"),
        pytest.param("import optparse\n", id="optparse"),
        pytest.param("import sys\nARGS = sys.argv[1:]\n", id="sys-argv"),
    ],
)
def test_command_line_modules_are_declined_once(extra: str) -> None:
    findings = noop(LIBRARY_PRINT + "\n" + extra + "\n\ndef more():\n    print('y')\n")
    assert [f.message.split(" (")[0] for f in findings] == ["print() not converted: a command-line program"]
    assert findings[0].line == 2


# print is not the builtin here
@pytest.mark.parametrize(
    "extra",
    [
        pytest.param("print = log_line\n", id="assigned"),
        pytest.param("def print(*args):\n    pass\n", id="def-print"),
        pytest.param("from rich import print\n", id="imported"),
        pytest.param("from pprint import pprint as print\n", id="imported-as-print"),
        pytest.param("def g(print):\n    print(1)\n", id="parameter"),
        pytest.param("def g():\n    global print\n    print = None\n", id="global"),
    ],
)
def test_untransformed_when_print_is_rebound(extra: str) -> None:
    assert noop(LIBRARY_PRINT + extra) == []


# not console output, or print used as a value
@pytest.mark.parametrize(
    "body",
    [
        pytest.param("print(a, file=handle)", id="file-handle"),
        pytest.param("print(a, file=open('log.txt', 'a'))", id="file-open"),
        pytest.param("print(a, file=sys.stdout.buffer)", id="stdout-buffer"),
        pytest.param("x = print(a)", id="assigned-value"),
        pytest.param("callback = lambda: print(a)", id="lambda"),
        pytest.param("handlers.append(print)", id="passed-as-callable"),
        pytest.param("f(print(a))", id="argument-of-a-call"),
        pytest.param("pprint(a)", id="other-function"),
        pytest.param("self.print(a)", id="method-named-print"),
    ],
)
def test_untransformed_not_a_console_print_statement(body: str) -> None:
    assert noop("import sys\n" + in_function(body)) == []


# -- the logged text equals the printed text, proven by running both ----------------------------------

VALUES = """
a = 1
b = "two"
x = 3.14159
n = 42
neg = -7
s = "héllo"
e = ValueError("boom")
d = {"k": 1}
t = (1, 2)
pct = "50%"
w = 6
empty = {}
"""

PRINT_ARGUMENTS = [
    '"x", a, b',
    "a, b, sep=', '",
    'a, b, sep=""',
    'a, b, sep="%"',
    "a, None",
    '"Loading", end="..."',
    'f"Failed: {e}"',
    'f"{x!r} {s!s} {s!a} {e!r}"',
    'f"{x:.2f} {n:d} {n:5d} {n:+05d} {neg:05d} {n:x} {n:#o} {n:#X} {x:e} {x:>10.3f} {x:<10.1f} {x:g} {x: .1f}"',
    'f"{s:>10s}|{s:8s}|{s:.3s}|{s!r:>12}|{s!r:<12}|{s!r:.4}|{s!a:10}"',
    'f"{s:>10}|{s:<8}|{s:10}|{x:,.2f}|{x:.1%}|{n:{w}}|{s!r:>{w}}|{n:_}"',
    'f"{x=} {n = } {x=:.1f} {s=!s} {d[\'k\']=}"',
    '"100%", a',
    '"100%"',
    'f"{pct} done", pct',
    "pct",
    '"x %s %d" % (s, n)',
    '"x %5.1f%% %r" % (x, s)',
    '"x %s" % (t,)',
    '"x %s" % "lit"',
    '"x %(k)s" % d',
    '"%s" % (d,)',
    "d",
    "t",
    "empty",
    '"a", d',
    "t, d",
    'b"raw", a',
    '"a" "b", f"{a}" f"c{b}"',
    'f"{{literal}} {a} }}"',
    '"tab\\there", a',
    '"Error: {}".format(a)',
    'f"{a}"',
    "e",
    'f"{a, b}"',
    'f"{a, b} {n}"',
    '"total", sum(v for v in t)',
    'f"\\N{EM DASH} {a}"',
    'rf"\\d+ {a}"',
    'f"{x=:,.2f} {s=!r:>10}"',
]


def _printed(arguments: str) -> str:
    namespace: dict = {}
    exec(VALUES, namespace)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(f"print({arguments})", namespace)
    return buffer.getvalue().removesuffix("\n")


def _converted_module(header: str) -> str:
    """One module with an ``emit_<i>()`` per entry of PRINT_ARGUMENTS, converted once."""
    functions = "".join(f"\n\ndef emit_{i}():\n    print({arguments})\n" for i, arguments in enumerate(PRINT_ARGUMENTS))
    outcome = run_codemod(PrintToLogging, f"{header}{VALUES}{functions}", other_files=CONFIGURED)
    assert outcome.new_source is not None, outcome.findings
    assert not any(not f.fixable for f in outcome.findings), outcome.findings
    converted = outcome.new_source.decode()
    assert "print(" not in converted
    return converted


@pytest.fixture(scope="module")
def logging_module() -> tuple[dict, str]:
    converted = _converted_module("import logging\n\nlogger = logging.getLogger('converted')\n")
    namespace: dict = {}
    exec(converted, namespace)
    return namespace, converted


@pytest.fixture(scope="module")
def loguru_module() -> tuple[dict, str]:
    converted = _converted_module("from loguru import logger\n")
    namespace: dict = {}
    exec(converted, namespace)
    return namespace, converted


def _emitted_source(converted: str, index: int) -> str:
    return converted.split(f"def emit_{index}():", 1)[1].split("\n\n", 1)[0]


@pytest.mark.parametrize("index", range(len(PRINT_ARGUMENTS)), ids=PRINT_ARGUMENTS)
def test_logged_message_equals_printed_text(index: int, logging_module, caplog: pytest.LogCaptureFixture) -> None:
    namespace, converted = logging_module
    with caplog.at_level(logging.DEBUG, logger="converted"):
        namespace[f"emit_{index}"]()
    [record] = caplog.records
    assert record.getMessage() == _printed(PRINT_ARGUMENTS[index]), _emitted_source(converted, index)


@pytest.mark.parametrize("index", range(len(PRINT_ARGUMENTS)), ids=PRINT_ARGUMENTS)
def test_loguru_message_equals_printed_text(index: int, loguru_module) -> None:
    from loguru import logger

    namespace, converted = loguru_module
    messages: list[str] = []
    sink = logger.add(lambda m: messages.append(m.record["message"]), format="{message}")
    try:
        namespace[f"emit_{index}"]()
    finally:
        logger.remove(sink)
    assert messages == [_printed(PRINT_ARGUMENTS[index])], _emitted_source(converted, index)


def test_a_declined_print_creates_no_logger_even_when_another_codemod_changes_the_file() -> None:
    from codemods.rules.bare_except import BareExcept
    from codemods.engine.config import default_options
    from codemods.engine.pipeline import CHANGED, Plan, transform_source
    from codemods.engine.templating import TemplateSet

    source = "def f(a):\n    try:\n        g()\n    except:\n        raise\n    if a: print(a,  # why\n        a)\n"
    codemods = (BareExcept, PrintToLogging)
    plan = Plan(codemods, {c.name: default_options(c) for c in codemods}, {}, TemplateSet())
    outcome = transform_source("app/module.py", source.encode(), plan)
    assert outcome.status == CHANGED
    assert outcome.new_source.decode() == source.replace("except:", "except BaseException:")
    assert declined(outcome.findings) == ["print() not converted: comments inside a one-line block's print(); convert by hand"]


def test_local_traceback_import_is_removed_with_print_exc() -> None:
    rewrite(
        HEADER + "def f():\n    try:\n        g()\n    except OSError:\n        import traceback\n        traceback.print_exc()\n",
        HEADER + 'def f():\n    try:\n        g()\n    except OSError:\n        logger.exception("Unexpected error in f")\n',
    )
