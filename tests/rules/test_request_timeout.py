"""request-timeout: HTTP calls made with requests or urllib without a timeout get ``timeout=<seconds>``."""

from __future__ import annotations

import http.server
import socket
import textwrap
import threading
import types
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from codemods.engine.config import ConfigError, codemod_options
from codemods.engine.pipeline import CHANGED, FILTERED, transform_source
from codemods.rules.request_timeout import RequestTimeout
from tests.rules.helpers import (
    assert_noop,
    assert_precheck_invisible,
    assert_rewrite,
    declined,
    make_plan,
    run_codemod,
)


def rewrite(before: str, after: str, **kwargs):
    return assert_rewrite(RequestTimeout, before, after, **kwargs)


def noop(source: str, **kwargs):
    return assert_noop(RequestTimeout, source, **kwargs)


# -- rewrites -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            "import requests\n\nrates = requests.get(RATES_URL, params={'base': 'EUR'}).json()\n",
            "import requests\n\nrates = requests.get(RATES_URL, params={'base': 'EUR'}, timeout=10).json()\n",
            id="requests-get",
        ),
        pytest.param(
            "import requests as r\n\ndef notify(url, payload):\n    r.post(url, json=payload)\n",
            "import requests as r\n\ndef notify(url, payload):\n    r.post(url, json=payload, timeout=10)\n",
            id="import-requests-as-r",
        ),
        pytest.param(
            "from requests import get, post\n\nget(URL)\npost(URL, data=b'x')\n",
            "from requests import get, post\n\nget(URL, timeout=10)\npost(URL, data=b'x', timeout=10)\n",
            id="from-requests-import",
        ),
        pytest.param(
            "from requests import delete as http_delete\n\nhttp_delete(URL)\n",
            "from requests import delete as http_delete\n\nhttp_delete(URL, timeout=10)\n",
            id="imported-under-an-alias",
        ),
        pytest.param(
            "import requests\n\nfor method in ('put', 'patch', 'head', 'options'):\n"
            "    requests.put(URL)\n    requests.patch(URL)\n    requests.head(URL)\n    requests.options(URL)\n",
            "import requests\n\nfor method in ('put', 'patch', 'head', 'options'):\n"
            "    requests.put(URL, timeout=10)\n    requests.patch(URL, timeout=10)\n"
            "    requests.head(URL, timeout=10)\n    requests.options(URL, timeout=10)\n",
            id="every-method",
        ),
        pytest.param(
            "import requests\n\nrequests.request('GET', URL, headers=HEADERS)\n",
            "import requests\n\nrequests.request('GET', URL, headers=HEADERS, timeout=10)\n",
            id="requests-request",
        ),
        pytest.param(
            "import requests\n\nrequests.get(*args)\n",
            "import requests\n\nrequests.get(*args, timeout=10)\n",
            id="star-args-where-the-timeout-is-keyword-only",
        ),
        pytest.param(
            """
            import requests


            def push(url, payload):
                return requests.post(
                    url,
                    json=payload,
                    headers={"Accept": "application/json"},
                )
            """,
            """
            import requests


            def push(url, payload):
                return requests.post(
                    url,
                    json=payload,
                    headers={"Accept": "application/json"},
                    timeout=10,
                )
            """,
            id="one-argument-per-line-with-a-trailing-comma",
        ),
        pytest.param(
            """
            import requests

            response = requests.post(URL,
                                     json=PAYLOAD)
            """,
            """
            import requests

            response = requests.post(URL,
                                     json=PAYLOAD,
                                     timeout=10)
            """,
            id="aligned-arguments",
        ),
        pytest.param(
            """
            import requests

            response = requests.get(
                URL
            )
            """,
            """
            import requests

            response = requests.get(
                URL,
                timeout=10
            )
            """,
            id="one-argument-on-its-own-line",
        ),
    ],
)
def test_module_function_rewrites(before: str, after: str) -> None:
    rewrite(textwrap.dedent(before), textwrap.dedent(after))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            "import requests\n\nhttp = requests.Session()\n\ndef fetch(path):\n    return http.get(BASE + path)\n",
            "import requests\n\nhttp = requests.Session()\n\ndef fetch(path):\n    return http.get(BASE + path, timeout=10)\n",
            id="module-level-session",
        ),
        pytest.param(
            "from requests import Session\n\ndef sync():\n    session = Session()\n    session.headers['X'] = '1'\n"
            "    session.put(URL, json={})\n",
            "from requests import Session\n\ndef sync():\n    session = Session()\n    session.headers['X'] = '1'\n"
            "    session.put(URL, json={}, timeout=10)\n",
            id="local-session",
        ),
        pytest.param(
            "import requests\n\ndef sync():\n    with requests.Session() as s:\n        s.delete(URL)\n",
            "import requests\n\ndef sync():\n    with requests.Session() as s:\n        s.delete(URL, timeout=10)\n",
            id="with-session",
        ),
        pytest.param(
            "import requests\n\nrequests.session().get(URL)\n",
            "import requests\n\nrequests.session().get(URL, timeout=10)\n",
            id="session-made-on-the-spot",
        ),
        pytest.param(
            """
            import requests


            class SupplierClient:
                def __init__(self, base_url):
                    self.base_url = base_url
                    self.http = requests.Session()

                def catalogue(self):
                    return self.http.get(f"{self.base_url}/catalogue").json()

                def fetch(self, method, path):
                    return self.http.request(method, self.base_url + path)
            """,
            """
            import requests


            class SupplierClient:
                def __init__(self, base_url):
                    self.base_url = base_url
                    self.http = requests.Session()

                def catalogue(self):
                    return self.http.get(f"{self.base_url}/catalogue", timeout=10).json()

                def fetch(self, method, path):
                    return self.http.request(method, self.base_url + path, timeout=10)
            """,
            id="session-attribute-of-a-class",
        ),
        pytest.param(
            "import requests\nfrom requests.adapters import HTTPAdapter\n\nhttp = requests.Session()\n"
            "http.mount('https://', HTTPAdapter(max_retries=3))\nhttp.get(URL)\n",
            "import requests\nfrom requests.adapters import HTTPAdapter\n\nhttp = requests.Session()\n"
            "http.mount('https://', HTTPAdapter(max_retries=3))\nhttp.get(URL, timeout=10)\n",
            id="session-with-a-plain-retrying-adapter",
        ),
    ],
)
def test_session_rewrites(before: str, after: str) -> None:
    rewrite(textwrap.dedent(before), textwrap.dedent(after))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            "import urllib.request\n\nbody = urllib.request.urlopen(URL).read()\n",
            "import urllib.request\n\nbody = urllib.request.urlopen(URL, timeout=10).read()\n",
            id="urllib-request-urlopen",
        ),
        pytest.param(
            "from urllib.request import urlopen\n\nwith urlopen(request_object) as response:\n    pass\n",
            "from urllib.request import urlopen\n\nwith urlopen(request_object, timeout=10) as response:\n    pass\n",
            id="from-urllib-request-import-urlopen",
        ),
        pytest.param(
            "from urllib import request as urlrequest\n\nurlrequest.urlopen(URL, data)\n",
            "from urllib import request as urlrequest\n\nurlrequest.urlopen(URL, data, timeout=10)\n",
            id="module-alias-with-data",
        ),
    ],
)
def test_urlopen_rewrites(before: str, after: str) -> None:
    rewrite(before, after)


