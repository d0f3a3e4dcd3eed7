"""Tests for the REST example: `npx -y deno@2.9.6 task test:script examples/rest`."""
import pytest

from siphon_sdk.http_testing import HttpTestHarness


@pytest.fixture
def api():
    harness = HttpTestHarness()
    harness.load_script("app.py")
    return harness


def create(api, **item):
    return api.request("POST", "/items", body=item)


def test_create_then_read(api):
    made = create(api, name="lamp", price=12.5)
    assert made.status == 201
    assert made.header("location") == "/items/1"
    assert made.json() == {"name": "lamp", "price": 12.5, "id": 1}
    assert api.request("GET", "/items/1").json() == made.json()


def test_ids_count_up(api):
    assert [create(api, name=n).json()["id"] for n in ("a", "b", "c")] == [1, 2, 3]


def test_replace(api):
    create(api, name="lamp")
    resp = api.request("PUT", "/items/1", body={"name": "desk lamp", "price": 20})
    assert resp.status == 200
    assert api.request("GET", "/items/1").json() == {"name": "desk lamp", "price": 20, "id": 1}


def test_delete(api):
    create(api, name="lamp")
    assert api.request("DELETE", "/items/1").status == 204
    assert api.request("GET", "/items/1").status == 404
    assert api.request("DELETE", "/items/1").status == 404


@pytest.mark.parametrize("body,status", [
    ({"price": 3}, 422),
    ({"name": "x", "price": -1}, 422),
    ({"name": "x", "price": True}, 422),
    ("not json", 400),
])
def test_bad_items_are_refused(api, body, status):
    headers = {"content-type": "application/json"}
    resp = api.request("POST", "/items", body=body, headers=headers)
    assert resp.status == status
    assert "error" in resp.json()


def test_wrong_content_type(api):
    resp = api.request("POST", "/items", body="name=x", headers={"content-type": "text/plain"})
    assert resp.status == 415


def test_typed_id(api):
    assert api.request("GET", "/items/abc").status == 404  # {id:int} only matches digits
    assert api.request("PATCH", "/items/1").status == 405


def test_body_cap_from_http_yaml(api):
    resp = api.request("POST", "/items", body={"name": "x" * 70000})
    assert resp.status == 413
