"""Events and webhooks over HTTP (SPEC "Events and webhooks"): subscriptions, deliveries in both
formats to receivers on 127.0.0.1, retries, 410, a receiver that never answers, secret rotation,
replay, the event feed, and what is refused.

Each receiver is an `http.server` on a free port of 127.0.0.1, in a thread of its own, recording
every request. Every subscription gets every event of the stack (other tests send at the same
time), so a test looks only at the events of the threads it made. Every wait below is bounded
(`WAIT`, a few seconds more where retries are on the way) and fails with what did arrive.

The stack must take plain http to 127.0.0.1 (`WEBHOOK_ALLOW_LOOPBACK_HTTP=true`) and run its
retries on a shrunk schedule (`WEBHOOK_RETRY_SCALE=0.02`: the second retry comes ~6 s after the
first), as `scripts/local-api` does for `scripts/test`. Secrets are never printed: they are held
as `Secret`, a `str` whose `repr` is masked (what pytest shows of a failed assertion), failure
messages mask any in a response's text, and helpers.remember() hands them to test_zz_logs.py,
which fails if the stack's log holds one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable

import pytest
from standardwebhooks import Webhook

from helpers import assert_error, chat_messages_path, ok, remember, so_ok, unique
from stream_lanes import delivery_lane

WEBHOOKS = "/api/v1/webhooks"
EVENTS = "/api/v1/events"
INCOMING = "/api/v1/messages/incoming"
EVENT_TYPES = ("thread.opened", "message.created", "message.status.updated", "thread.closed")
EVENT_ID = re.compile(r"^evt_[0-9a-f]{24}$")
WEBHOOK_ID = re.compile(r"^wh_[0-9a-f]{32}$")
SECRET = re.compile(r"^whsec_[A-Za-z0-9+/]{43}=$")
SIGNATURE = re.compile(r"^v1,[A-Za-z0-9+/]{43}=$")
SUBSCRIPTION_FIELDS = {"id", "url", "events", "format", "status", "description", "createdAt"}
DELIVERY_FIELDS = {"eventId", "type", "status", "attempts", "lastResponseStatus", "lastAttemptAt", "nextAttemptAt"}
UNKNOWN_WEBHOOK = "wh_" + "0" * 32
# How long a healthy delivery may take: the stream poller runs about every second.
WAIT = 20.0
# SuperOffice's names of the events.
SO_EVENTS = {
    "thread.opened": ("chatsession.created", "chatsession"),
    "thread.closed": ("chatsession.changed", "chatsession"),
    "message.created": ("chatmessage.created", "chatmessage"),
    "message.status.updated": ("chatmessage.changed", "chatmessage"),
}


# --- receivers ------------------------------------------------------------------------------------


@dataclass
class Received:
    """One request a receiver got."""

    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    at: float  # time.monotonic()
    nth: int  # 1 for the first request with this event id, 2 for its first retry...

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event_id(self) -> str | None:
        """`webhook-id` (standard) or `X-SuperOffice-EventId`."""
        return self.headers.get("webhook-id") or self.headers.get("x-superoffice-eventid")


# What a receiver answers: (status, extra headers), after whatever the function waits.
Answer = Callable[[Received, threading.Event], tuple[int, dict[str, str]]]


def answer_ok(_request: Received, _closing: threading.Event) -> tuple[int, dict[str, str]]:
    return 200, {}


class Receiver:
    """An HTTP server on 127.0.0.1 (a free port) that records what it is sent and answers with
    `answer`. Handlers run in threads of their own, so a slow answer holds up nothing else;
    `close()` wakes any handler still waiting on `closing`."""

    def __init__(self, answer: Answer = answer_ok) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.read_body()
                headers = {name.lower(): value for name, value in self.headers.items()}
                request = receiver.record(self.path, headers, body)
                status, extra = answer(request, receiver.closing)
                try:
                    payload = b"{}"
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the sender gave up waiting (the 15 s timeout) and closed the connection

            def read_body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline().strip():
                        pass  # trailers
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def log_message(self, *args: Any) -> None:
                pass  # nothing on stderr

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{unique('rx')}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def record(self, path: str, headers: dict[str, str], body: bytes) -> Received:
        with self.lock:
            event_id = headers.get("webhook-id") or headers.get("x-superoffice-eventid")
            nth = 1 + sum(1 for r in self.received if r.event_id is not None and r.event_id == event_id)
            request = Received(path, headers, body, time.monotonic(), nth)
            self.received.append(request)
            return request

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def wait_for(self, done: Callable[[list[Received]], bool], what: str, timeout: float = WAIT) -> list[Received]:
        """Waits (at most `timeout` seconds) until `done(requests so far)`; fails otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            requests = self.snapshot()
            if done(requests):
                return requests
            if time.monotonic() >= deadline:
                shown = [(r.event_id, r.nth, r.headers.get("x-superoffice-event") or safe_type(r)) for r in requests]
                pytest.fail(f"{what}: not within {timeout:.0f} s; the receiver got {len(requests)} requests: {shown[-30:]}")
            time.sleep(0.1)

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


