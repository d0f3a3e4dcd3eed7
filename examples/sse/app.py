"""GET /events: a text/event-stream with one event per second (``SSE_INTERVAL_S``), until the
client disconnects — the generator then sees the cancellation and logs how many it sent.
``?limit=N`` ends the stream after N events; ``Last-Event-ID`` resumes the numbering."""
import asyncio
import json
import os
import time

from siphon import http, log


@http.route("/events")
async def events(req):
    interval = float(os.environ.get("SSE_INTERVAL_S", "1"))
    limit = int(req.query_params.get("limit", "0") or 0)
    first = int(req.header("last-event-id") or -1) + 1

    async def stream():
        sent = 0
        try:
            while not limit or sent < limit:
                payload = json.dumps({"n": first + sent, "time": time.time()})
                yield f"id: {first + sent}\nevent: tick\ndata: {payload}\n\n"
                sent += 1
                await asyncio.sleep(interval)
        except asyncio.CancelledError:
            log.info("client went away after %d events", sent)
            raise
        finally:
            log.info("event stream closed after %d events", sent)

    return http.Response(200, {"content-type": "text/event-stream", "cache-control": "no-cache"},
                         stream())
