"""Responses for tests: canned answers for outbound ``http.Client`` calls, and what
``HttpTestHarness.request`` returns. Same names and behaviour as siphon-http's SDK."""

import json as _json

import siphon.http as _siphon_http
from siphon.http import Client as MockClient  # under a harness its calls get canned answers

__all__ = ["HttpStatusError", "MockResponse", "MockRequest", "MockHttp", "MockClient"]


class HttpStatusError(Exception):
    """Raised by :meth:`MockResponse.raise_for_status` for a status of 400 or above."""


def _as_bytes(value):
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (dict, list)):
        return _json.dumps(value).encode("utf-8")
    return bytes(value)


class MockResponse:
    """An HTTP response in a test: ``status``, ``headers`` (a dict with lower-case names),
    ``body`` (bytes; give bytes, str, or a dict/list to send as JSON)."""

    def __init__(self, status=200, headers=None, body=None):
        self.status = status
        self.headers = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        if isinstance(body, (dict, list)) and "content-type" not in self.headers:
            self.headers["content-type"] = "application/json"
        self._body = _as_bytes(body)

    @property
    def body(self):
        """The body as bytes."""
        return self._body

    @property
    def text(self):
        """The body decoded as UTF-8."""
        return self._body.decode("utf-8")

    def json(self):
        """The body parsed as JSON."""
        return _json.loads(self._body)

    def header(self, name, default=None):
        """A header by name, in any case; ``default`` when absent."""
        return self.headers.get(name.lower(), default)

    def raise_for_status(self):
        """Raise :class:`HttpStatusError` when the status is 400 or above; else return self."""
        if self.status >= 400:
            raise HttpStatusError(f"HTTP status {self.status}")
        return self

    def __repr__(self):
        return f"MockResponse(status={self.status}, body_len={len(self._body)})"


class MockRequest:
    """A request as a test describes it (kept for scripts that build one by hand)."""

    def __init__(self, *, method="GET", path="/", path_params=None, query_params=None,
                 headers=None, client="127.0.0.1:0", body=b""):
        self.method = method.upper()
        self.path = path
        self.path_params = dict(path_params or {})
        self.query_params = dict(query_params or {})
        self.headers = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        self.client = client
        self._body = _as_bytes(body)

    def body(self):
        return self._body

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)


class MockHttp:
    """The ``http`` namespace of a test, as siphon-http's SDK has it: the decorators and types of
    the real ``siphon.http`` (``route``, ``middleware``, ``on_startup``, ``Request``,
    ``Response``, ``Client``), plus the canned answers for outbound ``http.Client`` calls and the
    record of what was sent. ``harness.http`` and ``mock_module.get_http()`` return the one
    instance of a test run."""

    def __init__(self):
        from collections import deque
        self.sent_requests = []
        self._queue = deque()
        self._by_path = {}
        self._default = None

    def __getattr__(self, name):
        # route, middleware, on_startup, on_shutdown, Request, Response, Client, ClientError...
        return getattr(_siphon_http, name)

    def clear(self):
        """Forget recorded requests and canned responses."""
        self.sent_requests.clear()
        self._queue.clear()
        self._by_path.clear()
        self._default = None

    def add_response(self, response):
        """Answer the next outbound call with ``response`` (first in, first out); an exception
        instead (``http.ClientError("connection refused")``) is raised by that call, as an
        unreachable upstream would."""
        self._queue.append(response)

    def set_response(self, path, response):
        """Answer calls to ``path`` (as the script passed it, or the full URL) with
        ``response`` once the queue is empty."""
        self._by_path[path] = response

    def set_default_response(self, response):
        """Answer any other call with ``response`` (otherwise: 200 with an empty body)."""
        self._default = response

    def _next_response(self, path, url=None):
        from urllib.parse import urlsplit
        if self._queue:
            return self._queue.popleft()
        for key in (path, url, urlsplit(url or path).path):
            if key in self._by_path:
                return self._by_path[key]
        return self._default or MockResponse(200, body=b"")