@pytest.mark.parametrize(
    ("source", "applies"),
    [
        ("import requests\n", True),
        ("import os, requests as r\n", True),
        ("    from requests import Session\n", True),
        ("from urllib.request import urlopen\n", True),
        ("import os, \\\n    requests\n", True),
        ('"""Runs from the scheduler, not from requests."""\nimport httpx\n', False),
        ("# handles requests\nrequests = []\n", False),
    ],
)
def test_prefilter_needs_an_import_of_requests_or_urlopen(source: str, applies: bool) -> None:
    assert RequestTimeout.applies_to(source.encode()) is applies


def test_seconds_setting() -> None:
    rewrite("import requests\n\nrequests.get(URL)\n", "import requests\n\nrequests.get(URL, timeout=2.5)\n", options={"seconds": 2.5})
    rewrite("import requests\n\nrequests.get(URL)\n", "import requests\n\nrequests.get(URL, timeout=30)\n", options={"seconds": 30})


@pytest.mark.parametrize("value", [0, -1, True, "10", None])
def test_seconds_setting_must_be_a_positive_number(value: Any) -> None:
    with pytest.raises(ConfigError, match="seconds"):
        codemod_options(RequestTimeout, {"seconds": value}, "[tool.auditfix] request-timeout")


def test_findings_say_what_changed() -> None:
    outcome = run_codemod(RequestTimeout, "import requests\n\nhttp = requests.Session()\nrequests.get(URL)\nhttp.post(URL)\n")
    assert [(f.line, f.message) for f in outcome.findings] == [
        (4, "requests.get() had no timeout: timeout=10 added"),
        (5, "http.post() had no timeout: timeout=10 added"),
    ]


