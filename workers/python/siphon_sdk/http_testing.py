"""``HttpTestHarness``: load a script and send it requests, exactly as ``siphon-deno serve``
would handle them — the same router (typed parameters, 404/405/400), limits (413), bridge,
middleware chain and error handling (500 with the traceback in the log) — without sockets.
Outbound ``http.Client`` calls are answered from canned responses and recorded; any client name
is answered. ``harness.cache`` and ``harness.log`` are siphon-http's test helpers.

Example::

    from siphon_sdk.http_testing import HttpTestHarness
    from siphon_sdk.http import MockResponse

    def test_user():
        harness = HttpTestHarness()
        harness.add_response(MockResponse(status=200, body=b'{"name": "ada"}'))
        harness.load_script("app.py")          # beside this test file, else the working folder
        harness.cache.set_data("users", {"42": "ada"})
        resp = harness.request("GET", "/users/42")
        assert resp.status == 200
        assert harness.sent_requests[0]["url"] == "https://api.example.com/users/42"
"""

import json
import os
import sys
from urllib.parse import urlencode

from pyodide.ffi import JsException, run_sync, to_js

from siphon import _bridge, _runtime
from siphon._contract import host
from siphon.http import WebSocketClosed
from siphon_sdk import _mocks
from siphon_sdk.http import MockResponse

_active = None  # the harness made last (its log is shown with a failing test)


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


