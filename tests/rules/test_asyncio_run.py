"""asyncio-run: ``get_event_loop().run_until_complete(c)`` -> ``asyncio.run(c)``; ``get_running_loop()`` in coroutines."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codemods.rules.asyncio_run import AsyncioRun
from tests.rules.helpers import assert_noop, assert_rewrite, declined, run_codemod


def rewrite(before: str, after: str, **kwargs):
    return assert_rewrite(AsyncioRun, before, after, **kwargs)


def noop(source: str, **kwargs):
    return assert_noop(AsyncioRun, source, **kwargs)


# -- rewrites -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            """
            import asyncio


            def sync_catalogue():
                return asyncio.get_event_loop().run_until_complete(fetch_catalogue())
            """,
            """
            import asyncio


            def sync_catalogue():
                return asyncio.run(fetch_catalogue())
            """,
            id="one-line-form",
        ),
        pytest.param(
            """
            import asyncio

            if __name__ == "__main__":
                asyncio.get_event_loop().run_until_complete(main())
            """,
            """
            import asyncio

            if __name__ == "__main__":
                asyncio.run(main())
            """,
            id="one-line-form-at-module-level",
        ),
        pytest.param(
            """
            import asyncio


            def sync_catalogue():
                loop = asyncio.get_event_loop()
                loop.run_until_complete(fetch_catalogue())
            """,
            """
            import asyncio


            def sync_catalogue():
                asyncio.run(fetch_catalogue())
            """,
            id="loop-variable-run-once",
        ),
        pytest.param(
            """
            import asyncio


            def sync_catalogue(source):
                loop = asyncio.get_event_loop()
                result = loop.run_until_complete(fetch_catalogue(source, retries=3))
                loop.close()
                return result
            """,
            """
            import asyncio


            def sync_catalogue(source):
                result = asyncio.run(fetch_catalogue(source, retries=3))
                return result
            """,
            id="close-after-the-run-goes-asyncio-run-closes",
        ),
        pytest.param(
            """
            import asyncio


            def sync_catalogue():
                loop = asyncio.get_event_loop()
                try:
                    return loop.run_until_complete(fetch_catalogue())
                finally:
                    loop.close()
            """,
            """
            import asyncio


            def sync_catalogue():
                return asyncio.run(fetch_catalogue())
            """,
            id="try-finally-close-is-unwrapped",
        ),
        pytest.param(
            """
            import asyncio


            def sync_catalogue():
                loop = asyncio.get_event_loop()
                try:
                    count = loop.run_until_complete(fetch_catalogue())
                except TimeoutError:
                    count = 0
                finally:
                    loop.close()
                    logger.info("sync finished")
                return count
            """,
            """
            import asyncio


            def sync_catalogue():
                try:
                    count = asyncio.run(fetch_catalogue())
                except TimeoutError:
                    count = 0
                finally:
                    logger.info("sync finished")
                return count
            """,
            id="finally-keeps-its-other-statements",
        ),
        pytest.param(
            """
            import asyncio


            def sync_catalogue():
                loop = asyncio.get_event_loop()
                try:
                    count = loop.run_until_complete(fetch_catalogue())
                except TimeoutError:
                    count = 0
                finally:
                    loop.close()
                return count
            """,
            """
            import asyncio


            def sync_catalogue():
                try:
                    count = asyncio.run(fetch_catalogue())
                except TimeoutError:
                    count = 0
                return count
            """,
            id="finally-with-only-the-close-goes-handlers-stay",
        ),
        pytest.param(
            """
            import asyncio


            def main():
                configure()

                # one event loop for the whole sync
                loop = asyncio.get_event_loop()
                if options.full:
                    loop.run_until_complete(full_sync())
            """,
            """
            import asyncio


            def main():
                configure()

                # one event loop for the whole sync
                if options.full:
                    asyncio.run(full_sync())
            """,
            id="comments-above-the-removed-line-stay-and-run-inside-an-if",
        ),
        pytest.param(
            """
            import asyncio as aio
            import sys

            if __name__ == "__main__":
                loop = aio.get_event_loop()
                sys.exit(loop.run_until_complete(main(sys.argv[1:])))
            """,
            """
            import asyncio as aio
            import sys

            if __name__ == "__main__":
                sys.exit(aio.run(main(sys.argv[1:])))
            """,
            id="aliased-asyncio-and-run-inside-an-expression",
        ),
        pytest.param(
            """
            from asyncio import get_event_loop

            from .client import fetch_catalogue


            def sync_catalogue():
                return get_event_loop().run_until_complete(fetch_catalogue())
            """,
            """

            from .client import fetch_catalogue
            import asyncio


            def sync_catalogue():
                return asyncio.run(fetch_catalogue())
            """,
            id="from-import-becomes-import-asyncio",
        ),
        pytest.param(
            """
            import asyncio


            def sync_catalogue():
                loop = asyncio.get_event_loop(); loop.run_until_complete(fetch_catalogue())
            """,
            """
            import asyncio


            def sync_catalogue():
                asyncio.run(fetch_catalogue())
            """,
            id="both-on-one-line",
        ),
        pytest.param(
            """
            import asyncio


            def sync_catalogue():
                loop = asyncio.get_event_loop()
                with timer("sync"):
                    loop.run_until_complete(fetch_catalogue())
                loop.close()
            """,
            """
            import asyncio


            def sync_catalogue():
                with timer("sync"):
                    asyncio.run(fetch_catalogue())
            """,
            id="run-inside-with-close-after-it",
        ),
        pytest.param(
            """
            import asyncio


            async def checksum(path):
                loop = asyncio.get_event_loop()
                return await loop.run_in_executor(None, digest, path)
            """,
            """
            import asyncio


            async def checksum(path):
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(None, digest, path)
            """,
            id="coroutine-gets-the-running-loop",
        ),
        pytest.param(
            """
            import asyncio


            class Poller:
                async def deadline(self, seconds):
                    return asyncio.get_event_loop().time() + seconds

                async def ticks(self):
                    while True:
                        yield asyncio.get_event_loop().time()
            """,
            """
            import asyncio


            class Poller:
                async def deadline(self, seconds):
                    return asyncio.get_running_loop().time() + seconds

                async def ticks(self):
                    while True:
                        yield asyncio.get_running_loop().time()
            """,
            id="methods-and-async-generators",
        ),
        pytest.param(
            """
            from asyncio import get_event_loop as current_loop


            async def checksum(path):
                return await current_loop().run_in_executor(None, digest, path)
            """,
            """
            from asyncio import get_running_loop


            async def checksum(path):
                return await get_running_loop().run_in_executor(None, digest, path)
            """,
            id="aliased-from-import-in-a-coroutine",
        ),
        pytest.param(
            """
            import asyncio


            async def fetch_catalogue():
                return [1, 2]


            def sync_catalogue():
                loop = asyncio.get_event_loop()
                return loop.run_until_complete(fetch_catalogue())


            async def checksum(path):
                return await asyncio.get_event_loop().run_in_executor(None, digest, path)
            """,
            """
            import asyncio


            async def fetch_catalogue():
                return [1, 2]


            def sync_catalogue():
                return asyncio.run(fetch_catalogue())


            async def checksum(path):
                return await asyncio.get_running_loop().run_in_executor(None, digest, path)
            """,
            id="one-run-per-function-several-functions",
        ),
    ],
)
def test_rewrites(before: str, after: str) -> None:
    rewrite(before, after)


def test_findings_say_what_changed() -> None:
    outcome = run_codemod(
        AsyncioRun,
        """
        import asyncio

        def sync():
            return asyncio.get_event_loop().run_until_complete(fetch(1))

        async def later():
            return asyncio.get_event_loop().time()
        """,
    )
    assert [(f.line, f.message, f.fixable) for f in outcome.findings] == [
        (5, "run_until_complete(fetch(1)) → asyncio.run()", True),
        (8, "asyncio.get_event_loop() in a coroutine → asyncio.get_running_loop()", True),
    ]


# -- declines: left as they are, with a finding that says why -------------------------------------


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        pytest.param(
            """
            import asyncio

            def serve():
                loop = asyncio.get_event_loop()
                loop.run_until_complete(start_server())
                loop.run_forever()
            """,
            "loop.run_forever() at line 7: asyncio.run runs one coroutine, not a loop that runs forever",
            id="run-forever",
        ),
        pytest.param(
            """
            import asyncio

            def migrate():
                loop = asyncio.get_event_loop()
                pool = loop.run_until_complete(create_pool())
                loop.run_until_complete(run_migrations(pool))
            """,
            "a second loop.run_until_complete() at line 7 runs on the same loop",
            id="second-run-on-purpose",
        ),
        pytest.param(
            """
            import asyncio

            def serve():
                loop = asyncio.get_event_loop()
                app = make_app(loop=loop)
                loop.run_until_complete(app.start())
            """,
            "the loop is passed to make_app() at line 6",
            id="loop-passed-elsewhere",
        ),
        pytest.param(
            """
            import asyncio

            def schedule():
                loop = asyncio.get_event_loop()
                loop.create_task(heartbeat())
                loop.run_until_complete(main())
            """,
            "loop.create_task() at line 6 uses the loop beyond one run_until_complete()",
            id="loop-used-for-a-task",
        ),
        pytest.param(
            """
            import asyncio

            def fetch_all(urls):
                return asyncio.get_event_loop().run_until_complete(asyncio.gather(*[fetch(u) for u in urls]))
            """,
            "run_until_complete(asyncio.gather(...)) runs a future: asyncio.run needs a coroutine",
            id="gather-is-a-future",
        ),
        pytest.param(
            """
            import asyncio

            def make_job():
                return job()

            def run_job():
                asyncio.get_event_loop().run_until_complete(make_job())
            """,
            "make_job() is not an async def: asyncio.run needs a coroutine",
            id="argument-from-a-sync-function",
        ),
        pytest.param(
            """
            import asyncio

            def run_job(coro):
                asyncio.get_event_loop().run_until_complete(coro)
            """,
            "run_until_complete() is not given a call: asyncio.run needs a coroutine",
            id="argument-not-a-call",
        ),
        pytest.param(
            """
            import asyncio

            def run_jobs():
                asyncio.get_event_loop().run_until_complete(connect())
                asyncio.get_event_loop().run_until_complete(work())
            """,
            "2 runs in run_jobs() (lines 5, 6) share the thread's event loop; asyncio.run would give each its own",
            id="two-one-line-runs-in-one-function",
        ),
        pytest.param(
            """
            import asyncio

            def run_all(jobs):
                for job in jobs:
                    asyncio.get_event_loop().run_until_complete(job.run())
            """,
            "the run repeats in the loop at line 5 on one event loop; asyncio.run would give each iteration its own",
            id="run-in-a-for-loop",
        ),
        pytest.param(
            """
            import asyncio

            runner = lambda coro_fn: asyncio.get_event_loop().run_until_complete(coro_fn())
            """,
            "in a lambda: whether an event loop runs when it is called cannot be told",
            id="lambda",
        ),
        pytest.param(
            """
            import asyncio

            async def handler():
                def callback():
                    return asyncio.get_event_loop().time()
                return callback
            """,
            "in a function nested in a coroutine: whether an event loop runs when it is called cannot be told",
            id="sync-function-nested-in-a-coroutine",
        ),
        pytest.param(
            """
            import asyncio

            async def handler():
                return asyncio.get_event_loop().run_until_complete(work())
            """,
            "run_until_complete() inside a coroutine fails: its loop is already running; await it",
            id="run-until-complete-inside-a-coroutine",
        ),
        pytest.param(
            """
            import asyncio

            class Worker:
                def __init__(self):
                    self.loop = asyncio.get_event_loop()
            """,
            "the loop is not assigned to a plain variable",
            id="loop-stored-on-an-object",
        ),
        pytest.param(
            """
            import asyncio

            def sync():
                loop = asyncio.get_event_loop()
                result = loop.run_until_complete(work())
                if result:
                    loop.close()
            """,
            "loop.close() at line 8 does not simply follow the run",
            id="conditional-close",
        ),
        pytest.param(
            """
            import asyncio

            loop = asyncio.get_event_loop()

            def deadline(seconds):
                return loop.time() + seconds

            if __name__ == "__main__":
                loop.run_until_complete(main())
            """,
            "loop.time() at line 7 uses the loop beyond one run_until_complete()",
            id="global-loop-used-by-a-function",
        ),
        pytest.param(
            """
            import asyncio

            def sync():
                loop = asyncio.get_event_loop()
                return loop.time()
            """,
            "loop.time() at line 6 uses the loop beyond one run_until_complete()",
            id="sync-use-that-is-no-run",
        ),
        pytest.param(
            """
            import asyncio

            def sync():
                return asyncio.get_event_loop().time()
            """,
            "asyncio.get_event_loop().time outside a coroutine is not a run_until_complete() call",
            id="one-line-use-that-is-no-run",
        ),
        pytest.param(
            """
            from asyncio import get_event_loop

            asyncio = object()

            def sync():
                return get_event_loop().run_until_complete(work())
            """,
            "the name asyncio is bound to something else in this module",
            id="asyncio-name-taken",
        ),
    ],
)
def test_declines(source: str, reason: str) -> None:
    assert declined(noop(source)) == [f"asyncio.get_event_loop() not rewritten: {reason}"] * (
        2 if "share the thread" in reason else 1
    )


# -- no-ops: nothing of asyncio's to rewrite ------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        # Another object's get_event_loop (an application wrapper, a test fixture).
        "def f(app):\n    return app.get_event_loop().run_until_complete(main())\n",
        # Already the modern spellings.
        "import asyncio\n\nasync def f():\n    return asyncio.get_running_loop().time()\n\nasyncio.run(f())\n",
        # Only mentioned in a comment and a string.
        "# asyncio.get_event_loop() is deprecated\nMESSAGE = 'get_event_loop'\n",
        # A local function of that name.
        "def get_event_loop():\n    return None\n\nget_event_loop().run_until_complete(main())\n",
    ],
)
def test_noop(source: str) -> None:
    assert noop(source) == []


# -- behaviour, proven by running the code ---------------------------------------------------------

PROGRAMS = {
    "one-line": """
        import asyncio


        async def fetch(n):
            await asyncio.sleep(0)
            return [n, n * 2]


        def sync(n):
            return asyncio.get_event_loop().run_until_complete(fetch(n))
        """,
    "try-finally-close": """
        import asyncio


        async def fetch(n):
            await asyncio.sleep(0)
            return {"n": n, "squares": [i * i for i in range(n)]}


        def sync(n):
            loop = asyncio.get_event_loop()
            try:
                return loop.run_until_complete(fetch(n))
            finally:
                loop.close()
        """,
    "coroutine-running-loop": """
        import asyncio


        async def in_executor(n):
            loop = asyncio.get_event_loop()
            return await loop.run_in_executor(None, sum, range(n))


        def sync(n):
            loop = asyncio.get_event_loop()
            result = loop.run_until_complete(in_executor(n))
            loop.close()
            return result
        """,
}

DRIVER = """
import json, sys
sys.path.insert(0, sys.argv[1])
import program
results = []
for attempt in range(2):
    try:
        results.append(program.sync(5))
    except Exception as exc:
        results.append(f"{type(exc).__name__}: {exc}")
