"""POST /api/v1/messages/outgoing-to-device over HTTP: validation, which client a device belongs
to, and concurrent first sends to one new device."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import ENTITIES, assert_error, assert_sent, ok, unique

DESCRIPTOR_NAMES = ("clientApplicationDescriptor", "applicationDescriptor")
CHANNELS = ("WHATSAPP", "VIBER", "SMS", "TELEGRAM", "EMAIL", "MOBILE", "WEB")
CONCURRENT_SENDS = 50


def phone() -> str:
    """A new 11-digit phone number (like the seed's 89000000000)."""
    return "7" + "".join(random.choices("0123456789", k=10))


def whatsapp(**fields: str) -> dict:
    """The descriptor of a new WhatsApp device, with `fields` added."""
    return {"channelType": "WHATSAPP", "deviceAddress": phone(), **fields}


def to_device(descriptor: dict, name: str = "clientApplicationDescriptor", text: str = "hello") -> dict:
    return {"text": text, name: descriptor}


def added(**counts: int) -> dict[str, int]:
    """An entity delta: the given counts, every other entity 0."""
    return {**dict.fromkeys(ENTITIES, 0), **counts}


# --- rejected requests: the error a user sees, and nothing written ------------------------------

BAD_ADDRESSES = [
    ("WHATSAPP", "not-a-phone"),
    ("VIBER", "12ab45"),
    ("SMS", "+1234567890123456"),  # 16 digits
    ("EMAIL", "no-at-sign.example.com"),
    ("TELEGRAM", ""),
    ("MOBILE", "has space"),
    ("WEB", ""),
]


@pytest.mark.parametrize("name", DESCRIPTOR_NAMES)
def test_unknown_channel_type_is_400_naming_the_allowed_ones(api, integrator, writes_nothing, name) -> None:
    with writes_nothing():
        response = api.send_to_device(integrator, to_device({"channelType": "PIGEON", "deviceAddress": "1"}, name))
    error = assert_error(response, 400, field=f"{name}.channelType")
    assert all(channel in error["message"] for channel in CHANNELS), error


@pytest.mark.parametrize("name", DESCRIPTOR_NAMES)
@pytest.mark.parametrize(("channel", "address"), BAD_ADDRESSES, ids=[channel for channel, _ in BAD_ADDRESSES])
def test_address_not_fit_for_the_channel_is_400(api, integrator, writes_nothing, name, channel, address) -> None:
    descriptor = {"channelType": channel, "deviceAddress": address}
    with writes_nothing():
        response = api.send_to_device(integrator, to_device(descriptor, name))
    assert_error(response, 400, field=f"{name}.deviceAddress")


def test_two_different_descriptors_are_400(api, integrator, writes_nothing) -> None:
    body = {"text": "hello", "clientApplicationDescriptor": whatsapp(), "applicationDescriptor": whatsapp()}
    with writes_nothing():
        assert_error(api.send_to_device(integrator, body), 400, field="applicationDescriptor")


def test_the_same_descriptor_under_both_names_is_accepted(api, integrator, agent_ids) -> None:
    descriptor = whatsapp()
    body = {"text": "hello", "clientApplicationDescriptor": descriptor, "applicationDescriptor": descriptor}
    assert_sent(ok(api.send_to_device(integrator, body)), agent_ids["integrator"])


@pytest.mark.parametrize("role", ["administrator", "bot"])
def test_other_roles_are_forbidden(api, tokens, writes_nothing, role) -> None:
    with writes_nothing():
        assert_error(api.send_to_device(tokens[role], to_device(whatsapp())), 403, "FORBIDDEN")


@pytest.mark.parametrize("other_client", ["new", "existing"])
def test_device_of_another_authorized_client_is_409(api, integrator, admin, writes_nothing, other_client) -> None:
    device = whatsapp()
    ok(api.send_to_device(integrator, to_device({**device, "clientId": unique("owner")})))
    other = unique("other")
    if other_client == "existing":
        admin.create_client(other)
    with writes_nothing():
        response = api.send_to_device(integrator, to_device({**device, "clientId": other}))
    assert_error(response, 409, "DEVICE_BELONGS_TO_ANOTHER_CLIENT")


# --- which client a device belongs to -----------------------------------------------------------


def test_anonymous_device_moves_to_the_authorized_client(api, integrator, agent_ids, entity_delta) -> None:
    device = whatsapp()
    external_id = unique("customer")
    with entity_delta() as delta:
        anonymous = ok(api.send_to_device(integrator, to_device(device)))
        authorized = ok(api.send_to_device(integrator, to_device({**device, "clientId": external_id})))
        later = ok(api.send_to_device(integrator, to_device(device)))
    for sent in (anonymous, authorized, later):
        assert_sent(sent, agent_ids["integrator"])

    assert anonymous["clientExternalId"] is None
    assert authorized["clientId"] != anonymous["clientId"]
    assert authorized["clientExternalId"] == external_id
    # Later anonymous sends to the device reach the authorized client, in its thread.
    assert (later["clientId"], later["clientExternalId"]) == (authorized["clientId"], external_id)
    assert later["threadId"] == authorized["threadId"] != anonymous["threadId"]
    # One device, moved (not copied); the anonymous client and its thread stay.
    assert delta.added == added(DEVICE=1, CLIENT=2, THREAD=2, MESSAGE=3)


def test_unauthorized_client_id_names_one_client(api, integrator, entity_delta) -> None:
    unauthorized_id = unique("visitor")
    with entity_delta() as delta:
        first = ok(api.send_to_device(integrator, to_device(whatsapp(unauthorizedClientId=unauthorized_id))))
        web = {"channelType": "WEB", "deviceAddress": unique("web"), "unauthorizedClientId": unauthorized_id}
        again = ok(api.send_to_device(integrator, to_device(web, "applicationDescriptor")))
    assert first["clientExternalId"] is None
    assert (again["clientId"], again["threadId"]) == (first["clientId"], first["threadId"])
    assert again["clientExternalId"] is None
    assert delta.added == added(DEVICE=2, CLIENT=1, THREAD=1, MESSAGE=2)


# --- concurrent first sends to one new device ---------------------------------------------------


def test_concurrent_first_sends_create_one_client_and_one_thread(api, integrator, entity_delta) -> None:
    body = to_device(whatsapp())
    with entity_delta() as delta, ThreadPoolExecutor(max_workers=CONCURRENT_SENDS) as pool:
        # Each call opens its own connection (helpers.Api), so the sends really overlap.
        responses = list(pool.map(lambda _: api.send_to_device(integrator, body), range(CONCURRENT_SENDS)))
    sent = [ok(response) for response in responses]

    assert len({message["clientId"] for message in sent}) == 1, sent
    assert len({message["threadId"] for message in sent}) == 1, sent
    ids = {message["id"] for message in sent}
    assert len(ids) == CONCURRENT_SENDS
    assert delta.added == added(CLIENT=1, DEVICE=1, THREAD=1, MESSAGE=CONCURRENT_SENDS)

    thread_id = sent[0]["threadId"]
    assert api.thread(integrator, thread_id)["messageCount"] == CONCURRENT_SENDS
    assert {item["id"] for item in api.all_messages(integrator, thread_id)} == ids