def safe_type(request: Received) -> str:
    try:
        return str(request.json().get("type"))
    except (ValueError, AttributeError):
        return "?"


@pytest.fixture
def receivers():
    """`receivers(answer=...)` starts a `Receiver`; all are closed when the test ends."""
    started: list[Receiver] = []

    def start(answer: Answer = answer_ok) -> Receiver:
        receiver = Receiver(answer)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()


# --- subscriptions --------------------------------------------------------------------------------


class Secret(str):
    """A webhook secret: a `str` (standardwebhooks takes it as it is) whose `repr` hides it, so
    that no assertion message, pytest's comparisons included, can show it."""

    def __repr__(self) -> str:
        return "'whsec_***'"


def with_secret(response) -> Any:
    """The JSON body of a response that may show a secret, the secret wrapped in `Secret` and
    handed to the log scan (test_zz_logs.py looks for it in the stack's log)."""
    body = response.json()
    if isinstance(body, dict) and isinstance(body.get("secret"), str):
        body["secret"] = Secret(body["secret"])
        remember(body["secret"])
        remember(body["secret"][len("whsec_"):])
    return body


def shown(response) -> str:
    """A response's status and text for a failure message, any secret in it masked."""
    return f"{response.status_code}: " + re.sub(r"whsec_[A-Za-z0-9+/=]*", "whsec_***", response.text[:1000])


def masked(body: Any) -> Any:
    """A subscription (or anything) fit to print: its secret replaced."""
    if isinstance(body, dict):
        return {key: ("whsec_***" if key == "secret" else masked(value)) for key, value in body.items()}
    if isinstance(body, list):
        return [masked(item) for item in body]
    return body


def assert_subscription(body: Any, with_secret: bool) -> None:
    assert isinstance(body, dict), masked(body)
    expected = SUBSCRIPTION_FIELDS | ({"secret"} if with_secret else set())
    assert set(body) == expected, masked(body)
    assert WEBHOOK_ID.match(body["id"]), masked(body)
    assert body["format"] in ("standard", "superoffice"), masked(body)
    assert body["status"] in ("ENABLED", "DISABLED"), masked(body)
    assert body["events"] and set(body["events"]) <= set(EVENT_TYPES), masked(body)
    assert body["description"] is None or isinstance(body["description"], str), masked(body)
    datetime.fromisoformat(body["createdAt"])
    if with_secret:
        well_formed = bool(SECRET.match(body["secret"]))
        assert well_formed, "the secret is not whsec_ and the base64 of 32 bytes"
        key_bytes = len(base64.b64decode(body["secret"][len("whsec_"):]))
        assert key_bytes == 32, "the secret is not 32 bytes"


class Subscriptions:
    """Creates subscriptions through the API and deletes them when the test ends."""

    def __init__(self, api, token: str) -> None:
        self.api, self.token = api, token
        self.created: list[str] = []

    def create(self, url: str, **fields: Any) -> dict:
        response = self.api.post(WEBHOOKS, self.token, json={"url": url, **fields})
        assert response.status_code == 201, f"expected 201, got {shown(response)}"
        body = with_secret(response)
        assert_subscription(body, with_secret=True)
        self.created.append(body["id"])
        return body

    def get(self, webhook_id: str) -> dict:
        body = ok(self.api.get(f"{WEBHOOKS}/{webhook_id}", self.token))
        assert_subscription(body, with_secret=False)
        return body

    def delete_all(self) -> None:
        for webhook_id in self.created:
            response = self.api.request("DELETE", f"{WEBHOOKS}/{webhook_id}", self.token)
            assert response.status_code in (200, 404), response.text[:500]


@pytest.fixture
def subscriptions(api, integrator, receivers):
    # Depends on `receivers` so that the subscriptions are deleted before their receivers stop.
    made = Subscriptions(api, integrator)
    yield made
    made.delete_all()


def deliveries_of(api, token: str, webhook_id: str, event_ids: Iterable[str], **params: Any) -> dict[str, dict]:
    """The deliveries of these events to the subscription, by event id (following `nextCursor`
    through at most 20 pages of 100: the newest come first)."""
    wanted, found = set(event_ids), {}
    query: dict[str, Any] = {"limit": 100, **params}
    for _ in range(20):
        page = ok(api.get(f"{WEBHOOKS}/{webhook_id}/deliveries", token, params=query))
        assert set(page) == {"items", "nextCursor"}, page
        for item in page["items"]:
            assert set(item) == DELIVERY_FIELDS, item
            if item["eventId"] in wanted:
                assert item["eventId"] not in found, f"{item['eventId']} listed twice"
                found[item["eventId"]] = item
        if page["nextCursor"] is None or wanted <= set(found):
            break
        query["cursor"] = page["nextCursor"]
    return found


