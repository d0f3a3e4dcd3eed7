"""Worker boot for the Python side: environment, logging, sleep, loading the user's script,
lifecycle hooks. Called from src/snapshot/restore.ts and workers/worker.ts."""

import importlib.util
import inspect
import json
import os
import random
import sys
import time
import traceback

import pyodide.webloop

from . import _asgi, _asgi_life, _bridge, _client, _code, _soon, cache, http, log
from ._contract import host
from ._tracebacks import format_traceback

_module = None


def _sleep(seconds):
    """time.sleep that waits without burning CPU and stays interruptible (request deadline)."""
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        host.wait(min(left, 0.05) * 1000.0)


def _on_interrupt(signum, frame):
    """Pyodide delivers the watchdog's interrupt as SIGINT. Normally that is KeyboardInterrupt;
    once the watchdog has also set the kill flag (the handler swallowed the first one), exit:
    that unwinds the whole interpreter and the supervisor replaces the worker."""
    if host.killed is not None and host.killed():
        os._exit(70)
    raise _asgi.interrupt() or KeyboardInterrupt


def start(env_json):
    """Set the interpreter up for its thread, from the services ``siphon._contract.attach``
    took: ``os.environ``, an interruptible ``time.sleep``, the watchdog's interrupt, asyncio's
    scheduler."""
    import signal
    if host.schedule is not None:
        # asyncio's call_soon without the 4 ms clamp on chained setTimeout(0)
        # (workers/services/scheduler.ts), ready callbacks in batches (siphon._soon); the test
        # runner's need run_sync
        pyodide.webloop.scheduleCallback = host.schedule
        _soon.install(may_syncify=bool(host.stackSwitching))
    os.environ.clear()
    os.environ.update(json.loads(env_json))
    random.seed()
    time.sleep = _sleep
    signal.signal(signal.SIGINT, _on_interrupt)


def configure(clients_json, caches_json):
    """Take the config's named clients and caches (``{name: backend}``)."""
    _client._clients = json.loads(clients_json)
    cache._backends = json.loads(caches_json)


def forget_script(folder):
    """Undo ``load_script`` for the test harness: drop every registered route, middleware and
    hook, and the modules imported from ``folder``, so the next load starts clean."""
    global _module
    for registry in (http._routes, http._middlewares, http._startup, http._shutdown):
        registry.clear()
    prefix = folder.rstrip("/") + "/"
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(prefix):
            del sys.modules[name]
    _module = None
    _asgi.app.__init__()


class ScriptError(Exception):
    """The user's script could not be imported; the message holds the traceback."""


def load_script(path, code_json="{}"):
    """Import the script at ``path`` as a module named after its file; returns the decorator
    routes as JSON: ``[[path, [methods], "file:line", stream, websocket], …]``. ``code_json``
    holds the texts of the script and its neighbours as the config load read them
    (``siphon._code``); without them, they are read from disk."""
    global _module
    folder, filename = os.path.split(path)
    name = filename[:-3] if filename.endswith(".py") else filename
    if folder not in sys.path:
        sys.path.insert(0, folder)
    code = json.loads(code_json)
    _code.use(folder, code)
    spec = importlib.util.spec_from_file_location(name, path, loader=_code.loader(path, code))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001 - report any import failure
        sys.modules.pop(name, None)
        hint = ""
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            top = exc.name.split(".")[0]
            if importlib.util.find_spec(top) is None:
                lines = [line for frame, line in traceback.walk_tb(exc.__traceback__)
                         if frame.f_code.co_filename == path]
                where = f"{path}:{lines[-1]}" if lines else path
                hint = f"\n{where}: import {exc.name}: {_not_provided(top)}"
        raise ScriptError(f"Cannot import {path}:\n{format_traceback(exc)}{hint}") from None
    _module = module
    return json.dumps([[p, m, where, stream, ws] for p, m, _fn, where, stream, ws in http._routes])


def load_app(spec, source, folder, code_json="{}"):
    """Import the ASGI application ``module:attribute`` (``siphon._asgi.load``); with no script,
    the texts in ``code_json`` are its folder's modules as the config load read them."""
    _code.use(folder, json.loads(code_json))
    try:
        _asgi.load(spec, source, folder)
    except _asgi.AppError as exc:
        raise ScriptError(str(exc)) from None


def unresolved_imports(path):
    """The script's absolute imports that nothing provides — no installed package, standard
    library module or file beside the script — as ``["file:line: import x: …", …]`` in JSON.
    Imports inside functions count too (they would fail only when the function runs); imports
    guarded by ``try: … except ImportError`` do not."""
    import ast
    import importlib.util
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read(), path)
    guarded = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_catches_import_error(h, ast) for h in node.handlers):
            guarded.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    missing = []
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in sys.modules or importlib.util.find_spec(top) is not None:
                continue
            missing.append((node.lineno, f"{path}:{node.lineno}: import {name}: "
                            f"{_not_provided(top)}"))
    return json.dumps([message for _, message in sorted(set(missing))])


def _not_provided(top):
    """What to do about an import of ``top`` that nothing provides."""
    return (f"no installed package, standard-library module or file beside the script provides "
            f"{top}; add its wheel to the wheelhouse and the name to python.packages "
            "(docs/packages.md)")


def _catches_import_error(handler, ast):
    """Whether an ``except`` clause catches a failed import (bare, or naming a class above)."""
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(
        kind is None or getattr(kind, "id", None) in (
            "ImportError", "ModuleNotFoundError", "Exception", "BaseException"
        )
        for kind in kinds
    )


def install(entries_json):
    """Build the dispatch table from the compiled route list (see ``_bridge.install``)."""
    _bridge.install(json.loads(entries_json), _module)


async def _run_hooks(hooks, what):
    for fn in hooks:
        try:
            out = fn()
            if inspect.isawaitable(out):
                await out
        except BaseException as exc:  # noqa: BLE001
            raise ScriptError(f"@http.{what} {getattr(fn, '__qualname__', fn)} raised:\n"
                              f"{format_traceback(exc)}") from None


async def startup():
    """Run every ``@http.on_startup`` hook in order, then the ASGI app's lifespan startup; the
    first failure stops the worker.

    Afterwards everything alive (modules, the script's globals, startup state) moves to the
    cyclic GC's permanent generation, so per-request collections do not re-walk it."""
    await _run_hooks(http._startup, "on_startup")
    try:
        await _asgi_life.startup()
    except _asgi.AppError as exc:
        raise ScriptError(str(exc)) from None
    import gc
    gc.collect()
    gc.freeze()


async def shutdown(hooks=True):
    """Shut the ASGI app's lifespan down (every interpreter has its own), then — with
    ``hooks``, in the one worker that runs them for the process — every ``@http.on_shutdown``
    hook; failures are logged, the rest still run."""
    await _asgi_life.shutdown()
    if not hooks:
        return
    for fn in http._shutdown:
        try:
            await _run_hooks([fn], "on_shutdown")
        except ScriptError as exc:
            log.error(str(exc))


async def retire():
    """This generation was replaced by a reload: its ASGI app's lifespan shuts down once its
    last request and WebSocket are done (``on_shutdown`` hooks stay once per process)."""
    await _asgi_life.retire()


def memory_stats():
    """Collect garbage, then count the objects the cyclic GC tracks (the startup state is
    frozen, so this counts what requests left behind)."""
    import gc
    gc.collect()
    return len(gc.get_objects())
