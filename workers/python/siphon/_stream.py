"""Streamed bodies, Python's half (the TypeScript half is workers/bridge/streams.ts).

``RequestBody`` is what ``req.stream()`` returns on a ``stream=True`` route: each step awaits the
next chunk from the worker, which counts bytes against ``max_body_bytes``. ``ResponseBody`` wraps
an iterator or async iterator a handler gave as its body: the worker pulls one chunk at a time
as the client takes them, and closes it when the client goes away — an async generator then sees
``CancelledError`` (if it was waiting) or ``GeneratorExit`` (at its ``yield``).
"""

import asyncio

from pyodide.ffi import to_js

from . import _client, log
from ._contract import TOO_LARGE_PREFIX, host
from ._request import PayloadTooLarge
from ._tracebacks import format_traceback


def _request_error(message):
    if message.startswith(TOO_LARGE_PREFIX):
        return PayloadTooLarge(message.removeprefix(TOO_LARGE_PREFIX).strip())
    return ConnectionError(message)


def RequestBody(source_id):  # noqa: N802 - reads as the type it returns
    """The request body as it arrives: what ``req.stream()`` gives on a ``stream=True`` route."""
    return _client._Chunks(source_id, lambda i: host.readBody(i), _request_error)


def _chunk(value):
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"a streamed body yields bytes or str, got {type(value).__name__}")
    return to_js(memoryview(value))


class ResponseBody:
    """A handler's iterator body, pulled by the worker one chunk at a time."""

    def __init__(self, body, label, req):
        self._async = hasattr(body, "__aiter__")
        self._it = body.__aiter__() if self._async else iter(body)
        self._where = f"{req.method} {req.path}: the body stream of {label}"
        self._request_id = log._request_id.get()
        self._task = None
        self._closed = False

    def next(self):
        """A Future of the next chunk as a Uint8Array, or of None at the end."""
        log._request_id.set(self._request_id)
        if self._async:
            self._task = asyncio.ensure_future(self._next_async())
            return self._task
        future = asyncio.get_event_loop().create_future()
        try:
            future.set_result(_chunk(next(self._it)))
        except StopIteration:
            future.set_result(None)
        except BaseException as exc:  # noqa: BLE001 - reported, then the stream is aborted
            future.set_exception(self._failed(exc))
        return future

    async def _next_async(self):
        try:
            return _chunk(await self._it.__anext__())
        except StopAsyncIteration:
            return None
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001
            raise self._failed(exc) from None

    def _failed(self, exc):
        if isinstance(exc, KeyboardInterrupt):
            log.warning(f"{self._where} was interrupted at its deadline")
        else:
            log.error(f"{self._where} raised {type(exc).__name__}\n{format_traceback(exc)}")
        return RuntimeError(f"{self._where} failed")

    def close(self):
        """The stream ended or the client went away: stop the iterator."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._async:
            if hasattr(self._it, "aclose"):
                asyncio.ensure_future(self._close_async())
        elif hasattr(self._it, "close"):
            try:
                self._it.close()
            except BaseException as exc:  # noqa: BLE001
                self._failed(exc)

    async def _close_async(self):
        if self._task is not None:
            try:
                await self._task
            except BaseException:  # noqa: BLE001 - the cancellation we asked for
                pass
        try:
            await self._it.aclose()
        except BaseException as exc:  # noqa: BLE001
            self._failed(exc)
