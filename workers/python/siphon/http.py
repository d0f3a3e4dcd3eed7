"""``siphon.http``: routes, middleware, lifecycle hooks, Request and Response.

Compatible with siphon-http scripts. Registration only records what the script declares; the
worker compiles the route table (TypeScript) and ``siphon._bridge`` dispatches to it.
"""

import inspect

__all__ = [
    "route", "middleware", "on_startup", "on_shutdown", "Request", "Response", "HTTPStatusError",
]

_routes = []        # (path, [METHODS], func, "file:line")
_middlewares = []   # guard functions, registration order
_startup = []
_shutdown = []


def _where(fn):
    code = getattr(fn, "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code else repr(fn)


def route(path, methods=None):
    """Register the decorated function for ``path`` (a template such as ``/users/{id:int}``).

    ``methods`` defaults to ``["GET"]``; names are upper-cased.
    """
    if isinstance(methods, str):
        methods = [methods]
    wanted = [str(m).upper() for m in (methods or ["GET"])]

    def register(fn):
        if not callable(fn):
            raise TypeError(f"@http.route({path!r}) must decorate a function, got {fn!r}")
        _routes.append((path, wanted, fn, _where(fn)))
        return fn

    return register


def middleware(fn):
    """Register a request guard: it gets the Request and returns None to continue or a Response
    to answer at once. Guards run in registration order, before every handler."""
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(params) >= 2:
        raise TypeError(
            f"@http.middleware {fn.__qualname__} ({_where(fn)}) takes (req, call_next): "
            "wrap-around middleware is not in this version yet; use a one-parameter guard")
    _middlewares.append(fn)
    return fn


def on_startup(fn):
    """Run ``fn()`` (sync or async) once per worker before that worker accepts requests."""
    _startup.append(fn)
    return fn


def on_shutdown(fn):
    """Run ``fn()`` (sync or async) when the worker stops."""
    _shutdown.append(fn)
    return fn


class HTTPStatusError(Exception):
    """Raised by ``Response.raise_for_status()`` for a 4xx or 5xx status."""

    def __init__(self, response):
        super().__init__(f"HTTP status {response.status}")
        self.response = response
        self.status = response.status


class Response:
    """An HTTP response. ``body`` may be bytes-like or str (sent as UTF-8)."""

    __slots__ = ("status", "headers", "body", "_text")

    def __init__(self, status=200, headers=None, body=None):
        self.status = status
        self.headers = dict(headers) if headers else {}
        self._text = isinstance(body, str)
        if body is None:
            body = b""
        elif self._text:
            body = body.encode("utf-8")
        elif isinstance(body, (bytearray, memoryview)):
            body = bytes(body)
        elif not isinstance(body, bytes):
            raise TypeError(f"Response body must be bytes or str, got {type(body).__name__}")
        self.body = body

    def raise_for_status(self):
        """Raise ``HTTPStatusError`` when the status is 400 or above."""
        if self.status >= 400:
            raise HTTPStatusError(self)
        return self

    def __repr__(self):
        return f"<Response {self.status} {len(self.body)} bytes>"


def _pairs(section):
    if not section:
        return {}
    if section[0] == "\x02":
        import json
        it = iter(json.loads(section[1:]))
    else:
        it = iter(section.split("\0"))
    return dict(zip(it, it))


def _utf8(value):
    # Deno hands header bytes over as latin-1 characters. Most clients send UTF-8: decode it as
    # such, and keep the latin-1 reading for bytes that are not valid UTF-8.
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _fix_latin1(headers):
    return {k: _utf8(v) for k, v in headers.items()}


class Request:
    """An incoming request. ``headers`` has lower-case keys; ``client`` is ``"ip:port"``."""

    __slots__ = ("method", "path", "client", "path_params", "_q", "_query", "_h", "_headers",
                 "_body")

    def __init__(self, method, path, client, path_params, query, headers, body):
        self.method = method
        self.path = path
        self.client = client
        self.path_params = path_params
        self._q = query
        self._query = None
        self._h = headers
        self._headers = None
        self._body = body

    @property
    def query_params(self):
        """Decoded query parameters; a repeated key keeps its last value, a bare key is ``""``."""
        if self._query is None:
            self._query = _pairs(self._q)
        return self._query

    @property
    def headers(self):
        """Request headers as a dict with lower-case names."""
        if self._headers is None:
            h = _pairs(self._h)
            self._headers = h if self._h.isascii() else _fix_latin1(h)
        return self._headers

    def header(self, name, default=None):
        """The value of header ``name`` (any case), or ``default``."""
        return self.headers.get(name.lower(), default)

    def body(self):
        """The whole request body as bytes (``b""`` when there is none)."""
        return self._body

    def __repr__(self):
        return f"<Request {self.method} {self.path}>"
