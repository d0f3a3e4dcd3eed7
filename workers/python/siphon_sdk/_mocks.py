"""The state a test run shares, as siphon-http's SDK keeps it in module singletons: the ``http``
namespace with its canned answers (:data:`HTTP`), the captured log (:data:`LOG`) and the test
view of ``siphon.cache`` (:data:`CACHE`). A new ``HttpTestHarness`` and ``mock_module.reset()``
clear them. :func:`patch` points the real ``siphon`` runtime at them: outbound calls get canned
answers, any client name is accepted, log lines are captured."""

import json

from siphon import _client, _response, cache, log
from siphon._contract import host
from siphon_sdk.http import MockHttp


class MockLog:
    """The log lines of the test, as ``(level, message)`` in siphon-http's level names
    (``debug``, ``info``, ``warn``, ``error``): ``harness.log.messages``. Its methods write
    through ``siphon.log``, so they are captured too."""

    def __init__(self):
        self.messages = []

    def _record(self, level, text, request_id=""):
        self.messages.append(("warn" if level == "warning" else level, text))

    def debug(self, msg, *args):
        log.debug(msg, *args)

    def info(self, msg, *args):
        log.info(msg, *args)

    def warn(self, msg, *args):
        log.warning(msg, *args)

    warning = warn

    def error(self, msg, *args):
        log.error(msg, *args)

    def clear(self):
        """Forget the captured lines."""
        self.messages.clear()


class MockCache:
    """``siphon.cache`` in a test (``harness.cache``): the real operations (``await
    harness.cache.fetch(name, key)`` …) plus siphon-http's helpers: ``set_data(name, data)``
    creates or replaces a cache holding ``data``, ``clear()`` forgets every cache's contents."""

    def __init__(self):
        self._made = set()  # caches created by set_data, not declared in the config

    def __getattr__(self, name):
        if name in cache.__all__:
            return getattr(cache, name)
        raise AttributeError(name)

    def set_data(self, name, data=None):
        """Create or replace cache ``name`` (in memory) holding ``data`` (a dict of str)."""
        entries = {str(k): v for k, v in (data or {}).items()}
        for key, value in entries.items():
            if not isinstance(value, str):
                raise TypeError(f"set_data({name!r}): the value of {key!r} is "
                                f"{type(value).__name__}; cache values are str")
        host.harness.cacheData(name, json.dumps(entries))
        if name not in cache._backends:
            self._made.add(name)
        cache._backends[name] = "memory"

    def clear(self):
        """Empty every cache; those made by ``set_data`` are gone."""
        for name in list(cache._backends):
            if name in self._made:
                host.harness.cacheData(name, None)
                del cache._backends[name]
            else:
                host.harness.cacheData(name, "{}")
        self._made.clear()

    def _forget_made(self):
        """A new script was loaded: its config decides the caches."""
        self._made.clear()


HTTP = MockHttp()
LOG = MockLog()
CACHE = MockCache()



def reset():
    """Forget recorded requests, canned responses, captured log lines and cached data."""
    HTTP.clear()
    LOG.clear()
    CACHE.clear()


async def _send_canned(client, method, path, url, headers, body, stream=False):
    HTTP.sent_requests.append({
        "method": method, "url": url, "path": path, "name": client.name,
        "base_url": client.base_url, "headers": dict(headers), "body": body or b"",
    })
    canned = HTTP._next_response(path, url)
    if isinstance(canned, BaseException):
        raise canned
    data = canned.body
    return canned.status, dict(canned.headers), _response._Buffered(data) if stream else data


def _any_client(name):
    """Under test every client name is answered (from the canned responses); a name the config
    declares keeps its settings (its base_url)."""
    return dict(_client._clients.get(name, {}))


def patch():
    """Point the real runtime at the test doubles."""
    _client._send = _send_canned
    _client._configured = _any_client
    log._capture = LOG._record
