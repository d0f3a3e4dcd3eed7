"""``siphon.cache``: named caches shared by every worker of the process (``memory``) or by
every replica (``redis``), with siphon-http's API and answers.

Every operation is a coroutine (``has_cache`` excepted); keys and values are str. The caches are
declared in http.yaml (``cache:``) or siphon.yaml (``cache: [{name, url, local_ttl_secs,
local_max_entries}]``). A memory cache lives in the supervisor, so it survives hot reloads and
worker replacement, and each operation is atomic; a redis cache is one Redis database, its
operations atomic in Redis. A redis cache with ``local_ttl_secs`` keeps a process-local copy of
what it read or stored for that long, as siphon-http's local LRU does.

As in siphon-http, a name that is not configured answers as a missing key would (``None``,
``False``, ``[]``) and logs one warning; keys starting with ``siphon:`` are refused.
"""

import json

from . import log
from ._contract import host

__all__ = ["fetch", "store", "exists", "delete", "add", "incr", "expire", "has_cache",
           "list_push", "list_len", "list_len_sum", "list_pop_all", "CacheError"]

_backends = {}      # configured cache name -> "memory" | "redis" | "redis+local"
_warned = set()     # unknown names already warned about (once each per worker)

_RESERVED = "siphon:"


class CacheError(RuntimeError):
    """A cache operation failed: the backend is unreachable, or the key holds the other kind of
    value (a list where a string was asked for, or ``incr`` on text)."""


def has_cache(name):
    """Whether a cache called ``name`` is configured."""
    return name in _backends


def _known(name, key, value=None):
    if str(key).startswith(_RESERVED):
        raise ValueError(f"keys starting with {_RESERVED!r} are reserved for internal use")
    if value is not None and not isinstance(value, str):
        raise TypeError(f"siphon.cache values are str, got {type(value).__name__}")
    if name in _backends:
        return True
    if name not in _warned:
        _warned.add(name)
        known = ", ".join(sorted(_backends)) or "none"
        log.warning(f"siphon.cache: no cache named {name!r} (configured: {known}); its calls "
                    "answer as for a missing key. Declare it under cache: in the config")
    return False


async def _op(name, op, key, value=None, ttl=None, by=None):
    # Memory calls are synchronous (the supervisor answers in shared memory), so they finish
    # without suspending; they stay coroutines for siphon-http compatibility.
    call = {"op": op, "key": str(key)}
    if value is not None:
        call["value"] = value
    if ttl is not None:
        call["ttlMs"] = max(0, int(ttl * 1000))
    if by is not None:
        call["by"] = by
    text = json.dumps(call)
    from pyodide.ffi import JsException
    try:
        if _backends[name] == "memory":
            return json.loads(host.cache(name, text))
        return json.loads(await host.cacheAsync(name, text))
    except JsException as exc:
        raise CacheError(f"cache {name!r}, {op} {key!r}: "
                         f"{str(exc).removeprefix('Error: ')}") from None


def _local(name, op, key, value=None, ttl=None):
    """The process-local copy of a redis cache with ``local_ttl_secs`` (None without one)."""
    if _backends[name] != "redis+local":
        return None
    call = {"op": op, "key": str(key)}
    if value is not None:
        call["value"] = value
    if ttl is not None:
        call["ttlMs"] = max(0, int(ttl * 1000))
    return json.loads(host.cache(name, json.dumps(call)))


async def fetch(name, key):
    """The value stored under ``key``, or None."""
    if not _known(name, key):
        return None
    held = _local(name, "fetch", key)
    if held is not None:
        return held
    value = await _op(name, "fetch", key)
    if value is not None:
        _local(name, "store", key, value)
    return value


async def store(name, key, value, ttl=None):
    """Store ``value`` under ``key``; ``ttl`` in seconds (None: until evicted). True when
    stored, False when no such cache is configured."""
    if not _known(name, key, value):
        return False
    await _op(name, "store", key, value, ttl)
    _local(name, "store", key, value, ttl)
    return True


async def exists(name, key):
    """Whether ``key`` holds a value that has not expired."""
    if not _known(name, key):
        return False
    return bool(_local(name, "exists", key)) or await _op(name, "exists", key)


async def delete(name, key):
    """Remove ``key``. True when the cache is configured (whether or not the key was there), as
    in siphon-http."""
    if not _known(name, key):
        return False
    _local(name, "delete", key)
    await _op(name, "delete", key)
    return True


async def add(name, key, value, ttl=None):
    """Store only if ``key`` is absent; True for the one caller that stored it."""
    if not _known(name, key, value):
        return False
    _local(name, "delete", key)
    return await _op(name, "add", key, value, ttl)


async def incr(name, key, by=1):
    """Add ``by`` to the number under ``key`` (0 when absent) and return the new value."""
    if not _known(name, key):
        return None
    _local(name, "delete", key)
    return await _op(name, "incr", key, by=int(by))


async def expire(name, key, ttl):
    """Let ``key`` expire ``ttl`` seconds from now. True when it exists."""
    if not _known(name, key):
        return False
    _local(name, "delete", key)
    return await _op(name, "expire", key, ttl=ttl)


async def list_push(name, key, value):
    """Append ``value`` to the list under ``key``; returns the list's new length."""
    if not _known(name, key, value):
        return None
    return await _op(name, "list_push", key, value)


async def list_len(name, key):
    """The length of the list under ``key`` (0 when absent)."""
    if not _known(name, key):
        return None
    return await _op(name, "list_len", key)


async def list_len_sum(name, prefix):
    """The summed length of every list whose key starts with ``prefix`` (non-empty)."""
    if not prefix:
        raise ValueError("prefix must not be empty (it would scan the whole cache)")
    if not _known(name, prefix):
        return None
    return await _op(name, "list_len_sum", prefix)


async def list_pop_all(name, key):
    """Remove the list under ``key`` and return its items (oldest first)."""
    if not _known(name, key):
        return []
    return await _op(name, "list_pop_all", key)
