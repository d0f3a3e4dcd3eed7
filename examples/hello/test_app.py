"""Tests for the hello example: `npx -y deno@2.9.6 task test:script examples/hello`."""
from siphon_sdk.http_testing import HttpTestHarness


def make():
    harness = HttpTestHarness()
    harness.load_script("app.py")  # with the http.yaml beside it: its routes count too
    harness.run_startup()
    return harness


def test_index():
    resp = make().request("GET", "/")
    assert resp.status == 200
    assert resp.body == b"hello from siphon-deno\n"
    assert resp.header("Content-Type") == "text/plain"


def test_echo_returns_the_body():
    resp = make().request("POST", "/echo", headers={"content-type": "application/json"},
                          body={"a": 1})
    assert resp.status == 200
    assert resp.json() == {"a": 1}
    assert resp.headers["content-type"] == "application/json"


def test_typed_route_from_http_yaml():
    harness = make()
    assert harness.request("GET", "/users/7").json() == {"id": 7, "name": "user7"}
    assert harness.request("GET", "/users/seven").status == 404  # {id:int} does not match


def test_method_not_allowed_names_the_allowed_ones():
    resp = make().request("DELETE", "/echo")
    assert resp.status == 405
    assert resp.header("allow") == "POST"


def test_startup_logged():
    harness = make()
    assert ("info", "hello example ready") in harness.logs
