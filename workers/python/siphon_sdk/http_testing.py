"""``HttpTestHarness``: load a script and send it requests, exactly as ``siphon-deno serve``
would handle them — the same router (typed parameters, 404/405/400), limits (413), bridge,
middleware chain and error handling (500 with the traceback in the log) — without sockets.
Outbound ``http.Client`` calls are answered from canned responses and recorded.

Example::

    from siphon_sdk.http_testing import HttpTestHarness
    from siphon_sdk.http import MockResponse

    def test_user():
        harness = HttpTestHarness()
        harness.add_response(MockResponse(status=200, body=b'{"name": "ada"}'))
        harness.load_script("app.py")          # relative to this test file
        resp = harness.request("GET", "/users/42")
        assert resp.status == 200
        assert harness.sent_requests[0]["url"] == "https://api.example.com/users/42"
"""

import json
import os
import sys
from collections import deque
from urllib.parse import urlencode, urlsplit

from pyodide.ffi import JsException, run_sync, to_js

import siphon_sdk
from siphon import _bridge, _client, _response, _runtime, http, log
from siphon_sdk.http import MockResponse

_active = None  # the harness whose canned responses answer http.Client calls


class ScriptLoadError(Exception):
    """The script or its http.yaml could not be loaded; the message says where and why."""


def _caller_folder():
    """The folder of the test file that called into the harness."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_globals.get("__file__") or ""
        if name and "/siphon_sdk/" not in name:
            return os.path.dirname(os.path.abspath(name))
        frame = frame.f_back
    return os.getcwd()


async def _send_canned(client, method, path, url, headers, body, stream=False):
    harness = _active
    if harness is None:
        raise http.ClientError(f"{method} {url}: no HttpTestHarness is active to answer it")
    harness.sent_requests.append({
        "method": method, "url": url, "path": path, "name": client.name,
        "base_url": client.base_url, "headers": dict(headers), "body": body or b"",
    })
    canned = harness._next_response(path, url)
    if isinstance(canned, BaseException):
        raise canned
    data = canned.body
    return canned.status, dict(canned.headers), _response._Buffered(data) if stream else data


class HttpTestHarness:
    """Loads a script and dispatches requests through siphon-deno's own request path.

    ``config`` is an http.yaml path (relative to the test file); without it, ``load_script``
    uses the http.yaml beside the script when that file's ``script:`` names it, else defaults.
    """

    def __init__(self, config=None):
        global _active
        self.sent_requests = []
        self.logs = []
        self._config = self._resolve(config) if config else None
        self._queue = deque()
        self._by_path = {}
        self._default = None
        self._loaded = None
        _active = self
        _client._send = _send_canned
        log._sink = self._log

    # -- canned answers for outbound http.Client calls -------------------------------------

    @property
    def http(self):
        """The harness itself (``harness.http.add_response(...)`` as in siphon-http's SDK)."""
        return self

    def add_response(self, response):
        """Answer the next outbound ``http.Client`` call with ``response`` (first in, first
        out); an exception instead (``http.ClientError("connection refused")``) is raised by
        that call, as an unreachable upstream would."""
        self._queue.append(response)

    def set_response(self, path, response):
        """Answer calls to ``path`` (as the script passed it, or the full URL) with
        ``response`` once the queue is empty."""
        self._by_path[path] = response

    def set_default_response(self, response):
        """Answer any other call with ``response`` (otherwise: 200 with an empty body)."""
        self._default = response

    def _next_response(self, path, url):
        if self._queue:
            return self._queue.popleft()
        for key in (path, url, urlsplit(url).path):
            if key in self._by_path:
                return self._by_path[key]
        return self._default or MockResponse(200, body=b"")

    # -- loading ----------------------------------------------------------------------------

    def _resolve(self, path):
        return path if os.path.isabs(path) else os.path.normpath(
            os.path.join(_caller_folder(), path))

    def load_script(self, path, config=None):
        """Load the script at ``path`` (relative to the test file) with its routes from
        decorators and from http.yaml (``config``, or the http.yaml beside it that names it).
        Raises :class:`ScriptLoadError` with the position of the problem."""
        global _active
        _active = self
        script = self._resolve(path)
        config = self._resolve(config) if config else self._config
        try:
            # ${VAR} in http.yaml expands from os.environ as the test left it (monkeypatch)
            summary = run_sync(siphon_sdk._host.load(script, config, json.dumps(dict(os.environ))))
        except JsException as exc:
            raise ScriptLoadError(str(exc).removeprefix("Error: ")) from None
        self._loaded = json.loads(summary)
        log._sink = self._log
        _client._send = _send_canned
        return self

    def load_source(self, source, name="script.py"):
        """Load a script given as text (written to a temporary folder first)."""
        folder = f"/tmp/siphon_sdk_{len(self.sent_requests)}_{id(self)}"
        os.makedirs(folder, exist_ok=True)
        with open(f"{folder}/{name}", "w") as f:
            f.write(source)
        return self.load_script(f"{folder}/{name}")

    @property
    def routes(self):
        """The served route table: ``[(methods, template, source)…]``."""
        self._need_script()
        return [tuple(r) for r in self._loaded["routes"]]

    def _need_script(self):
        if self._loaded is None:
            raise RuntimeError("HttpTestHarness: call load_script() first")

    def run_startup(self):
        """Run the script's ``@http.on_startup`` hooks, as a worker does before it serves."""
        self._need_script()
        try:
            run_sync(_runtime.startup())
        except _runtime.ScriptError as exc:
            raise ScriptLoadError(str(exc)) from None

    def run_shutdown(self):
        """Run the script's ``@http.on_shutdown`` hooks (failures are logged)."""
        self._need_script()
        run_sync(_runtime.shutdown())

    # -- requests ---------------------------------------------------------------------------

    def request(self, method="GET", path="/", *, headers=None, query_params=None,
                path_params=None, body=None, client="127.0.0.1:0"):
        """Send one request through the served request path; returns a :class:`MockResponse`.

        ``path`` may carry a query string; ``query_params`` (a dict) is added to it. ``body``
        is bytes, str, or a dict/list (sent as JSON with ``content-type: application/json``).
        ``path_params`` replaces the parameters the router extracted (for handlers tested
        apart from their template)."""
        self._need_script()
        global _active
        _active = self
        headers = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.setdefault("content-type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        if query_params:
            path += ("&" if "?" in path else "?") + urlencode(query_params)
        _bridge._override_params = dict(path_params) if path_params is not None else None
        try:
            answer = run_sync(siphon_sdk._host.request(
                method.upper(), path, json.dumps(list(headers.items())),
                to_js(bytes(body)) if body is not None else None, client))
        except JsException as exc:
            raise ValueError(str(exc).removeprefix("Error: ")) from None
        finally:
            _bridge._override_params = None
        return MockResponse(answer.status, dict(json.loads(answer.headers)),
                            answer.body.to_bytes())

    # -- the log ----------------------------------------------------------------------------

    def _log(self, level, text, request_id=""):
        self.logs.append((level, text))
        siphon_sdk._host.log(level, text)

    def reset(self):
        """Forget recorded requests, canned responses and log lines."""
        self.sent_requests.clear()
        self.logs.clear()
        self._queue.clear()
        self._by_path.clear()
        self._default = None

    def close(self):
        """Nothing to release; kept for siphon-http SDK compatibility."""