def wait_for_deliveries(api, token: str, webhook_id: str, event_ids: Iterable[str],
                        done: Callable[[dict], bool], what: str, timeout: float = WAIT) -> dict[str, dict]:
    """Polls the deliveries list (at most `timeout` seconds) until `done(delivery)` for each event."""
    wanted = set(event_ids)
    deadline = time.monotonic() + timeout
    while True:
        found = deliveries_of(api, token, webhook_id, wanted)
        if wanted <= set(found) and all(done(found[event_id]) for event_id in wanted):
            return found
        if time.monotonic() >= deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s; deliveries: {found}")
        time.sleep(0.3)


# --- conversations --------------------------------------------------------------------------------


def phone() -> str:
    return "+7" + "".join(random.choices("0123456789", k=10))


def send(api, token: str, **fields: Any) -> dict:
    return ok(api.post("/api/v1/messages/outgoing", token, json={"text": unique("text"), **fields}))


def new_thread(api, token: str, admin) -> dict:
    """The first message to a new client: it opens a thread."""
    client = admin.create_client(unique("webhooks"))
    return send(api, token, clientId=client["externalId"])


def event_thread(event: dict) -> int | None:
    data = event.get("data") or {}
    if "thread" in data:
        return data["thread"].get("id")
    if "message" in data:
        return data["message"].get("threadId")
    return None


def standard_events(requests: list[Received], threads: set[int]) -> list[Received]:
    """The requests carrying an event of these threads."""
    return [r for r in requests if event_thread(r.json()) in threads]


def key_of(event: dict) -> tuple[str, int]:
    """(type, thread or message id): which change an event is about."""
    data = event["data"]
    subject = data["thread"]["id"] if "thread" in data else data["message"]["id"]
    return event["type"], subject


def assert_verified(request: Received, secret: str) -> dict:
    """The request passes Standard Webhooks verification with `secret`; its event."""
    assert request.headers.get("content-type", "").startswith("application/json"), request.headers
    event = Webhook(secret).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == event["id"], (request.headers["webhook-id"], event["id"])
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 120, request.headers
    return event


def superoffice_signature(secret: str, body: bytes) -> str:
    key = base64.b64decode(secret[len("whsec_"):])
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def utc(timestamp: str) -> datetime:
    assert timestamp.endswith("Z"), f"{timestamp!r} is not UTC with Z"
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


# --- delivery, both formats -----------------------------------------------------------------------


