"""bench:asgi's floor for an ASGI app: bench/peers/starlette_app.py alone, called in a loop with
a prepared scope and body — its own cost per request on this interpreter, with no server around
it. Run as a program it measures CPython (``python3 asgi_loop.py`` prints JSON); served as
``app: asgi_loop:app`` by siphon-deno, ``GET /loop`` measures Pyodide the same way (every other
path goes to the Starlette app)."""

import asyncio
import json
import time

from starlette_app import app as starlette

# The requests as bench/peers/realistic.lua and wrk send them (bench/_realistic.ts).
BODY = ('{"items": [1, 2, 3, 4, 5], "note": "' + "x" * 62 + '"}').encode()
HOST = [(b"host", b"127.0.0.1:8000")]
REALISTIC_HEADERS = HOST + [
    (b"user-agent", b"bench/1.0"), (b"accept", b"application/json"),
    (b"accept-encoding", b"gzip, deflate"), (b"content-type", b"application/json"),
    (b"x-request-id", b"8d3b7f0e-1c2a-4b5e-9f00-aa11bb22cc33"),
    (b"authorization", b"Bearer abcdef0123456789"), (b"cookie", b"session=0123456789abcdef"),
    (b"content-length", str(len(BODY)).encode()),
]
ROUTES = {
    "trivial": ("GET", "/trivial", b"", HOST),
    "realistic": ("POST", "/realistic/42", b"page=2&limit=50&sort=name", REALISTIC_HEADERS),
}


def _scope(method, path, query, headers):
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query, "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000),
        "headers": list(headers), "state": {},
    }


def _once(method, path, query, headers):
    messages = [{"type": "http.request", "body": BODY, "more_body": False}]
    sent = []

    async def receive():
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    coro = starlette(_scope(method, path, query, headers), receive, send)
    try:
        coro.send(None)
    except StopIteration:
        pass
    else:
        raise RuntimeError(f"{path} waited on something; the loop measures only what does not")
    if sent[0]["status"] != 200:
        raise RuntimeError(f"{path} answered {sent[0]['status']}")


def per_request(n=3000):
    """Microseconds per request for each route: the median of 5 runs of ``n``, after a warm-up."""
    out = {}
    for name, route in ROUTES.items():
        for _ in range(300):
            _once(*route)
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                _once(*route)
            runs.append((time.perf_counter() - t0) / n * 1e6)
        out[name] = sorted(runs)[2]
    return out


async def app(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/loop":
        body = json.dumps(per_request()).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return
    await starlette(scope, receive, send)


async def _main():
    # inside a task, as a server runs the app (anyio and sniffio look for one)
    print(json.dumps(per_request()))


if __name__ == "__main__":
    asyncio.run(_main())
