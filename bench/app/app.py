import json
import os

from siphon import http


@http.route("/trivial")
def trivial(req):
    return http.Response(200, None, "ok")


@http.route("/realistic/{id:int}", methods=["POST"])
def realistic(req):
    data = json.loads(req.body())
    reply = {
        "id": req.path_params["id"],
        "page": int(req.query_params.get("page", "1")),
        "sort": req.query_params.get("sort"),
        "request_id": req.header("x-request-id"),
        "items": len(data.get("items", [])),
    }
    return http.Response(200, {"content-type": "application/json"}, json.dumps(reply))


# For bench/stream.ts: streamed bodies both ways, and (MIDDLEWARE=guard|wrap) one middleware of
# each kind that does nothing, to price the chain.
CHUNK = b"x" * 65536


@http.route("/stream/upload", methods=["POST"], stream=True)
async def stream_upload(req):
    total = 0
    async for chunk in req.stream():
        total += len(chunk)
    return http.Response(200, None, str(total))


@http.route("/stream/download/{mb:int}")
def stream_download(req):
    def chunks():
        for _ in range(req.path_params["mb"] * 16):
            yield CHUNK
    return http.Response(200, {"content-type": "application/octet-stream"}, chunks())


if os.environ.get("MIDDLEWARE") == "guard":
    @http.middleware
    def guard(req):
        return None
elif os.environ.get("MIDDLEWARE") == "wrap":
    @http.middleware
    async def wrap(req, call_next):
        return await call_next(req)


# For bench/ws.ts: echo every message (bench/peers/starlette_app.py's /ws/echo does the same).
@http.websocket("/ws/echo")
async def ws_echo(ws):
    async for message in ws:
        await ws.send(message)
