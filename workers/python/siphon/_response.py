"""``http.Response`` and how a body is sent: whole (bytes, or str as UTF-8) or streamed from an
iterator or async iterator; ``HTTPStatusError`` for ``raise_for_status()``. Scripts import these
from ``siphon.http``."""


class HTTPStatusError(RuntimeError):
    """Raised by ``Response.raise_for_status()`` for a 4xx or 5xx status. A ``RuntimeError``, as
    siphon-http raises, so ``except RuntimeError`` catches it too."""

    def __init__(self, response):
        source = getattr(response, "_source", None)  # set on a client's responses only
        source = f" from {source}" if source else ""
        super().__init__(f"HTTP status {response.status}{source}")
        self.response = response
        self.status = response.status


def _status(status):
    """A status given as an ``int`` subclass (``HTTPStatus``) as a plain int; anything else as it
    is, for the response check to name."""
    return int(status) if isinstance(status, int) and not isinstance(status, bool) else status


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
    """An HTTP response. ``status`` is an ``int`` (``HTTPStatus.CREATED`` and other ``int``
    subclasses too). ``body`` may be bytes-like or str (sent as UTF-8; no content-type is added,
    as in siphon-http), or an iterator or async iterator of them, sent as it is produced
    (chunked, or HTTP/2 data frames)."""

    __slots__ = ("status", "headers", "body", "_source")

    def __init__(self, status=200, headers=None, body=None):
        self.status = status if type(status) is int else _status(status)
        self.headers = dict(headers) if headers else {}
        # the common cases inline: this runs once per request
        self.body = body.encode() if type(body) is str else \
            body if type(body) is bytes else _as_body(body)

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
