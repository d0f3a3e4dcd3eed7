"""The Python half of the request bridge (the TypeScript half is workers/bridge/bridge.ts; the
format both follow is ``siphon._contract``'s).

JS writes the request into ``inbuf`` (``siphon._contract.REQUEST_SECTIONS``, then the body) and
calls ``dispatch(route, meta_len, body_len)``, which returns one of:

* ``"status\\0t<n>\\0name\\0value…\\0<body>"``: a body of n ASCII characters inside the string;
* ``"status\\0body_len\\0name\\0value…"`` with the body in ``outbuf`` (valid until the next call);
* a tuple ``(head, body_bytes)`` for a body larger than ``outbuf``;
* ``FAILED`` / ``TIMED_OUT`` / ``TOO_LARGE`` (``"!500"``, ``"!504"``, ``"!413"``) when the
  handler failed, was interrupted, or let a streamed body over the cap go uncaught;
* an ``asyncio.Task`` resolving to one of these (never the ``outbuf`` form) when an ``async``
  step really suspended.

Coroutines are driven here with ``send(None)``; only one that suspends becomes a Task, so
``async def`` handlers that never wait cost the same as sync ones.
"""

import asyncio
import inspect
from itertools import chain as _chains
from types import CoroutineType

from . import _asgi, _asgi_ws, _chain, _request, _stream, _websocket, http, log
from ._contract import FAILED, SECTION, TIMED_OUT, TOO_LARGE, UNSENDABLE
from ._header_bytes import UNSENDABLE as _UNSENDABLE, forbidden
from ._response import _status
from ._tracebacks import format_traceback

IN_SIZE = 64 * 1024
OUT_SIZE = 64 * 1024
TEXT_MAX = 16 * 1024
_STATUSES = frozenset(range(200, 600))  # what a handler may answer with
inbuf = bytearray(IN_SIZE)
outbuf = bytearray(OUT_SIZE)
_table = []  # route id -> _Route
_Response = http.Response
_Request = http.Request
_new_request = object.__new__
_set_request_id = log._request_id.set
_chain_items = _chains.from_iterable
_override_params = None  # siphon_sdk's ``path_params=`` (override_path_params)


def grow_in(size):
    """Replace the input buffer with one of at least ``size`` bytes (JS re-reads ``inbuf``)."""
    global inbuf
    inbuf = bytearray(max(size, 2 * len(inbuf)))


def override_path_params(params):
    """The test harness's ``path_params=``: the next requests get ``params`` (a dict) instead of
    what the router extracted; None goes back to the router's."""
    global _override_params
    _override_params = params


class _Route:
    __slots__ = ("chain", "handler", "pipeline", "names", "params", "label", "guards",
                 "ws_handler")

    def __init__(self, handler, params, label, websocket=False):
        middlewares = tuple(http._middlewares)
        self.names = tuple(name for name, _ in params)
        self.params = _params_builder(params)
        self.label = label
        if websocket:
            # An upgrade runs the guards only: wrap-around middleware expects an HTTP response.
            self.guards = tuple(m for m in middlewares if not _chain.wraps(m))
            self.ws_handler = handler
            self.chain, self.handler, self.pipeline = (), None, None
            return
        self.guards, self.ws_handler = (), None
        self.chain = middlewares + (handler,)
        # No middleware: dispatch calls the handler directly (the common case, and the fastest).
        self.handler = None if middlewares else handler
        # Wrap-around middleware needs the nested form; guards alone keep the flat loop.
        self.pipeline = _chain.compose(middlewares, handler, label) \
            if any(_chain.wraps(m) for m in middlewares) else None


def install(entries, module):
    """Build the dispatch table. ``entries`` come from the worker's compiled router:
    ``(source, handler_name_or_decorator_index, [(param, type)…], label, websocket)``, by
    route id."""
    table = []
    for source, handler, params, label, websocket in entries:
        if handler is None:  # the ASGI app's route: HTTP through the app, upgrades too
            route = _Route(_asgi.serve_http, (), label)
            route.guards = tuple(m for m in route.chain[:-1] if not _chain.wraps(m))
            route.ws_handler = _asgi_ws.serve_websocket
            table.append(route)
            continue
        if isinstance(handler, int):
            fn = http._routes[handler][2]
        else:
            fn = getattr(module, handler, None)
            if not callable(fn):
                raise LookupError(
                    f"{source}: routes handler {handler!r}: no function of that name in "
                    f"{module.__file__}{_did_you_mean(handler, module)}; define it or fix the "
                    "name")
        if websocket and not inspect.iscoroutinefunction(fn):
            raise TypeError(f"{source}: websocket handler {getattr(fn, '__qualname__', fn)} must "
                            "be a coroutine function: async def handler(ws)")
        table.append(_Route(fn, params, f"{getattr(fn, '__qualname__', fn)} ({label})",
                            websocket))
    _table[:] = table


