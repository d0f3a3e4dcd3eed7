# Type stubs for `siphon.pubsub` (siphon-deno).
from types import TracebackType
from typing import Union

__all__ = ["publish", "subscribe", "Subscription", "PubSubError"]

_Message = Union[str, bytes]

class PubSubError(RuntimeError):
    """The backend could not take a message (Redis unreachable)."""

async def publish(topic: str, message: Union[str, bytes, bytearray, memoryview]) -> None:
    """Publish to every subscriber of ``topic`` (every worker; with redis, every replica)."""

def subscribe(topic: str) -> Subscription:
    """Messages published on ``topic`` from now on: ``async for m in subscribe(t)``."""

class Subscription:
    """Messages published on one topic since it was made, in each publisher's order."""

    topic: str
    def __init__(self, topic: str) -> None: ...
    async def ready(self) -> None:
        """Wait until the backend delivers the topic here (redis: Redis confirmed it)."""
    def __aiter__(self) -> Subscription: ...
    async def __anext__(self) -> _Message: ...
    def close(self) -> None: ...
    async def aclose(self) -> None: ...
    async def __aenter__(self) -> Subscription: ...
    async def __aexit__(
        self,
        exc_type: Union[type[BaseException], None],
        exc: Union[BaseException, None],
        tb: Union[TracebackType, None],
    ) -> None: ...
