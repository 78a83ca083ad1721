"""secret-compare: ``==``/``!=`` between a secret and a request value -> a constant-time helper."""

from __future__ import annotations

import hmac
import itertools
import os
import textwrap
import types
from typing import Any

import pytest

from codemods.engine.pipeline import CHANGED, FILTERED, transform_source
from codemods.options import CodeStyle
from codemods.rules.secret_compare import SecretCompare
from tests.rules.helpers import (
    assert_noop,
    assert_precheck_invisible,
    assert_rewrite,
    declined,
    make_plan,
    run_codemod,
)

HELPER = '''

def _constant_time_equal(left, right):
    """``left == right``, in constant time when both are text or both are bytes.

    Text is compared as UTF-8 bytes, so non-ASCII text compares as ``==`` does; a
    missing value (``None``) or any other type falls back to ``==``.
    """
    if isinstance(left, str) and isinstance(right, str):
        left = left.encode("utf-8", "surrogatepass")
        right = right.encode("utf-8", "surrogatepass")
    if isinstance(left, bytes) and isinstance(right, bytes):
        return {compare_digest}(left, right)
    return left == right
'''


def helper(compare_digest: str = "hmac.compare_digest", indent: int = 12) -> str:
    """The helper's definition, indented like the test case it goes into (which is dedented)."""
    return textwrap.indent(HELPER.replace("{compare_digest}", compare_digest), " " * indent).replace(" " * indent + "\n", "\n")


def rewrite(before: str, after: str, **kwargs):
    return assert_rewrite(SecretCompare, before, after, **kwargs)


def noop(source: str, **kwargs):
    return assert_noop(SecretCompare, source, **kwargs)


