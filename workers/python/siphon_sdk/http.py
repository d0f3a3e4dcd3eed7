"""Responses for tests: canned answers for outbound ``http.Client`` calls, and what
``HttpTestHarness.request`` returns. Same names and behaviour as siphon-http's SDK."""

import json as _json


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
