"""Items as JSON: POST /items, GET/PUT/DELETE /items/{id:int}.

State lives in the `items` memory cache (http.yaml), so every worker sees the same items.
"""
import json

from siphon import cache, http

JSON = {"content-type": "application/json"}


def reply(status, payload):
    return http.Response(status, JSON, json.dumps(payload))


def problem(status, message):
    return reply(status, {"error": message})


def parse_item(req):
    """The item in the request body, or an error response."""
    if (req.header("content-type") or "").split(";")[0].strip() != "application/json":
        return None, problem(415, "send the item as application/json")
    try:
        item = json.loads(req.body())
    except ValueError as exc:
        return None, problem(400, f"body is not JSON: {exc}")
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        return None, problem(422, 'an item needs a non-empty "name"')
    price = item.get("price", 0)
    if not isinstance(price, (int, float)) or isinstance(price, bool) or price < 0:
        return None, problem(422, '"price" must be a number >= 0')
    return {"name": item["name"], "price": price}, None


@http.route("/items", methods=["POST"])
async def create(req):
    item, error = parse_item(req)
    if error:
        return error
    item["id"] = await cache.incr("items", "next_id")
    await cache.store("items", f"item:{item['id']}", json.dumps(item))
    return http.Response(201, {**JSON, "location": f"/items/{item['id']}"}, json.dumps(item))


@http.route("/items/{id:int}")
async def read(req):
    stored = await cache.fetch("items", f"item:{req.path_params['id']}")
    if stored is None:
        return problem(404, f"no item {req.path_params['id']}")
    return http.Response(200, JSON, stored)


@http.route("/items/{id:int}", methods=["PUT"])
async def replace(req):
    key = f"item:{req.path_params['id']}"
    if not await cache.exists("items", key):
        return problem(404, f"no item {req.path_params['id']}")
    item, error = parse_item(req)
    if error:
        return error
    item["id"] = req.path_params["id"]
    await cache.store("items", key, json.dumps(item))
    return reply(200, item)


@http.route("/items/{id:int}", methods=["DELETE"])
async def remove(req):
    key = f"item:{req.path_params['id']}"
    if not await cache.exists("items", key):
        return problem(404, f"no item {req.path_params['id']}")
    await cache.delete("items", key)  # True whenever the cache exists, as in siphon-http
    return http.Response(204)
