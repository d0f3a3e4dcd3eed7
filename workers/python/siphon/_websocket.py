"""WebSockets, Python's half (the TypeScript half is workers/serve/sockets.ts).

The worker routes an upgrade request to a ``@http.websocket`` route and JS calls ``siphon._bridge.open_socket``: the
route's guard middlewares run on the upgrade request (one that returns a Response refuses the
upgrade with it), then the handler runs as its own task with a :class:`WebSocket`. The worker
completes the handshake when the handler accepts (``await ws.accept()``, or its first receive or
send); a handler that returns, closes or raises before that refuses the upgrade (403, its own
Response, or 500). Once open, messages come from the worker's inbox for the socket and sends go
straight to Deno's socket; a send waits while the socket's outgoing buffer is over its bound.

The worker's socket table is ``host.sockets`` (``SocketsForPython`` in
workers/bridge/contract.ts says what each call returns; its names are not
``send``/``next``/``close``, which a JsProxy answers itself). ``siphon._bridge.open_socket``
starts a handler here with :func:`start`.
"""

import asyncio

from pyodide.ffi import to_js

from . import log
from ._contract import FAILED, host
from ._header_bytes import forbidden
from ._response import Response
from ._tracebacks import format_traceback
from ._waiters import Waiters

_WAITERS = Waiters()
_tasks = {}  # socket id -> the handler's task (cancelled when the upgrade misses its deadline)

# RFC 6455 7.4: codes an endpoint may send (1004-1006 and 1015 are reserved for reporting).
_SENDABLE = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}
_NEW, _OPEN, _CLOSED = 0, 1, 2


# Headers the handshake itself sets (RFC 6455 4.2.2): an accept's own headers may not name them.
_HANDSHAKE = {"upgrade", "connection", "sec-websocket-accept", "sec-websocket-protocol",
              "sec-websocket-extensions", "content-length", "transfer-encoding"}


def _handshake_headers(headers):
    """``ws.accept(headers=…)`` as the handshake's tail (``\\0name\\0value`` each), refused with
    the header named when it cannot go on the wire or belongs to the handshake."""
    pairs = list(headers.items() if isinstance(headers, dict) else headers)
    out = []
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and
                all(isinstance(part, str) for part in pair)):
            raise TypeError(f"ws.accept(headers=…): {pair!r}: expected (name, value) strings")
        name = pair[0]
        if name.lower() in _HANDSHAKE:
            raise ValueError(f"ws.accept(headers=…): {name!r} is the handshake's own header; "
                             "leave it out (the subprotocol is accept's subprotocol=)")
        if not name:
            raise ValueError("ws.accept(headers=…): a header without a name")
        out.append(pair)
    why = forbidden(out)
    if why is not None:
        raise ValueError(f"ws.accept(headers=…): header {why}")
    return "".join(f"\0{name}\0{value}" for name, value in out)


class WebSocketClosed(Exception):
    """Raised by ``receive`` and ``send`` on a closed socket; ``code`` and ``reason`` are the
    close frame's (1006 when the connection went away without one)."""

    def __init__(self, code, reason=""):
        super().__init__(f"the WebSocket is closed (code {code}{': ' + reason if reason else ''})")
        self.code = code
        self.reason = reason