def test_every_change_of_a_conversation_arrives_once_signed_in_both_formats(
    api, tokens, admin, subscriptions, receivers
) -> None:
    integrator, gateway = tokens["integrator"], tokens["gateway"]
    standard, superoffice = receivers(), receivers()
    plain = subscriptions.create(standard.url, description="e2e standard")
    assert sorted(plain["events"]) == sorted(EVENT_TYPES), masked(plain)
    assert (plain["format"], plain["status"], plain["description"]) == ("standard", "ENABLED", "e2e standard")
    so = subscriptions.create(superoffice.url, format="superoffice")
    assert so["format"] == "superoffice" and so["description"] is None, masked(so)

    # One thread, four messages through four routes, a status, a close.
    client = admin.create_client(unique("webhooks"))
    first = send(api, integrator, clientId=client["externalId"])
    thread_id = first["threadId"]
    posted = so_ok(api.post(chat_messages_path(thread_id), integrator, json={"Message": unique("so")}))
    address = phone()
    to_device = ok(api.post("/api/v1/messages/outgoing-to-device", integrator, json={
        "text": unique("text"),
        "clientApplicationDescriptor": {"channelType": "WHATSAPP", "deviceAddress": address,
                                        "clientId": client["externalId"]}}))
    assert to_device["threadId"] == thread_id
    incoming = ok(api.post(INCOMING, gateway, json={
        "text": unique("text"), "clientApplicationDescriptor": {"channelType": "WHATSAPP", "deviceAddress": address}}))
    assert incoming["threadId"] == thread_id
    message_ids = [first["id"], posted["ChatMessageId"], to_device["id"], incoming["id"]]
    ok(api.post(f"/api/v1/messages/{first['id']}/status", gateway, json={"status": "DELIVERED"}))
    ok(api.post(f"/api/v1/threads/{thread_id}/close", integrator))

    expected = {("thread.opened", thread_id), ("thread.closed", thread_id),
                ("message.status.updated", first["id"])} | {("message.created", m) for m in message_ids}
    ours = lambda requests: standard_events(requests, {thread_id})  # noqa: E731
    standard.wait_for(lambda rs: {key_of(r.json()) for r in ours(rs)} >= expected, "the standard events")
    so_ours = lambda rs: [r for r in rs if (r.json().get("Entity"), r.json().get("PrimaryKey")) in  # noqa: E731
                          {("chatsession", thread_id)} | {("chatmessage", m) for m in message_ids}]
    superoffice.wait_for(lambda rs: len(so_ours(rs)) >= len(expected), "the superoffice events")
    time.sleep(2)  # anything sent twice would come now

    # Standard: every request verifies (other tests' events too); ours came exactly once each,
    # as the read API renders them, with sequence 1, 2, 3, 4.
    for request in standard.snapshot():
        assert_verified(request, plain["secret"])
    events = [request.json() for request in ours(standard.snapshot())]
    keys = [key_of(event) for event in events]
    assert sorted(keys) == sorted(expected), f"each event once: {keys}"
    assert len({event["id"] for event in events}) == len(events), [event["id"] for event in events]
    thread = api.thread(integrator, thread_id)
    messages = {m["id"]: m for m in api.all_messages(integrator, thread_id)}
    for event in events:
        assert set(event) == {"id", "type", "timestamp", "data"}, event
        assert EVENT_ID.match(event["id"]), event
        utc(event["timestamp"])
        if event["type"].startswith("thread."):
            assert set(event["data"]) == {"thread"}, event
            view = event["data"]["thread"]
            assert set(view) == set(thread), (view, thread)
            assert {k: view[k] for k in ("id", "clientId", "clientExternalId", "startTime")} == {
                k: thread[k] for k in ("id", "clientId", "clientExternalId", "startTime")}, (view, thread)
            assert view["status"] == ("OPEN" if event["type"] == "thread.opened" else "CLOSED"), event
        else:
            assert set(event["data"]) == {"message"}, event
            view = event["data"]["message"]
            read = messages[view["id"]]
            assert set(view) == set(read) | {"sequence"}, (view, read)
            stable = ("id", "threadId", "clientId", "agentId", "direction", "text", "attachments", "createdAt")
            assert {k: view[k] for k in stable} == {k: read[k] for k in stable}, (view, read)
            assert view["sequence"] == message_ids.index(view["id"]) + 1, event
            if event["type"] == "message.status.updated":
                assert (view["status"], view["id"]) == ("DELIVERED", first["id"]), event
                assert view["deliveredAt"] is not None, event
    directions = {e["data"]["message"]["id"]: e["data"]["message"]["direction"] for e in events
                  if e["type"] == "message.created"}
    assert directions == {first["id"]: "OUTGOING", posted["ChatMessageId"]: "OUTGOING",
                          to_device["id"]: "OUTGOING", incoming["id"]: "INCOMING"}, directions

    # SuperOffice: each exactly once, signed over the raw body, its names for the same changes.
    so_requests = so_ours(superoffice.snapshot())
    seen = []
    for request in so_requests:
        body = request.json()
        assert hmac.compare_digest(request.headers.get("x-superoffice-signature", ""),
                                   superoffice_signature(so["secret"], request.body)), request.headers
        assert {"EventId", "Timestamp", "Changes", "Event", "PrimaryKey", "Entity", "ContextIdentifier",
                "ChangedByAssociateId", "WebhookName"} <= set(body), body
        assert request.headers.get("x-superoffice-event") == body["Event"], (request.headers, body)
        assert request.headers.get("x-superoffice-eventid") == str(body["EventId"]), (request.headers, body)
        assert isinstance(body["Changes"], list) and isinstance(body["PrimaryKey"], int), body
        assert body["WebhookName"] == so["id"] and isinstance(body["ContextIdentifier"], str), body
        datetime.fromisoformat(body["Timestamp"].replace("Z", "+00:00"))
        seen.append((body["Event"], body["Entity"], body["PrimaryKey"]))
    so_expected = sorted((*SO_EVENTS[kind], subject) for kind, subject in expected)
    assert sorted(seen) == so_expected, f"each event once: {seen}"
    assert len({str(r.json()["EventId"]) for r in so_requests}) == len(so_requests)

    # The deliveries list says so: delivered at the first attempt, answer 200.
    delivered = deliveries_of(api, integrator, plain["id"], [e["id"] for e in events])
    assert set(delivered) == {e["id"] for e in events}, delivered
    for event in events:
        item = delivered[event["id"]]
        assert (item["type"], item["status"], item["attempts"], item["lastResponseStatus"], item["nextAttemptAt"]) == (
            event["type"], "DELIVERED", 1, 200, None), item
        utc(item["lastAttemptAt"])
    only = deliveries_of(api, integrator, plain["id"], [e["id"] for e in events], status="PENDING")
    assert only == {}, only


def test_a_subscription_gets_only_its_event_types(api, integrator, admin, subscriptions, receivers) -> None:
    receiver = receivers()
    subscription = subscriptions.create(receiver.url, events=["thread.closed", "thread.closed"])
    assert subscription["events"] == ["thread.closed"], masked(subscription)
    sent = new_thread(api, integrator, admin)
    send(api, integrator, threadId=sent["threadId"])
    ok(api.post(f"/api/v1/threads/{sent['threadId']}/close", integrator))
    receiver.wait_for(lambda rs: standard_events(rs, {sent["threadId"]}), "thread.closed")
    time.sleep(2)
    events = [r.json() for r in standard_events(receiver.snapshot(), {sent["threadId"]})]
    assert [e["type"] for e in events] == ["thread.closed"], events


# --- failures -------------------------------------------------------------------------------------


