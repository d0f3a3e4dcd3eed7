"""What an ASGI scope holds of a request: the parts every ``http`` and ``websocket`` scope
shares, read from the packed request (``siphon._contract`` APP_PARTS); and the check of the
header pairs the app sends."""

from urllib.parse import unquote

from . import _wire
from ._contract import ITEM

_ITEM = ITEM.encode()

ASGI = {"version": "3.0", "spec_version": "2.3"}


def scope_base(req, kind, state):
    """What every scope of ``req`` holds. The app route's params section carries the parts an
    ASGI scope has and a script's request does not (``siphon._contract`` APP_PARTS)."""
    raw_path, query, scheme, host, port, version = _wire.values(req._p[5])
    client = req.client
    ip, _, client_port = client.rpartition(":")
    return {
        "type": kind,
        "asgi": ASGI,
        "http_version": version,
        "scheme": scheme,
        "path": unquote(raw_path),
        "raw_path": raw_path.encode("latin-1"),
        "root_path": "",
        "query_string": query.encode("latin-1"),
        "headers": _raw_headers(req),
        "server": (host, int(port)),
        "client": (ip.strip("[]"), int(client_port)) if ip else None,
        "state": dict(state),  # a shallow copy of the lifespan state
    }


def _raw_headers(req):
    """The request headers as ASGI has them: lower-case names, bytes as they came."""
    section = req._p[4]
    if type(section) is str:
        # As packed (headers are always joined by ITEM, never JSON: hyper refuses control
        # bytes in them): Deno hands header bytes over as latin-1 characters, so one encode
        # and one split give every name and value as it came, repeated names included.
        if not section:
            return []
        items = section.encode("latin-1").split(_ITEM)
        return list(zip(items[::2], items[1::2]))
    # decoded (or rewritten by a middleware): values were decoded as UTF-8 where they could be
    return [(n.encode("latin-1"), _encode(v)) for n, v in section.items()]


def _encode(value):
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def header_bytes(name, value, where):
    """A header pair the app sent (ASGI: bytes or bytearray) as bytes; ``TypeError`` naming
    ``where`` (``response header``, ``websocket.accept header``) for anything else."""
    if not isinstance(name, (bytes, bytearray)) or not isinstance(value, (bytes, bytearray)):
        raise TypeError(f"ASGI: {where} {name!r}: {value!r}: names and values are bytes")
    return bytes(name), bytes(value)