class WebSocket:
    """One accepted (or about to be accepted) WebSocket connection.

    ``request`` is the upgrade request (``path_params``, ``query_params``, ``headers``,
    ``client``…). ``async for message in ws`` yields ``str`` for text frames and ``bytes`` for
    binary ones and ends when the socket closes; ``close_code`` / ``close_reason`` then say how.
    """

    __slots__ = ("request", "subprotocol", "close_code", "close_reason", "_id", "_handshake",
                 "_state", "_pack")

    def __init__(self, socket_id, request, handshake, pack):
        self.request = request
        #: The subprotocol ``accept`` chose, or None.
        self.subprotocol = None
        #: The close code once the socket is closed (by either side), else None.
        self.close_code = None
        self.close_reason = ""
        self._id = socket_id
        self._handshake = handshake
        self._state = _NEW
        self._pack = pack  # siphon._bridge.pack: a refusal as JS takes it

    @property
    def subprotocols(self):
        """The subprotocols the client offered (``Sec-WebSocket-Protocol``), in its order."""
        offered = self.request.header("sec-websocket-protocol") or ""
        return [p.strip() for p in offered.split(",") if p.strip()]

    @property
    def accepted(self):
        """Whether the handler accepted the upgrade."""
        done = self._handshake.done()
        return done and isinstance(self._handshake.result(), str) and \
            self._handshake.result().startswith("\0")

    async def accept(self, subprotocol=None, headers=None):
        """Complete the handshake (with ``subprotocol``, one the client offered, and ``headers``
        added to the 101 response: a dict, or ``(name, value)`` pairs — a ``set-cookie``, say).
        Receiving or sending first accepts without either."""
        if self._state == _OPEN:
            return
        if self._state == _CLOSED:
            raise WebSocketClosed(self.close_code or 1006, self.close_reason)
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise ValueError(f"ws.accept(subprotocol={subprotocol!r}): the client offered "
                             f"{self.subprotocols or 'none'}; choose one of those or None")
        extra = "" if not headers else _handshake_headers(headers)
        self.subprotocol = subprotocol
        self._handshake.set_result("\0" + (subprotocol or "") + extra)
        self._state = _OPEN
        if not await host.sockets.opened(self._id):
            raise self._gone()

    async def receive(self):
        """The next message: ``str`` (text frame) or ``bytes`` (binary frame). Raises
        :class:`WebSocketClosed` once the socket is closed."""
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            raise WebSocketClosed(self.close_code, self.close_reason) from None

    def __aiter__(self):
        return self

    async def __anext__(self):
        # The message path: one call to take what is queued, else a wait for the hand-over
        # (siphon._waiters.take written out: one coroutine frame less per message).
        if self._state != _OPEN:
            await self.accept()
        got = host.sockets.take(self._id, _WAITERS.proxy)
        if got is False:
            got = await _WAITERS.wait(self._id)
        if type(got) is str:
            return got
        if got is None:
            self._gone()
            raise StopAsyncIteration
        return got.to_bytes()

    async def send(self, message):
        """Send ``message``: ``str`` as a text frame, ``bytes`` as a binary one. Waits while the
        socket's outgoing buffer is full (a client that reads slowly holds its sender, not the
        server's memory). Raises :class:`WebSocketClosed` once the socket is closed."""
        if self._state != _OPEN:
            await self.accept()
        if isinstance(message, str):
            sent = host.sockets.write(self._id, message)
        elif isinstance(message, (bytes, bytearray, memoryview)):
            sent = host.sockets.write(self._id, to_js(memoryview(message)))
        else:
            raise TypeError(f"ws.send takes str or bytes, got {type(message).__name__}")
        if sent is None:
            return
        if sent is False:
            raise self._gone()
        await sent

    async def close(self, code=1000, reason=""):
        """Close the socket with ``code`` (1000 normal; 3000-4999 for the application) and a
        ``reason`` of at most 123 UTF-8 bytes. Before the handshake this refuses the upgrade
        (403). Closing twice does nothing."""
        if type(code) is not int or not (code in _SENDABLE or 3000 <= code <= 4999):
            raise ValueError(f"ws.close(code={code!r}): use 1000, another code RFC 6455 lets an "
                             "endpoint send (1001-1014 but 1004-1006), or 3000-4999")
        if len(reason.encode("utf-8")) > 123:
            raise ValueError("ws.close(reason=...): at most 123 bytes of UTF-8")
        if self._state == _CLOSED:
            return
        if self._state == _NEW:
            self.close_code, self.close_reason = code, reason
            _refuse(self, self._pack(None, self.request, _forbidden(), None, False))
            return
        self._state = _CLOSED
        self.close_code, self.close_reason = code, reason
        host.sockets.end(self._id, code, reason)

    def _gone(self):
        """The socket closed under us: take its close code; returns the error to raise."""
        self._state = _CLOSED
        if self.close_code is None:
            code, _, reason = str(host.sockets.closedWith(self._id)).partition("\0")
            self.close_code, self.close_reason = int(code), reason
        return WebSocketClosed(self.close_code, self.close_reason)

    def __repr__(self):
        state = ("new", "open", "closed")[self._state]
        return f"<WebSocket {self.request.path} {state}>"


def start(route, req, socket_id, pack):
    """Start the handler of a websocket route on the upgrade request ``req``; ``pack`` turns a
    refusal into what JS takes (``siphon._bridge.pack``). Returns the handshake: a Future of
    ``"\\0subprotocol"`` (accept), a ``(head, body)`` tuple (refused with that response) or
    ``FAILED`` (failed before accepting)."""
    handshake = asyncio.get_event_loop().create_future()
    ws = WebSocket(socket_id, req, handshake, pack)
    _tasks[socket_id] = asyncio.ensure_future(_serve(route, ws))
    return handshake


def abort(socket_id):
    """The upgrade missed its deadline: cancel the handler."""
    task = _tasks.get(socket_id)
    if task is not None:
        task.cancel()


async def _serve(route, ws):
    req = ws.request
    try:
        try:
            for guard in route.guards:
                out = guard(req)
                if asyncio.iscoroutine(out):
                    out = await out
                if out is not None:
                    _refuse(ws, ws._pack(route, req, out, guard, False))
                    return
            out = await route.ws_handler(ws)
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a close or a 500
            _failed(route, ws, exc)
            return
        if not ws._handshake.done():
            _refuse(ws, ws._pack(route, req, _forbidden() if out is None else out, None, False))
        elif ws._state == _OPEN:
            await ws.close(1000)
    except BaseException as exc:  # noqa: BLE001 - a refusal that cannot be packed
        _failed(route, ws, exc)
    finally:
        _tasks.pop(ws._id, None)
        host.sockets.release(ws._id)


def _forbidden():
    return Response(403, {"content-type": "text/plain; charset=utf-8"},
                         "Forbidden: the handler did not accept the WebSocket\n")


def _refuse(ws, packed):
    ws._state = _CLOSED
    if not ws._handshake.done():
        ws._handshake.set_result(packed)


def _failed(route, ws, exc):
    """The handler raised: before the handshake the upgrade is answered 500, after it the
    socket closes with 1011; the traceback goes to the log either way, never to the client."""
    req = ws.request
    if isinstance(exc, asyncio.CancelledError):
        log.warning(f"WebSocket {req.path}: {route.label} was cancelled")
    else:
        log.error(f"WebSocket {req.path}: {route.label} raised "
                  f"{type(exc).__name__}\n{format_traceback(exc)}")
    if not ws._handshake.done():
        ws._state = _CLOSED
        ws._handshake.set_result(FAILED)
    elif ws._state == _OPEN:
        ws._state = _CLOSED
        ws.close_code = 1011
        host.sockets.end(ws._id, 1011, "internal error")
