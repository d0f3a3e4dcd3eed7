"""Tests for the webhook example: `npx -y deno@2.9.6 task test:script examples/webhook`."""
import hashlib
import hmac
import json

import pytest

from siphon_sdk.http_testing import HttpTestHarness
from siphon_sdk.http_testing import ScriptLoadError

SECRET = "test-secret"


@pytest.fixture
def hook(monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    harness = HttpTestHarness()
    harness.load_script("app.py")
    harness.run_startup()
    return harness


def sign(raw, secret=SECRET):
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def test_signed_event_is_accepted(hook):
    raw = json.dumps({"id": "evt_1", "type": "invoice.paid"}).encode()
    resp = hook.request("POST", "/webhook", body=raw, headers={"x-signature": sign(raw)})
    assert resp.status == 202
    assert resp.json() == {"accepted": "evt_1"}
    assert ("info", "webhook event invoice.paid (evt_1)") in hook.logs


def test_the_signature_covers_the_raw_bytes(hook):
    raw = b'{"id": "evt_2",   "type": "x"}'  # same JSON, other bytes: other signature
    other = json.dumps(json.loads(raw)).encode()
    resp = hook.request("POST", "/webhook", body=raw, headers={"x-signature": sign(other)})
    assert resp.status == 401


@pytest.mark.parametrize("header", [None, "", "sha256=", "md5=abc", sign(b"{}", "wrong")])
def test_bad_signatures_are_refused(hook, header):
    headers = {"x-signature": header} if header is not None else {}
    assert hook.request("POST", "/webhook", body=b"{}", headers=headers).status == 401


def test_signed_but_not_json(hook):
    raw = b"not json"
    assert hook.request("POST", "/webhook", body=raw, headers={"x-signature": sign(raw)}).status == 400


def test_refuses_to_start_without_a_secret(monkeypatch):
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    harness = HttpTestHarness()
    harness.load_script("app.py")
    with pytest.raises(ScriptLoadError, match="set WEBHOOK_SECRET"):
        harness.run_startup()
