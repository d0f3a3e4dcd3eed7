"""ASGI 3 applications (``app: "module:attribute"`` in http.yaml) on the request path scripts use.

The app is one more route: the worker's router sends it every request no route of http.yaml or
the script took, with its body unread (``stream=True``), and the route's handler here runs the
app with an ``http`` scope. Its ``receive`` hands out the body as it arrives; its ``send`` builds
the ``Response`` the bridge answers with — whole when the app sends its body in one message, else
streamed, the app's next ``send`` waiting until the worker took the chunk before (back-pressure).
WebSocket upgrades run it with a ``websocket`` scope on siphon's ``WebSocket``
(:mod:`siphon._asgi_ws`). ``lifespan`` runs once per interpreter, from the generation's startup
and shutdown (:mod:`siphon._asgi_life`). So timeouts, body limits, overload, metrics, the access
log, reloads and recycling are the server's, as for scripts.

What a worker cannot do, the adapter does inline: a sync endpoint a framework hands to a thread
(anyio's ``to_thread.run_sync``, hence Starlette's ``run_in_threadpool``) runs in the request's
own turn, under its deadline — Pyodide has no threads (``asyncio``'s ``run_in_executor`` is
already inline in Pyodide).
"""

import asyncio
import contextvars
import importlib
import inspect
import sys

from . import _asgi_label, log
from ._asgi_scope import ASGI, header_bytes, scope_base
from ._contract import host
from ._request import PayloadTooLarge
from ._response import Response, _Buffered
from ._tracebacks import format_traceback

# Response headers the worker sets itself from the body it sends.
_HOP = frozenset(("content-length", "transfer-encoding", "connection", "keep-alive"))
_WAKE = object()  # wakes the body stream to look at how the app ended


class AppError(Exception):
    """The app could not be loaded or started; the message says where and what to do."""


class _App:
    """The generation's application and what every scope shares."""

    __slots__ = ("call", "spec", "source", "state", "templates")

    def __init__(self):
        self.call = None
        self.spec = ""
        self.source = ""
        self.state = {}  # lifespan state: a shallow copy goes into every scope
        self.templates = None  # endpoint -> its route's template, found on first need


app = _App()
_exchanges = {}  # request seq -> its exchange, while the app may still wait for a disconnect
_working = set()  # the app's running tasks: requests (background tasks too) and WebSockets


def working(task):
    """Count ``task`` as the app at work until it is done (see :func:`settled`)."""
    _working.add(task)
    task.add_done_callback(_working.discard)


async def settled():
    """Wait until no request or WebSocket of the app is still running."""
    while _working:
        await asyncio.wait(set(_working))
# The exchange whose app task runs now (each app task's context has its own): the watchdog's
# interrupt cancels that request instead of raising KeyboardInterrupt in a task that a
# framework's task group would turn into a 500 (siphon._runtime._on_interrupt).
running = contextvars.ContextVar("siphon_asgi_exchange", default=None)


def load(spec, source, folder):
    """Import ``module:attribute`` with ``folder`` first on ``sys.path`` and check that it is an
    ASGI 3 application. ``source`` is where ``app:`` was given (``http.yaml:3:1``)."""
    module_name, _, attribute = spec.partition(":")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    _threads_inline()
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise AppError(f"{source}: app: no module named {exc.name!r} in {folder} or on "
                           "sys.path; check the name (module:attribute) or add its wheel to "
                           "python.packages") from None
        raise AppError(f"{source}: app: cannot import {module_name}:\n"
                       f"{format_traceback(exc)}") from None
    except BaseException as exc:  # noqa: BLE001 - any failure of the import is reported
        raise AppError(f"{source}: app: cannot import {module_name}:\n"
                       f"{format_traceback(exc)}") from None
    target = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            found = [n for n, v in vars(module).items() if _looks_like_app(v)]
            hint = f" (it has {', '.join(found)})" if found else ""
            raise AppError(f"{source}: app: {module_name} has no attribute {attribute!r}"
                           f"{hint}; name the ASGI application {module.__file__} defines")
        target = getattr(target, part)
    if not _is_asgi3(target):
        raise AppError(f"{source}: app: {spec} is {_kind(target)}, not an ASGI 3 application: "
                       "expected `async def app(scope, receive, send)` or an object whose "
                       "__call__ is one (ASGI 2 double callables are not served)")
    app.call, app.spec, app.source, app.state = target, spec, source, {}
    return target


def _is_asgi3(obj):
    if inspect.isclass(obj) or not callable(obj):
        return False
    return inspect.iscoroutinefunction(obj) or inspect.iscoroutinefunction(
        getattr(obj, "__call__", None))


