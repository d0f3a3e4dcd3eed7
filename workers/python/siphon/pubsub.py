"""``siphon.pubsub``: publish a message on a topic; every subscriber of that topic gets it — in
every worker of the process (``pubsub: {backend: memory}``, the default) or in every replica
(``backend: redis``). Messages are ``str`` or ``bytes``; one publisher's messages arrive in the
order it published them. A subscriber that falls ``subscriber_queue`` messages behind misses
the next ones (``siphon_pubsub_messages_total{result="dropped"}`` counts them) rather than
holding up the others.

Example::

    from siphon import http, pubsub

    @http.websocket("/rooms/{room}")
    async def room(ws):
        topic = "room:" + ws.request.path_params["room"]
        async with pubsub.subscribe(topic) as feed:
            pump = asyncio.ensure_future(_forward(feed, ws))
            async for text in ws:
                await pubsub.publish(topic, text)
            pump.cancel()
"""

from pyodide.ffi import JsException, to_js

from ._contract import host
from ._waiters import Waiters
from ._waiters import take as _take

__all__ = ["publish", "subscribe", "Subscription", "PubSubError"]

_WAITERS = Waiters()


class PubSubError(RuntimeError):
    """The backend could not take a message (Redis unreachable); the message says which."""


def _check_topic(topic):
    if not isinstance(topic, str) or not topic:
        raise TypeError(f"a pubsub topic is a non-empty str, got {topic!r}")


async def publish(topic, message):
    """Publish ``message`` (``str`` or ``bytes``) on ``topic``. Returns once the backend has it
    (memory: at once; redis: when Redis acknowledged it). Raises :class:`PubSubError` when the
    backend is unreachable."""
    _check_topic(topic)
    if isinstance(message, (bytes, bytearray, memoryview)):
        message = to_js(memoryview(message))
    elif not isinstance(message, str):
        raise TypeError(f"pubsub.publish takes str or bytes, got {type(message).__name__}; "
                        "encode it first (json.dumps)")
    try:
        sent = host.pubsub.publish(topic, message)
        if sent is not None:
            await sent
    except JsException as exc:
        raise PubSubError(str(exc).removeprefix("Error: ")) from None


def subscribe(topic):
    """Subscribe to ``topic`` from now on: ``async for message in pubsub.subscribe(topic)``, or
    ``async with pubsub.subscribe(topic) as feed``. The subscription ends when closed, left
    (``async with``), or no longer referenced."""
    _check_topic(topic)
    return Subscription(topic)


class Subscription:
    """Messages published on one topic since it was made, in order."""

    def __init__(self, topic):
        self.topic = topic
        self._id = host.pubsub.subscribe(topic)
        self._open = True

    async def ready(self):
        """Wait until the backend delivers this topic here (memory: at once; redis: once Redis
        confirmed the subscription). Raises :class:`PubSubError` when it cannot."""
        try:
            await host.pubsub.ready(self._id)
        except JsException as exc:
            raise PubSubError(str(exc).removeprefix("Error: ")) from None

    def __aiter__(self):
        return self

    async def __anext__(self):
        if not self._open:
            raise StopAsyncIteration
        got = await _take(host.pubsub, self._id, _WAITERS)
        if type(got) is str:
            return got
        if got is None:
            self._open = False
            raise StopAsyncIteration
        return got.to_bytes()

    def close(self):
        """Stop receiving; an ``async for`` over it ends."""
        if self._open:
            self._open = False
            host.pubsub.unsubscribe(self._id)

    async def aclose(self):
        self.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - the interpreter may be going away
            pass

    def __repr__(self):
        return f"<Subscription {self.topic!r}{'' if self._open else ' closed'}>"
