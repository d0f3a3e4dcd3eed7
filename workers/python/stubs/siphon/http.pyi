# Type stubs for `siphon.http` (siphon-deno, compatible with siphon-http scripts).
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar, Union

_F = TypeVar("_F", bound=Callable[..., Any])
_Handler = Callable[["Request"], Union["Response", Awaitable["Response"]]]
_Guard = Callable[["Request"], Union["Response", None, Awaitable[Union["Response", None]]]]
_CallNext = Callable[["Request"], Awaitable["Response"]]
_Wrapper = Callable[["Request", _CallNext], Union["Response", Awaitable["Response"]]]
_Chunk = Union[bytes, bytearray, memoryview, str]
_Body = Union[bytes, bytearray, memoryview, str, None]
_ResponseBody = Union[_Body, Iterable[_Chunk], AsyncIterable[_Chunk]]
_HeaderValue = Union[str, Sequence[str]]

__all__ = [
    "route", "middleware", "on_startup", "on_shutdown", "Request", "Response",
    "HTTPStatusError", "Client", "ClientError", "UnknownClientError", "PayloadTooLarge",
    "websocket", "WebSocket", "WebSocketClosed",
]

def route(
    path: str, methods: Union[Sequence[str], str, None] = ..., stream: bool = ...
) -> Callable[[_F], _F]:
    """Serve the decorated handler at ``path`` (``/users/{id:int}``); methods default to GET.
    ``stream=True``: the handler gets the request before its body is read (``req.stream()``)."""

def websocket(path: str) -> Callable[[_F], _F]:
    """Serve WebSocket upgrades at ``path`` with ``async def handler(ws: WebSocket)``. Guard
    middlewares run on the upgrade request; wrap-around middlewares do not run for sockets."""

class WebSocketClosed(Exception):
    """``receive`` or ``send`` on a closed socket; ``code`` and ``reason`` say how it closed."""

    code: int
    reason: str
    def __init__(self, code: int, reason: str = ...) -> None: ...

class WebSocket:
    """One WebSocket connection, given to a ``@http.websocket`` handler."""

    request: Request
    """The upgrade request (path_params, query_params, headers, client)."""
    subprotocol: Union[str, None]
    close_code: Union[int, None]
    """Set once the socket closed (1006: the connection went away without a close frame)."""
    close_reason: str
    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered."""
    @property
    def accepted(self) -> bool: ...
    async def accept(
        self,
        subprotocol: Union[str, None] = ...,
        headers: Union[Mapping[str, str], Iterable[tuple[str, str]], None] = ...,
    ) -> None:
        """Complete the handshake (headers go on the 101); receiving or sending first does it
        too."""
    async def receive(self) -> Union[str, bytes]:
        """The next message (str: text frame, bytes: binary); WebSocketClosed once closed."""
    def __aiter__(self) -> AsyncIterator[Union[str, bytes]]: ...
    async def __anext__(self) -> Union[str, bytes]: ...
    async def send(self, message: Union[str, bytes, bytearray, memoryview]) -> None:
        """Waits while the socket's outgoing buffer is full; WebSocketClosed once closed."""
    async def close(self, code: int = ..., reason: str = ...) -> None:
        """Before the handshake: refuse the upgrade (403)."""

def middleware(fn: _F) -> _F:
    """``fn(req)``: a guard (None continues, a Response answers). ``fn(req, call_next)``: wraps
    the rest of the chain: ``resp = await call_next(req)``."""

class PayloadTooLarge(Exception):
    """A streamed request body went past ``max_body_bytes``; not caught, it answers 413."""

def on_startup(fn: Callable[[], Union[None, Awaitable[None]]]) -> Callable[[], Union[None, Awaitable[None]]]:
    """Run once in each worker before it serves; an exception stops the start."""

def on_shutdown(fn: Callable[[], Union[None, Awaitable[None]]]) -> Callable[[], Union[None, Awaitable[None]]]:
    """Run once per process at shutdown, after in-flight requests finished."""

