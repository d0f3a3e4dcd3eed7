"""A chat: open http://127.0.0.1:8080/ (or the PORT you serve it on) in two browser tabs. Each room
is a pubsub topic, so a message reaches everyone in the room whichever worker (or, with the
redis backend, whichever replica) holds their socket. The page itself is public/index.html,
served by Deno as a static file (`static:` in http.yaml), never by this script."""
import asyncio
import json

from siphon import http, log, pubsub


@http.middleware
def named(req):
    """Guards run on the upgrade too: a socket without a name is refused before it opens."""
    if req.path.startswith("/chat/") and not req.query_params.get("name", "").strip():
        return http.Response(400, {"content-type": "text/plain"}, "add ?name=...\n")


@http.websocket("/chat/{room}")
async def chat(ws):
    room = ws.request.path_params["room"]
    name = ws.request.query_params["name"].strip()[:32]
    topic = f"chat:{room}"
    feed = pubsub.subscribe(topic)
    await ws.accept()

    async def forward():
        async for message in feed:
            await ws.send(message)

    pump = asyncio.ensure_future(forward())
    await pubsub.publish(topic, json.dumps({"from": "*", "text": f"{name} joined {room}"}))
    try:
        async for text in ws:
            if isinstance(text, str) and text.strip():
                await pubsub.publish(topic, json.dumps({"from": name, "text": text[:1000]}))
    finally:
        pump.cancel()
        feed.close()
        await pubsub.publish(topic, json.dumps({"from": "*", "text": f"{name} left"}))
        log.info(f"{name} left {room} ({ws.close_code})")
