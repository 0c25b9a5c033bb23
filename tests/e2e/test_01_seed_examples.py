"""The seeds' own example requests, sent byte for byte to a fresh table.

This module must run first (pytest runs files in name order): it relies on the table being
fresh, so that the first client created gets id 1 and the first thread id 1, which is what the
seed's third example (`"threadId": 1`) and `"threadsClientId": 1` name.

How the bodies were reconstructed. The seed pages show the bodies, but not every byte of them:

* Seed 000 shows 4-space indentation. Laid out exactly as shown (LF line ends, no final newline)
  the three bodies are 76, 74 and 44 bytes; the seed's Content-Length values are 78, 76 and 45.
  CRLF line ends do not fit (80, 78, 47). What fits is a final newline after the closing brace --
  the same convention makes the seed's *response* example exactly its stated 108 bytes (and seed
  001's response exactly 102) -- which gives 77, 75 and 45. The first two bodies, the ones with an
  `"attachments": [],` line, are still one byte short. The stored page keeps no trailing
  whitespace, so that is where a byte can hide without contradicting it: we send a trailing space
  after `"attachments": [],` (any invisible byte on that line would do as well).
  (3-space indentation with CRLF line ends and no final newline gives the same 77/75/45 and
  108/102, with the same one-byte gap; we keep the page's visible 4 spaces.)
* Seed 001 flattens each body onto one line. The same convention (4-space indentation, LF, final
  newline) with the nested descriptor's members indented by 6 spaces gives exactly 163 and 250
  bytes. (The live edna page indents them by 8, which would be 167 and 258 bytes, longer than its
  own Content-Length values.)

`test_seed_bodies_have_the_seeds_content_length` checks the lengths and that each body is the
seed's JSON content.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from helpers import OUTGOING, TO_DEVICE, RawResponse, assert_sent, ok, raw_post


@dataclass(frozen=True)
class SeedRequest:
    path: str
    content_length: int  # the Content-Length header of the seed's example
    body: bytes  # what we send
    content: dict  # the JSON the seed shows


BY_CLIENT_ID = SeedRequest(
    OUTGOING,
    78,
    b'{\n'
    b'    "text": "message",\n'
    b'    "attachments": [], \n'
    b'    "clientId": "clientId"\n'
    b'}\n',
    {"text": "message", "attachments": [], "clientId": "clientId"},
)
BY_THREADS_CLIENT_ID = SeedRequest(
    OUTGOING,
    76,
    b'{\n'
    b'    "text": "message",\n'
    b'    "attachments": [], \n'
    b'    "threadsClientId": 1\n'
    b'}\n',
    {"text": "message", "attachments": [], "threadsClientId": 1},
)
BY_THREAD_ID = SeedRequest(
    OUTGOING,
    45,
    b'{\n'
    b'    "text": "message",\n'
    b'    "threadId": 1\n'
    b'}\n',
    {"text": "message", "threadId": 1},
)
TO_WHATSAPP = SeedRequest(
    TO_DEVICE,
    163,
    b'{\n'
    b'    "text": "message",\n'
    b'    "attachments": [],\n'
    b'    "clientApplicationDescriptor": {\n'
    b'      "channelType": "WHATSAPP",\n'
    b'      "deviceAddress": "89000000000"\n'
    b'    }\n'
    b'}\n',
    {
        "text": "message",
        "attachments": [],
        "clientApplicationDescriptor": {"channelType": "WHATSAPP", "deviceAddress": "89000000000"},
    },
)
MOBILE_EXTERNAL_ID = "012-3456-7890-12"
TO_MOBILE = SeedRequest(
    TO_DEVICE,
    250,
    b'{\n'
    b'    "text": "message",\n'
    b'    "attachments": [],\n'
    b'    "clientApplicationDescriptor": {\n'
    b'      "channelType": "MOBILE",\n'
    b'      "clientId": "012-3456-7890-12",\n'
    b'      "appMarker": "myApp",\n'
    b'      "deviceAddress": "wsfck62auiv00gz14vedivwptm09ahmrhz"\n'
    b'    }\n'
    b'}\n',
    {
        "text": "message",
        "attachments": [],
        "clientApplicationDescriptor": {
            "channelType": "MOBILE",
            "clientId": MOBILE_EXTERNAL_ID,
            "appMarker": "myApp",
            "deviceAddress": "wsfck62auiv00gz14vedivwptm09ahmrhz",
        },
    },
)
SEED_000 = (BY_CLIENT_ID, BY_THREADS_CLIENT_ID, BY_THREAD_ID)


@pytest.mark.parametrize("seed", [*SEED_000, TO_WHATSAPP, TO_MOBILE], ids=lambda seed: str(seed.content_length))
def test_seed_bodies_have_the_seeds_content_length(seed: SeedRequest) -> None:
    assert len(seed.body) == seed.content_length
    assert json.loads(seed.body) == seed.content


def send_seed(api_url: str, token: str, seed: SeedRequest) -> dict:
    """Sends the seed's request as the seed writes it; returns the 200 body."""
    headers = {"Content-Type": "application/json", "Authorization": token}
    response: RawResponse = raw_post(api_url, seed.path, seed.body, headers)
    assert response.status == 200, f"{seed.path}: {response.status} {response.body!r}"
    return response.json()


