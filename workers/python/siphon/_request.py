"""``http.Request``: what a handler gets, built by ``siphon._bridge`` from the packed request;
headers and query parameters are decoded on first use. Scripts import it from ``siphon.http``."""

from . import _wire
from ._response import _Buffered


class PayloadTooLarge(Exception):
    """A streamed request body went past the listener's ``max_body_bytes``. Not caught, it
    answers 413."""


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
            self._query = _wire.pairs(self._q)
        return self._query

    @property
    def headers(self):
        """Request headers as a dict with lower-case names."""
        if self._headers is None:
            h = _wire.pairs(self._h)
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
