"""``siphon.log``: write to the server log (the worker's logger, tagged with the worker id).
A line written while a request is handled carries that request's id."""

import contextvars

from ._contract import host

_capture = None  # siphon_sdk's harness keeps the lines here instead: (level, message, request_id)
_request_id = contextvars.ContextVar("siphon_request_id", default="")


def _emit(level, msg, args):
    text = str(msg) % args if args else str(msg)
    sink = _capture or host.log
    if sink is None:
        print(f"[{level}] {text}")
    else:
        sink(level, text, _request_id.get())


def debug(msg, *args):
    """Log at debug level; ``%``-style ``args`` are applied to ``msg``."""
    _emit("debug", msg, args)


def info(msg, *args):
    """Log at info level; ``%``-style ``args`` are applied to ``msg``."""
    _emit("info", msg, args)


def warning(msg, *args):
    """Log at warning level; ``%``-style ``args`` are applied to ``msg``."""
    _emit("warning", msg, args)


warn = warning


def error(msg, *args):
    """Log at error level; ``%``-style ``args`` are applied to ``msg``."""
    _emit("error", msg, args)