print(json.dumps(results))
"""


def run_program(
    folder: Path, code: str, *options: str, python: str = sys.executable
) -> subprocess.CompletedProcess[str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "program.py").write_text(code)
    return subprocess.run([python, *options, "-c", DRIVER, str(folder)], capture_output=True, text=True, timeout=60)


def warning_python() -> str | None:
    """An interpreter whose ``get_event_loop()`` warns without a running loop (3.12 and later; 3.11
    warns only in 3.11.0), to show the warning is gone: this one, or one found beside it."""
    if sys.version_info >= (3, 12):
        return sys.executable
    candidates = [shutil.which(f"python3.{minor}") for minor in range(12, 16)]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(str(p) for p in pyenv.glob("3.1[2-9]*/bin/python"))
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info >= (3, 12))"], capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return candidate
    return None


@pytest.mark.parametrize("name", PROGRAMS)
def test_rewritten_code_gives_the_same_results_twice(name: str, tmp_path: Path) -> None:
    before = textwrap.dedent(PROGRAMS[name])
    after = run_codemod(AsyncioRun, before).new_source.decode()
    assert "get_event_loop" not in after

    original = run_program(tmp_path / "before", before)
    assert original.returncode == 0, original.stderr
    first_original = json.loads(original.stdout)[0]

    rewritten = run_program(tmp_path / "after", after, "-W", "error::DeprecationWarning")
    assert rewritten.returncode == 0, rewritten.stderr
    assert json.loads(rewritten.stdout) == [first_original, first_original]


@pytest.mark.parametrize("name", PROGRAMS)
def test_no_deprecation_warning_where_the_original_warns(name: str, tmp_path: Path) -> None:
    python = warning_python()
    if python is None:
        pytest.skip("no Python 3.12 or later to run the programs on")
    before = textwrap.dedent(PROGRAMS[name])
    after = run_codemod(AsyncioRun, before).new_source.decode()

    strict = ("-W", "error::DeprecationWarning")
    original = json.loads(run_program(tmp_path / "before", before, *strict, python=python).stdout)
    assert original[0] == "DeprecationWarning: There is no current event loop"
    rewritten = run_program(tmp_path / "after", after, *strict, python=python)
    assert rewritten.returncode == 0, rewritten.stderr
    expected = json.loads(run_program(tmp_path / "lenient", before, python=python).stdout)[0]
    assert json.loads(rewritten.stdout) == [expected, expected]


def test_the_original_fails_the_second_call_once_it_closed_the_loop(tmp_path: Path) -> None:
    """The twice-in-a-row check above is not vacuous."""
    code = textwrap.dedent(PROGRAMS["try-finally-close"])
    results = json.loads(run_program(tmp_path / "original", code).stdout)
    assert results[1] == "RuntimeError: Event loop is closed"
