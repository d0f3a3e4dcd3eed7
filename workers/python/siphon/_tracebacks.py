"""Tracebacks as a script's author reads them: siphon's own frames and the import machinery's
left out, so what remains points at the script."""

import traceback

_INTERNAL = __file__.rsplit("/", 1)[0] + "/"


def format_traceback(exc):
    """The traceback of ``exc`` without siphon's frames or the import machinery's."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith((_INTERNAL, "<frozen "))]
    lines = ["Traceback (most recent call last):\n"]
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()