def test_a_failing_receiver_gets_every_event_again_with_the_same_id_until_it_answers(
    api, integrator, admin, subscriptions, receivers
) -> None:
    def flaky(request: Received, _closing: threading.Event) -> tuple[int, dict[str, str]]:
        # 503 asking for 3 s, then 500, then 200.
        return {1: (503, {"Retry-After": "3"}), 2: (500, {})}.get(request.nth, (200, {}))

    receiver = receivers(flaky)
    subscription = subscriptions.create(receiver.url, events=["thread.opened", "message.created"])
    sent = new_thread(api, integrator, admin)
    thread = {sent["threadId"]}

    def three_tries_each(requests: list[Received]) -> bool:
        ours = standard_events(requests, thread)
        return len({key_of(r.json()) for r in ours}) >= 2 and all(
            any(o.nth >= 3 and o.event_id == r.event_id for o in ours) for r in ours)

    # ~1 s to the first try, 3 s (Retry-After) to the second, ~6 s (300 s scaled) to the third.
    requests = standard_events(receiver.wait_for(three_tries_each, "a third try of each event", WAIT + 10), thread)
    by_event: dict[str, list[Received]] = {}
    for request in requests:
        assert_verified(request, subscription["secret"])
        by_event.setdefault(request.event_id, []).append(request)
    assert {key_of(tries[0].json()) for tries in by_event.values()} == {
        ("thread.opened", sent["threadId"]), ("message.created", sent["id"])}, list(by_event)
    for event_id, tries in by_event.items():
        assert [t.nth for t in tries] == [1, 2, 3], (event_id, [t.nth for t in tries])
        assert len({t.body for t in tries}) == 1, "every try sends the same body"
        assert tries[1].at - tries[0].at >= 2.5, f"Retry-After: 3 was not honoured ({tries[1].at - tries[0].at:.1f} s)"
    found = wait_for_deliveries(api, integrator, subscription["id"], by_event,
                                lambda d: d["status"] == "DELIVERED", "DELIVERED after three tries")
    for item in found.values():
        assert (item["attempts"], item["lastResponseStatus"], item["nextAttemptAt"]) == (3, 200, None), item


def test_a_receiver_answering_410_disables_its_subscription(api, integrator, admin, subscriptions, receivers) -> None:
    receiver = receivers(lambda request, closing: (410, {}))
    subscription = subscriptions.create(receiver.url)
    sent = new_thread(api, integrator, admin)
    # Any event's 410 disables it (other tests' events reach it too).
    receiver.wait_for(lambda rs: len(rs) >= 1, f"a first delivery (thread {sent['threadId']})")
    deadline = time.monotonic() + WAIT
    while (current := subscriptions.get(subscription["id"]))["status"] != "DISABLED":
        assert time.monotonic() < deadline, f"still {current['status']} {WAIT:.0f} s after a 410"
        time.sleep(0.3)
    listed = {s["id"]: s for s in ok(api.get(WEBHOOKS, integrator))["items"]}
    assert listed[subscription["id"]]["status"] == "DISABLED"
    # Nothing more is sent to it.
    count = len(receiver.snapshot())
    later = new_thread(api, integrator, admin)
    time.sleep(4)
    assert not standard_events(receiver.snapshot()[count:], {later["threadId"]}), "a disabled subscription got an event"


def test_a_receiver_that_never_answers_delays_no_other_subscription(
    api, integrator, admin, subscriptions, receivers
) -> None:
    def hang_first(request: Received, closing: threading.Event) -> tuple[int, dict[str, str]]:
        if request.nth == 1:
            closing.wait(20)  # past the 15 s an attempt may take
        return 200, {}

    hanging, healthy = receivers(hang_first), receivers()
    stuck = subscriptions.create(hanging.url, events=["message.created"])
    fine = subscriptions.create(healthy.url, events=["message.created"])
    # A subscription whose deliveries hash to the hung one's lane (1 in ParallelizationFactor)
    # waits behind its attempt, as on Lambda (docs/design.md): the claim is for the other lanes.
    while delivery_lane(fine["id"]) == delivery_lane(stuck["id"]):
        gone = api.request("DELETE", f"{WEBHOOKS}/{fine['id']}", integrator)
        assert gone.status_code == 200, shown(gone)
        fine = subscriptions.create(healthy.url, events=["message.created"])
    sent = new_thread(api, integrator, admin)
    thread = {sent["threadId"]}
    hanging.wait_for(lambda rs: standard_events(rs, thread), "the hanging receiver's first request")
    hung_at = time.monotonic()
    healthy.wait_for(lambda rs: standard_events(rs, thread), "the healthy receiver's event")

    # While that request hangs, the other subscription's next events arrive within seconds.
    for _ in range(2):
        started = time.monotonic()
        more = send(api, integrator, threadId=sent["threadId"])
        healthy.wait_for(lambda rs: any(r.json()["data"]["message"]["id"] == more["id"]
                                        for r in standard_events(rs, thread)), "the healthy receiver's next event", 8)
        assert time.monotonic() - started < 8
    assert time.monotonic() - hung_at < 15, "the checks above took longer than the hang itself"
    assert_verified(standard_events(healthy.snapshot(), thread)[0], fine["secret"])

    # The hung attempt is given up after 15 s and tried again (answered at once this time).
    first_id = standard_events(hanging.snapshot(), thread)[0].event_id
    found = wait_for_deliveries(api, integrator, stuck["id"], [first_id], lambda d: d["status"] == "DELIVERED",
                                "the retry after the timeout", WAIT + 10)
    item = found[first_id]
    assert item["attempts"] == 2 and item["lastResponseStatus"] == 200, item
    gaps = [round(r.at - hung_at, 1) for r in hanging.snapshot() if r.event_id == first_id]
    assert len(gaps) == 2, f"{first_id} was tried at {gaps} s"
    assert 14 <= gaps[1] <= WAIT + 10, f"the hung attempt was given up {gaps[1]} s after it started, not 15 s"


