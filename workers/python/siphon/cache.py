"""``siphon.cache``: named caches shared by every worker of the process (``memory``) or by
every replica (``redis``).

Every function is a coroutine; keys and values are str. The caches are declared in http.yaml.
A memory cache lives in the supervisor, so it survives hot reloads and worker replacement, and
each operation is atomic; a redis cache is one Redis database, its operations atomic in Redis.
"""

import json

__all__ = ["fetch", "store", "exists", "delete", "add", "incr", "list_push", "list_len",
           "list_pop_all", "CacheError"]

_call = None        # set by siphon._runtime: memory caches (synchronous, via the supervisor)
_call_async = None  # set by siphon._runtime: redis caches (a promise)
_backends = {}      # configured cache name -> "memory" | "redis"


class CacheError(Exception):
    """A cache operation failed (wrong kind of value, backend unavailable)."""


def _check(name, value=None):
    if name not in _backends:
        known = ", ".join(sorted(_backends)) or "none"
        raise LookupError(f"siphon.cache: no cache named {name!r} in http.yaml `cache:` "
                          f"(configured: {known})")
    if value is not None and not isinstance(value, str):
        raise TypeError(f"siphon.cache values are str, got {type(value).__name__}")


async def _op(name, op, key, value=None, ttl=None, by=None):
    # The call is synchronous (the supervisor answers in shared memory), so these coroutines
    # finish without suspending; they stay coroutines for siphon-http compatibility.
    from pyodide.ffi import JsException
    _check(name, value)
    call = {"op": op, "key": str(key)}
    if value is not None:
        call["value"] = value
    if ttl is not None:
        call["ttlMs"] = max(0, int(ttl * 1000))
    if by is not None:
        call["by"] = by
    try:
        if _backends[name] == "redis":
            result = await _call_async(name, json.dumps(call))
        else:
            result = _call(name, json.dumps(call))
    except JsException as exc:
        raise CacheError(f"cache {name!r}, {op} {key!r}: "
                         f"{str(exc).removeprefix('Error: ')}") from None
    return json.loads(result)


async def fetch(name, key):
    """The value stored under ``key``, or None."""
    return await _op(name, "fetch", key)


async def store(name, key, value, ttl=None):
    """Store ``value`` under ``key``; ``ttl`` in seconds (None: keep until evicted)."""
    await _op(name, "store", key, value, ttl)


async def exists(name, key):
    """Whether ``key`` holds a value that has not expired."""
    return await _op(name, "exists", key)


async def delete(name, key):
    """Remove ``key``; True when it was there."""
    return await _op(name, "delete", key)


async def add(name, key, value, ttl=None):
    """Store only if ``key`` is absent; True for the one caller that stored it."""
    return await _op(name, "add", key, value, ttl)


async def incr(name, key, by=1):
    """Add ``by`` to the number under ``key`` (0 when absent) and return the new value."""
    return await _op(name, "incr", key, by=int(by))


async def list_push(name, key, value):
    """Append ``value`` to the list under ``key``."""
    await _op(name, "list_push", key, value)


async def list_len(name, key):
    """The length of the list under ``key`` (0 when absent)."""
    return await _op(name, "list_len", key)


async def list_pop_all(name, key):
    """Remove the list under ``key`` and return its items."""
    return await _op(name, "list_pop_all", key)
