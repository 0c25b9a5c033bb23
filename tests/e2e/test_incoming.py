"""Customers' messages and delivery statuses over HTTP: a gateway posts an incoming WhatsApp
message, it reads back through both dialects, an agent's reply joins the thread, the provider's
retry stores nothing, statuses move only forward, and roles are kept apart."""

from __future__ import annotations

import itertools
import random
from concurrent.futures import ThreadPoolExecutor

from helpers import assert_error, ok, unique

INCOMING = "/api/v1/messages/incoming"


def phone() -> str:
    return "+7" + "".join(random.choices("0123456789", k=10))


def incoming(address: str, text: str = "hello", **fields) -> dict:
    return {"text": text, "clientApplicationDescriptor": {"channelType": "WHATSAPP", "deviceAddress": address}, **fields}


def test_an_incoming_message_reads_back_in_both_dialects_and_a_reply_joins_its_thread(api, tokens):
    gateway, integrator = tokens["gateway"], tokens["integrator"]
    provider_id = unique("wamid")
    first = ok(api.post(INCOMING, gateway, json=incoming(phone(), "Where is my order?", providerMessageId=provider_id)))
    assert set(first) == {"id", "threadId", "clientId", "clientExternalId"}, first
    assert first["clientExternalId"] is None
    thread_id = first["threadId"]

    page = ok(api.get(f"/api/v1/threads/{thread_id}/messages", integrator))
    (message,) = page["items"]
    assert (message["direction"], message["agentId"], message["text"]) == ("INCOMING", None, "Where is my order?")
    session = ok(api.get(f"/api/v1/ChatSession/{thread_id}/Messages", integrator))
    assert [m["Type"] for m in session] == ["ToUser"], session

    reply = ok(api.post("/api/v1/messages/outgoing", integrator, json={"text": "On its way", "threadId": thread_id}))
    assert reply["threadId"] == thread_id
    page = ok(api.get(f"/api/v1/threads/{thread_id}/messages", integrator))
    assert [m["direction"] for m in page["items"]] == ["OUTGOING", "INCOMING"]

    again = ok(api.post(INCOMING, gateway, json=incoming(phone(), "ignored", providerMessageId=provider_id)))
    # The same provider id on the same channel: the first message, nothing stored.
    assert again == first
    assert len(ok(api.get(f"/api/v1/threads/{thread_id}/messages", integrator))["items"]) == 2


def test_forty_concurrent_first_messages_from_one_device_make_one_client_and_one_thread(api, tokens):
    address = phone()
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda n: api.post(INCOMING, tokens["gateway"], json=incoming(address, f"m{n}")), range(40)))
    bodies = [ok(answer) for answer in answers]
    assert len({b["clientId"] for b in bodies}) == 1 and len({b["threadId"] for b in bodies}) == 1
    thread = ok(api.get(f"/api/v1/threads/{bodies[0]['threadId']}", tokens["integrator"]))
    assert thread["messageCount"] == 40


def test_statuses_in_any_order_end_read_and_superoffice_sees_it(api, tokens):
    gateway, integrator = tokens["gateway"], tokens["integrator"]
    for order in itertools.permutations(["SENT", "DELIVERED", "READ"]):
        sent = ok(api.post("/api/v1/messages/outgoing-to-device", integrator, json=incoming(phone(), "hi")))
        for status in order + order:
            last = ok(api.post(f"/api/v1/messages/{sent['id']}/status", gateway, json={"status": status}))
        assert last["status"] == "READ", (order, last)
        assert all(last[time] for time in ("sentAt", "deliveredAt", "readAt")), (order, last)
        after = ok(api.post(f"/api/v1/messages/{sent['id']}/status", gateway, json={"status": "FAILED"}))
        assert after == last
    session = ok(api.get(f"/api/v1/ChatSession/{sent['threadId']}/Messages", integrator))
    assert session[-1]["ReadByCustomer"] == 1, session
    page = ok(api.get(f"/api/v1/threads/{sent['threadId']}/messages", integrator))
    assert page["items"][0]["status"] == "READ"


def test_roles_unknown_messages_and_bad_input(api, tokens):
    gateway, integrator = tokens["gateway"], tokens["integrator"]
    assert_error(api.post(INCOMING, integrator, json=incoming(phone())), 403)
    assert_error(api.post("/api/v1/messages/outgoing-to-device", gateway, json=incoming(phone())), 403)
    assert_error(api.post("/api/v1/messages/9007199254740000/status", gateway, json={"status": "READ"}), 404)
    sent = ok(api.post("/api/v1/messages/outgoing-to-device", integrator, json=incoming(phone())))
    path = f"/api/v1/messages/{sent['id']}/status"
    assert_error(api.post(path, gateway, json={"status": "SEEN"}), 400, field="status")
    assert_error(api.post(path, gateway, json={"status": "READ", "statusAt": "noon"}), 400, field="statusAt")
    assert_error(api.post(INCOMING, gateway, json=incoming("not-a-phone")), 400,
                 field="clientApplicationDescriptor.deviceAddress")
