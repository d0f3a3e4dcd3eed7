"""siphon-http's SDK entry point for tests: ``mock_module.install()``, ``reset()`` and the
``get_*`` accessors.

In siphon-http's SDK ``install()`` puts a mock ``siphon`` module in place. Here ``siphon`` is the
real runtime package already, so ``install()`` points it at the test doubles (canned outbound
answers for any client name, a captured log) and returns it. The accessors return the one
instance of each double that a test run shares, as the SDK's singletons are.
"""

import siphon
from siphon import http
from siphon_sdk import _mocks


_Log, _Cache = _mocks.MockLog, _mocks.MockCache  # the classes of get_log() and get_cache()


def install():
    """Point the ``siphon`` package at the test doubles and return it."""
    _mocks.patch()
    return siphon


def reset():
    """Forget recorded requests, canned responses, captured log lines and cached data."""
    _mocks.reset()


def get_http():
    """The ``http`` namespace of the test (:class:`~siphon_sdk.http.MockHttp`): canned answers,
    ``sent_requests``, and ``siphon.http``'s decorators and types."""
    return _mocks.HTTP


def get_log():
    """The captured log (``.messages``: ``(level, message)`` tuples)."""
    return _mocks.LOG


def get_cache():
    """``siphon.cache`` with ``set_data(name, data)`` and ``clear()``."""
    return _mocks.CACHE


class _Registry:
    """What the script registered, in the shape of siphon-http SDK's handler registry:
    ``handlers[event]`` is a list of ``(method_filter, fn, is_async, metadata)``."""

    @property
    def handlers(self):
        import inspect

        def entry(fn, meta=None):
            return (None, fn, inspect.iscoroutinefunction(fn), meta or {})
        found = {
            "http.route": [entry(fn, {"path": path, "methods": list(methods)})
                           for path, methods, fn, *_ in http._routes],
            "http.middleware": [entry(fn) for fn in http._middlewares],
            "http.startup": [entry(fn) for fn in http._startup],
            "http.shutdown": [entry(fn) for fn in http._shutdown],
        }
        return {event: items for event, items in found.items() if items}

    def get(self, event, method=None):
        """``[(fn, is_async)…]`` registered for ``event`` (``http.route`` …)."""
        return [(fn, is_async) for _f, fn, is_async, _m in self.handlers.get(event, [])]

    def clear(self):
        """Forget every route, middleware and hook the script registered."""
        for registry in (http._routes, http._middlewares, http._startup, http._shutdown):
            registry.clear()


_registry = _Registry()


def get_registry():
    """What the script registered (``handlers["http.route"]`` …)."""
    return _registry