def _params_builder(params):
    """``values -> path_params`` for one route, made once: a dict display with ``int()``
    where the template says ``:int`` (the names are the template's, checked identifiers)."""
    items = ", ".join(f"{name!r}: int(v[{i}])" if kind == "int" else f"{name!r}: v[{i}]"
                      for i, (name, kind) in enumerate(params))
    return eval(f"lambda v: {{{items}}}", {"int": int})


def read_request(route, meta_len, body_len):
    """The request JS wrote into ``inbuf``, as ``http.Request`` (built here rather than through
    its constructor: this runs once per request); sets the log's request id."""
    parts = inbuf[:meta_len].decode().split(SECTION)
    _set_request_id(parts[7])  # asyncio Tasks copy the context, so async handlers keep it
    if parts[9]:
        parts[9] = _stream.RequestBody(int(parts[9]))
    req = _new_request(_Request)
    req._p = parts
    req._route = route
    req._params = _override_params  # None: the router's, decoded on first read
    req._body = bytes(memoryview(inbuf)[meta_len:meta_len + body_len]) if body_len else b""
    req._read_as = None
    return req


def open_socket(route_id, meta_len, socket_id):
    """Start the handler of a websocket route on the upgrade request in ``inbuf``
    (``siphon._websocket.start`` says what the handshake Future resolves to)."""
    route = _table[route_id]
    return _websocket.start(route, read_request(route, meta_len, 0), socket_id, pack)


def disconnect(seq):
    """The client of request ``seq`` went away (an ASGI app waits for that in ``receive``)."""
    _asgi.disconnect(seq)


def abort_socket(socket_id):
    """The upgrade missed its deadline: cancel the socket's handler."""
    _websocket.abort(socket_id)


def _did_you_mean(name, module):
    """`` (did you mean 'x'?)`` for the module's function closest to a misspelled ``name``."""
    import difflib
    functions = [n for n, v in vars(module).items()
                 if inspect.isfunction(v) and not n.startswith("__")]
    close = difflib.get_close_matches(name, functions, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def dispatch(route_id, meta_len, body_len):
    route = _table[route_id]
    req = read_request(route, meta_len, body_len)
    handler = route.handler
    if handler is not None:
        try:
            out = handler(req)
            if type(out) is CoroutineType:
                try:
                    step = out.send(None)
                except StopIteration as done:
                    out = done.value
                else:
                    return asyncio.ensure_future(_finish(route, req, 0, _Resume(out, step)))
            return pack(route, req, out, None, True)
        except BaseException as exc:  # noqa: BLE001 - every failure becomes an answer
            return _outcome(route, req, exc)
    if route.pipeline is not None:
        return _run_pipeline(route, req)
    try:
        chain = route.chain
        last = len(chain) - 1
        for i, fn in enumerate(chain):
            out = fn(req)
            if isinstance(out, CoroutineType):
                try:
                    step = out.send(None)
                except StopIteration as done:
                    out = done.value
                else:
                    rest = _finish(route, req, i, _Resume(out, step))
                    return asyncio.ensure_future(rest)
            if i == last or out is not None:
                return pack(route, req, out, fn if i < last else None, True)
    except BaseException as exc:  # noqa: BLE001 - every failure becomes an answer
        return _outcome(route, req, exc)


def _run_pipeline(route, req):
    """A chain with wrap-around middleware, driven like a handler: a Task only if it waits."""
    coro = route.pipeline(req)
    try:
        try:
            step = coro.send(None)
        except StopIteration as done:
            return pack(route, req, done.value, None, True)
    except BaseException as exc:  # noqa: BLE001
        return _outcome(route, req, exc)
    return asyncio.ensure_future(_finish_pipeline(route, req, _Resume(coro, step)))


async def _finish_pipeline(route, req, pending):
    try:
        return pack(route, req, await pending, None, False)
    except BaseException as exc:  # noqa: BLE001
        return _outcome(route, req, exc)


def _outcome(route, req, exc):
    """The one place an exception out of the chain becomes an answer: the watchdog's interrupt
    or the deadline's cancellation is 504, a streamed body over the cap that nobody caught 413,
    a handler that returned the wrong thing 500 with one line, anything else 500 with its
    traceback in the log."""
    if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)):
        return TIMED_OUT
    if isinstance(exc, http.PayloadTooLarge):
        log.warning(f"{req.method} {req.path}: {exc}")
        return TOO_LARGE
    if isinstance(exc, _chain.WrongType):
        log.error(f"{req.method} {req.path}: {exc}")
        return UNSENDABLE if isinstance(exc, _Unsendable) else FAILED
    _log_failure(route, req, exc)
    return FAILED


