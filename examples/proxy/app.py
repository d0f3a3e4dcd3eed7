"""GET/POST/PUT/PATCH/DELETE /api/{*rest} → the `upstream` client (http.yaml), passing the
query, the body and a few headers, and answering with the upstream's status, content type and
body. An upstream that does not answer gives 502 (timeout: 504)."""
from urllib.parse import urlencode

from siphon import http, log

PASSED = ("accept", "content-type", "authorization", "x-request-id")


async def forward(req):
    target = "/" + req.path_params["rest"]
    if req.query_params:
        target += "?" + urlencode(req.query_params)
    headers = {k: v for k, v in req.headers.items() if k in PASSED}
    headers["x-forwarded-for"] = req.client.rsplit(":", 1)[0]
    body = req.body() if req.method in ("POST", "PUT", "PATCH") else None
    try:
        async with http.Client("upstream") as upstream:
            answer = await upstream.request(req.method, target, body=body, headers=headers)
    except http.ClientError as exc:
        log.warning("upstream failed: %s", exc)
        status = 504 if "timed out" in str(exc) else 502
        return http.Response(status, None, "upstream unavailable\n")
    kept = {k: v for k, v in answer.headers.items() if k in ("content-type", "cache-control")}
    return http.Response(answer.status, kept, answer.body)
