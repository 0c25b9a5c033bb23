"""Web chat over a real WebSocket (docs/webchat.md): visitors made over HTTP, pages connected to
the local stack's gateway (scripts/websocket_gateway.py) with the token, every frame of the
protocol answered by webchat-message, agents' sends pushed from the stream by publish-events,
and a visitor kept to its own client's thread. Pages are `websockets` clients; what they send is
noted for test_zz_logs' scan of the stack's log (tokens and texts must never show up there)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import time
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from helpers import assert_error, ok, remember, remember_fields, unique

VISITORS = "/api/v1/webchat/visitors"
# A function's first call on the local stack starts its process (cargo run): the first
# connect and the first frame may take that long.
COLD_START = 120
# How soon a message must reach the pages (the spec's "within 1 s" locally, with room for a
# loaded test machine).
PUSH_WITHIN = 5


def new_visitor(api, token: str, **fields: Any) -> dict:
    response = api.post(VISITORS, token, json=fields)
    assert response.status_code == 201, response.text
    visitor = response.json()
    remember(visitor["visitorToken"])
    return visitor


class Page:
    """A visitor's page: one WebSocket connection. Answers come back in the order of the
    frames; pushes (`"type": "message"`) may arrive in between and are kept in `pushed`."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.pushed: list[dict] = []

    def send_raw(self, data: str | bytes) -> dict:
        self.ws.send(data)
        return self.next_answer()

    def request(self, frame: dict) -> dict:
        remember_fields(frame)
        return self.send_raw(json.dumps(frame))

    def next_answer(self) -> dict:
        while True:
            frame = self.receive(COLD_START)
            if frame.get("type") != "message":
                return frame
            self.pushed.append(frame)

    def receive(self, timeout: float) -> dict:
        return json.loads(self.ws.recv(timeout=timeout))

    def wait_for_push(self, message_id: int, within: float = PUSH_WITHIN) -> dict:
        """The pushed frame of this message, which must arrive within `within` s."""
        deadline = time.monotonic() + within
        while True:
            for frame in self.pushed:
                if frame["message"]["id"] == message_id:
                    return frame
            left = deadline - time.monotonic()
            assert left > 0, f"message {message_id} was not pushed within {within} s (got {self.pushed})"
            try:
                frame = self.receive(left)
            except TimeoutError:
                continue
            assert frame.get("type") == "message", f"an answer nobody asked for: {frame}"
            self.pushed.append(frame)

    def close(self) -> None:
        self.ws.close()


def connect_with(websocket_url: str, token: str | None) -> ClientConnection:
    query = "" if token is None else "?token=" + urllib.parse.quote(token, safe="")
    return connect(websocket_url + query, proxy=None, open_timeout=COLD_START, close_timeout=10)


def refused_status(websocket_url: str, token: str | None) -> int:
    with pytest.raises(InvalidStatus) as refused, connect_with(websocket_url, token):
        pass
    return refused.value.response.status_code


@pytest.fixture
def pages():
    """`pages(visitor)` opens a page; all of them are closed at the end of the test."""
    with contextlib.ExitStack() as opened:
        yield lambda visitor: Page(
            opened.enter_context(connect_with(visitor["websocketUrl"], visitor["visitorToken"]))
        )


@pytest.fixture
def visitor(api, integrator) -> dict:
    """A visitor of a new client, named by the business's external id."""
    return new_visitor(api, integrator, clientId=unique("visitor"), name="Ada Lovelace")


def agent_send(api, token: str, text: str, **target: Any) -> dict:
    return ok(api.send(token, {"text": text, **target}))


def connection_items(table, client_id: int) -> list[dict]:
    found = table.query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
        ExpressionAttributeValues={":pk": f"CLIENT#{client_id}", ":sk": "CONNECTION#"},
        ConsistentRead=True,
    )
    return found["Items"]


