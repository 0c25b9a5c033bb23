"""POST /api/v1/messages/outgoing over HTTP, and reading back and closing the thread it uses.

Token expiry is not tested here (it would take a short TOKEN_TTL_SECONDS stack of its own); the
handler tests of the login and send functions cover it.
"""

from __future__ import annotations

import json

import pytest

from helpers import OUTGOING, SENDING_ROLES, assert_error, assert_sent, ok, unique

MAX_BODY = 256 * 1024


def hello(client: dict, **fields) -> dict:
    """A valid send to the client (by its external id), with `fields` added or replaced."""
    return {"text": "hello", "clientId": client["externalId"], **fields}


def close_path(thread_id: int) -> str:
    return f"/api/v1/threads/{thread_id}/close"


# --- who may send -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", SENDING_ROLES)
def test_sending_roles_may_send(api, tokens, agent_ids, client, role) -> None:
    sent = ok(api.send(tokens[role], hello(client)))
    assert_sent(sent, agent_ids[role])
    assert (sent["clientId"], sent["clientExternalId"]) == (client["clientId"], client["externalId"])


@pytest.mark.parametrize("role", ["administrator", "bot"])
def test_other_roles_are_forbidden(api, tokens, client, writes_nothing, role) -> None:
    with writes_nothing():
        assert_error(api.send(tokens[role], hello(client)), 403, "FORBIDDEN")


# --- rejected requests: the error a user sees, and nothing written ------------------------------

# id: (status, code, field, how the request differs from a valid one by the integrator)
# `auth` replaces the Authorization header (None: no header), `fields` the body's fields, `raw`
# the whole body, `headers` adds headers.
REJECTIONS = {
    "no Authorization": (401, "UNAUTHORIZED", None, {"auth": None}),
    "garbage token": (401, "UNAUTHORIZED", None, {"auth": "Bearer garbage"}),
    "malformed JSON": (400, "INVALID_JSON", None, {"raw": b'{"text": "hello", "clientId": '}),
    "threadsClientId not a number": (400, None, "threadsClientId", {"fields": {"threadsClientId": "abc"}}),
    "text of 2001 characters": (400, None, "text", {"fields": {"text": "x" * 2001}}),
    "unknown clientId": (404, "NOT_FOUND", "clientId", {"fields": {"clientId": "no-such-client"}}),
    "Content-Type text/plain": (415, "UNSUPPORTED_MEDIA_TYPE", None, {"headers": {"Content-Type": "text/plain"}}),
    "body over 256 KiB": (413, "PAYLOAD_TOO_LARGE", None, {"fields": {"padding": "a" * MAX_BODY}}),
    "Accept text/html": (406, "NOT_ACCEPTABLE", None, {"headers": {"Accept": "text/html"}}),
}


@pytest.mark.parametrize(("status", "code", "field", "change"), REJECTIONS.values(), ids=REJECTIONS.keys())
def test_rejected_requests_write_nothing(api, integrator, client, writes_nothing, status, code, field, change) -> None:
    body = change.get("raw") or json.dumps(hello(client, **change.get("fields", {}))).encode()
    headers = {"Content-Type": "application/json", **change.get("headers", {})}
    token = change.get("auth", integrator)
    with writes_nothing():
        response = api.post(OUTGOING, token, data=body, headers=headers)
    assert_error(response, status, code, field)


def test_text_limit_counts_characters_not_bytes(api, integrator, client) -> None:
    # 2,000 characters of 4 UTF-8 bytes each: at the limit, so accepted.
    ok(api.send(integrator, hello(client, text="\N{GRINNING FACE}" * 2000)))


# --- idempotency --------------------------------------------------------------------------------


def test_retry_with_the_same_key_replays_the_first_response(api, integrator, client, entity_delta) -> None:
    key = {"Idempotency-Key": unique("key")}
    with entity_delta() as delta:
        first = api.send(integrator, hello(client), headers=key)
        retry = api.send(integrator, hello(client), headers=key)
    ok(first)
    assert ok(retry) == first.json()
    assert retry.content == first.content
    assert delta.added == {**dict.fromkeys(delta.added, 0), "THREAD": 1, "MESSAGE": 1}


