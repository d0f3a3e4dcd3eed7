"""``siphon.http``: routes, middleware, lifecycle hooks, Request and Response.

Compatible with siphon-http scripts. Registration only records what the script declares; the
worker compiles the route table (TypeScript) and ``siphon._bridge`` dispatches to it.
"""

import inspect

__all__ = [
    "route", "middleware", "on_startup", "on_shutdown", "Request", "Response", "HTTPStatusError",
    "Client", "ClientError",
]

_routes = []        # (path, [METHODS], func, "file:line")
_middlewares = []   # guard functions, registration order
_startup = []
_shutdown = []
_clients = {}       # name -> settings from http.yaml `clients:` (set by siphon._runtime)
_fetch = None       # the worker's outbound fetch (set by siphon._runtime)


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
        source = f" from {response._source}" if response._source else ""
        super().__init__(f"HTTP status {response.status}{source}")
        self.response = response
        self.status = response.status


class Response:
    """An HTTP response. ``body`` may be bytes-like or str (sent as UTF-8)."""

    __slots__ = ("status", "headers", "body", "_text", "_source")

    def __init__(self, status=200, headers=None, body=None):
        self._source = None
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
                 "_body", "_cert", "request_id")

    def __init__(self, method, path, client, path_params, query, headers, body, cert="",
                 request_id=""):
        self.method = method
        self.path = path
        self.client = client
        self.path_params = path_params
        self._q = query
        self._query = None
        self._h = headers
        self._headers = None
        self._body = body
        self._cert = cert
        #: The id this request's log lines carry (the client's X-Request-Id when well formed).
        self.request_id = request_id

    @property
    def client_cert(self):
        """The verified client certificate on a mutual-TLS listener — a dict with ``subject``,
        ``issuer`` (dicts of name fields), ``serial``, ``fingerprint256``, ``valid_from``,
        ``valid_to`` — or None on other listeners."""
        if not self._cert:
            return None
        if isinstance(self._cert, str):
            import json
            self._cert = json.loads(self._cert)
        return self._cert

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


async def _send_with_deno(client, method, path, url, headers, body):
    """How ``Client`` sends in a server: Deno's fetch in the worker. Returns ``(status, headers,
    body)``. (The test harness puts canned answers in its place.)"""
    import json
    from pyodide.ffi import JsException, to_js
    payload = to_js(body) if body is not None else None
    try:
        result = await _fetch(client._spec, method, url, json.dumps(list(headers.items())),
                              payload, client.timeout_ms)
    except JsException as exc:
        raise ClientError(str(exc).removeprefix("Error: ")) from None
    return result.status, dict(json.loads(result.headers)), result.body.to_bytes()


_send = _send_with_deno


class ClientError(Exception):
    """An outbound request failed before a response: timeout, refused connection, TLS error.
    The message names the method and URL."""


class Client:
    """An outbound HTTP client, run by Deno's fetch in the worker.

    ``Client("name")`` uses ``clients.name`` from http.yaml; keyword arguments (``base_url``,
    ``verify``, ``cert``, ``key``, ``timeout_ms``, ``pool_size``, ``http2_prior_knowledge``)
    define one inline or override the named settings. Clients with the same connection
    settings share one connection pool per worker.
    """

    def __init__(self, name=None, *, base_url=None, timeout_ms=None, verify=None, cert=None,
                 key=None, pool_size=None, http2_prior_knowledge=None, headers=None):
        settings = {"base_url": base_url, "timeout_ms": timeout_ms, "verify": verify,
                    "cert": cert, "key": key, "pool_size": pool_size,
                    "http2_prior_knowledge": http2_prior_knowledge, "headers": headers}
        if name is not None:
            if name not in _clients:
                known = ", ".join(sorted(_clients)) or "none"
                raise LookupError(f"http.Client({name!r}): no such client in http.yaml "
                                  f"`clients:` (configured: {known})")
            base = dict(_clients[name])
        else:
            base = {}
        base.update({k: v for k, v in settings.items() if v is not None})
        self.name = name
        self.base_url = base.get("base_url")
        self.timeout_ms = int(base.get("timeout_ms") or 5000)
        self.headers = dict(base.get("headers") or {})
        import json
        self._spec = json.dumps({k: base.get(k) for k in
                                 ("verify", "cert", "key", "pool_size", "http2_prior_knowledge")},
                                sort_keys=True)

    def _url(self, path):
        if "://" in path:
            return path
        if not self.base_url:
            raise ValueError(f"http.Client: {path!r} is relative and the client has no base_url")
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    async def request(self, method, path, *, body=None, headers=None):
        """Send one request; returns an ``http.Response``. Raises ``ClientError`` (with the
        URL) when no response arrives."""
        url = self._url(path)
        merged = {**self.headers, **(headers or {})}
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif body is not None:
            body = bytes(body)
        status, got, data = await _send(self, method, path, url, merged, body)
        resp = Response(status, got, data)
        resp._source = f"{method} {url}"
        return resp

    async def get(self, path, *, body=None, headers=None):
        return await self.request("GET", path, body=body, headers=headers)

    async def post(self, path, *, body=None, headers=None):
        return await self.request("POST", path, body=body, headers=headers)

    async def put(self, path, *, body=None, headers=None):
        return await self.request("PUT", path, body=body, headers=headers)

    async def patch(self, path, *, body=None, headers=None):
        return await self.request("PATCH", path, body=body, headers=headers)

    async def delete(self, path, *, body=None, headers=None):
        return await self.request("DELETE", path, body=body, headers=headers)

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return False

    def __repr__(self):
        return f"<http.Client {self.name or self.base_url!r}>"
