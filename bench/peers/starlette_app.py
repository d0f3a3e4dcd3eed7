"""The peer: uvicorn + starlette with the same handler logic as bench/app/app.py."""
import json

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute


async def trivial(request):
    return Response("ok", media_type="text/plain")


async def realistic(request):
    data = json.loads(await request.body())
    reply = {
        "id": request.path_params["id"],
        "page": int(request.query_params.get("page", "1")),
        "sort": request.query_params.get("sort"),
        "request_id": request.headers.get("x-request-id"),
        "items": len(data.get("items", [])),
    }
    return Response(json.dumps(reply), media_type="application/json")


async def ws_echo(websocket):
    await websocket.accept()
    async for message in websocket.iter_text():
        await websocket.send_text(message)


app = Starlette(routes=[
    WebSocketRoute("/ws/echo", ws_echo),
    Route("/trivial", trivial),
    Route("/realistic/{id:int}", realistic, methods=["POST"]),
])
