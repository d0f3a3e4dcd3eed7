"""``call_soon`` for Pyodide's WebLoop in batches.

WebLoop schedules every ready callback on its own: a JS callable made for it (a proxy with a
finalizer) and one task of the JS event loop, entered through a stack switch. A WebSocket echo
makes several such callbacks per message. Here ready callbacks queue in Python and one JS task
runs all that were queued when it starts (those they schedule wait for the next one, so JS events
still get their turn between batches). Installed by ``siphon._runtime.start``.
"""

import asyncio
from collections import deque

_ready = deque()
_scheduled = False
_loop_class = None
_may_syncify = False


def install(may_syncify=False):
    """Replace ``WebLoop.call_soon`` (once per interpreter). ``may_syncify``: batches run on a
    stack that ``run_sync`` can switch (the test runner needs it); without it (serving) they run
    as plain calls, which Pyodide's interrupt reaches — a step that blocks the loop past its
    deadline is interrupted by the watchdog."""
    global _loop_class, _may_syncify
    import pyodide.webloop as webloop
    if _loop_class is not None:
        return
    _may_syncify = may_syncify
    _loop_class = webloop.WebLoop
    _loop_class.call_soon = _call_soon


def _call_soon(loop, callback, *args, context=None):
    global _scheduled
    handle = asyncio.Handle(callback, args, loop, context=context)
    _ready.append((loop, handle))
    if not _scheduled:
        _schedule()
    return handle


def _schedule():
    global _scheduled
    import pyodide.webloop as webloop
    from pyodide.ffi import create_once_callable
    _scheduled = True
    webloop.scheduleCallback(create_once_callable(_flush, _may_syncify=_may_syncify), 0)


def _flush():
    global _scheduled
    _scheduled = False
    for _ in range(len(_ready)):
        loop, handle = _ready.popleft()
        if handle.cancelled():
            continue
        loop._install_running_loop()
        loop._install_asyncgen_hooks()
        try:
            handle._run()
        except SystemExit as exc:
            _rest_later()
            if loop._system_exit_handler:
                loop._system_exit_handler(exc.code)
            else:
                raise
        except KeyboardInterrupt:
            _rest_later()
            if loop._keyboard_interrupt_handler:
                loop._keyboard_interrupt_handler()
            else:
                raise


def _rest_later():
    """A callback escaped with SystemExit or KeyboardInterrupt: the ones after it still run."""
    if _ready and not _scheduled:
        _schedule()