# --- secrets --------------------------------------------------------------------------------------


def test_after_a_rotation_both_secrets_sign_every_delivery(api, integrator, admin, subscriptions, receivers) -> None:
    receiver = receivers()
    subscription = subscriptions.create(receiver.url, events=["thread.opened"])
    before = new_thread(api, integrator, admin)
    signed_once = standard_events(receiver.wait_for(lambda rs: standard_events(rs, {before["threadId"]}),
                                                    "before the rotation"), {before["threadId"]})[0]
    assert SIGNATURE.match(signed_once.headers["webhook-signature"]), signed_once.headers["webhook-signature"]

    response = api.post(f"{WEBHOOKS}/{subscription['id']}/rotate-secret", integrator)
    assert response.status_code == 200, shown(response)
    rotated = with_secret(response)
    assert_subscription(rotated, with_secret=True)
    assert rotated["id"] == subscription["id"] and rotated["secret"] != subscription["secret"]
    assert "secret" not in subscriptions.get(subscription["id"])

    after = new_thread(api, integrator, admin)
    requests = receiver.wait_for(lambda rs: standard_events(rs, {after["threadId"]}), "after the rotation")
    (request,) = standard_events(requests, {after["threadId"]})
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(SIGNATURE.match(s) for s in signatures), request.headers["webhook-signature"]
    assert_verified(request, rotated["secret"])
    assert_verified(request, subscription["secret"])
    # Each signature is one secret's (not both the same).
    for secret in (rotated["secret"], subscription["secret"]):
        single = dict(request.headers)
        matching = []
        for signature in signatures:
            single["webhook-signature"] = signature
            try:
                Webhook(secret).verify(request.body, single)
                matching.append(signature)
            except Exception:  # noqa: BLE001 (standardwebhooks' verification error)
                pass
        assert len(matching) == 1, "exactly one of the two signatures is this secret's"


# --- replay and the feed --------------------------------------------------------------------------


def test_a_replay_sends_exactly_the_window_again_with_the_original_ids(
    api, integrator, admin, subscriptions, receivers
) -> None:
    receiver = receivers()
    subscription = subscriptions.create(receiver.url, events=["message.created"])
    first = new_thread(api, integrator, admin)
    thread_id = first["threadId"]
    time.sleep(1.1)
    middle = [send(api, integrator, threadId=thread_id) for _ in range(2)]
    time.sleep(1.1)
    last = send(api, integrator, threadId=thread_id)
    ids = [first["id"], *(m["id"] for m in middle), last["id"]]
    requests = receiver.wait_for(lambda rs: len(standard_events(rs, {thread_id})) >= 4, "the four messages")
    originals = {r.json()["data"]["message"]["id"]: r for r in standard_events(requests, {thread_id})}
    assert sorted(originals) == sorted(ids), list(originals)
    window = [originals[m["id"]].json() for m in middle]
    since = min(e["timestamp"] for e in window)
    until = max(e["timestamp"] for e in window)
    assert utc(originals[first["id"]].json()["timestamp"]) < utc(since) and utc(until) < utc(
        originals[last["id"]].json()["timestamp"])

    count = len(receiver.snapshot())
    response = api.post(f"{WEBHOOKS}/{subscription['id']}/replay", integrator, json={"since": since, "until": until})
    assert response.status_code == 202, response.text[:500]
    assert set(response.json()) == {"replayed"} and response.json()["replayed"] >= 2, response.json()

    def replayed(requests: list[Received]) -> list[Received]:
        return standard_events(requests[count:], {thread_id})

    receiver.wait_for(lambda rs: len(replayed(rs)) >= 2, "the replayed events")
    time.sleep(2)
    again = replayed(receiver.snapshot())
    by_message = {r.json()["data"]["message"]["id"]: r for r in again}
    assert len(again) == 2 and sorted(by_message) == sorted(m["id"] for m in middle), [
        (r.event_id, r.json()["data"]["message"]["id"]) for r in again]
    for message_id, request in by_message.items():
        original = originals[message_id]
        assert request.event_id == original.event_id, "a replay keeps the event's id"
        assert request.body == original.body, "a replay sends the event as it was"
        assert_verified(request, subscription["secret"])


