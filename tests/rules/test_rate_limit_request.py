"""rate-limit-request: slowapi-limited routes get a ``request: Request`` parameter and the limiter below the route."""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from codemods.rules.rate_limit_request import RateLimitRequest
from tests.rules.helpers import assert_noop, assert_rewrite, declined, run_codemod

LIMITS_MODULE = """\
from slowapi import Limiter
from slowapi.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)
"""
# The module the rewritten routes live in, and the limiter module beside it.
PATH = "app/routers/items.py"
OTHER_FILES = {"app/limits.py": LIMITS_MODULE}


def rewrite(before: str, after: str, **kwargs):
    return assert_rewrite(RateLimitRequest, before, after, path=PATH, other_files=OTHER_FILES, **kwargs)


def noop(source: str, **kwargs):
    kwargs.setdefault("other_files", OTHER_FILES)
    return assert_noop(RateLimitRequest, source, path=PATH, **kwargs)


# -- rewrites -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            """
            from fastapi import APIRouter

            from ..limits import limiter

            router = APIRouter()


            @router.post("/login")
            @limiter.limit("5/minute")
            async def login(form: LoginForm):
                return form
            """,
            """
            from fastapi import Request, APIRouter

            from ..limits import limiter

            router = APIRouter()


            @router.post("/login")
            @limiter.limit("5/minute")
            async def login(request: Request, form: LoginForm):
                return form
            """,
            id="async-route-gets-request-and-import",
        ),
        pytest.param(
            """
            from fastapi import APIRouter, Depends, Request

            from app.limits import limiter

            router = APIRouter()


            @router.get("/search")
            @limiter.limit("30/minute")
            def search(
                q: str,
                db: Session = Depends(get_db),
            ):
                return q
            """,
            """
            from fastapi import APIRouter, Depends, Request

            from app.limits import limiter

            router = APIRouter()


            @router.get("/search")
            @limiter.limit("30/minute")
            def search(
                request: Request,
                q: str,
                db: Session = Depends(get_db),
            ):
                return q
            """,
            id="sync-route-one-parameter-per-line-existing-import",
        ),
        pytest.param(
            """
            from fastapi import FastAPI, Request
            from slowapi import Limiter
            from slowapi.util import get_remote_address

            limiter = Limiter(key_func=get_remote_address)
            app = FastAPI()


            # five attempts per minute and address
            @limiter.limit("5/minute")
            @app.post("/login")
            async def login(request: Request):
                return {"ok": True}
            """,
            """
            from fastapi import FastAPI, Request
            from slowapi import Limiter
            from slowapi.util import get_remote_address

            limiter = Limiter(key_func=get_remote_address)
            app = FastAPI()


            # five attempts per minute and address
            @app.post("/login")
            @limiter.limit("5/minute")
            async def login(request: Request):
                return {"ok": True}
            """,
            id="limiter-above-the-route-moves-below-it",
        ),
        pytest.param(
            """
            from fastapi import APIRouter as Router
            from fastapi import Request as HTTPRequest
            from slowapi import Limiter as RateLimiter

            throttle = RateLimiter(key_func=lambda request: "global")
            api = Router(prefix="/reports")


            @throttle.limit("10/hour")
            @api.get("/daily")
            def daily(day: str):
                return day
            """,
            """
            from fastapi import APIRouter as Router
            from fastapi import Request as HTTPRequest
            from slowapi import Limiter as RateLimiter

            throttle = RateLimiter(key_func=lambda request: "global")
            api = Router(prefix="/reports")


            @api.get("/daily")
            @throttle.limit("10/hour")
            def daily(request: HTTPRequest, day: str):
                return day
            """,
            id="aliases-of-limiter-router-and-request-both-fixes",
        ),
        pytest.param(
            """
            from fastapi import APIRouter

            from ..limits import limiter as rate_limiter

            router = APIRouter()


            @router.get("/export")
            @rate_limiter.shared_limit("100/hour", scope="exports")
            async def export(*, fmt: str = "csv"):
                return fmt
            """,
            """
            from fastapi import Request, APIRouter

            from ..limits import limiter as rate_limiter

            router = APIRouter()


            @router.get("/export")
            @rate_limiter.shared_limit("100/hour", scope="exports")
            async def export(request: Request, *, fmt: str = "csv"):
                return fmt
            """,
            id="keyword-only-parameters-shared-limit-aliased-import",
        ),
        pytest.param(
            """
            from starlette.applications import Starlette
            from starlette.responses import PlainTextResponse

            from app.limits import limiter

            app = Starlette()


            @limiter.limit("2/minute")
            @app.route("/ping")
            async def ping(request):
                return PlainTextResponse("pong")
            """,
            """
            from starlette.applications import Starlette
            from starlette.responses import PlainTextResponse

            from app.limits import limiter

            app = Starlette()


            @app.route("/ping")
            @limiter.limit("2/minute")
            async def ping(request):
                return PlainTextResponse("pong")
            """,
            id="starlette-endpoint-keeps-its-positional-request",
        ),
        pytest.param(
            """
            from starlette.routing import Route

            from app.limits import limiter


            @limiter.limit("2/minute")
            async def ping(scope_name: str = "x"):
                return scope_name
            """,
            """
            from starlette.routing import Route

            from app.limits import limiter
            from starlette.requests import Request


            @limiter.limit("2/minute")
            async def ping(request: Request, scope_name: str = "x"):
                return scope_name
            """,
            id="starlette-only-module-imports-starlettes-request",
        ),
        pytest.param(
            """
            from fastapi import APIRouter

            from ..limits import limiter

            router = APIRouter()


            @router.get("/items")
            @limiter.limit("60/minute")
            def list_items(request, page: int = 1):
                return page
            """,
            """
            from fastapi import Request, APIRouter

            from ..limits import limiter

            router = APIRouter()


            @router.get("/items")
            @limiter.limit("60/minute")
            def list_items(request: Request, page: int = 1):
                return page
            """,
            id="unannotated-request-of-a-fastapi-route-gets-its-annotation",
        ),
        pytest.param(
            """
            import fastapi
            from requests import Request

            from app.limits import limiter

            router = fastapi.APIRouter()


            @router.get("/proxy")
            @limiter.limit("60/minute")
            def proxy(url: str):
                return Request("GET", url).url
            """,
            """
            import fastapi
            from requests import Request

            from app.limits import limiter

            router = fastapi.APIRouter()


            @router.get("/proxy")
            @limiter.limit("60/minute")
            def proxy(request: fastapi.Request, url: str):
                return Request("GET", url).url
            """,
            id="request-name-taken-spelled-through-the-fastapi-module",
        ),
        pytest.param(
            """
            from fastapi import FastAPI, Request

            from app.limits import limiter

            app = FastAPI()


            @app.get("/a")
            @limiter.limit("1/second")
            @app.get("/b")
            def both(request: Request):
                return "ok"
            """,
            """
            from fastapi import FastAPI, Request

            from app.limits import limiter

            app = FastAPI()


            @app.get("/a")
            @app.get("/b")
            @limiter.limit("1/second")
            def both(request: Request):
                return "ok"
            """,
            id="limiter-between-two-route-decorators-goes-below-both",
        ),
        pytest.param(
            """
            from fastapi import FastAPI, Request

            from app.limits import limiter


            def create_app():
                app = FastAPI()

                @limiter.limit("5/minute")
                @app.get("/health")
                def health(request: Request):
                    return "ok"

                return app
            """,
            """
            from fastapi import FastAPI, Request

            from app.limits import limiter


            def create_app():
                app = FastAPI()

                @app.get("/health")
                @limiter.limit("5/minute")
                def health(request: Request):
                    return "ok"

                return app
            """,
            id="route-inside-an-application-factory",
        ),
    ],
)
def test_rewrites(before: str, after: str) -> None:
    rewrite(before, after)


def test_findings_say_what_changed() -> None:
    outcome = run_codemod(
        RateLimitRequest,
        """
        from fastapi import APIRouter

        from app.limits import limiter

        router = APIRouter()

        @limiter.limit("5/minute")
        @router.post("/login")
        async def login(form: dict):
            return form
        """,
        path=PATH,
        other_files=OTHER_FILES,
    )
    assert [(f.line, f.message) for f in outcome.findings if f.fixable] == [
        (8, "login: limiter decorator moved below @router.post(...); above it the limit was never applied"),
        (10, "login: request parameter added so that slowapi can apply the limit"),
    ]


# -- declines: left as they are, with a finding that says why -------------------------------------


def test_request_parameter_of_another_type_is_reported() -> None:
    findings = noop(
        """
        from fastapi import APIRouter

        from app.limits import limiter

        router = APIRouter()

        @router.post("/quotes")
        @limiter.limit("5/minute")
        def quote(request: QuoteRequest):
            return request.total
        """
    )
    assert declined(findings) == [
        "quote: the parameter request is a QuoteRequest, not the HTTP request slowapi needs under that name; "
        "rename it (and keep a request: Request parameter)"
    ]


def test_limiter_imported_from_outside_the_scanned_files_is_reported_when_it_needs_a_fix() -> None:
    source = """
        from fastapi import APIRouter

        from platform_common.limits import limiter

        router = APIRouter()

        @router.get("/search")
        @limiter.limit("5/minute")
        def search(q: str):
            return q
        """
    assert declined(noop(source)) == [
        "search: not changed, cannot tell whether limiter is a slowapi Limiter: no scanned module "
        "platform_common.limits creates one"
    ]


def test_request_name_taken_without_a_fastapi_module_import_is_reported() -> None:
    findings = noop(
        """
        from fastapi import APIRouter
        from requests import Request

        from app.limits import limiter

        router = APIRouter()

        @router.get("/search")
        @limiter.limit("5/minute")
        def search(q: str):
            return Request("GET", q)
        """
    )
    assert declined(findings) == ["search: no request parameter added: the name Request means something else in this module"]


# -- no-ops ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        # Already right: the limiter below the route, a request parameter.
        """
        from fastapi import APIRouter, Request

        from app.limits import limiter

        router = APIRouter()

        @router.get("/search")
        @limiter.limit("5/minute")
        def search(request: Request, q: str):
            return q
        """,
        # A websocket route: slowapi finds the websocket parameter.
        """
        from fastapi import FastAPI, WebSocket

        from app.limits import limiter

        app = FastAPI()

        @app.websocket("/ws")
        @limiter.limit("5/minute")
        async def feed(websocket: WebSocket):
            await websocket.accept()
        """,
        # Flask-Limiter looks the same, needs no request parameter, and Flask applies it either way.
        """
        from flask import Flask
        from flask_limiter import Limiter
        from flask_limiter.util import get_remote_address

        app = Flask(__name__)
        limiter = Limiter(get_remote_address, app=app)

        @app.route("/login", methods=["POST"])
        @limiter.limit("5 per minute")
        def login():
            return "ok"
        """,
        # A query's .limit() and a decorator of something that is no limiter.
        """
        from fastapi import APIRouter

        from app.cache import cache

        router = APIRouter()

        @router.get("/items")
        @cache.ttl(60)
        def items(db):
            return db.query(Item).limit(10).all()
        """,
        # Already correct with a limiter from outside the scanned files: nothing to say.
        """
        from fastapi import APIRouter, Request

        from platform_common.limits import limiter

        router = APIRouter()

        @router.get("/search")
        @limiter.limit("5/minute")
        def search(request: Request, q: str):
            return q
        """,
    ],
)
def test_noop(source: str) -> None:
    assert noop(source) == []


# -- behaviour, proven through FastAPI's test client ------------------------------------------------

APPS = {
    "missing-request-parameter": """
        from fastapi import FastAPI, Depends
        from slowapi import Limiter, _rate_limit_exceeded_handler
        from slowapi.errors import RateLimitExceeded
        from slowapi.util import get_remote_address

        limiter = Limiter(key_func=get_remote_address)
        app = FastAPI()
        app.state.limiter = limiter
        app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)


        def get_tenant():
            return "acme"


        @app.get("/items/{item_id}")
        @limiter.limit("3/minute")
        async def read_item(item_id: int, tenant: str = Depends(get_tenant)):
            return {"item_id": item_id, "tenant": tenant}


        @app.get("/search")
        @limiter.limit("3/minute")
        def search(*, q: str):
            return {"q": q}
        """,
    "limiter-above-the-route": """
        from fastapi import APIRouter, FastAPI, Request
        from slowapi import Limiter, _rate_limit_exceeded_handler
        from slowapi.errors import RateLimitExceeded
        from slowapi.util import get_remote_address

        limiter = Limiter(key_func=get_remote_address)
        router = APIRouter(prefix="/items")


        @limiter.limit("3/minute")
        @router.get("/{item_id}")
        async def read_item(request: Request, item_id: int):
            return {"item_id": item_id, "tenant": "acme"}


        @limiter.limit("3/minute")
        @router.get("")
        def search(request: Request, q: str):
            return {"q": q}


        app = FastAPI()
        app.state.limiter = limiter
        app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)
        app.include_router(router)
        """,
}
URLS = {
    "missing-request-parameter": ("/items/7", "/search?q=lamp"),
    "limiter-above-the-route": ("/items/7", "/items?q=lamp"),
}


def import_app(folder: Path, code: str):
    """Import ``code`` as a fresh module (its own limiter storage) and return its module object."""
    name = f"rate_limited_{uuid.uuid4().hex}"
    (folder / f"{name}.py").write_text(code)
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(name, None)


def statuses(module, url: str, count: int) -> list[int]:
    from fastapi.testclient import TestClient

    with TestClient(module.app) as client:
        return [client.get(url).status_code for _ in range(count)]


@pytest.mark.parametrize("name", APPS)
def test_the_limit_applies_after_the_rewrite(name: str, tmp_path: Path) -> None:
    before = textwrap.dedent(APPS[name])
    after = run_codemod(RateLimitRequest, before, path="app/main.py").new_source.decode()
    module = import_app(tmp_path, after)
    for url in URLS[name]:
        assert statuses(module, url, 5) == [200, 200, 200, 429, 429]


def test_the_answers_stay_the_same_under_the_limit(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    before = textwrap.dedent(APPS["limiter-above-the-route"])
    after = run_codemod(RateLimitRequest, before, path="app/main.py").new_source.decode()
    answers = []
    for code in (before, after):
        with TestClient(import_app(tmp_path, code).app) as client:
            answers.append([client.get(u).json() for u in URLS["limiter-above-the-route"]])
    assert answers[0] == answers[1] == [{"item_id": 7, "tenant": "acme"}, {"q": "lamp"}]


def test_before_the_rewrite_the_app_does_not_start_or_the_limit_never_applies(tmp_path: Path) -> None:
    """The proof above is not vacuous."""
    with pytest.raises(Exception, match='No "request" or "websocket" argument'):
        import_app(tmp_path, textwrap.dedent(APPS["missing-request-parameter"]))
    module = import_app(tmp_path, textwrap.dedent(APPS["limiter-above-the-route"]))
    for url in URLS["limiter-above-the-route"]:
        assert statuses(module, url, 5) == [200] * 5
