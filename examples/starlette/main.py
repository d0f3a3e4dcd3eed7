"""A small Starlette service, as uvicorn would serve it: a catalogue API with typed path
parameters, a JSON body checked, a streamed export, a WebSocket and lifespan state."""

import contextlib
import json

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute

CATALOGUE = [
    {"id": 1, "name": "kettle", "price_cents": 2500},
    {"id": 2, "name": "teapot", "price_cents": 1800},
    {"id": 3, "name": "mug", "price_cents": 600},
]


@contextlib.asynccontextmanager
async def lifespan(app):
    # Once per interpreter (each worker has its own): what it yields is in every request's
    # state. Read-only data is safe here; state that must be shared between workers is not.
    yield {"items": {item["id"]: item for item in CATALOGUE}}


async def list_items(request):
    return JSONResponse(list(request.state.items.values()))


async def get_item(request):
    item = request.state.items.get(request.path_params["id"])
    if item is None:
        return JSONResponse({"error": "no such item"}, status_code=404)
    return JSONResponse(item)


async def quote(request):
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "the body is not JSON"}, status_code=400)
    lines = body.get("lines") if isinstance(body, dict) else None
    if not isinstance(lines, list) or not all(
            isinstance(line, dict) and isinstance(line.get("id"), int)
            and isinstance(line.get("qty"), int) and line["qty"] > 0 for line in lines):
        return JSONResponse({"error": 'expected {"lines": [{"id": 1, "qty": 2}, ...]}'},
                            status_code=422)
    items = request.state.items
    missing = [line["id"] for line in lines if line["id"] not in items]
    if missing:
        return JSONResponse({"error": f"no such items: {missing}"}, status_code=422)
    total = sum(items[line["id"]]["price_cents"] * line["qty"] for line in lines)
    return JSONResponse({"total_cents": total, "lines": len(lines)},
                        background=BackgroundTask(record_quote, total))


def record_quote(total):
    # A background task: it runs after the answer has gone (sync, so Starlette hands it to its
    # thread pool, which siphon-deno runs inline).
    print(f"quoted {total} cents")


def export(request):
    # A sync generator: Starlette iterates it in a thread pool, which siphon-deno runs inline.
    rows = (json.dumps(item) + "\n" for item in request.state.items.values())
    return StreamingResponse(rows, media_type="application/x-ndjson")


async def shout(websocket):
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text.upper())


def health(request):
    return PlainTextResponse("ok")


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/items", list_items),
        Route("/items/export", export),
        Route("/items/{id:int}", get_item),
        Route("/quote", quote, methods=["POST"]),
        WebSocketRoute("/shout", shout),
    ],
    lifespan=lifespan,
)