def _looks_like_app(obj):
    """An ASGI app by its shape: ``async def f(scope, receive, send)``, or an object with such
    a ``__call__`` (the hint for a misspelled attribute)."""
    if not _is_asgi3(obj):
        return False
    if not inspect.isfunction(obj):
        return True
    return len(inspect.signature(obj).parameters) == 3


def _kind(obj):
    if inspect.isclass(obj):
        return f"the class {obj.__qualname__}"
    return f"a {type(obj).__name__}" if not callable(obj) else "a plain (not async) callable"


def _threads_inline():
    """anyio hands sync work to a worker thread, which Pyodide cannot start: run it inline."""
    try:
        import anyio.to_thread
    except ImportError:
        return
    if getattr(anyio.to_thread.run_sync, "_siphon_inline", False):
        return

    async def run_sync(func, *args, cancellable=False, limiter=None):
        exchange = running.get()
        if exchange is not None and exchange.response.done() and not exchange.after:
            # Work after the answer (a background task): one turn of the loop first. When the
            # app answered in serve_http's own call, the answer has left by then.
            exchange.after = True
            await asyncio.sleep(0)
        return func(*args)

    run_sync._siphon_inline = True
    anyio.to_thread.run_sync = run_sync


async def serve_http(req):
    """The app route's handler: ``req`` through the app, answered with what it sends.

    The app runs as an eager task: it starts at once, inside this call, so an app that answers
    without waiting on anything (most requests) is answered with no turn of the event loop —
    each turn costs more in Pyodide than a small endpoint. An app that waits goes on as an
    ordinary task from there."""
    scope = scope_base(req, "http", app.state)
    scope["method"] = req.method
    exchange = _Exchange(req)
    seq = req._p[8]
    _exchanges[seq] = exchange
    context = contextvars.copy_context()
    context.run(running.set, exchange)
    task = asyncio.Task(exchange.run(scope), loop=asyncio.get_event_loop(), context=context,
                        eager_start=True)
    if not task.done():
        exchange.task = task
        working(task)
    try:
        response = await exchange.response
        label = _asgi_label.route_label(scope, app)
        if label:
            host.routeLabel(seq, label)
        return response
    except BaseException:
        exchange.cancel()
        raise
    finally:
        if not exchange.streaming:
            _exchanges.pop(seq, None)


def interrupt():
    """The watchdog interrupted Python: inside an app's request, cancel that request (it is
    answered 504) and return the exception to raise there; else None."""
    exchange = running.get()
    if exchange is None:
        return None
    exchange.interrupted = True
    if not exchange.response.done():  # answered now: what the app sends after is dropped
        exchange.response.set_exception(KeyboardInterrupt())
    return asyncio.CancelledError()


def disconnect(seq):
    """The client of request ``seq`` went away: a waiting ``receive`` says ``http.disconnect``."""
    exchange = _exchanges.pop(str(seq), None)
    if exchange is not None:
        exchange.dropped = True
        exchange.gone()