# -- declines: left as they are, with a finding -----------------------------------------------------


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        pytest.param(
            "import requests\n\ndef get(url, **kwargs):\n    return requests.get(url, **kwargs)\n",
            "requests.get() forwards **kwargs, which may carry a timeout: none added",
            id="forwards-kwargs",
        ),
        pytest.param(
            "from urllib.request import urlopen\n\ndef fetch(*args):\n    return urlopen(*args)\n",
            "urlopen() takes *args, which may carry the timeout: none added",
            id="urlopen-star-args",
        ),
        pytest.param(
            "import requests\n\nhttp = requests.Session()\nhttp.mount('https://', TimeoutAdapter(timeout=5))\nhttp.get(URL)\n",
            "http.get(): `http` mounts its own adapter, which may set a default timeout: no timeout added",
            id="session-with-its-own-adapter",
        ),
        pytest.param(
            "import requests\n\nresponse = retry(requests.get, URL)\n",
            "requests.get is passed on, not called here: its calls get no timeout",
            id="passed-on-as-a-callable",
        ),
    ],
)
def test_declines(source: str, reason: str) -> None:
    assert declined(noop(source)) == [reason]


# -- no-ops --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        # A timeout is already there, as a keyword or where the API takes it positionally.
        pytest.param("import requests\n\nrequests.get(URL, timeout=5)\n", id="keyword-timeout"),
        pytest.param("import requests\n\nrequests.get(URL, timeout=None)\n", id="explicit-none-is-a-decision"),
        pytest.param("from urllib.request import urlopen\n\nurlopen(URL, None, 5)\n", id="urlopen-positional-timeout"),
        pytest.param(
            "import requests\n\ns = requests.Session()\ns.request('GET', URL, None, None, None, None, None, None, 5)\n",
            id="session-request-positional-timeout",
        ),
        pytest.param("import functools, requests\n\nfetch = functools.partial(requests.get, timeout=5)\n", id="partial-with-timeout"),
        # Clients with a default timeout.
        pytest.param("import httpx\n\nhttpx.get(URL)\nclient = httpx.Client()\nclient.get(URL)\n", id="httpx"),
        pytest.param(
            "import aiohttp\n\nasync def f():\n    async with aiohttp.ClientSession() as session:\n        await session.get(URL)\n",
            id="aiohttp",
        ),
        # Look-alikes: .get on other objects, a parameter named requests, sessions made elsewhere.
        pytest.param("import requests\n\ndef f(data):\n    return data.get('requests')\n", id="dict-get"),
        pytest.param("def reserve(db, requests):\n    return requests.get('sku')\n", id="parameter-named-requests"),
        pytest.param("import requests\nfrom app.http import session\n\nsession.get(URL)\n", id="session-from-another-module"),
        pytest.param(
            "import requests\n\nclass API(requests.Session):\n    pass\n\napi = API()\napi.get(URL)\n",
            id="session-subclass",
        ),
        pytest.param(
            "import requests\n\nhttp = requests.Session()\nhttp = make_client()\nhttp.get(URL)\n",
            id="name-rebound-to-something-else",
        ),
        pytest.param("from sqlalchemy.orm import Session\n\ndb = Session(engine)\ndb.get(Item, 1)\n", id="sqlalchemy-session"),
        pytest.param("import requests\n\nclass C:\n    def f(self):\n        return self.client.get(URL)\n", id="unknown-attribute"),
        pytest.param("import requests\n# requests.get(URL)\nx = 'requests.get(URL)'\n", id="only-in-comments-and-strings"),
    ],
)
def test_noop(source: str) -> None:
    assert noop(source) == []


