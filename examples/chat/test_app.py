"""Tests for the chat example: `npx -y deno@2.9.6 task test:script examples/chat`."""
import json

from siphon_sdk.http_testing import HttpTestHarness


def harness():
    return HttpTestHarness().load_script("app.py")


def test_a_socket_without_a_name_is_refused_by_the_guard():
    session = harness().websocket("/chat/lobby")
    assert not session.accepted
    assert session.response.status == 400


def test_two_members_of_a_room_hear_each_other():
    h = harness()
    with h.websocket("/chat/lobby?name=ada") as ada:
        assert ada.receive_json() == {"from": "*", "text": "ada joined lobby"}
        bob = h.websocket("/chat/lobby?name=bob")
        assert ada.receive_json() == {"from": "*", "text": "bob joined lobby"}
        assert bob.receive_json() == {"from": "*", "text": "bob joined lobby"}
        ada.send("hello bob")
        assert bob.receive_json() == {"from": "ada", "text": "hello bob"}
        assert ada.receive_json() == {"from": "ada", "text": "hello bob"}
        bob.close()
        assert ada.receive_json() == {"from": "*", "text": "bob left"}


def test_rooms_are_separate():
    h = harness()
    with h.websocket("/chat/a?name=x") as x, h.websocket("/chat/b?name=y") as y:
        assert x.receive_json()["text"] == "x joined a"
        assert y.receive_json()["text"] == "y joined b"
        x.send("only in a")
        assert x.receive_json()["text"] == "only in a"
        y.send("only in b")
        assert y.receive_json() == {"from": "y", "text": "only in b"}
