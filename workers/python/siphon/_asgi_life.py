"""An ASGI app's ``lifespan``: started once per interpreter, after the generation's
``@http.on_startup`` hooks and before it serves; shut down when the server stops, or — for a
generation a reload replaced — once its last request and WebSocket are done. What the
app keeps in ``scope["state"]`` is copied (shallowly) into every request's scope.

An app that raises on the lifespan scope before answering does not take lifespan events (the
ASGI spec): it is served without them, and the log says so. ``lifespan.startup.failed`` stops the
start — or the reload, which keeps the old generation serving — with the app's message."""

import asyncio

from . import log
from ._asgi import ASGI, AppError, app, settled
from ._tracebacks import format_traceback


class _Lifespan:
    __slots__ = ("inbox", "started", "stopped", "task")

    def __init__(self):
        loop = asyncio.get_event_loop()
        self.inbox = asyncio.Queue()
        self.started = loop.create_future()
        self.stopped = loop.create_future()
        self.task = None

    async def receive(self):
        return await self.inbox.get()

    async def send(self, message):
        kind = message["type"]
        outcome = {
            "lifespan.startup.complete": (self.started, ("complete", "")),
            "lifespan.startup.failed": (self.started, ("failed", message.get("message", ""))),
            "lifespan.shutdown.complete": (self.stopped, ("complete", "")),
            "lifespan.shutdown.failed": (self.stopped, ("failed", message.get("message", ""))),
        }.get(kind)
        if outcome is None:
            raise RuntimeError(f"ASGI: unexpected message {kind!r} on the lifespan scope")
        future, result = outcome
        if not future.done():
            future.set_result(result)

    async def run(self, scope):
        try:
            await app.call(scope, self.receive, self.send)
        except BaseException as exc:  # noqa: BLE001 - how the lifespan ended is reported
            outcome = ("raised", exc)
        else:
            outcome = ("returned", None)
        for future in (self.started, self.stopped):
            if not future.done():
                future.set_result(outcome)


_current = []  # the running lifespan, if the app takes lifespan events


async def startup():
    """Send ``lifespan.startup`` and wait for the app's answer; raises AppError if it failed."""
    if app.call is None:
        return
    life = _Lifespan()
    life.inbox.put_nowait({"type": "lifespan.startup"})
    life.task = asyncio.ensure_future(life.run({"type": "lifespan", "asgi": ASGI,
                                                "state": app.state}))
    how, detail = await life.started
    if how == "complete":
        _current[:] = [life]
    elif how == "failed":
        raise AppError(f"{app.source}: app: {app.spec} failed its lifespan startup:\n{detail}")
    else:
        why = f"{type(detail).__name__}: {detail}" if how == "raised" else "it returned"
        log.info(f"{app.spec} does not take ASGI lifespan events ({why}); serving without them")


async def shutdown():
    """Send ``lifespan.shutdown`` and wait for the app; a failure is logged."""
    if not _current:
        return
    life = _current.pop()
    if life.task.done():
        return
    life.inbox.put_nowait({"type": "lifespan.shutdown"})
    how, detail = await life.stopped
    if how == "failed":
        log.error(f"{app.spec} failed its lifespan shutdown:\n{detail}")
    elif how == "raised":
        log.error(f"{app.spec} raised in its lifespan shutdown:\n{format_traceback(detail)}")


async def retire():
    """The generation was replaced by a reload: once its last request (background tasks
    included) and WebSocket are done, shut its app's lifespan down."""
    if not _current:
        return
    await settled()
    await shutdown()
