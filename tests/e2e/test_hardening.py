"""Holes found by review, over HTTP: idempotency keys that are not ASCII, and the headers every
answer carries (success or error, edna or SuperOffice, routed or not)."""

from __future__ import annotations

import json
from typing import Callable

import pytest
import requests

from helpers import CHAT_SESSIONS, OUTGOING, chat_messages_path, chat_session_path, ok, raw_post, unique

# --- Idempotency-Key: a value that is not printable ASCII is refused, never taken for no key ----

# `clé-1` as a client sends it, in UTF-8. (Latin-1 bytes never reach a function locally:
# cargo-lambda's emulator answers its own 500 for a header that is not UTF-8.)
NON_ASCII_KEYS = {"utf-8": "clé-1".encode("utf-8"), "accented": "Schlüssel".encode("utf-8")}


def count_idempotency_records(table) -> int:
    kwargs: dict = {
        "ProjectionExpression": "pk",
        "FilterExpression": "begins_with(pk, :prefix)",
        "ExpressionAttributeValues": {":prefix": "IDEMPOTENCY#"},
        "ConsistentRead": True,
    }
    count = 0
    while True:
        page = table.scan(**kwargs)
        count += len(page["Items"])
        if "LastEvaluatedKey" not in page:
            return count
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.parametrize("key", NON_ASCII_KEYS.values(), ids=NON_ASCII_KEYS.keys())
def test_a_non_ascii_idempotency_key_is_400_and_writes_nothing(
    api_url, integrator, client, table, writes_nothing, key
) -> None:
    body = json.dumps({"text": "sent once", "clientId": client["externalId"]}).encode()
    headers = {"Content-Type": "application/json", "Authorization": integrator, "Idempotency-Key": key}
    records = count_idempotency_records(table)
    with writes_nothing():
        # Twice: a retry must not send a second message either.
        for _ in range(2):
            response = raw_post(api_url, OUTGOING, body, headers)
            assert response.status == 400, f"{response.status} {response.body!r}"
            error = response.json()
            assert (error["code"], error.get("field")) == ("VALIDATION_FAILED", "Idempotency-Key"), error
    assert count_idempotency_records(table) == records


@pytest.mark.parametrize("key", NON_ASCII_KEYS.values(), ids=NON_ASCII_KEYS.keys())
def test_a_non_ascii_idempotency_key_is_refused_by_superoffice_too(api_url, integrator, writes_nothing, key) -> None:
    body = json.dumps({"CustomerAlias": "once only"}).encode()
    headers = {"Content-Type": "application/json", "Authorization": integrator, "Idempotency-Key": key}
    with writes_nothing():
        response = raw_post(api_url, CHAT_SESSIONS, body, headers)
    assert response.status == 400, f"{response.status} {response.body!r}"
    error = response.json()
    assert (error["ErrorType"], error["ErrorSource"]) == ("InvalidInput", "Idempotency-Key"), error


# --- headers every answer carries ---------------------------------------------------------------

SECURITY_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def answers(api, integrator: str, demo_password: str, client: dict) -> dict[str, Callable[[], requests.Response]]:
    """One request per kind of answer: successes and errors of both dialects, and the $default
    route."""
    sent = ok(api.send(integrator, {"text": "headers", "clientId": client["externalId"]}))
    thread = sent["threadId"]
    return {
        "login 200": lambda: api.post("/api/auth/login", json={"login": "integrator", "password": demo_password}),
        "login 401": lambda: api.post("/api/auth/login", json={"login": unique("nobody"), "password": "wrong one"}),
        "send 200": lambda: api.send(integrator, {"text": "headers", "threadId": thread}),
        "send 400": lambda: api.send(integrator, {"clientId": client["externalId"]}),
        "send 401": lambda: api.send(None, {"text": "headers", "threadId": thread}),
        "send 415": lambda: api.post(OUTGOING, integrator, data="text", headers={"Content-Type": "text/plain"}),
        "thread 200": lambda: api.get(f"/api/v1/threads/{thread}", integrator),
        "thread 404": lambda: api.get("/api/v1/threads/999999999", integrator),
        "messages 200": lambda: api.get(f"/api/v1/threads/{thread}/messages", integrator),
        "not-found 404": lambda: api.get("/api/v1/nope", integrator),
        "not-found 405": lambda: api.request("DELETE", f"/api/v1/threads/{thread}", integrator),
        "session 201": lambda: api.post(CHAT_SESSIONS, integrator, json={"CustomerAlias": "headers"}),
        "session 200": lambda: api.get(chat_session_path(thread), integrator),
        "session xml 200": lambda: api.get(chat_session_path(thread), integrator, headers={"Accept": "text/xml"}),
        "session 404": lambda: api.get(chat_session_path(2_147_000_000), integrator),
        "session 406": lambda: api.get(chat_session_path(thread), integrator, headers={"Accept": "image/png"}),
        "session messages 200": lambda: api.get(chat_messages_path(thread), integrator),
        "session messages 401": lambda: api.get(chat_messages_path(thread)),
    }


def test_every_answer_says_no_store_and_nosniff(api, integrator, demo_password, client) -> None:
    missing = {}
    for name, call in answers(api, integrator, demo_password, client).items():
        response = call()
        expected_status = int(name.rsplit(" ", 1)[1])
        assert response.status_code == expected_status, f"{name}: {response.status_code} {response.text[:300]}"
        wrong = {header: response.headers.get(header) for header, value in SECURITY_HEADERS.items()
                 if response.headers.get(header) != value}
        if wrong:
            missing[name] = wrong
    assert not missing, f"answers without {SECURITY_HEADERS}: {missing}"

