"""``siphon.http``: routes, middleware, lifecycle hooks, Request and Response, Client.

Compatible with siphon-http scripts. Registration only records what the script declares; the
worker compiles the route table (TypeScript) and ``siphon._bridge`` dispatches to it. The types
live in their own modules (``_request``, ``_response``, ``_client``) and are re-exported here,
the one module scripts import.
"""

import inspect

from ._client import Client, ClientError, UnknownClientError
from ._request import PayloadTooLarge, Request
from ._response import HTTPStatusError, Response, _as_body
from ._websocket import WebSocket, WebSocketClosed

__all__ = [
    "route", "middleware", "on_startup", "on_shutdown", "Request", "Response", "HTTPStatusError",
    "Client", "ClientError", "UnknownClientError", "PayloadTooLarge", "websocket", "WebSocket",
    "WebSocketClosed",
]

for _cls in (Request, Response, HTTPStatusError, Client, ClientError, UnknownClientError,
             PayloadTooLarge, WebSocket, WebSocketClosed):
    _cls.__module__ = __name__  # tracebacks and reprs say siphon.http.X, where scripts get them

_routes = []        # (path, [METHODS], func, "file:line", stream, websocket)
_middlewares = []   # guard functions, registration order
_startup = []
_shutdown = []


def _where(fn):
    code = getattr(fn, "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code else repr(fn)


def route(path, methods=None, stream=False):
    """Register the decorated function for ``path`` (a template such as ``/users/{id:int}``).

    ``methods`` defaults to ``["GET"]``; names are upper-cased. ``stream=True`` hands the
    handler the request before its body is read: read it with ``async for chunk in
    req.stream()`` (``req.body()`` is then an error).
    """
    if isinstance(methods, str):
        methods = [methods]
    wanted = [str(m).upper() for m in (methods or ["GET"])]

    def register(fn):
        if not callable(fn):
            raise TypeError(f"@http.route({path!r}) must decorate a function, got {fn!r}")
        _routes.append((path, wanted, fn, _where(fn), bool(stream), False))
        return fn

    return register


def websocket(path):
    """Register the decorated ``async def handler(ws)`` for WebSocket upgrades at ``path`` (a
    template like ``route``'s). ``ws`` is a :class:`WebSocket`: ``ws.request`` is the upgrade
    request; ``await ws.accept()``, ``async for message in ws``, ``await ws.send(...)``,
    ``await ws.close(code, reason)``. Guard middlewares run on the upgrade request (one that
    returns a Response refuses it); wrap-around middlewares do not run for sockets."""

    def register(fn):
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"@http.websocket({path!r}) must decorate an async function "
                            f"(async def handler(ws)), got {fn!r}")
        _routes.append((path, ["GET"], fn, _where(fn), False, True))
        return fn

    return register


def middleware(fn):
    """Register a middleware, run before every handler in registration order.

    ``fn(req)`` is a guard: it returns None to continue or a Response to answer at once.
    ``fn(req, call_next)`` wraps the rest: ``resp = await call_next(req)`` runs the later
    middlewares and the handler (their exceptions reach it); it returns that response, changed
    or not, or its own."""
    if not callable(fn):
        raise TypeError(f"@http.middleware must decorate a function, got {fn!r}")
    _middlewares.append(fn)
    return fn


def on_startup(fn):
    """Run ``fn()`` (sync or async) once per worker before that worker accepts requests."""
    _startup.append(fn)
    return fn


def on_shutdown(fn):
    """Run ``fn()`` (sync or async) when the worker stops."""
    _shutdown.append(fn)
    return fn
