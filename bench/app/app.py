import json

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