def test_same_key_with_another_body_is_422(api, integrator, client, writes_nothing) -> None:
    key = {"Idempotency-Key": unique("key")}
    ok(api.send(integrator, hello(client), headers=key))
    with writes_nothing():
        reused = api.send(integrator, hello(client, text="something else"), headers=key)
    assert_error(reused, 422, "IDEMPOTENCY_KEY_REUSED")


def test_keys_are_scoped_to_the_agent(api, tokens, client, entity_delta) -> None:
    key = {"Idempotency-Key": unique("key")}
    with entity_delta() as delta:
        by_integrator = ok(api.send(tokens["integrator"], hello(client), headers=key))
        by_operator = ok(api.send(tokens["operator"], hello(client), headers=key))
    assert by_operator["id"] != by_integrator["id"]
    assert delta.added["MESSAGE"] == 2


# --- closing a thread ---------------------------------------------------------------------------


def test_closing_a_thread_makes_the_next_send_open_a_new_one(api, tokens, client) -> None:
    first = ok(api.send(tokens["integrator"], hello(client)))
    thread_id = first["threadId"]

    assert_error(api.post(close_path(thread_id), tokens["operator"]), 403, "FORBIDDEN")
    assert api.thread(tokens["integrator"], thread_id)["status"] == "OPEN"

    closed = ok(api.post(close_path(thread_id), tokens["supervisor"]))
    assert (closed["id"], closed["status"], closed["messageCount"]) == (thread_id, "CLOSED", 1)
    # Closing is idempotent (openapi.yaml): a closed thread is answered as it is.
    assert ok(api.post(close_path(thread_id), tokens["supervisor"])) == closed

    after = ok(api.send(tokens["integrator"], hello(client)))
    assert after["clientId"] == first["clientId"]
    assert after["threadId"] != thread_id
    assert api.thread(tokens["integrator"], after["threadId"])["status"] == "OPEN"
    assert api.thread(tokens["integrator"], thread_id)["messageCount"] == 1


# --- reading back -------------------------------------------------------------------------------


def test_messages_page_newest_first_through_next_cursor(api, integrator, client) -> None:
    sent = [ok(api.send(integrator, hello(client, text=f"message {n}"))) for n in range(5)]
    thread_id = sent[0]["threadId"]
    assert {message["threadId"] for message in sent} == {thread_id}

    pages, params = [], {"limit": 2}
    while True:
        page = api.messages_page(integrator, thread_id, **params)
        pages.append(page["items"])
        if page["nextCursor"] is None:
            break
        params["cursor"] = page["nextCursor"]

    assert [len(items) for items in pages] == [2, 2, 1]
    listed = [item for items in pages for item in items]
    assert [item["id"] for item in listed] == [message["id"] for message in reversed(sent)]
    assert [item["text"] for item in listed] == [f"message {n}" for n in reversed(range(5))]


# --- routes and request ids ---------------------------------------------------------------------


def test_unknown_route_is_a_json_404(api, integrator) -> None:
    assert_error(api.get("/api/v1/nope", integrator), 404, "NOT_FOUND")


def test_wrong_method_is_a_json_405_with_allow(api, integrator) -> None:
    response = api.request("DELETE", "/api/v1/threads/1", integrator)
    assert_error(response, 405)
    assert "GET" in response.headers.get("Allow", ""), response.headers


REQUESTS = {
    "a send": lambda api, token, client, headers: api.send(token, hello(client), headers=headers),
    "an error": lambda api, token, client, headers: api.get("/api/v1/nope", token, headers=headers),
}


@pytest.mark.parametrize("call", REQUESTS.values(), ids=REQUESTS.keys())
def test_request_id_is_echoed(api, integrator, client, call) -> None:
    request_id = unique("request")
    response = call(api, integrator, client, {"X-Request-Id": request_id})
    assert response.headers.get("X-Request-Id") == request_id


@pytest.mark.parametrize("call", REQUESTS.values(), ids=REQUESTS.keys())
def test_request_id_is_generated(api, integrator, client, call) -> None:
    generated = [call(api, integrator, client, {}).headers.get("X-Request-Id") for _ in range(2)]
    assert all(generated), generated
    assert generated[0] != generated[1]
