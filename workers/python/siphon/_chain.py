"""Middleware chains with wrap-around middleware.

A one-parameter middleware ``fn(req)`` is a guard (siphon-http's semantics): ``None`` continues,
a ``Response`` answers at once. A two-parameter one ``fn(req, call_next)`` wraps everything after
it: ``resp = await call_next(req)`` runs the rest of the chain and the handler, and the wrapper
may change that response or return its own; exceptions from inside ``call_next`` reach it.
Routes whose middlewares are all guards keep the flat loop in ``_bridge``; ``compose`` builds the
nested form for the others.
"""

import inspect

from . import http


class WrongType(Exception):
    """A handler or middleware returned something that is not an ``http.Response``."""


def wraps(fn):
    """Whether ``fn`` takes ``(req, call_next)``."""
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(params) >= 2


def _name(fn):
    return getattr(fn, "__qualname__", repr(fn))


def check_response(out, middleware, label):
    """The one check that a handler or middleware answered with an ``http.Response``;
    ``middleware`` is the function that answered, or None for the handler (``label`` names
    it already: ``get_user (GET /users/{id})``)."""
    if not isinstance(out, http.Response):
        who = "handler" if middleware is None else f"middleware {_name(middleware)}"
        raise WrongType(f"{who} of {label} returned {type(out).__name__}, "
                        "expected http.Response")
    return out


def compose(middlewares, handler, label):
    """``async (req) -> Response`` running ``middlewares`` in order around ``handler``."""

    async def run_handler(req):
        out = handler(req)
        if inspect.isawaitable(out):
            out = await out
        return check_response(out, None, label)

    step = run_handler
    for mw in reversed(middlewares):
        step = _wrap(mw, step, label) if wraps(mw) else _guard(mw, step, label)
    return step


def _wrap(mw, call_next, label):
    async def wrapped(req):
        out = mw(req, call_next)
        if inspect.isawaitable(out):
            out = await out
        return check_response(out, mw, label)
    return wrapped


def _guard(mw, call_next, label):
    async def guarded(req):
        out = mw(req)
        if inspect.isawaitable(out):
            out = await out
        if out is None:
            return await call_next(req)
        return check_response(out, mw, label)
    return guarded