def test_replay_refuses_a_window_that_ends_before_it_starts(api, integrator, subscriptions, receivers) -> None:
    subscription = subscriptions.create(receivers().url)
    path = f"{WEBHOOKS}/{subscription['id']}/replay"
    assert_error(api.post(path, integrator, json={"since": "2026-12-02T10:00:00Z", "until": "2026-12-02T09:59:59Z"}),
                 400, field="until")
    assert_error(api.post(path, integrator, json={"since": "yesterday", "until": "2026-12-02T09:59:59Z"}),
                 400, field="since")
    assert_error(api.post(path, integrator, json={"since": "2026-12-02T10:00:00Z"}), 400, field="until")
    # A window of one instant (two spellings of it) is fine; in 2020 it holds nothing of this subscription.
    response = api.post(path, integrator, json={"since": "2020-01-01T10:00:00+02:00", "until": "2020-01-01T08:00:00Z"})
    assert response.status_code == 202 and response.json() == {"replayed": 0}, response.text[:500]


def feed_page(api, token: str, **params: Any) -> dict:
    page = ok(api.get(EVENTS, token, params=params))
    assert set(page) == {"items", "nextCursor"}, page
    assert isinstance(page["nextCursor"], str) and page["nextCursor"], page
    return page


def test_the_event_feed_pages_through_every_event_once_oldest_first(api, integrator, admin) -> None:
    # Catch up with everything before this test (pages of 100 until an empty one).
    cursor = None
    deadline = time.monotonic() + 60
    while True:
        page = feed_page(api, integrator, limit=100, **({"after": cursor} if cursor else {}))
        cursor = page["nextCursor"]
        if not page["items"]:
            break
        assert time.monotonic() < deadline, "the feed did not end within 60 s of pages of 100"

    sent = new_thread(api, integrator, admin)
    thread_id = sent["threadId"]
    more = [send(api, integrator, threadId=thread_id) for _ in range(2)]
    ok(api.post(f"/api/v1/threads/{thread_id}/close", integrator))
    expected = [("thread.opened", thread_id), ("message.created", sent["id"]),
                *(("message.created", m["id"]) for m in more), ("thread.closed", thread_id)]

    # Poll from where the catch-up ended, two at a time, always going on from the last cursor,
    # until all of them were listed and a page came back empty.
    seen: list[dict] = []
    deadline = time.monotonic() + WAIT + 10
    while True:
        page = feed_page(api, integrator, limit=2, after=cursor)
        assert len(page["items"]) <= 2, page
        seen += page["items"]
        cursor = page["nextCursor"]
        ours = [e for e in seen if event_thread(e) == thread_id]
        if not page["items"] and len(ours) >= len(expected):
            break
        assert time.monotonic() < deadline, f"the feed had only {[key_of(e) for e in ours]} of {expected}"
        if not page["items"]:
            time.sleep(0.3)

    ids = [event["id"] for event in seen]
    assert len(ids) == len(set(ids)), "an event was listed twice"
    keys = [key_of(e) for e in ours]
    assert sorted(keys) == sorted(expected), keys
    # Oldest first: the thread's changes in the order they happened (its opening and its first
    # message happen together, so either may come first).
    assert keys[-1] == ("thread.closed", thread_id) and keys.index(("thread.opened", thread_id)) < 2, keys
    assert [k for k in keys if k[0] == "message.created"] == expected[1:4], keys
    times = [utc(e["timestamp"]) for e in ours]
    assert times == sorted(times), "oldest first"
    for event in ours:
        assert EVENT_ID.match(event["id"]) and set(event) == {"id", "type", "timestamp", "data"}, event
    sequences = [e["data"]["message"]["sequence"] for e in ours if e["type"] == "message.created"]
    assert sequences == [1, 2, 3], sequences
    # Caught up: nothing of the thread again, and still a cursor to poll from later.
    again = feed_page(api, integrator, limit=2, after=cursor)
    assert all(event_thread(e) != thread_id for e in again["items"]), again


# --- the subscriptions API ------------------------------------------------------------------------


def test_subscriptions_are_listed_read_and_deleted_without_their_secret(api, tokens, subscriptions, receivers) -> None:
    integrator = tokens["integrator"]
    created = subscriptions.create(receivers().url, events=["message.status.updated"], description="x" * 500)
    assert created["description"] == "x" * 500 and created["status"] == "ENABLED", masked(created)
    shown = {key: value for key, value in created.items() if key != "secret"}
    for role in ("integrator", "supervisor", "administrator"):
        listed = ok(api.get(WEBHOOKS, tokens[role]))
        assert set(listed) == {"items"}, masked(listed)
        for item in listed["items"]:
            assert_subscription(item, with_secret=False)
        assert shown in listed["items"], masked(listed)
        assert ok(api.get(f"{WEBHOOKS}/{created['id']}", tokens[role])) == shown

    deleted = ok(api.request("DELETE", f"{WEBHOOKS}/{created['id']}", integrator))
    assert deleted == shown, masked(deleted)
    assert_error(api.get(f"{WEBHOOKS}/{created['id']}", integrator), 404, "NOT_FOUND")
    assert_error(api.request("DELETE", f"{WEBHOOKS}/{created['id']}", integrator), 404, "NOT_FOUND")
    assert created["id"] not in {s["id"] for s in ok(api.get(WEBHOOKS, integrator))["items"]}


