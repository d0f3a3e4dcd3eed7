"""``siphon.http``: routes, middleware, lifecycle hooks, Request and Response.

Compatible with siphon-http scripts. Registration only records what the script declares; the
worker compiles the route table (TypeScript) and ``siphon._bridge`` dispatches to it.
"""

import inspect

__all__ = [
    "route", "middleware", "on_startup", "on_shutdown", "Request", "Response", "HTTPStatusError",
    "Client", "ClientError", "PayloadTooLarge",
]

_routes = []        # (path, [METHODS], func, "file:line", stream)
_middlewares = []   # guard functions, registration order
_startup = []
_shutdown = []
_clients = {}       # name -> settings from http.yaml `clients:` (set by siphon._runtime)
_fetch = None       # the worker's outbound fetch (set by siphon._runtime)
_fetch_stream = None  # the same, returning at the response head (body read by _read_stream)
_read_stream = None
_close_stream = None


def _where(fn):
    code = getattr(fn, "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code else repr(fn)


def route(path, methods=None, stream=False):
    """Register the decorated function for ``path`` (a template such as ``/users/{id:int}``).

    ``methods`` defaults to ``["GET"]``; names are upper-cased. ``stream=True`` hands the
    handler the request before its body is read: read it with ``async for chunk in
    req.stream()`` (``req.body()`` is then an error).
    """
    if isinstance(methods, str):
        methods = [methods]
    wanted = [str(m).upper() for m in (methods or ["GET"])]

    def register(fn):
        if not callable(fn):
            raise TypeError(f"@http.route({path!r}) must decorate a function, got {fn!r}")
        _routes.append((path, wanted, fn, _where(fn), bool(stream)))
        return fn

    return register


def middleware(fn):
    """Register a middleware, run before every handler in registration order.

    ``fn(req)`` is a guard: it returns None to continue or a Response to answer at once.
    ``fn(req, call_next)`` wraps the rest: ``resp = await call_next(req)`` runs the later
    middlewares and the handler (their exceptions reach it); it returns that response, changed
    or not, or its own."""
    if not callable(fn):
        raise TypeError(f"@http.middleware must decorate a function, got {fn!r}")
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


class PayloadTooLarge(Exception):
    """A streamed request body went past the listener's ``max_body_bytes``. Not caught, it
    answers 413."""


class HTTPStatusError(Exception):
    """Raised by ``Response.raise_for_status()`` for a 4xx or 5xx status."""

    def __init__(self, response):
        source = f" from {response._source}" if response._source else ""
        super().__init__(f"HTTP status {response.status}{source}")
        self.response = response
        self.status = response.status


def _is_stream(body):
    """A body sent as it is produced: an async iterator, or an iterator (a generator)."""
    return hasattr(body, "__aiter__") or (
        hasattr(body, "__iter__") and not isinstance(body, (dict, set, frozenset)))


def _as_body(body):
    """A response body as it is sent: bytes for a whole one (``str`` as UTF-8, ``None`` empty),
    the iterator itself for a streamed one."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if _is_stream(body):
        return body
    raise TypeError("Response body must be bytes, str, or an iterator or async iterator "
                    f"of them, got {type(body).__name__}")


class Response:
    """An HTTP response. ``body`` may be bytes-like or str (sent as UTF-8), or an iterator or
    async iterator of them, sent as it is produced (chunked, or HTTP/2 data frames)."""

    __slots__ = ("status", "headers", "body", "_text", "_source")

    def __init__(self, status=200, headers=None, body=None):
        self._source = None
        self.status = status
        self.headers = dict(headers) if headers else {}
        kind = type(body)
        if kind is str:  # the common cases inline: this runs once per request
            self._text = True
            self.body = body.encode()
        else:
            self._text = kind is not bytes and isinstance(body, str)
            self.body = body if kind is bytes else _as_body(body)

    def raise_for_status(self):
        """Raise ``HTTPStatusError`` when the status is 400 or above."""
        if self.status >= 400:
            raise HTTPStatusError(self)
        return self

    def stream(self):
        """The body as an async iterator of bytes chunks: as it arrives for a client response
        fetched with ``stream=True`` (pass it on as another Response's body to proxy without
        buffering), else in one chunk."""
        body = _as_body(self.body)
        if isinstance(body, bytes):
            return _Buffered(body)
        return body if hasattr(body, "__aiter__") else _Iterated(body)

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
                 "_body", "_cert", "request_id", "_source", "_read_as")

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
        self._source = None   # the body as it arrives, on stream=True routes
        self._read_as = None  # "body" or "stream", once read

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
        if self._source is not None:
            raise RuntimeError(f"{self.method} {self.path}: this route streams its request body "
                               "(stream=True); read it with `async for chunk in req.stream()`")
        if self._read_as == "stream":
            raise RuntimeError("req.body() after req.stream(): the body was read as a stream")
        self._read_as = "body"
        return self._body

    def stream(self):
        """The body as an async iterator of bytes chunks, as they arrive on ``stream=True``
        routes (raising ``PayloadTooLarge`` past ``max_body_bytes``), else in one chunk."""
        if self._read_as == "body":
            raise RuntimeError("req.stream() after req.body(): the body was read whole")
        if self._read_as == "stream":
            raise RuntimeError("req.stream() can be read once")
        self._read_as = "stream"
        return self._source if self._source is not None else _Buffered(self._body)

    def __repr__(self):
        return f"<Request {self.method} {self.path}>"


class _Iterated:
    """A sync iterator of chunks as an async iterator."""

    def __init__(self, body):
        self._it = iter(body)

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            chunk = next(self._it)
        except StopIteration:
            raise StopAsyncIteration from None
        return chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)


class _Chunks:
    """A body the worker hands over one chunk at a time: ``read(id)`` is a JS function giving a
    Promise of a Uint8Array, or of undefined at the end; ``fail(message)`` makes the exception
    for a read that failed."""

    def __init__(self, source_id, read, fail):
        self._id = source_id
        self._read = read
        self._fail = fail
        self._done = False

    def __aiter__(self):
        return self

    async def __anext__(self):
        from pyodide.ffi import JsException
        if self._done:
            raise StopAsyncIteration
        try:
            chunk = await self._read(self._id)
        except JsException as exc:
            self._done = True
            raise self._fail(str(exc).removeprefix("Error: ")) from None
        if chunk is None:
            self._done = True
            raise StopAsyncIteration
        return chunk.to_bytes()


class _ClientBody(_Chunks):
    """An outbound response body, read as it arrives (``Client.request(..., stream=True)``)."""

    def __init__(self, stream_id):
        super().__init__(stream_id, _read_stream, ClientError)

    async def aclose(self):
        self.close()

    def close(self):
        if not self._done:
            self._done = True
            _close_stream(self._id)

    def __del__(self):
        if not self._done and _close_stream is not None:
            self.close()


class _Buffered:
    """``req.stream()`` of a body that was read whole: one chunk."""

    def __init__(self, body):
        self._body = body

    def __aiter__(self):
        return self

    async def __anext__(self):
        if not self._body:
            raise StopAsyncIteration
        body, self._body = self._body, b""
        return body


async def _send_with_deno(client, method, path, url, headers, body, stream=False):
    """How ``Client`` sends in a server: Deno's fetch in the worker. Returns ``(status, headers,
    body)``, the body as bytes or, with ``stream``, as an async iterator. (The test harness puts
    canned answers in its place.)"""
    import json
    from pyodide.ffi import JsException, to_js
    payload = to_js(body) if body is not None else None
    send = _fetch_stream if stream else _fetch
    try:
        result = await send(client._spec, method, url, json.dumps(list(headers.items())),
                            payload, client.timeout_ms)
    except JsException as exc:
        raise ClientError(str(exc).removeprefix("Error: ")) from None
    got = dict(json.loads(result.headers))
    if stream:
        return result.status, got, _ClientBody(result.id)
    return result.status, got, result.body.to_bytes()


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

    async def request(self, method, path, *, body=None, headers=None, stream=False):
        """Send one request; returns an ``http.Response``. Raises ``ClientError`` (with the
        URL) when no response arrives. With ``stream=True`` it returns at the response head and
        the body is read with ``resp.stream()`` as it arrives."""
        url = self._url(path)
        merged = {**self.headers, **(headers or {})}
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif body is not None:
            body = bytes(body)
        status, got, data = await _send(self, method, path, url, merged, body, stream)
        resp = Response(status, got, data)
        resp._source = f"{method} {url}"
        return resp

    async def get(self, path, *, body=None, headers=None, stream=False):
        return await self.request("GET", path, body=body, headers=headers, stream=stream)

    async def post(self, path, *, body=None, headers=None, stream=False):
        return await self.request("POST", path, body=body, headers=headers, stream=stream)

    async def put(self, path, *, body=None, headers=None, stream=False):
        return await self.request("PUT", path, body=body, headers=headers, stream=stream)

    async def patch(self, path, *, body=None, headers=None, stream=False):
        return await self.request("PATCH", path, body=body, headers=headers, stream=stream)

    async def delete(self, path, *, body=None, headers=None, stream=False):
        return await self.request("DELETE", path, body=body, headers=headers, stream=stream)

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return False

    def __repr__(self):
        return f"<http.Client {self.name or self.base_url!r}>"