class Request:
    """An incoming request."""

    method: str
    path: str
    """As sent, still percent-encoded."""
    client: str
    """``"ip:port"`` of the peer (the forwarded client behind a trusted proxy)."""
    path_params: dict[str, Any]
    """Decoded; ``{id:int}`` parameters are ``int``."""
    request_id: str
    """The id this request's log lines carry."""
    @property
    def query_params(self) -> dict[str, str]: ...
    @property
    def headers(self) -> dict[str, str]:
        """Lower-case names."""
    @property
    def client_cert(self) -> Union[dict[str, Any], None]:
        """The verified client certificate on a mutual-TLS listener, else None."""
    def header(self, name: str, default: Union[str, None] = ...) -> Union[str, None]: ...
    def body(self) -> bytes: ...
    def stream(self) -> AsyncIterator[bytes]:
        """The body as it arrives (``stream=True`` routes) or in one chunk; read it once."""

class Response:
    """A response; ``body`` as bytes or str (UTF-8; no content type is added)."""

    status: int
    headers: dict[str, _HeaderValue]
    body: Any
    """bytes, or the iterator given (a streamed body)."""
    def __init__(
        self,
        status: int = ...,
        headers: Union[Mapping[str, _HeaderValue], None] = ...,
        body: _ResponseBody = ...,
    ) -> None: ...
    def raise_for_status(self) -> Response:
        """Raise HTTPStatusError for a status of 400 or above; else return self."""
    def stream(self) -> AsyncIterator[bytes]:
        """The body as an async iterator (as it arrives for ``Client(...).get(..., stream=True)``)."""

class HTTPStatusError(RuntimeError):
    response: Response
    status: int
    def __init__(self, response: Response) -> None: ...

class ClientError(RuntimeError):
    """An outbound request got no response (timeout, refused, TLS, too many redirects); names
    METHOD URL."""

class UnknownClientError(RuntimeError, LookupError):
    """``Client(name)`` named no client of the config's ``clients:``."""

class Client:
    """Outbound HTTP: ``Client("name")`` from http.yaml ``clients:``, or settings inline."""

    name: Union[str, None]
    base_url: Union[str, None]
    timeout_ms: int
    headers: dict[str, str]
    def __init__(
        self,
        name: Union[str, None] = ...,
        base_url: Union[str, None] = ...,
        verify: Union[str, None] = ...,
        cert: Union[str, tuple[str, str], None] = ...,
        timeout_ms: Union[int, None] = ...,
        http2_prior_knowledge: Union[bool, None] = ...,
        *,
        key: Union[str, None] = ...,
        pool_size: Union[int, None] = ...,
        headers: Union[Mapping[str, str], None] = ...,
    ) -> None: ...
    async def request(
        self,
        method: str,
        path: str,
        body: _Body = ...,
        headers: Union[Mapping[str, str], None] = ...,
        *,
        stream: bool = ...,
    ) -> Response: ...
    async def get(
        self, path: str, headers: Union[Mapping[str, str], None] = ..., *, body: _Body = ..., stream: bool = ...
    ) -> Response: ...
    async def post(
        self, path: str, body: _Body = ..., headers: Union[Mapping[str, str], None] = ..., *, stream: bool = ...
    ) -> Response: ...
    async def put(
        self, path: str, body: _Body = ..., headers: Union[Mapping[str, str], None] = ..., *, stream: bool = ...
    ) -> Response: ...
    async def patch(
        self, path: str, body: _Body = ..., headers: Union[Mapping[str, str], None] = ..., *, stream: bool = ...
    ) -> Response: ...
    async def delete(
        self, path: str, headers: Union[Mapping[str, str], None] = ..., *, body: _Body = ..., stream: bool = ...
    ) -> Response: ...
    async def __aenter__(self) -> Client: ...
    async def __aexit__(
        self,
        exc_type: Union[type[BaseException], None],
        exc: Union[BaseException, None],
        tb: Union[TracebackType, None],
    ) -> bool: ...