class HttpTestHarness:
    """Loads a script and dispatches requests through siphon-deno's own request path.

    ``config`` is an http.yaml path (relative to the test file) or a dict with http.yaml's keys
    (``servers``, ``clients``, ``cache``, ``routes`` …; ``script`` is filled in by
    ``load_script``). Without it, ``load_script`` uses the http.yaml beside the script when that
    file's ``script:`` names it, else defaults. Making a harness clears what earlier ones
    recorded, as siphon-http's does.
    """

    def __init__(self, config=None):
        global _active
        if isinstance(config, dict):
            self._config, self._inline = None, dict(config)
        else:
            self._config, self._inline = (self._resolve(config) if config else None), None
        self._loaded = None
        _mocks.reset()
        _mocks.patch()
        _active = self

    # -- siphon-http's test helpers --------------------------------------------------------

    @property
    def http(self):
        """The ``http`` namespace of the test: canned answers (``add_response``,
        ``set_response``, ``set_default_response``) and ``sent_requests``."""
        return _mocks.HTTP

    @property
    def sent_requests(self):
        """Outbound calls made, in order: dicts of ``method``, ``url``, ``path``, ``name``,
        ``base_url``, ``headers`` (as the script gave them) and ``body`` (bytes)."""
        return _mocks.HTTP.sent_requests

    @property
    def cache(self):
        """``siphon.cache`` with ``set_data(name, data)`` and ``clear()``."""
        return _mocks.CACHE

    @property
    def log(self):
        """The captured log: ``harness.log.messages`` is a list of ``(level, message)``."""
        return _mocks.LOG

    @property
    def logs(self):
        """``harness.log.messages``."""
        return _mocks.LOG.messages

    def add_response(self, response):
        """Answer the next outbound ``http.Client`` call with ``response`` (first in, first
        out); an exception instead (``http.ClientError("connection refused")``) is raised by
        that call, as an unreachable upstream would."""
        _mocks.HTTP.add_response(response)

    def set_response(self, path, response):
        """Answer calls to ``path`` (as the script passed it, or the full URL) with
        ``response`` once the queue is empty."""
        _mocks.HTTP.set_response(path, response)

    def set_default_response(self, response):
        """Answer any other call with ``response`` (otherwise: 200 with an empty body)."""
        _mocks.HTTP.set_default_response(response)

    # -- loading ----------------------------------------------------------------------------

    def _resolve(self, path):
        return path if os.path.isabs(path) else os.path.normpath(
            os.path.join(_caller_folder(), path))

    def _script_path(self, path):
        """A relative path is looked for beside the test file first, then in the working folder
        (where siphon-http's harness looks, and where a test under tests/ finds its project's
        script): a test run from another project's folder must not load that project's
        ``app.py``."""
        if os.path.isabs(path):
            return os.path.normpath(path)
        tried = [self._resolve(path), os.path.normpath(os.path.join(os.getcwd(), path))]
        return next((p for p in tried if os.path.exists(p)), tried[1])

    def load_script(self, path, config=None):
        """Load the script at ``path`` (absolute, or relative to the test file, else to the
        working folder) with its routes from decorators and from http.yaml (``config``, or the
        one given to the harness, or the http.yaml beside the script that names it). Raises
        :class:`ScriptLoadError` with the position of the problem."""
        global _active
        _active = self
        script = self._script_path(str(path))
        config = self._resolve(config) if config else self._config
        inline = None
        if self._inline is not None and not config:
            inline = json.dumps({"servers": [{"listen": "127.0.0.1:8080"}], **self._inline,
                                 "script": script})
        try:
            # ${VAR} in http.yaml expands from os.environ as the test left it (monkeypatch)
            summary = run_sync(host.harness.load(json.dumps({
                "script": script, "config": config, "inline": inline, "env": dict(os.environ),
            })))
        except JsException as exc:
            raise ScriptLoadError(str(exc).removeprefix("Error: ")) from None
        self._loaded = json.loads(summary)
        _mocks.CACHE._forget_made()
        _mocks.patch()
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
        headers = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.setdefault("content-type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        if query_params:
            path += ("&" if "?" in path else "?") + urlencode(query_params)
        _bridge.override_path_params(dict(path_params) if path_params is not None else None)
        call = {"method": method.upper(), "target": path, "headers": list(headers.items()),
                "client": client}
        try:
            answer = run_sync(host.harness.request(
                json.dumps(call), to_js(bytes(body)) if body is not None else None))
        except JsException as exc:
            raise ValueError(str(exc).removeprefix("Error: ")) from None
        finally:
            _bridge.override_path_params(None)
        return MockResponse(answer.status, dict(json.loads(answer.headers)),
                            answer.body.to_bytes())

    def websocket(self, path, *, headers=None, subprotocols=None, client="127.0.0.1:0"):
        """Open a WebSocket to ``path`` through the served request path (routing, guard
        middleware, the handler's accept). Returns a :class:`WebSocketSession`; when the upgrade
        is refused (a guard's 401, the handler closing first, no websocket route), the session
        is not ``accepted`` and ``session.response`` is the answer."""
        self._need_script()
        headers = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        if subprotocols:
            headers["sec-websocket-protocol"] = ", ".join(subprotocols)
        try:
            got = run_sync(host.harness.websocket(json.dumps({
                "target": path, "headers": list(headers.items()), "client": client})))
        except JsException as exc:
            raise ValueError(str(exc).removeprefix("Error: ")) from None
        if hasattr(got, "status"):
            return WebSocketSession(None, MockResponse(got.status, dict(json.loads(got.headers)),
                                                       got.body.to_bytes()))
        return WebSocketSession(got, None)

    def reset(self):
        """Forget recorded requests, canned responses, log lines and cached data."""
        _mocks.reset()

    def close(self):
        """Nothing to release; kept for siphon-http SDK compatibility."""


class WebSocketSession:
    """A test's end of a WebSocket (``harness.websocket(...)``). ``send`` hands a message to
    the handler; ``receive`` runs the handler until it sends one (or closes: then
    ``WebSocketClosed``). Usable as a context manager, which closes it."""

    def __init__(self, end, response):
        self._end = end
        #: The refusal when the upgrade was not accepted, else None.
        self.response = response

    @property
    def accepted(self):
        """Whether the handler accepted the upgrade."""
        return self._end is not None

    @property
    def subprotocol(self):
        """The subprotocol the handler accepted with, or None."""
        return (self._end.protocol or None) if self._end else None

    @property
    def close_code(self):
        """The close code once closed (by either side), else None."""
        return (self._end.closeCode or None) if self._end else None

    @property
    def close_reason(self):
        return self._end.closeReason if self._end else ""

    def _need_open(self):
        if self._end is None:
            raise RuntimeError(f"the upgrade was refused with {self.response.status}; "
                               "check session.accepted first")

    def send(self, message):
        """Send ``str`` (text frame) or ``bytes`` (binary frame) to the handler."""
        self._need_open()
        if isinstance(message, (bytes, bytearray, memoryview)):
            message = to_js(bytes(message))
        elif not isinstance(message, str):
            raise TypeError(f"send takes str or bytes, got {type(message).__name__}")
        if not self._end.put(message):
            raise WebSocketClosed(self.close_code or 1006, self.close_reason)

    def receive(self, timeout=5.0):
        """The handler's next message (``str`` or ``bytes``). Raises ``WebSocketClosed`` once
        the socket is closed, ``TimeoutError`` when nothing comes within ``timeout`` seconds."""
        self._need_open()
        try:
            got = run_sync(self._end.get(timeout * 1000))
        except JsException as exc:
            raise TimeoutError(str(exc).removeprefix("Error: ")) from None
        if got is None:
            raise WebSocketClosed(self.close_code, self.close_reason)
        return got if isinstance(got, str) else got.to_bytes()

    def receive_json(self, timeout=5.0):
        """``receive``, parsed as JSON."""
        return json.loads(self.receive(timeout))

    def close(self, code=1000, reason=""):
        """Close from the client's side; the handler's ``async for`` ends."""
        if self._end is not None and not self._end.closeCode:
            run_sync(self._end.shut(code, reason))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
