"""``siphon.log``: write to the server log (the worker's logger, tagged with the worker id)."""

_sink = None  # set by siphon._runtime.attach(); a JS function (level, message)


def _emit(level, msg, args):
    text = str(msg) % args if args else str(msg)
    if _sink is None:
        print(f"[{level}] {text}")
    else:
        _sink(level, text)


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