def test_a_creation_with_an_idempotency_key_is_answered_again_and_made_once(api, integrator, subscriptions, receivers) -> None:
    url, key = receivers().url, unique("webhook-key")
    first = api.post(WEBHOOKS, integrator, json={"url": url}, headers={"Idempotency-Key": key})
    assert first.status_code == 201, shown(first)
    first_body = with_secret(first)
    subscriptions.created.append(first_body["id"])
    again = api.post(WEBHOOKS, integrator, json={"url": url}, headers={"Idempotency-Key": key})
    assert again.status_code == 201, shown(again)
    again_body = with_secret(again)
    subscriptions.created.append(again_body["id"])
    assert again_body == first_body, "the same answer, secret included"
    assert sum(1 for s in ok(api.get(WEBHOOKS, integrator))["items"] if s["url"] == url) == 1
    assert_error(api.post(WEBHOOKS, integrator, json={"url": url, "format": "superoffice"},
                          headers={"Idempotency-Key": key}), 422)


@pytest.mark.parametrize("url", [
    "http://example.com/h",          # plain http, not loopback
    "https://127.0.0.1/h",           # loopback
    "https://169.254.169.254/h",     # cloud metadata (link-local)
    "https://[::1]/h",               # IPv6 loopback
    "https://10.0.0.1/h",            # private
    "https://localhost/h",           # a name that resolves to loopback
    "https://0.0.0.0/h",             # unspecified
    "https://nonexistent.invalid/h",  # does not resolve
    "ftp://x/y",                     # not http(s)
    "not a url",
    "",
    "https://example.com/" + "a" * 2000,  # over 2,000 characters
])
def test_urls_a_webhook_may_not_call_are_refused(api, integrator, url) -> None:
    before = {s["id"] for s in ok(api.get(WEBHOOKS, integrator))["items"]}
    assert_error(api.post(WEBHOOKS, integrator, json={"url": url}), 400, field="url")
    assert {s["id"] for s in ok(api.get(WEBHOOKS, integrator))["items"]} == before


@pytest.mark.parametrize(("fields", "field"), [
    ({}, "url"),
    ({"url": 5}, "url"),
    ({"events": []}, "events"),
    ({"events": ["thread.deleted"]}, "events"),
    ({"events": "thread.opened"}, "events"),
    ({"format": "xml"}, "format"),
    ({"description": "x" * 501}, "description"),
])
def test_bad_subscription_fields_are_named(api, integrator, receivers, fields, field) -> None:
    body = fields if field == "url" else {"url": receivers().url, **fields}
    assert_error(api.post(WEBHOOKS, integrator, json=body), 400, field=field)


def test_roles_credentials_and_unknown_subscriptions(api, tokens, subscriptions, receivers) -> None:
    integrator = tokens["integrator"]
    known = subscriptions.create(receivers().url)["id"]
    calls = [
        ("POST", WEBHOOKS, {"url": receivers().url}),
        ("GET", WEBHOOKS, None),
        ("GET", f"{WEBHOOKS}/{known}", None),
        ("DELETE", f"{WEBHOOKS}/{known}", None),
        ("POST", f"{WEBHOOKS}/{known}/rotate-secret", None),
        ("GET", f"{WEBHOOKS}/{known}/deliveries", None),
        ("POST", f"{WEBHOOKS}/{known}/replay", {"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z"}),
        ("GET", EVENTS, None),
    ]
    for method, path, body in calls:
        for role in ("operator", "gateway", "bot"):
            assert_error(api.request(method, path, tokens[role], json=body), 403)
        assert_error(api.request(method, path, None, json=body), 401)
        assert_error(api.request(method, path, "Bearer 1.not-a-token", json=body), 401)
    assert subscriptions.get(known)["status"] == "ENABLED", "a refused call changed the subscription"

    for method, path, body in calls[2:7]:
        unknown = path.replace(known, UNKNOWN_WEBHOOK)
        assert_error(api.request(method, unknown, integrator, json=body), 404, "NOT_FOUND")
        assert_error(api.request(method, path.replace(known, "wh_nothing"), integrator, json=body), 404, "NOT_FOUND")
        # Not even the form of an id: the path's `id` is at fault.
        assert_error(api.request(method, path.replace(known, "not-an-id"), integrator, json=body), 400, field="id")


def test_bad_list_parameters_are_named(api, integrator, subscriptions, receivers) -> None:
    known = subscriptions.create(receivers().url)["id"]
    deliveries = f"{WEBHOOKS}/{known}/deliveries"
    for params, field in [
        ({"status": "DONE"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ]:
        assert_error(api.get(deliveries, integrator, params=params), 400, field=field)
    page = ok(api.get(deliveries, integrator, params={"status": "FAILED", "limit": 1}))
    assert page == {"items": [], "nextCursor": None}, page
    for params, field in [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"after": "not-a-cursor"}, "after")]:
        assert_error(api.get(EVENTS, integrator, params=params), 400, field=field)
