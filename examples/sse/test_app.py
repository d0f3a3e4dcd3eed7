"""Tests for the SSE example: `npx -y deno@2.9.6 task test:script examples/sse`. (The client going away is
tested against a running server in tests/e2e/stream_test.ts.)"""
import json

import pytest

from siphon_sdk.http_testing import HttpTestHarness


@pytest.fixture
def sse(monkeypatch):
    monkeypatch.setenv("SSE_INTERVAL_S", "0.01")
    harness = HttpTestHarness()
    harness.load_script("app.py")
    return harness


def events(body):
    out = []
    for block in body.decode().strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        out.append(fields)
    return out


def test_three_events(sse):
    resp = sse.request("GET", "/events?limit=3")
    assert resp.status == 200
    assert resp.header("content-type") == "text/event-stream"
    got = events(resp.body)
    assert [e["id"] for e in got] == ["0", "1", "2"]
    assert all(e["event"] == "tick" for e in got)
    assert [json.loads(e["data"])["n"] for e in got] == [0, 1, 2]
    assert ("info", "event stream closed after 3 events") in sse.logs


def test_resumes_after_last_event_id(sse):
    resp = sse.request("GET", "/events?limit=2", headers={"last-event-id": "41"})
    assert [e["id"] for e in events(resp.body)] == ["42", "43"]
