"""``http.Client``: outbound HTTP run by Deno's fetch in the worker, and the bodies it reads as
they arrive. Scripts import it from ``siphon.http``."""

import re

from ._contract import host
from ._response import Response

_clients = {}       # name -> settings from http.yaml `clients:` (set by siphon._runtime)


class _Chunks:
    """A body the worker hands over one chunk at a time: ``read(id)`` is a JS function giving a
    Promise of a Uint8Array, or of undefined at the end; ``fail(message)`` makes the exception
    for a read that failed."""

    def __init__(self, source_id, read, fail):
        self._id = source_id
        self._read = read
        self._fail = fail
        self._done = False

    def __aiter__(self):
        return self

    async def __anext__(self):
        from pyodide.ffi import JsException
        if self._done:
            raise StopAsyncIteration
        try:
            chunk = await self._read(self._id)
        except JsException as exc:
            self._done = True
            raise self._fail(str(exc).removeprefix("Error: ")) from None
        if chunk is None:
            self._done = True
            raise StopAsyncIteration
        return chunk.to_bytes()


class _ClientBody(_Chunks):
    """An outbound response body, read as it arrives (``Client.request(..., stream=True)``)."""

    def __init__(self, stream_id):
        super().__init__(stream_id, host.readStream, ClientError)

    async def aclose(self):
        self.close()

    def close(self):
        if not self._done:
            self._done = True
            host.closeStream(self._id)

    def __del__(self):
        if not self._done and host.closeStream is not None:
            self.close()


async def _send_with_deno(client, method, path, url, headers, body, stream=False):
    """How ``Client`` sends in a server: Deno's fetch in the worker. Returns ``(status, headers,
    body)``, the body as bytes or, with ``stream``, as an async iterator. (The test harness puts
    canned answers in its place.)"""
    import json
    from pyodide.ffi import JsException, to_js
    if not _ABSOLUTE.match(url):
        raise ClientError(f"{method} {url}: not an absolute URL; give the client a base_url "
                          "(clients.NAME.base_url in http.yaml, or Client(base_url=...))")
    payload = to_js(body) if body is not None else None
    send = host.fetchStream if stream else host.fetch
    request = json.dumps({"client": client._spec, "method": method, "url": url,
                          "headers": list(headers.items()), "timeout_ms": client.timeout_ms})
    try:
        result = await send(request, payload)
    except JsException as exc:
        raise ClientError(str(exc).removeprefix("Error: ")) from None
    got = dict(json.loads(result.headers))
    if stream:
        return result.status, got, _ClientBody(result.id)
    return result.status, got, result.body.to_bytes()


_send = _send_with_deno

_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


class ClientError(RuntimeError):
    """An outbound request failed before a response: timeout, refused connection, TLS error,
    too many redirects. The message names the method and URL. A ``RuntimeError``, as
    siphon-http raises, so ``except RuntimeError`` catches it too."""


class UnknownClientError(RuntimeError, LookupError):
    """``http.Client(name)`` named no client of http.yaml's ``clients:``. A ``RuntimeError`` as in
    siphon-http, and a ``LookupError``."""


def _configured(name):
    """The settings of the named client; the test harness answers any name (its canned
    responses stand in for every upstream)."""
    if name in _clients:
        return dict(_clients[name])
    known = ", ".join(sorted(_clients)) or "none"
    raise UnknownClientError(
        f"no client named {_quoted(name)} in the http addon config (clients.{name}); add it "
        f"under clients: in http.yaml (configured: {known})")


def _quoted(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


class Client:
    """An outbound HTTP client, run by Deno's fetch in the worker.

    ``Client("name")`` uses ``clients.name`` from http.yaml; keyword arguments (``base_url``,
    ``verify``, ``cert`` — a combined PEM path or a ``(cert, key)`` pair — ``key``,
    ``timeout_ms``, ``pool_size``, ``http2_prior_knowledge``, ``headers``) define one inline or
    override the named settings. Clients with the same connection settings share one connection
    pool per worker. Redirects are followed, up to 10, as siphon-http's client does.
    """

    def __init__(self, name=None, base_url=None, verify=None, cert=None, timeout_ms=None,
                 http2_prior_knowledge=None, *, key=None, pool_size=None, headers=None):
        if isinstance(cert, (tuple, list)):
            if len(cert) != 2:
                raise TypeError("cert= must be a path string or a (cert_path, key_path) tuple")
            cert, key = cert
        settings = {"base_url": base_url, "timeout_ms": timeout_ms, "verify": verify,
                    "cert": cert, "key": key, "pool_size": pool_size,
                    "http2_prior_knowledge": http2_prior_knowledge, "headers": headers}
        base = _configured(name) if name is not None else {}
        base.update({k: v for k, v in settings.items() if v is not None})
        self.name = name
        self.base_url = base.get("base_url")
        self.timeout_ms = int(base.get("timeout_ms") or 5000)
        self.headers = dict(base.get("headers") or {})
        import json
        self._spec = json.dumps({k: base.get(k) for k in
                                 ("verify", "cert", "key", "pool_size", "http2_prior_knowledge")},
                                sort_keys=True)

    def _url(self, path):
        """``path`` joined to ``base_url``: an absolute URL (``https://…`` at its start) is taken
        as it is; otherwise it is appended, with a ``/`` between when neither side has one."""
        if not self.base_url or _ABSOLUTE.match(path):
            return path
        base = self.base_url.rstrip("/")
        return base + path if not path or path[0] in "/?#" else f"{base}/{path}"

    async def request(self, method, path, body=None, headers=None, *, stream=False):
        """Send one request; returns an ``http.Response``. Raises ``ClientError`` (with the
        URL) when no response arrives. With ``stream=True`` it returns at the response head and
        the body is read with ``resp.stream()`` as it arrives."""
        url = self._url(path)
        merged = {**self.headers, **(headers or {})}
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif body is not None:
            body = bytes(body)
        status, got, data = await _send(self, method, path, url, merged, body, stream)
        resp = Response(status, got, data)
        resp._source = f"{method} {url}"
        return resp

    async def get(self, path, headers=None, *, body=None, stream=False):
        return await self.request("GET", path, body, headers, stream=stream)

    async def post(self, path, body=None, headers=None, *, stream=False):
        return await self.request("POST", path, body, headers, stream=stream)

    async def put(self, path, body=None, headers=None, *, stream=False):
        return await self.request("PUT", path, body, headers, stream=stream)

    async def patch(self, path, body=None, headers=None, *, stream=False):
        return await self.request("PATCH", path, body, headers, stream=stream)

    async def delete(self, path, headers=None, *, body=None, stream=False):
        return await self.request("DELETE", path, body, headers, stream=stream)

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return False

    def __repr__(self):
        return f"<http.Client {self.name or self.base_url!r}>"
