"""Tests for the proxy example: `npx -y deno@2.9.6 task test:script examples/proxy`."""
import pytest

from siphon_sdk.http import MockResponse
from siphon_sdk.http_testing import HttpTestHarness


@pytest.fixture
def proxy(monkeypatch):
    monkeypatch.setenv("UPSTREAM_URL", "https://api.example.com")
    harness = HttpTestHarness()
    harness.load_script("app.py")
    return harness


def test_get_is_forwarded_with_its_query(proxy):
    proxy.add_response(MockResponse(200, {"content-type": "application/json", "set-cookie": "x"},
                                    b'{"users": []}'))
    resp = proxy.request("GET", "/api/v1/users?page=2", headers={"accept": "application/json",
                                                                  "cookie": "secret"})
    assert resp.status == 200
    assert resp.body == b'{"users": []}'
    assert resp.header("content-type") == "application/json"
    assert resp.header("set-cookie") is None  # only chosen headers come back
    [sent] = proxy.sent_requests
    assert sent["method"] == "GET"
    assert sent["url"] == "https://api.example.com/v1/users?page=2"
    assert sent["headers"]["accept"] == "application/json"
    assert "cookie" not in sent["headers"]
    assert sent["headers"]["x-forwarded-for"] == "127.0.0.1"


def test_post_body_passes_through(proxy):
    proxy.add_response(MockResponse(201, body=b"made"))
    resp = proxy.request("POST", "/api/v1/users", body=b'{"name": "ada"}',
                         headers={"content-type": "application/json"})
    assert resp.status == 201
    assert proxy.sent_requests[0]["body"] == b'{"name": "ada"}'


def test_upstream_errors_pass_through(proxy):
    proxy.set_default_response(MockResponse(503, body=b"busy"))
    assert proxy.request("GET", "/api/anything").status == 503


def test_upstream_down_is_a_502(proxy):
    from siphon import http

    proxy.add_response(http.ClientError("GET http://upstream/v1/users: connection refused"))
    resp = proxy.request("GET", "/api/v1/users")
    assert resp.status == 502
    assert any("connection refused" in text for _, text in proxy.logs)
