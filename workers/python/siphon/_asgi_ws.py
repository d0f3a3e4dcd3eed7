"""An ASGI app's WebSockets: the ``websocket`` scope run on siphon's ``WebSocket``
(:mod:`siphon._websocket`), which does the handshake, the frames and the bounds. The app's
``websocket.accept`` accepts (with its subprotocol and headers), ``websocket.close`` before that refuses the
upgrade (403, as the ASGI spec asks), and a client that goes away is ``websocket.disconnect``
with its close code."""

import asyncio

from ._asgi import app, working
from ._asgi_scope import header_bytes, scope_base
from ._websocket import WebSocketClosed


async def serve_websocket(ws):
    """The app route's websocket handler (``siphon._websocket`` runs the guards first)."""
    scope = scope_base(ws.request, "websocket", app.state)
    scope["scheme"] = "wss" if scope["scheme"] == "https" else "ws"
    scope["subprotocols"] = ws.subprotocols
    conversation = _Conversation(ws)
    working(asyncio.current_task())
    await app.call(scope, conversation.receive, conversation.send)


class _Conversation:
    __slots__ = ("ws", "connected")

    def __init__(self, ws):
        self.ws = ws
        self.connected = False

    async def receive(self):
        if not self.connected:
            self.connected = True
            return {"type": "websocket.connect"}
        try:
            message = await self.ws.receive()
        except WebSocketClosed as closed:
            return {"type": "websocket.disconnect", "code": closed.code, "reason": closed.reason}
        if type(message) is str:
            return {"type": "websocket.receive", "text": message}
        return {"type": "websocket.receive", "bytes": message}

    async def send(self, message):
        kind = message["type"]
        ws = self.ws
        if kind == "websocket.accept":
            raw = message.get("headers") or ()
            headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in
                       (header_bytes(n, v, "websocket.accept header") for n, v in raw)]
            await ws.accept(message.get("subprotocol"), headers)
        elif kind == "websocket.send":
            text = message.get("text")
            await ws.send(text if text is not None else bytes(message.get("bytes") or b""))
        elif kind == "websocket.close":
            await ws.close(message.get("code", 1000), message.get("reason") or "")
        else:
            raise RuntimeError(f"ASGI: unexpected message {kind!r} on a websocket connection")