# -- rewrites -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            """
            from flask import abort, current_app, request


            @bp.route("/admin/reindex", methods=["POST"])
            def reindex():
                if request.headers.get("X-Admin-Token") != current_app.config["ADMIN_TOKEN"]:
                    abort(403)
                return "ok"
            """,
            """
            from flask import abort, current_app, request
            import hmac
            """ + helper() + """

            @bp.route("/admin/reindex", methods=["POST"])
            def reindex():
                if not _constant_time_equal(request.headers.get("X-Admin-Token"), current_app.config["ADMIN_TOKEN"]):
                    abort(403)
                return "ok"
            """,
            id="flask-header-against-app-config",
        ),
        pytest.param(
            """
            import os

            from fastapi import Header, HTTPException

            API_TOKEN = os.environ.get("API_TOKEN", "")


            def require_token(x_token: str | None = Header(default=None)):
                if x_token != API_TOKEN:
                    raise HTTPException(status_code=401)
            """,
            """
            import os

            from fastapi import Header, HTTPException
            import hmac

            API_TOKEN = os.environ.get("API_TOKEN", "")
            """ + helper() + """

            def require_token(x_token: str | None = Header(default=None)):
                if not _constant_time_equal(x_token, API_TOKEN):
                    raise HTTPException(status_code=401)
            """,
            id="fastapi-header-parameter-against-environment-constant",
        ),
        pytest.param(
            """
            import hashlib
            import hmac

            from flask import abort, request

            from .config import settings


            @bp.post("/webhooks/payments")
            def payment_webhook():
                expected = hmac.new(settings.WEBHOOK_SECRET.encode(), request.get_data(), hashlib.sha256).hexdigest()
                if request.headers.get("X-Signature", "") != expected:
                    abort(400)
            """,
            """
            import hashlib
            import hmac

            from flask import abort, request

            from .config import settings
            """ + helper() + """

            @bp.post("/webhooks/payments")
            def payment_webhook():
                expected = hmac.new(settings.WEBHOOK_SECRET.encode(), request.get_data(), hashlib.sha256).hexdigest()
                if not _constant_time_equal(request.headers.get("X-Signature", ""), expected):
                    abort(400)
            """,
            id="webhook-signature-reuses-the-hmac-import",
        ),
        pytest.param(
            """
            import secrets


            def confirm_reset(user, token):
                return user.reset_token == token
            """,
            """
            import secrets
            """ + helper("secrets.compare_digest") + """

            def confirm_reset(user, token):
                return _constant_time_equal(user.reset_token, token)
            """,
            id="stored-attribute-against-parameter-reuses-secrets",
        ),
        pytest.param(
            """
            from flask import request, session


            def check_csrf():
                submitted = request.form.get("csrf_token")
                return submitted == session.get("csrf_token")
            """,
            """
            from flask import request, session
            import hmac
            """ + helper() + """

            def check_csrf():
                submitted = request.form.get("csrf_token")
                return _constant_time_equal(submitted, session.get("csrf_token"))
            """,
            id="local-assigned-from-the-request",
        ),
        pytest.param(
            """
            from django.conf import settings


            def api_view(request):
                auth = request.META.get("HTTP_AUTHORIZATION", "")
                scheme, _, key = auth.partition(" ")
                if scheme.lower() != "bearer" or key != settings.API_KEY:
                    return HttpResponseForbidden()
            """,
            """
            from django.conf import settings
            import hmac
            """ + helper() + """

            def api_view(request):
                auth = request.META.get("HTTP_AUTHORIZATION", "")
                scheme, _, key = auth.partition(" ")
                if scheme.lower() != "bearer" or not _constant_time_equal(key, settings.API_KEY):
                    return HttpResponseForbidden()
            """,
            id="unpacked-from-a-request-parameter",
        ),
        pytest.param(
            """
            from fastapi import Depends
            from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

            bearer = HTTPBearer()


            def verify(credentials: HTTPAuthorizationCredentials = Depends(bearer)):
                return credentials.credentials == f"{settings.token_prefix}{settings.api_token}"
            """,
            """
            from fastapi import Depends
            from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
            import hmac

            bearer = HTTPBearer()
            """ + helper() + """

            def verify(credentials: HTTPAuthorizationCredentials = Depends(bearer)):
                return _constant_time_equal(credentials.credentials, f"{settings.token_prefix}{settings.api_token}")
            """,
            id="bearer-credentials-against-a-formatted-secret",
        ),
        pytest.param(
            """
            import hashlib


            class Account:
                def check_password(self, password):
                    digest = hashlib.sha256(password.encode()).hexdigest()
                    return self.password_hash == digest
            """,
            """
            import hashlib
            import hmac
            """ + helper() + """

            class Account:
                def check_password(self, password):
                    digest = hashlib.sha256(password.encode()).hexdigest()
                    return _constant_time_equal(self.password_hash, digest)
            """,
            id="password-hash-against-a-digest-of-the-input",
        ),
        pytest.param(
            """
            import os


            def is_admin(token):
                return (token or "").strip() == os.getenv("ADMIN_TOKEN")
            """,
            """
            import os
            import hmac
            """ + helper() + """

            def is_admin(token):
                return _constant_time_equal((token or "").strip(), os.getenv("ADMIN_TOKEN"))
            """,
            id="transformed-parameter-against-getenv",
        ),
        pytest.param(
            """
            from decouple import config
            from django.views import View


            class WebhookView(View):
                def post(self, *args, **kwargs):
                    if self.request.headers.get("X-Webhook-Token") != config("WEBHOOK_TOKEN"):
                        return HttpResponseForbidden()
            """,
            """
            from decouple import config
            from django.views import View
            import hmac
            """ + helper() + """

            class WebhookView(View):
                def post(self, *args, **kwargs):
                    if not _constant_time_equal(self.request.headers.get("X-Webhook-Token"), config("WEBHOOK_TOKEN")):
                        return HttpResponseForbidden()
            """,
            id="class-based-view-request-against-decouple-config",
        ),
        pytest.param(
            """
            from flask import request


            def login(user):
                return user.password == request.form["password"]
            """,
            """
            from flask import request
            import hmac
            """ + helper() + """

            def login(user):
                return _constant_time_equal(user.password, request.form["password"])
            """,
            id="stored-plain-text-password",
        ),
        pytest.param(
            """
            from fastapi import Depends, HTTPException
            from fastapi.security import APIKeyHeader

            api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


            def verify_api_key(api_key: str = Depends(api_key_header)):
                if api_key != settings.API_KEY:
                    raise HTTPException(status_code=403)
                return api_key
            """,
            """
            from fastapi import Depends, HTTPException
            from fastapi.security import APIKeyHeader
            import hmac

            api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
            """ + helper() + """

            def verify_api_key(api_key: str = Depends(api_key_header)):
                if not _constant_time_equal(api_key, settings.API_KEY):
                    raise HTTPException(status_code=403)
                return api_key
            """,
            id="fastapi-api-key-header-scheme",
        ),
    ],
)
def test_rewrites(before: str, after: str) -> None:
    rewrite(before, after)


def test_one_helper_for_every_comparison_above_the_first_use() -> None:
    outcome = rewrite(
        """
        import hmac


        def a(token):
            return token == settings.API_TOKEN


        def b(token):
            return token != settings.API_TOKEN
        """,
        """
        import hmac
        """ + helper(indent=8) + """

        def a(token):
            return _constant_time_equal(token, settings.API_TOKEN)


        def b(token):
            return not _constant_time_equal(token, settings.API_TOKEN)
        """,
    )
    assert [f.message for f in outcome.findings] == [
        "secret compared with == → _constant_time_equal(token, settings.API_TOKEN)",
        "secret compared with != → not _constant_time_equal(token, settings.API_TOKEN)",
    ]


def test_helper_from_an_earlier_run_is_reused() -> None:
    existing = "import hmac\n" + helper(indent=0) + "\n\ndef a(token):\n    return _constant_time_equal(token, settings.API_TOKEN)\n"
    rewrite(
        existing + "\n\ndef b(key):\n    return key == settings.API_KEY\n",
        existing + "\n\ndef b(key):\n    return _constant_time_equal(key, settings.API_KEY)\n",
    )


@pytest.mark.parametrize("limit", [79, 100])
def test_helper_fits_the_projects_line_length(limit: int) -> None:
    outcome = run_codemod(
        SecretCompare,
        "import hmac\n\ndef a(token):\n    return token == settings.TOKEN\n",
        style=CodeStyle(line_length=limit, isort_settings=(("profile", "black"), ("line_length", limit))),
    )
    lines = outcome.new_source.decode().splitlines()
    assert max(len(line) for line in lines) <= limit
    assert max(len(line) for line in lines if not line.startswith("        ")) > limit - 12  # filled, not squeezed


def test_crlf_file_gets_a_crlf_helper() -> None:
    before = "import hmac\r\n\r\ndef a(token):\r\n    return token == settings.TOKEN\r\n"
    outcome = run_codemod(SecretCompare, before)
    assert outcome.status == CHANGED
    new_source = outcome.new_source.decode()
    assert "\n" not in new_source.replace("\r\n", "")
    assert new_source.replace("\r\n", "\n") == (
        "import hmac\n" + helper(indent=0) + "\n\ndef a(token):\n    return _constant_time_equal(token, settings.TOKEN)\n"
    )


def test_parenthesised_comparison_keeps_its_parentheses() -> None:
    rewrite(
        "import hmac\n\ndef a(token):\n    return (\n        token\n        != settings.TOKEN\n    )\n",
        "import hmac\n" + helper(indent=0) + "\n\ndef a(token):\n    return (\n        not _constant_time_equal(token, settings.TOKEN)\n    )\n",
    )


# -- declines: left alone, with a finding ----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        pytest.param(
            "def f(user):\n    key = compute_key()\n    return user.api_key == key\n",
            "secret compared with a value auditfix cannot trace to the request: not rewritten "
            "(use hmac.compare_digest if it comes from a client)",
            id="other-side-of-unknown-origin",
        ),
        pytest.param(
            "def f(token):\n    return token == settings.TOKEN == other\n",
            "secret compared in a chained comparison: not rewritten",
            id="chained-comparison",
        ),
        pytest.param(
            "hmac = None\n\ndef f(token):\n    return token == settings.TOKEN\n",
            "no free name to import hmac under: not rewritten",
            id="hmac-name-taken",
        ),
    ],
)
def test_declines(source: str, reason: str) -> None:
    assert declined(noop(source)) == [reason]


# -- no-ops: not a secret against a request value ----------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        # Two user inputs: nothing secret to leak.
        pytest.param(
            "from flask import request\n\ndef register():\n    password = request.form['password']\n"
            "    confirm_password = request.form['confirm_password']\n    return password == confirm_password\n",
            id="password-and-confirmation",
        ),
        pytest.param("def f(new_token, old_token):\n    return new_token != old_token\n", id="two-parameters"),
        # Literals, None and lengths say nothing about the secret's characters.
        pytest.param("def f(token):\n    return token == 'anonymous'\n", id="literal"),
        pytest.param("def f(token):\n    return token != None\n", id="none"),
        pytest.param("def f(token):\n    return len(token) == 32\n", id="length"),
        pytest.param("def f(request):\n    return request.headers.get('X-Token-Type') == 'bearer'\n", id="request-vs-literal"),
        pytest.param("def f(settings):\n    return settings.TOKEN_TTL == 3600\n", id="setting-vs-number"),
        # Names that mention a secret word but are not secrets.
        pytest.param("def f(user, count):\n    return user.tokens_used == count\n", id="tokens-used-counter"),
        pytest.param("def f(user, version):\n    return user.token_version == version\n", id="token-version"),
        pytest.param("def f(item, sku):\n    return item.sku == sku\n", id="ordinary-attribute"),
        pytest.param(
            "def f(user = Depends(current_user), db = Depends(get_db)):\n    return user.api_key == db.api_key\n",
            id="two-server-side-dependencies",
        ),
        pytest.param(
            "def register(password, confirm_password):\n    if password != confirm_password:\n        raise ValueError\n",
            id="password-and-confirmation-parameters",
        ),
        pytest.param(
            "@router.post('/users')\ndef create(payload: UserIn):\n    return payload.password == payload.password_confirmation\n",
            id="two-fields-of-a-request-body",
        ),
        # Two stored secrets: no request value involved.
        pytest.param("def f(user):\n    return user.api_key == settings.API_KEY\n", id="two-stored-secrets"),
        # Already constant time.
        pytest.param("import hmac\n\ndef f(token):\n    return hmac.compare_digest(token, settings.TOKEN)\n", id="already-fixed"),
        pytest.param("def f(token):\n    return token is settings.TOKEN\n", id="identity"),
        pytest.param("x = 'token == secret'\n# token == settings.TOKEN\n", id="only-in-strings-and-comments"),
        # An assert states an invariant; it is not an access check (and -O removes it).
        pytest.param("def f(token):\n    assert token == settings.TOKEN, 'bad token'\n", id="assert"),
    ],
)
def test_noop(source: str) -> None:
    assert noop(source) == []


@pytest.mark.parametrize("path", ["tests/test_auth.py", "app/tests/helpers.py", "test_api.py", "conftest.py"])
def test_untransformed_in_tests(path: str) -> None:
    assert noop("def test_token(client, user):\n    assert client.token == user.api_token\n", path=path) == []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        # "token" in the text (the pre-filter lets it through), but no name, attribute, parameter
        # or key is a secret's: max_tokens, tokenizer, "tokens".
        pytest.param(
            "app/limits.py",
            """
            from flask import request

            def over_limit(tokenizer, max_tokens):
                return len(tokenizer(request.data)) == max_tokens or request.args["tokens"] == "all"
            """,
            id="token-in-other-words",
        ),
        # A secret's name, but every comparison with it is with a literal, a length or in an assert.
        pytest.param(
            "app/auth.py",
            """
            def check(token, settings):
                assert token == settings.TOKEN
                if token == "anonymous" or len(token) == 32 or -1 == settings.TOKEN_TTL:
                    return None
                return token != None
            """,
            id="secret-only-against-literals",
        ),
        # Secrets named nowhere in a comparison: only assigned, logged, passed on.
        pytest.param(
            "app/views.py",
            """
            from flask import request

            def login(user):
                token = user.issue_token()
                audit(token, request.remote_addr)
                return user.name == request.form["name"] and user.id != 0
            """,
            id="secret-never-compared",
        ),
        pytest.param(
            "tests/test_auth.py",
            """
            from flask import request

            def check(api_key):
                return request.headers.get("X-Api-Key") == api_key
            """,
            id="test-module",
        ),
    ],
)
def test_files_without_a_possible_finding_are_never_parsed(path: str, source: str) -> None:
    source = textwrap.dedent(source)
    plan = make_plan(SecretCompare, {path: source})
    outcome = transform_source(path, source.encode(), plan)
    assert outcome.status == FILTERED
    assert_precheck_invisible(outcome, transform_source(path, source.encode(), plan, precheck=False))


@pytest.mark.parametrize(
    "source",
    [
        # The secret side is named like one only through variables assigned it (to any depth).
        pytest.param(
            """
            import hmac
            from flask import request

            def webhook():
                expected = hmac.new(KEY, request.data, "sha256").hexdigest()
                wanted = expected
                return wanted != request.headers.get("X-Sig")
            """,
            id="through-variables",
        ),
        pytest.param(
            """
            import os
            from flask import request

            def check():
                if (wanted := os.getenv("API_KEY")) is None or wanted != request.headers.get("X-Key"):
                    return False
                first, *rest = settings.ADMIN_TOKEN.splitlines()
                return first == request.args.get("t")
            """,
            id="walrus-and-unpacking",
        ),
        pytest.param(
            """
            from flask import request

            def check():
                return request.headers.get("Authorization") == f"Bearer {settings.TOKEN}"
            """,
            id="inside-an-f-string",
        ),
        pytest.param(
            """
            def check(header, other):
                return other == header == settings.SECRET_KEY.strip()
            """,
            id="last-pair-of-a-chain",
        ),
    ],
)
def test_files_with_a_possible_finding_are_checked(source: str) -> None:
    source = textwrap.dedent(source)
    plan = make_plan(SecretCompare, {"app/views.py": source})
    outcome = transform_source("app/views.py", source.encode(), plan)
    assert outcome.status != FILTERED and outcome.findings
    assert_precheck_invisible(outcome, transform_source("app/views.py", source.encode(), plan, precheck=False))


# -- behaviour: the same answer for every input, proven by running both versions ----------------------

PROBE = '''
import hmac
import os
from types import SimpleNamespace

settings = SimpleNamespace(API_TOKEN="s3cret", WEBHOOK_SECRET=b"k")
ADMIN_TOKEN = os.environ.get("PROBE_ADMIN_TOKEN")


def is_admin(token):
    return token == ADMIN_TOKEN


def rejects(token):
    return token != settings.API_TOKEN


def confirm(user, token):
    return user.reset_token == token


def check_signature(body, signature):
    expected_digest = hmac.new(settings.WEBHOOK_SECRET, body, "sha256").digest()
    return signature == expected_digest
'''

# Equal, unequal, empty, non-ASCII, a lone surrogate (JSON can carry one), missing, bytes, other types.
VALUES = ["", "s3cret", "s3creT", "s3cret ", "s3cre", "é", "pässwörd", "密码", "🔑", "\ud800", "a\x00b", None,
          b"s3cret", b"", b"\xff", 0, 1.0, ["s3cret"]]  # fmt: skip


def load(source: str) -> types.ModuleType:
    module = types.ModuleType("probe")
    exec(compile(textwrap.dedent(source), "<probe>", "exec"), module.__dict__)
    return module


def answer(function: Any, *args: Any) -> Any:
    try:
        return function(*args)
    except Exception as exc:  # noqa: BLE001 - an exception is an answer too, and must not differ
        return type(exc)


@pytest.fixture(scope="module")
def probes() -> tuple[str, str]:
    outcome = run_codemod(SecretCompare, PROBE)
    assert outcome.status == CHANGED and len([f for f in outcome.findings if f.fixable]) == 4, outcome.findings
    return textwrap.dedent(PROBE), outcome.new_source.decode()


@pytest.mark.parametrize("configured", ["s3cret", "", "pässwörd", None], ids=["set", "empty", "non-ascii", "unset"])
def test_same_answers_for_every_input(
    probes: tuple[str, str], configured: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if configured is None:
        monkeypatch.delenv("PROBE_ADMIN_TOKEN", raising=False)
    else:
        monkeypatch.setenv("PROBE_ADMIN_TOKEN", configured)
    original, rewritten = (load(source) for source in probes)
    for given in VALUES:
        assert answer(rewritten.is_admin, given) is answer(original.is_admin, given), (configured, given)
        assert answer(rewritten.rejects, given) is answer(original.rejects, given), given
        for stored in VALUES:
            user = types.SimpleNamespace(reset_token=stored)
            assert answer(rewritten.confirm, user, given) == answer(original.confirm, user, given), (stored, given)
        for body in (b"", b"payload", "payload", None):
            assert answer(rewritten.check_signature, body, given) == answer(original.check_signature, body, given)


def test_text_and_bytes_go_through_compare_digest(probes: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    rewritten = load(probes[1])
    calls: list[tuple[Any, Any]] = []
    compare_digest = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert rewritten.rejects("pässwörd") is True
    assert rewritten.confirm(types.SimpleNamespace(reset_token=b"abc"), b"abc") is True
    assert rewritten.confirm(types.SimpleNamespace(reset_token=None), "abc") is False  # None: plain ==
    assert calls == [("pässwörd".encode(), b"s3cret"), (b"abc", b"abc")]


FLASK_APP = '''
from flask import Flask, abort, current_app, request


def create_app(token):
    app = Flask(__name__)
    app.config["ADMIN_TOKEN"] = token

    @app.post("/admin/reindex")
    def reindex():
        if request.headers.get("X-Admin-Token") != current_app.config["ADMIN_TOKEN"]:
            abort(403)
        return "reindexed"

    return app
'''


@pytest.mark.parametrize("configured", ["s3cret", "", "pässwörd", None], ids=["set", "empty", "latin-1", "unset"])
def test_flask_route_answers_the_same_for_every_header(configured: str | None) -> None:
    outcome = run_codemod(SecretCompare, FLASK_APP)
    assert outcome.status == CHANGED
    apps = [load(source).create_app(configured) for source in (FLASK_APP, outcome.new_source.decode())]
    headers = [None, "", "s3cret", "s3cre", "s3cretX", "pässwörd", "passwörd", " s3cret"]
    for header in headers:
        sent = {} if header is None else {"X-Admin-Token": header}
        statuses = [app.test_client().post("/admin/reindex", headers=sent).status_code for app in apps]
        assert statuses[0] == statuses[1], (configured, header, statuses)


FASTAPI_APP = '''
from fastapi import Depends, FastAPI, Header, HTTPException


def create_app(api_key):
    def require_key(x_api_key: str | None = Header(default=None)):
        if x_api_key != api_key:
            raise HTTPException(status_code=401)

    app = FastAPI()

    @app.get("/reports", dependencies=[Depends(require_key)])
    def reports():
        return {"ok": True}

    return app
'''


@pytest.mark.parametrize("configured", ["k-123", "", "ké"], ids=["set", "empty", "latin-1"])
def test_fastapi_dependency_answers_the_same_for_every_header(configured: str) -> None:
    from fastapi.testclient import TestClient

    outcome = run_codemod(SecretCompare, FASTAPI_APP)
    assert outcome.status == CHANGED
    clients = [TestClient(load(source).create_app(configured)) for source in (FASTAPI_APP, outcome.new_source.decode())]
    for header in [None, "", "k-123", "k-12", "k-1234", "ké", "kè"]:
        sent = {} if header is None else {"X-Api-Key": header.encode("latin-1")}
        statuses = [client.get("/reports", headers=sent).status_code for client in clients]
        assert statuses[0] == statuses[1], (header, statuses)
