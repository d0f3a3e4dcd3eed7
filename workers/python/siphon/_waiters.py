"""Readers that wait for the worker to hand them the next item (a WebSocket message, a pubsub
delivery): the worker's ``take(id, deliver)`` answers at once when something is queued, else
``False``, and later calls ``deliver(id, item)`` with the next item (``None``: the end). The
hand-over resolves a Python future, so a waiting reader costs no JS promise.
"""

import asyncio


class Waiters:
    """Futures of the readers waiting, by id; ``deliver`` is what the worker calls."""

    def __init__(self):
        self._futures = {}
        self._proxy = None

    @property
    def proxy(self):
        """``deliver`` as the worker keeps it (made on first use: never in a snapshot)."""
        if self._proxy is None:
            from pyodide.ffi import create_proxy
            self._proxy = create_proxy(self.deliver)
        return self._proxy

    def wait(self, key):
        """A future of the next item for ``key``."""
        future = asyncio.get_event_loop().create_future()
        self._futures[key] = future
        return future

    def deliver(self, key, item):
        """The worker hands over ``item``; False when nobody waits any more (it keeps it)."""
        future = self._futures.pop(key, None)
        if future is None or future.done():
            return False
        future.set_result(item)
        return True


async def take(host, key, waiters):
    """The next item for ``key``: str, a JsProxy of bytes, or None at the end."""
    got = host.take(key, waiters.proxy)
    if got is False:
        got = await waiters.wait(key)
    return got