async def _finish(route, req, i, pending):
    try:
        out = await pending
        chain = route.chain
        last = len(chain) - 1
        while i < last and out is None:
            i += 1
            out = chain[i](req)
            if isinstance(out, CoroutineType):
                out = await out
        return pack(route, req, out, chain[i] if i < last else None, False)
    except BaseException as exc:  # noqa: BLE001
        return _outcome(route, req, exc)


class _Resume:
    """Awaitable that continues a coroutine already driven to its first suspension."""

    __slots__ = ("coro", "step")

    def __init__(self, coro, step):
        self.coro, self.step = coro, step

    def __await__(self):
        coro, pending = self.coro, self.step
        while True:
            try:
                sent = yield pending
            except BaseException as exc:  # forward cancellation and errors into the coroutine
                try:
                    pending = coro.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    pending = coro.send(sent)
                except StopIteration as done:
                    return done.value


def pack(route, req, resp, middleware, sync):
    """The response as JS takes it (``_answer``). Raises ``_chain.WrongType`` for anything that
    cannot be sent; the caller's ``_outcome`` answers that with a 500. ``middleware`` is the one
    that answered, or None for the handler."""
    # The common case first: a Response as made, a whole body, no headers or a few.
    if type(resp) is _Response:
        status, body = resp.status, resp.body
        if type(body) is bytes and type(status) is int and status in _STATUSES:
            # _answer's text case, inline: most answers take it
            n = len(body)
            if n <= TEXT_MAX and body.isascii():
                headers = resp.headers
                if headers:
                    return f"{_head(status, headers, f't{n}')}\0{body.decode('ascii')}"
                return f"{status}\0t{n}\0{body.decode('ascii')}"
            return _answer(status, resp.headers, body, sync)
    _chain.check_response(resp, middleware, route.label)
    status = _status(resp.status)  # set after it was made: HTTPStatus.OK is an int subclass
    if type(status) is not int or not 200 <= status <= 599:
        raise _chain.WrongType(f"{route.label} returned status {status!r}; use a whole number "
                               "from 200 to 599")
    body = resp.body
    if type(body) is not bytes:  # set after the Response was made (a wrapper), or a stream
        try:
            body = http._as_body(body)
        except TypeError as exc:
            raise _chain.WrongType(f"{route.label}: {exc}") from None
        if type(body) is not bytes:
            return (_head(status, resp.headers, "-1"), None,
                    _stream.ResponseBody(body, route.label, req))
    return _answer(status, resp.headers, body, sync)


def _answer(status, headers, body, sync):
    """A whole response as JS takes it: up to TEXT_MAX bytes of ASCII inside the answer string
    (``status\\0t<n>\\0name\\0value…\\0<body>``: a JS string body costs Deno less than
    bytes); else the head with the body in ``outbuf`` (``status\\0<n>…``, a sync call's small
    body) or a ``(head, bytes)`` tuple."""
    n = len(body)
    if n <= TEXT_MAX and body.isascii():
        if headers:
            return f"{_head(status, headers, f't{n}')}\0{body.decode('ascii')}"
        return f"{status}\0t{n}\0{body.decode('ascii')}"
    head = _head(status, headers, str(n)) if headers else f"{status}\0{n}"
    if sync and n <= OUT_SIZE:
        outbuf[:n] = body
        return head
    return (head, body)


def _head(status, headers, length):
    # Names and values all str (the usual case): one join, no loop in Python. The separator is
    # NUL, so a NUL inside a name or value would split it into more headers (injection): the
    # count of separators and one search for the other forbidden bytes check every header at
    # once, and only a head that fails is taken apart to name the header.
    try:
        flat = "\0".join(_chain_items(headers.items()))
    except TypeError:
        pass
    else:
        if flat.count("\0") != 2 * len(headers) - 1 or _UNSENDABLE(flat) is not None:
            _refuse_header(headers.items())
        return f"{status}\0{length}\0{flat}" if flat else f"{status}\0{length}"
    pairs = []
    for name, value in headers.items():
        name = str(name)
        if isinstance(value, (list, tuple)):
            for v in value:
                pairs.append((name, str(v)))
        else:
            pairs.append((name, str(value)))
    _refuse_header(pairs)
    return "\0".join([str(status), length, *_chain_items(pairs)])


class _Unsendable(_chain.WrongType):
    """A response header that must not go on the wire."""


def _refuse_header(pairs):
    """Raise ``WrongType`` naming the first header whose name or value holds a byte that must
    not go on the wire (the caller answers 500 and logs it); return when there is none."""
    why = forbidden(pairs)
    if why is not None:
        raise _Unsendable(f"response header {why}; the response was not sent. Strip or encode it "
                          "(a client's value reflected into a header, say)")


def _log_failure(route, req, exc):
    log.error(f"{req.method} {req.path}: {route.label} raised "
              f"{type(exc).__name__}\n{format_traceback(exc)}")