@pytest.mark.parametrize(
    "source",
    [
        # requests imported for its exceptions only; the calls are of other objects.
        pytest.param(
            "from requests import exceptions as requests_exceptions\n\n"
            "def errors(config):\n    return {requests_exceptions.ConnectionError: config.get('message')}\n",
            id="exceptions-only",
        ),
        # Every HTTP call already has its timeout.
        pytest.param(
            "import requests\nfrom urllib import request\n\nrequests.get(URL, timeout=5)\n"
            "request.urlopen(URL, timeout=5)\nrequests.Session().post(URL, timeout=5)\n",
            id="every-call-has-a-timeout",
        ),
        # get() on names in a module that creates no session: dictionaries.
        pytest.param("import requests\n\ndef f(row, self):\n    return row.get('id'), self.cache.get(row)\n", id="no-session-created"),
    ],
)
def test_files_without_a_possible_finding_are_never_parsed(source: str) -> None:
    plan = make_plan(RequestTimeout, {"app/client.py": source})
    outcome = transform_source("app/client.py", source.encode(), plan)
    assert outcome.status == FILTERED
    assert_precheck_invisible(outcome, transform_source("app/client.py", source.encode(), plan, precheck=False))


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("import requests\n\nclass C:\n    def __init__(self):\n        self.http = requests.Session()\n\n"
                     "    def f(self):\n        return self.http.get(URL)\n", id="session-attribute"),
        pytest.param("import requests\n\nwith requests.Session() as s:\n    s.get(URL)\n", id="session-of-a-with"),
        pytest.param("import requests\n\npool.submit(requests.get, URL)\n", id="reference-passed-on"),
        pytest.param("from requests import get\n\npool.submit(get, URL)\n", id="imported-function-passed-on"),
        pytest.param("import urllib.request as ur\n\nur.urlopen(URL)\n", id="urllib-under-an-alias"),
        pytest.param("import requests.api\n\nrequests.api.get(URL)\n", id="requests-api"),
    ],
)
def test_the_pre_check_lets_every_http_call_through(source: str) -> None:
    outcome = run_codemod(RequestTimeout, source, path="app/client.py")
    assert outcome.status != FILTERED and outcome.findings


# -- behaviour: the timeout reaches the HTTP layer ----------------------------------------------------

CLIENT_MODULE = '''
import urllib.request

import requests
from requests import post

http = requests.Session()


class Supplier:
    def __init__(self):
        self.session = requests.Session()

    def catalogue(self, url):
        return self.session.get(url).text


def fetch(url):
    return requests.get(url).text


def push(url, payload):
    return post(url, json=payload).status_code


def via_session(url):
    return http.request("GET", url).text


def already_bounded(url):
    return requests.get(url, timeout=3).text


def legacy(url):
    with urllib.request.urlopen(url) as response:
        return response.read().decode()
'''


@pytest.fixture(scope="module")
def client_modules() -> tuple[types.ModuleType, types.ModuleType]:
    outcome = run_codemod(RequestTimeout, CLIENT_MODULE, options={"seconds": 7})
    assert outcome.status == CHANGED
    modules = []
    for name, source in (("original", CLIENT_MODULE), ("rewritten", outcome.new_source.decode())):
        module = types.ModuleType(name)
        exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), module.__dict__)
        modules.append(module)
    return modules[0], modules[1]


def test_requests_calls_send_the_timeout(client_modules, monkeypatch: pytest.MonkeyPatch) -> None:
    original, rewritten = client_modules
    seen: list[Any] = []

    def fake_send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        seen.append(kwargs.get("timeout"))
        response = requests.Response()
        response.status_code, response._content, response.url = 200, b"ok", request.url
        return response

    monkeypatch.setattr(requests.Session, "send", fake_send)
    calls = [
        lambda m: m.fetch("http://supplier.invalid/a"),
        lambda m: m.push("http://supplier.invalid/b", {"x": 1}),
        lambda m: m.via_session("http://supplier.invalid/c"),
        lambda m: m.Supplier().catalogue("http://supplier.invalid/d"),
        lambda m: m.already_bounded("http://supplier.invalid/e"),
    ]
    results = [[call(module) for call in calls] for module in (original, rewritten)]
    assert results[0] == results[1]  # same answers
    assert seen == [None, None, None, None, 3, 7, 7, 7, 7, 3]


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    """Accepts the connection, then answers only after the client has given up (or on /fast)."""

    release = threading.Event()

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path != "/fast":
            self.release.wait(10)
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _SlowHandler.release.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        _SlowHandler.release.set()
        server.shutdown()
        server.server_close()


def test_calls_to_a_server_that_never_answers_now_time_out(slow_server: str) -> None:
    outcome = run_codemod(RequestTimeout, CLIENT_MODULE, options={"seconds": 0.3})
    rewritten = types.ModuleType("rewritten")
    exec(compile(outcome.new_source.decode(), "<rewritten>", "exec"), rewritten.__dict__)
    assert rewritten.fetch(slow_server + "/fast") == "hello"
    assert rewritten.legacy(slow_server + "/fast") == "hello"
    with pytest.raises(requests.exceptions.Timeout):
        rewritten.fetch(slow_server + "/slow")
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        rewritten.legacy(slow_server + "/slow")
