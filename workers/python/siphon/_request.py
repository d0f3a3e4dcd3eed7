"""``http.Request``: what a handler gets, built by ``siphon._bridge`` from the packed request;
headers and query parameters are decoded on first use. Scripts import it from ``siphon.http``."""

import json

from pyodide.ffi import JsException

from . import _wire
from ._contract import host
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
    """An incoming request. ``headers`` has lower-case keys; ``client`` is ``"ip:port"``.

    What JS packed (``siphon._contract.REQUEST_SECTIONS``) is kept as the list of its sections
    and each is decoded on first use, in place: a handler pays for what it reads."""

    __slots__ = ("_p", "_route", "_body", "_read_as", "_params")

    def __init__(self, method, path, client, path_params, query, headers, body, cert="",
                 request_id=""):
        self._p = [method, path, client, query, headers, "", cert, request_id, "", ""]
        self._route = None
        self._params = {} if path_params is None else path_params
        self._body = body
        self._read_as = None  # "body" or "stream", once read

    # Each getter reads its section; a setter replaces it (a middleware may rewrite a request).
    method = property(lambda self: self._p[0], lambda self, v: self._p.__setitem__(0, v))
    path = property(lambda self: self._p[1], lambda self, v: self._p.__setitem__(1, v))
    request_id = property(lambda self: self._p[7], lambda self, v: self._p.__setitem__(7, v),
                          doc="The id this request's log lines carry (the client's X-Request-Id "
                              "when well formed).")

    @property
    def client(self):
        """``"ip:port"`` of the peer, or the forwarded client behind a trusted proxy."""
        client = self._p[2]
        if not client:  # left out of the packing: asked for on first use
            try:
                client = self._p[2] = host.requestPart(self._p[8], "client")
            except JsException as exc:
                raise RuntimeError(str(exc).removeprefix("Error: ")) from None
        return client

    @client.setter
    def client(self, value):
        self._p[2] = value

    @property
    def path_params(self):
        """Decoded path parameters; ``{id:int}`` ones are ``int``."""
        params = self._params
        if params is None:
            route = self._route
            params = self._params = route.params(_wire.values(self._p[5])) if route.names else {}
        return params

    @path_params.setter
    def path_params(self, value):
        self._params = value

    @property
    def client_cert(self):
        """The verified client certificate on a mutual-TLS listener — a dict with ``subject``,
        ``issuer`` (dicts of name fields), ``serial``, ``fingerprint256``, ``valid_from``,
        ``valid_to`` — or None on other listeners."""
        cert = self._p[6]
        if not cert:
            return None
        if type(cert) is str:
            cert = self._p[6] = json.loads(cert)
        return cert

    @property
    def query_params(self):
        """Decoded query parameters; a repeated key keeps its last value, a bare key is ``""``."""
        query = self._p[3]
        if type(query) is str:
            query = self._p[3] = _wire.pairs(query)
        return query

    @property
    def headers(self):
        """Request headers as a dict with lower-case names."""
        headers = self._p[4]
        if type(headers) is str:
            pairs = _wire.pairs(headers)
            headers = self._p[4] = pairs if headers.isascii() else _fix_latin1(pairs)
        return headers

    def header(self, name, default=None):
        """The value of header ``name`` (any case), or ``default``."""
        return self.headers.get(name.lower(), default)

    def body(self):
        """The whole request body as bytes (``b""`` when there is none)."""
        if self._p[9]:
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
        return self._p[9] or _Buffered(self._body)

    def __repr__(self):
        return f"<Request {self.method} {self.path}>"