class _Exchange:
    """One request between the app and the worker."""

    __slots__ = ("req", "body", "response", "status", "headers", "streaming", "queue", "ended",
                 "left", "over", "task", "interrupted", "dropped", "after")

    def __init__(self, req):
        loop = asyncio.get_event_loop()
        self.req = req
        self.body = req.stream()  # _Buffered (read whole) or the streamed body's iterator
        # asyncio's own futures: the loop's (Pyodide's) are Python objects, dearer to make
        self.response = asyncio.Future(loop=loop)
        self.status = None
        self.headers = None
        self.streaming = False
        self.queue = None
        self.ended = None  # how the app ended while streaming: True, or its exception
        self.left = None  # a future for a receive() waiting for the end, made when one waits
        self.over = False  # the response is done or the client went away
        self.task = None
        self.interrupted = False  # the watchdog stopped it at the request's deadline
        self.dropped = False  # the client went away before the answer
        self.after = False  # sync work after the answer waited its turn (_threads_inline)

    async def run(self, scope):
        try:
            await app.call(scope, self.receive, self.send)
        except asyncio.CancelledError:
            self.finish(None)
        except BaseException as exc:  # noqa: BLE001 - the request's answer, or the stream's end
            self.finish(exc)
        else:
            self.finish(None)

    def finish(self, exc):
        """The app returned (or raised): answer, or end the stream, with that. An exception
        after the answer (a framework answers 500 itself, then raises) goes to the log."""
        if exc is not None and self.response.done() and not self.streaming and \
                not self.interrupted:
            log.error(f"{self.req.method} {self.req.path}: {app.spec} raised "
                      f"{type(exc).__name__}\n{format_traceback(exc)}")
        if self.interrupted:
            exc = KeyboardInterrupt()  # answered 504, as a script interrupted at its deadline
        if self.dropped and not self.response.done():
            # Nobody is left to answer, and frameworks raise on http.disconnect ("No response
            # returned."): one line, and 499 (nginx's "client closed request") for the log.
            ended = "returned" if exc is None else f"raised {type(exc).__name__}: {exc}"
            log.info(f"{self.req.method} {self.req.path}: the client went away before the "
                     f"answer; {app.spec} then {ended}")
            self.response.set_result(Response(499, {}, b""))
        elif not self.response.done():
            self.response.set_exception(exc or RuntimeError(
                f"{app.spec} returned without sending a response to "
                f"{self.req.method} {self.req.path}"))
        elif self.streaming and self.ended is None:
            self.end(exc or True)
        self.gone()

    def end(self, how):
        """The stream is over (True) or failed (an exception): wake the body stream to see."""
        self.ended = how
        if self.queue.empty():
            self.queue.put_nowait(_WAKE)

    def gone(self):
        self.over = True
        left = self.left
        if left is not None and not left.done():
            left.set_result(None)

    def cancel(self):
        """Stop the app (the client went away, or its answer failed)."""
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def receive(self):
        body = self.body
        if body is not None:
            if type(body) is _Buffered:
                # read whole before the app (APP_WHOLE_BODY_BYTES): one message, not two
                self.body = None
                return {"type": "http.request", "body": body._body or b"", "more_body": False}
            try:
                chunk = await body.__anext__()
            except StopAsyncIteration:
                self.body = None
                return {"type": "http.request", "body": b"", "more_body": False}
            except PayloadTooLarge as exc:
                # the server answers 413 itself; the app sees the error and stops
                self.body = None
                if not self.response.done():
                    self.response.set_exception(exc)
                raise
            return {"type": "http.request", "body": chunk, "more_body": True}
        if not self.over:
            if self.left is None:
                self.left = asyncio.Future(loop=asyncio.get_event_loop())
            await self.left
        return {"type": "http.disconnect"}

    async def send(self, message):
        if self.interrupted or self.dropped:
            return  # answered 504 already (the app is being cancelled), or nobody to answer
        kind = message["type"]
        if kind == "http.response.start":
            if self.status is not None:
                raise RuntimeError("ASGI: http.response.start sent twice")
            self.status = message["status"]
            self.headers = _response_headers(message.get("headers", ()))
        elif kind == "http.response.body":
            if self.status is None:
                raise RuntimeError("ASGI: http.response.body before http.response.start")
            body = bytes(message.get("body", b""))
            more = message.get("more_body", False)
            if self.streaming:
                if self.ended is None and not self.over:
                    await self.queue.put(body)
                    if not more and self.ended is None:
                        self.end(True)
            elif self.response.done():
                return  # answered already (413), or sent after the last body: dropped
            elif not more:
                self.response.set_result(Response(self.status, self.headers, body))
                self.gone()

            else:
                self.streaming = True
                self.queue = asyncio.Queue(1)
                self.response.set_result(Response(self.status, self.headers, self.chunks()))
                await self.queue.put(body)
        else:
            raise RuntimeError(f"ASGI: unexpected message {kind!r} on an http connection")

    async def chunks(self):
        """The streamed body, as the worker pulls it; closed early, the app is cancelled."""
        try:
            while True:
                if self.ended is not None and self.queue.empty():
                    if self.ended is True:
                        return
                    raise self.ended
                item = await self.queue.get()
                if item is not _WAKE:
                    yield item
        finally:
            _exchanges.pop(self.req._p[8], None)
            if self.ended is None:
                self.cancel()  # the client went away mid-stream
            self.gone()


def _response_headers(raw):
    """ASGI's ``[(name, value)…]`` (bytes) as a Response's headers: repeated names as lists,
    the framing ones left for the worker to set."""
    headers = {}
    for name, value in raw:
        if type(name) is not bytes or type(value) is not bytes:
            name, value = header_bytes(name, value, "response header")
        name = name.decode("latin-1").lower()
        if name in _HOP:
            continue
        value = value.decode("latin-1")
        prior = headers.get(name)
        if prior is None:
            headers[name] = value
        elif type(prior) is list:
            prior.append(value)
        else:
            headers[name] = [prior, value]
    return headers