# --- seed 000: POST /api/v1/messages/outgoing --------------------------------------------------


@pytest.fixture(scope="module")
def first_client(admin) -> dict:
    return admin.create_client("clientId")


@pytest.fixture(scope="module")
def seed_000_sent(api_url, integrator, first_client) -> list[dict]:
    return [send_seed(api_url, integrator, seed) for seed in SEED_000]


def test_first_client_of_a_fresh_table_gets_id_1(first_client) -> None:
    assert first_client["clientId"] == 1
    assert first_client["externalId"] == "clientId"


def test_seed_000_examples_reach_client_1(seed_000_sent, agent_ids) -> None:
    for sent in seed_000_sent:
        assert_sent(sent, agent_ids["integrator"])
        assert sent["clientId"] == 1
        assert sent["clientExternalId"] == "clientId"


def test_seed_000_examples_share_thread_1(seed_000_sent) -> None:
    assert [sent["threadId"] for sent in seed_000_sent] == [1, 1, 1]
    ids = [sent["id"] for sent in seed_000_sent]
    # Unique; not necessarily increasing, as each function process has its own block of ids.
    assert len(set(ids)) == 3, ids


def test_thread_1_holds_the_three_messages(api, integrator, seed_000_sent) -> None:
    thread = api.thread(integrator, 1)
    assert set(thread) == {"id", "status", "clientId", "clientExternalId", "startTime", "lastMessageTime", "messageCount"}
    assert thread["id"] == 1
    assert thread["status"] == "OPEN"
    assert thread["clientId"] == 1
    assert thread["clientExternalId"] == "clientId"
    assert thread["messageCount"] == 3


def test_thread_1_lists_the_messages_newest_first(api, integrator, agent_ids, seed_000_sent) -> None:
    page = api.messages_page(integrator, 1)
    assert page["nextCursor"] is None
    assert [item["id"] for item in page["items"]] == [sent["id"] for sent in reversed(seed_000_sent)]
    for item in page["items"]:
        assert item["text"] == "message"
        assert item["attachments"] == []
        assert (item["threadId"], item["clientId"], item["agentId"]) == (1, 1, agent_ids["integrator"])


# --- seed 001: POST /api/v1/messages/outgoing-to-device ----------------------------------------


@pytest.fixture(scope="module")
def whatsapp_sent(api_url, integrator, seed_000_sent) -> dict:
    # Depends on seed_000_sent: the numbering above needs seed 000 to go first.
    return send_seed(api_url, integrator, TO_WHATSAPP)


@pytest.fixture(scope="module")
def mobile_sent(api_url, integrator, whatsapp_sent) -> dict:
    return send_seed(api_url, integrator, TO_MOBILE)


def test_seed_001_whatsapp_goes_to_a_new_anonymous_client(whatsapp_sent, agent_ids) -> None:
    assert_sent(whatsapp_sent, agent_ids["integrator"])
    assert whatsapp_sent["clientExternalId"] is None
    assert whatsapp_sent["clientId"] != 1
    assert whatsapp_sent["threadId"] != 1


def test_seed_001_mobile_goes_to_the_authorized_client(mobile_sent, whatsapp_sent, agent_ids) -> None:
    assert_sent(mobile_sent, agent_ids["integrator"])
    assert mobile_sent["clientExternalId"] == MOBILE_EXTERNAL_ID
    assert mobile_sent["clientId"] not in (1, whatsapp_sent["clientId"])
    assert mobile_sent["threadId"] not in (1, whatsapp_sent["threadId"])


def test_follow_up_by_internal_id_joins_the_whatsapp_thread(api, integrator, whatsapp_sent) -> None:
    body = ok(api.send(integrator, {"text": "follow-up", "threadsClientId": whatsapp_sent["clientId"]}))
    assert (body["clientId"], body["threadId"]) == (whatsapp_sent["clientId"], whatsapp_sent["threadId"])
    assert body["clientExternalId"] is None


def test_follow_up_by_external_id_joins_the_mobile_thread(api, integrator, mobile_sent) -> None:
    body = ok(api.send(integrator, {"text": "x", "clientId": MOBILE_EXTERNAL_ID}))
    assert (body["clientId"], body["threadId"]) == (mobile_sent["clientId"], mobile_sent["threadId"])
    assert body["clientExternalId"] == MOBILE_EXTERNAL_ID
