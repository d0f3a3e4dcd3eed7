"""POST /webhook: accept an event only when ``X-Signature: sha256=<hex>`` is the HMAC-SHA256
of the raw body under ``WEBHOOK_SECRET`` (compared in constant time)."""
import hashlib
import hmac
import json
import os

from siphon import http, log


def secret():
    value = os.environ.get("WEBHOOK_SECRET", "")
    if not value:
        raise RuntimeError("set WEBHOOK_SECRET to the secret the sender signs with")
    return value.encode("utf-8")


@http.on_startup
def check_secret():
    secret()  # refuse to start without it


def signed(raw, header):
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


@http.route("/webhook", methods=["POST"])
def webhook(req):
    raw = req.body()  # the bytes as sent: the signature covers exactly these
    if not signed(raw, req.header("x-signature")):
        log.warning("webhook from %s: bad or missing signature", req.client)
        return http.Response(401, None, "bad signature\n")
    try:
        event = json.loads(raw)
    except ValueError:
        return http.Response(400, None, "body is not JSON\n")
    log.info("webhook event %s (%s)", event.get("type"), event.get("id"))
    return http.Response(202, {"content-type": "application/json"},
                         json.dumps({"accepted": event.get("id")}))