def wait_until(predicate: Callable[[], object], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {within} s waiting for {what}"
        time.sleep(0.1)


# --- visitors ------------------------------------------------------------------------------------


def test_a_visitor_gets_a_token_for_its_clients_web_device(api, tokens) -> None:
    external_id = unique("visitor")
    started = time.time()
    first = new_visitor(api, tokens["integrator"], clientId=external_id, name="Ada Lovelace")
    assert set(first) == {"visitorToken", "deviceAddress", "clientId", "clientExternalId", "websocketUrl", "expiresAt"}
    assert first["visitorToken"].startswith("vt_") and len(first["visitorToken"]) >= 3 + 43  # 256 bits
    assert type(first["clientId"]) is int and first["clientExternalId"] == external_id
    assert first["websocketUrl"].startswith("ws://127.0.0.1:"), first["websocketUrl"]
    expires = dt.datetime.fromisoformat(first["expiresAt"]).timestamp()
    assert abs(expires - (started + 24 * 3600)) < 120, first["expiresAt"]

    # Another token of the same client (an operator's this time) shares its one WEB device.
    again = new_visitor(api, tokens["operator"], clientId=external_id)
    assert (again["clientId"], again["deviceAddress"]) == (first["clientId"], first["deviceAddress"])
    assert again["visitorToken"] != first["visitorToken"]

    anonymous = new_visitor(api, tokens["supervisor"])
    assert anonymous["clientExternalId"] is None and anonymous["clientId"] != first["clientId"]
    unauthorized = new_visitor(api, tokens["integrator"], unauthorizedClientId=unique("cookie"))
    assert unauthorized["clientExternalId"] is None

    both = {"clientId": unique("a"), "unauthorizedClientId": unique("b")}
    assert_error(api.post(VISITORS, tokens["integrator"], json=both), 400)
    assert_error(api.post(VISITORS, tokens["bot"], json={}), 403)
    assert_error(api.post(VISITORS, None, json={}), 401)


def test_a_wrong_missing_or_expired_token_cannot_connect(api, integrator, table, visitor, pages) -> None:
    url = visitor["websocketUrl"]
    assert refused_status(url, None) == 401
    assert refused_status(url, "vt_" + "A" * 43) == 401
    assert refused_status(url, visitor["visitorToken"][:-1]) == 401
    assert refused_status(url, "Bearer " + visitor["visitorToken"]) == 401

    page = pages(visitor)  # the token itself works
    assert page.request({"action": "ping"}) == {"type": "pong"}
    # Past its end (DynamoDB's TTL deletes the item only eventually): refused at once.
    key = {"pk": "VISITOR#" + hashlib.sha256(visitor["visitorToken"].encode()).hexdigest(), "sk": "VISITOR"}
    assert "Item" in table.get_item(Key=key)
    table.update_item(
        Key=key, UpdateExpression="SET expiresAt = :past", ExpressionAttributeValues={":past": int(time.time()) - 1}
    )
    assert refused_status(url, visitor["visitorToken"]) == 401


# --- frames --------------------------------------------------------------------------------------


def test_sync_send_read_and_ping(api, tokens, visitor, pages) -> None:
    integrator = tokens["integrator"]
    page = pages(visitor)
    assert page.request({"action": "sync"}) == {"type": "history", "threadId": None, "messages": []}

    welcome = agent_send(api, integrator, "Welcome to the shop", clientId=visitor["clientExternalId"])
    history = page.request({"action": "sync", "after": None, "requestId": "r-1"})
    assert history["type"] == "history" and history["requestId"] == "r-1"
    assert history["threadId"] == welcome["threadId"]
    (shown,) = history["messages"]
    assert set(shown) == {"id", "threadId", "direction", "text", "attachments", "createdAt", "status", "author"}
    assert (shown["id"], shown["direction"], shown["text"]) == (welcome["id"], "OUTGOING", "Welcome to the shop")
    assert shown["threadId"] == welcome["threadId"] and shown["attachments"] == []

    sent = page.request({"action": "send", "text": "Where is my parcel?", "clientMessageId": "c-1", "requestId": 7})
    assert sent["type"] == "sent" and sent["clientMessageId"] == "c-1" and sent["requestId"] == 7
    mine = sent["message"]
    assert (mine["direction"], mine["text"], mine["threadId"]) == ("INCOMING", "Where is my parcel?", welcome["threadId"])

    read = page.request({"action": "read", "messageId": welcome["id"]})
    assert read == {"type": "read", "messageId": welcome["id"], "status": "READ"}
    assert page.request({"action": "ping", "requestId": "p"}) == {"type": "pong", "requestId": "p"}

    after = page.request({"action": "sync", "after": welcome["id"]})
    assert [m["id"] for m in after["messages"]] == [mine["id"]]
    with_thread = page.request({"action": "sync", "threadId": welcome["threadId"]})
    assert [m["id"] for m in with_thread["messages"]] == [welcome["id"], mine["id"]]

    # The agent reads the visitor's message as the customer's, and sees its own message read.
    items = ok(api.get(f"/api/v1/threads/{welcome['threadId']}/messages", integrator))["items"]
    assert [(m["id"], m["direction"]) for m in items] == [(mine["id"], "INCOMING"), (welcome["id"], "OUTGOING")]
    assert items[0]["text"] == "Where is my parcel?" and items[0]["agentId"] is None
    assert items[1]["status"] == "READ"
    # And the page was pushed both messages of its thread (its own included).
    page.wait_for_push(welcome["id"])
    page.wait_for_push(mine["id"])


def test_an_agents_send_reaches_every_page_of_the_visitor(api, integrator, visitor, pages) -> None:
    second_token = new_visitor(api, integrator, clientId=visitor["clientExternalId"])
    phone, laptop = pages(visitor), pages(second_token)
    for page in (phone, laptop):
        assert page.request({"action": "ping"}) == {"type": "pong"}

    by_external_id = agent_send(api, integrator, "Your parcel left the depot", clientId=visitor["clientExternalId"])
    sent_at = time.monotonic()
    frames = [page.wait_for_push(by_external_id["id"]) for page in (phone, laptop)]
    assert time.monotonic() - sent_at < PUSH_WITHIN
    for frame in frames:
        assert frame == {"type": "message", "message": frames[0]["message"]}
        assert frame["message"]["text"] == "Your parcel left the depot"
        assert frame["message"]["direction"] == "OUTGOING" and frame["message"]["status"] == "ACCEPTED"

    by_internal_id = agent_send(api, integrator, "It arrives tomorrow", threadsClientId=visitor["clientId"])
    for page in (phone, laptop):
        assert page.wait_for_push(by_internal_id["id"])["message"]["threadId"] == by_external_id["threadId"]


def test_a_visitor_reaches_only_its_own_clients_thread(api, integrator, visitor, pages, writes_nothing) -> None:
    other = new_visitor(api, integrator, clientId=unique("other"))
    others_message = agent_send(api, integrator, "For someone else", clientId=other["clientExternalId"])
    own = agent_send(api, integrator, "For Ada", clientId=visitor["clientExternalId"])
    page = pages(visitor)

    foreign_thread = others_message["threadId"]
    with writes_nothing():
        for frame in (
            {"action": "sync", "threadId": foreign_thread},
            {"action": "send", "threadId": foreign_thread, "text": "Let me in", "clientMessageId": "c-x"},
            {"action": "read", "threadId": foreign_thread, "messageId": others_message["id"]},
            {"action": "read", "messageId": others_message["id"], "requestId": "r-403"},
        ):
            refused = page.request(frame)
            assert refused["type"] == "error" and refused["status"] == 403, (frame, refused)
            assert refused["code"] and refused["message"], refused
        assert refused["requestId"] == "r-403"
        missing = page.request({"action": "read", "messageId": 2**52})
        assert (missing["type"], missing["status"], missing["field"]) == ("error", 404, "messageId"), missing
    # The other client's message is untouched; the visitor's own thread still answers.
    theirs = ok(api.get(f"/api/v1/threads/{foreign_thread}/messages", integrator))["items"]
    assert [m["status"] for m in theirs] == ["ACCEPTED"]
    assert [m["id"] for m in page.request({"action": "sync"})["messages"]] == [own["id"]]


def test_bad_frames_get_error_frames_and_the_page_stays_connected(visitor, pages, writes_nothing) -> None:
    page = pages(visitor)
    with writes_nothing():
        not_json = page.send_raw("hello, is anyone there?")
        assert (not_json["type"], not_json["status"]) == ("error", 400), not_json
        assert not_json["code"] == "INVALID_JSON"

        too_big = page.request({"action": "send", "text": "x" * (33 * 1024), "clientMessageId": "c-big", "requestId": 1})
        assert (too_big["type"], too_big["status"], too_big.get("requestId")) == ("error", 413, 1), too_big

        cases = [
            ({"action": "shout"}, "action"),
            ({"text": "no action"}, "action"),
            ({"action": "send", "clientMessageId": "c-1"}, "text"),
            ({"action": "send", "text": "no id"}, "clientMessageId"),
            ({"action": "send", "text": "spaced", "clientMessageId": "c 1"}, "clientMessageId"),
            ({"action": "read"}, "messageId"),
            ({"action": "read", "messageId": "twelve"}, None),
        ]
        for frame, field in cases:
            refused = page.request({**frame, "requestId": "bad"})
            assert (refused["type"], refused["status"], refused["requestId"]) == ("error", 400, "bad"), (frame, refused)
            if field:
                assert refused["field"] == field, (frame, refused)
        assert page.send_raw(b'{"action": "ping"}') == {"type": "pong"}  # a binary frame is read alike
    assert page.request({"action": "ping"}) == {"type": "pong"}


def test_a_resend_with_the_same_client_message_id_stores_once(visitor, pages, entity_delta) -> None:
    frame = {"action": "send", "text": "Sent twice by a flaky network", "clientMessageId": unique("c")}
    with entity_delta() as delta:
        first = pages(visitor).request(frame)
        # After a reconnect, as the page does with what it had not seen confirmed.
        again = pages(visitor).request(frame)
    assert first["type"] == again["type"] == "sent"
    assert again["message"] == first["message"]
    assert delta.added["MESSAGE"] == 1


def test_closed_pages_are_forgotten_and_pushes_go_on(api, integrator, table, visitor, pages) -> None:
    staying, leaving = pages(visitor), pages(visitor)
    for page in (staying, leaving):
        page.request({"action": "ping"})
    client_id = visitor["clientId"]
    assert len(connection_items(table, client_id)) == 2

    leaving.close()  # $disconnect removes its connection
    wait_until(lambda: len(connection_items(table, client_id)) == 1, 30, "the closed page's connection removed")

    # A connection API Gateway no longer has, whose $disconnect never came: the push gets 410
    # and forgets it; the live page gets its message all the same.
    (live,) = connection_items(table, client_id)
    gone_id = "Gone" + uuid.uuid4().hex[:11] + "="  # shaped like API Gateway's ids
    table.put_item(Item={**live, "sk": f"CONNECTION#{gone_id}", "connectionId": gone_id})
    table.put_item(Item={**live, "pk": f"CONNECTION#{gone_id}", "sk": "CONNECTION", "connectionId": gone_id})
    first = agent_send(api, integrator, "Are you still there?", clientId=visitor["clientExternalId"])
    staying.wait_for_push(first["id"])
    wait_until(lambda: len(connection_items(table, client_id)) == 1, 30, "the gone connection removed")
    assert "Item" not in table.get_item(Key={"pk": f"CONNECTION#{gone_id}", "sk": "CONNECTION"}, ConsistentRead=True)

    # The stream went on: the next message is pushed too.
    second = agent_send(api, integrator, "We are here when you need us", clientId=visitor["clientExternalId"])
    staying.wait_for_push(second["id"])
    with pytest.raises(ConnectionClosed):
        leaving.ws.recv(timeout=1)
