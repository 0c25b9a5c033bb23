"""The SuperOffice dialect over HTTP (docs/superoffice.md): chat sessions and their messages, in
every body format, negotiated response format, credential scheme, time zone and language, and the
same conversation read through both dialects.

A `ChatSession` is an edna thread (`ChatSessionId` = `threadId`) and a `ChatMessage` one of its
messages (`ChatMessageId` = `id`), so most tests check one side against the other.
"""

from __future__ import annotations

import json
import urllib.parse
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any
from xml.sax.saxutils import escape

import pytest

from helpers import (
    CHAT_SESSIONS,
    ENTITIES,
    SO_ACCEPT_TYPES,
    SO_XML_TYPES,
    assert_so_error,
    basic_auth,
    chat_messages_path,
    chat_session_path,
    create_session,
    new_session,
    ok,
    set_cookies,
    so_ok,
    unique,
)

INT32_MAX = 2**31 - 1
CHAT_MESSAGE_FIELDS = {
    "ChatMessageId", "ChatSessionId", "Type", "Message", "Author", "ReadByCustomer", "SpecialType",
    "SpecialParam", "WhenPosted",
}
CHAT_SESSION_FIELDS = {
    "ChatSessionId", "Status", "CustomerId", "CustomerExternalId", "CustomerAlias", "WhenRequested",
    "LastMessage", "MessageCount",
}
# Every request body type of POST .../Messages (the seed's list).
REQUEST_TYPES = ("application/json", "text/json", "application/xml", "text/xml", "application/x-www-form-urlencoded",
                 "application/json-patch+json", "application/merge-patch+json")
# The default new message that the patch types apply to.
DEFAULT_MESSAGE = {
    "ChatMessageId": 0, "ChatSessionId": 0, "Type": "ToCustomer", "Message": "", "Author": None,
    "ReadByCustomer": 0, "SpecialType": "None", "SpecialParam": "", "WhenPosted": None,
}
NAMESPACE = "http://schemas.datacontract.org/2004/07/SuperOffice.WebApi.Data"
WWW_AUTHENTICATE_PARTS = ('Basic realm="Chat Center"', "Bearer", "SOTicket")
UNKNOWN_SESSION = 2_147_000_000  # an int32 no test session reaches

# --- seed 002: the sample request, byte for byte (only ChatSessionId is replaced) ---------------

SEED_REQUEST = (
    b'{\n'
    b'  "ChatMessageId": 664,\n'
    b'  "ChatSessionId": 103,\n'
    b'  "Type": "Invalid",\n'
    b'  "Message": "officia",\n'
    b'  "Author": "voluptatem",\n'
    b'  "ReadByCustomer": 973,\n'
    b'  "SpecialType": "Block",\n'
    b'  "SpecialParam": "quo",\n'
    b'  "WhenPosted": "2007-12-18T17:54:08.0543344+01:00"\n'
    b'}'
)
SEED_HEADERS = {
    "Accept": "application/json; charset=utf-8",
    "Accept-Language": "en",
    "Content-Type": "application/json; charset=utf-8",
}
SEED_MESSAGE = json.loads(SEED_REQUEST)
# The seed's WhenPosted, the same instant, as written back without SO-TimeZone.
SEED_WHEN_POSTED_UTC = "2007-12-18T16:54:08.0543344Z"


def seed_request(session_id: int) -> bytes:
    return SEED_REQUEST.replace(b'"ChatSessionId": 103', f'"ChatSessionId": {session_id}'.encode())


def assert_stored_seed(stored: dict, session_id: int) -> None:
    """What the seed's message must read as once stored in `session_id`."""
    assert set(stored) == CHAT_MESSAGE_FIELDS, stored
    assert type(stored["ChatMessageId"]) is int and 0 < stored["ChatMessageId"] <= INT32_MAX, stored
    assert stored["ChatMessageId"] != 664, "the caller's ChatMessageId must be ignored"
    expected = {**SEED_MESSAGE, "ChatSessionId": session_id, "WhenPosted": SEED_WHEN_POSTED_UTC}
    del expected["ChatMessageId"]
    assert {k: v for k, v in stored.items() if k != "ChatMessageId"} == expected


# --- request bodies in every format -------------------------------------------------------------


def to_json(message: dict) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode("utf-8")


def to_xml(message: dict, namespace: str | None = None, prefix: str | None = None, root: str = "ChatMessage",
           pretty: bool = False) -> bytes:
    """`<ChatMessage><Field>value</Field>...</ChatMessage>`; with `namespace`, declared as the default
    namespace or, with `prefix`, under that prefix (every element prefixed)."""
    name = (lambda tag: f"{prefix}:{tag}") if prefix else (lambda tag: tag)
    declaration = ""
    if namespace:
        declaration = f' xmlns:{prefix}="{namespace}"' if prefix else f' xmlns="{namespace}"'
    separator = "\n  " if pretty else ""
    children = "".join(
        f"{separator}<{name(field)}>{escape(str(value))}</{name(field)}>"
        for field, value in message.items()
        if value is not None
    )
    end = "\n" if pretty else ""
    text = f'<?xml version="1.0" encoding="utf-8"?>\n<{name(root)}{declaration}>{children}{end}</{name(root)}>'
    return text.encode("utf-8")


def to_form(message: dict) -> bytes:
    return urllib.parse.urlencode({k: str(v) for k, v in message.items() if v is not None}).encode("ascii")


def to_json_patch(message: dict) -> bytes:
    """RFC 6902 operations that turn the default new message into `message` (after checking that
    the default is what the contract says)."""
    operations: list[dict[str, Any]] = [{"op": "test", "path": "/Type", "value": "ToCustomer"}]
    for field, value in message.items():
        operations.append({"op": "replace" if field in DEFAULT_MESSAGE else "add", "path": f"/{field}", "value": value})
    return to_json(operations)


ENCODERS = {
    "application/json": to_json,
    "text/json": to_json,
    "application/xml": to_xml,
    "text/xml": to_xml,
    "application/x-www-form-urlencoded": to_form,
    "application/json-patch+json": to_json_patch,
    "application/merge-patch+json": to_json,  # a merge patch of the whole message is the message
}


# --- calls --------------------------------------------------------------------------------------


def post_message(api, auth: str | None, session_id: int | str, message: dict | None = None,
                 content_type: str = "application/json", accept: str | None = None,
                 headers: dict | None = None, body: bytes | None = None):
    """POST .../Messages with `message` encoded as `content_type` (or exactly `body`)."""
    data = body if body is not None else ENCODERS[content_type](message if message is not None else {})
    all_headers = {"Content-Type": content_type, **({"Accept": accept} if accept else {}), **(headers or {})}
    return api.post(chat_messages_path(session_id), auth, data=data, headers=all_headers)


def list_messages(api, auth: str, session_id: int, headers: dict | None = None, **params: Any) -> list[dict]:
    return so_ok(api.get(chat_messages_path(session_id), auth, params=params, headers=headers))


def message_pages(api, auth: str, session_id: int, limit: int, headers: dict | None = None) -> list[list[dict]]:
    """Every page of the session's messages, following `after` until a page is not full."""
    pages: list[list[dict]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        page = list_messages(api, auth, session_id, headers=headers, **params)
        pages.append(page)
        if len(page) < limit:
            return pages
        params["after"] = page[-1]["ChatMessageId"]


def all_chat_messages(api, auth: str, session_id: int, headers: dict | None = None) -> list[dict]:
    return [message for page in message_pages(api, auth, session_id, 100, headers) for message in page]


def listed(api, auth: str, session_id: int, message_id: int, headers: dict | None = None) -> dict:
    """The one listed message of the session with this id."""
    found = [m for m in all_chat_messages(api, auth, session_id, headers) if m["ChatMessageId"] == message_id]
    assert len(found) == 1, f"message {message_id} listed {len(found)} times in session {session_id}"
    return found[0]


def get_session(api, auth: str, session_id: int, headers: dict | None = None) -> dict:
    return so_ok(api.get(chat_session_path(session_id), auth, headers=headers))


def close_thread(api, auth: str, session_id: int) -> dict:
    return ok(api.post(f"/api/v1/threads/{session_id}/close", auth))


def added(**counts: int) -> dict[str, int]:
    """An entity delta: the given counts, every other entity 0."""
    return {**dict.fromkeys(ENTITIES, 0), **counts}


def instant(value: str) -> datetime:
    """An ISO 8601 date (7 fractional digits allowed) as an aware datetime; no offset = UTC."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def register_app(admin, name: str) -> str:
    """`chat-admin app register --name NAME`: the app token, read from the last line of its output
    (`{"name": ..., "appToken": ...}`, or the bare token)."""
    last = admin.run("app", "register", "--name", name).strip().splitlines()[-1].strip()
    try:
        printed = json.loads(last)
    except ValueError:
        return last
    if isinstance(printed, dict):
        return printed.get("appToken") or printed["token"]
    return str(printed)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def session(api, integrator) -> dict:
    """A new session of a new anonymous client."""
    return new_session(api, integrator, {"CustomerAlias": unique("visitor")})


@pytest.fixture(scope="module")
def shared_session(api, integrator) -> dict:
    """One session for the tests that only add messages to it."""
    return new_session(api, integrator, {"CustomerAlias": "shared"})


@pytest.fixture(scope="module")
def basic_integrator(demo_password) -> str:
    return basic_auth("integrator", demo_password)


@pytest.fixture(scope="module")
def agent(admin) -> SimpleNamespace:
    """An INTEGRATOR agent of this module (a wrong password counts towards its lockout, not the
    demo agents')."""
    login, password = unique("so-agent"), unique("password")
    created = json.loads(admin.run("agent", "create", "--login", login, "--role", "INTEGRATOR", stdin=password + "\n"))
    return SimpleNamespace(login=login, password=password, agent_id=created["agentId"])


@pytest.fixture(scope="module")
def creds(api, admin, demo_password) -> SimpleNamespace:
    """Every kind of credential of the integrator: token, ticket, the login cookies, an app token,
    and the XSRF value of a second login (bound to that other session)."""
    response = api.post("/api/auth/login", json={"login": "integrator", "password": demo_password})
    body = ok(response)
    cookies = set_cookies(response)
    other = set_cookies(api.post("/api/auth/login", json={"login": "integrator", "password": demo_password}))
    return SimpleNamespace(
        login_response=response,
        token=body["token"],
        ticket=body["ticket"],
        session_cookie=cookies["chat_session"]["value"],
        xsrf=cookies["XSRF-TOKEN"]["value"],
        other_xsrf=other["XSRF-TOKEN"]["value"],
        app_token=register_app(admin, unique("app")),
        basic=basic_auth("integrator", demo_password),
    )


# --- seed 002: the sample request and its re-encodings ------------------------------------------


def test_seed_sample_request_is_stored_and_listed(api, integrator, basic_integrator, shared_session) -> None:
    session_id = shared_session["ChatSessionId"]
    response = api.post(chat_messages_path(session_id), basic_integrator, data=seed_request(session_id),
                        headers=SEED_HEADERS)
    stored = so_ok(response)
    assert_stored_seed(stored, session_id)
    assert listed(api, integrator, session_id, stored["ChatMessageId"]) == stored


SEED_ENCODINGS = {
    "xml": ("application/xml", lambda message: to_xml(message)),
    "xml, default namespace": ("application/xml", lambda message: to_xml(message, NAMESPACE, pretty=True)),
    "xml, prefixed namespace": ("text/xml", lambda message: to_xml(message, NAMESPACE, prefix="so")),
    "form": ("application/x-www-form-urlencoded", to_form),
    "json patch": ("application/json-patch+json", to_json_patch),
    "merge patch": ("application/merge-patch+json", to_json),
}


@pytest.mark.parametrize(("content_type", "encode"), SEED_ENCODINGS.values(), ids=SEED_ENCODINGS.keys())
def test_seed_message_in_every_encoding(api, integrator, shared_session, content_type, encode) -> None:
    session_id = shared_session["ChatSessionId"]
    body = encode({**SEED_MESSAGE, "ChatSessionId": session_id})
    stored = so_ok(post_message(api, integrator, session_id, content_type=content_type, body=body))
    assert_stored_seed(stored, session_id)
    assert listed(api, integrator, session_id, stored["ChatMessageId"]) == stored


def test_merge_patch_keeps_the_defaults_it_does_not_name(api, integrator, shared_session) -> None:
    session_id = shared_session["ChatSessionId"]
    stored = so_ok(post_message(api, integrator, session_id, {"Message": "patched"}, "application/merge-patch+json"))
    assert (stored["Type"], stored["SpecialType"], stored["SpecialParam"]) == ("ToCustomer", "None", "")
    assert (stored["Author"], stored["ReadByCustomer"], stored["ChatSessionId"]) == ("integrator", 0, session_id)


def test_json_patch_that_cannot_apply_is_400(api, integrator, shared_session, writes_nothing) -> None:
    patch = to_json([{"op": "test", "path": "/Type", "value": "ToUser"}, {"op": "replace", "path": "/Message", "value": "x"}])
    with writes_nothing():
        response = post_message(api, integrator, shared_session["ChatSessionId"],
                                content_type="application/json-patch+json", body=patch)
    assert_so_error(response, 400, "InvalidInput")


# --- one conversation, two dialects -------------------------------------------------------------


def test_one_conversation_read_through_both_dialects(api, integrator, agent_ids, session) -> None:
    session_id = session["ChatSessionId"]
    sent = ok(api.send(integrator, {"text": "Your order has shipped", "threadId": session_id}))
    assert (sent["threadId"], sent["clientId"]) == (session_id, session["CustomerId"])
    posted = so_ok(post_message(api, integrator, session_id,
                                {"Type": "ToUser", "Message": "Thanks!", "WhenPosted": "2020-01-01T00:00:00Z"}))

    # The SuperOffice listing, oldest first: the edna message first.
    from_edna, from_superoffice = all_chat_messages(api, integrator, session_id)
    assert from_superoffice == posted
    assert from_edna == {
        "ChatMessageId": sent["id"],
        "ChatSessionId": session_id,
        "Type": "ToCustomer",
        "Message": "Your order has shipped",
        "Author": "integrator",
        "ReadByCustomer": 0,
        "SpecialType": "None",
        "SpecialParam": "",
        "WhenPosted": from_edna["WhenPosted"],
    }

    # The edna listing, newest first: the SuperOffice message first, with text = Message.
    newest, oldest = api.all_messages(integrator, session_id)
    assert (newest["id"], newest["text"], newest["attachments"]) == (posted["ChatMessageId"], "Thanks!", [])
    assert (newest["threadId"], newest["agentId"]) == (session_id, agent_ids["integrator"])
    assert (oldest["id"], oldest["text"]) == (sent["id"], "Your order has shipped")
    # An edna message's WhenPosted is when it was accepted; a posted one's createdAt is too (not
    # the caller's WhenPosted).
    assert abs(instant(from_edna["WhenPosted"]) - instant(oldest["createdAt"])) < timedelta(milliseconds=1)
    assert abs(instant(newest["createdAt"]) - datetime.now(timezone.utc)) < timedelta(minutes=10)

    assert api.thread(integrator, session_id)["messageCount"] == 2
    assert get_session(api, integrator, session_id)["MessageCount"] == 2


# --- formats: every Content-Type x every Accept -------------------------------------------------


@pytest.mark.parametrize("accept", SO_ACCEPT_TYPES)
@pytest.mark.parametrize("content_type", REQUEST_TYPES)
def test_every_request_type_with_every_response_type(api, integrator, shared_session, content_type, accept) -> None:
    session_id = shared_session["ChatSessionId"]
    message = {
        "ChatSessionId": session_id,
        "Type": "ToUser",
        "Message": f"Grüße ✓ <{content_type}> & <{accept}>",
        "Author": "Ada Lovelace",
        "ReadByCustomer": 1,
        "SpecialType": "Url",
        "SpecialParam": "https://example.com/?a=1&b=<2>",
        "WhenPosted": "2024-07-01T10:00:00.5+00:00",
    }
    response = post_message(api, integrator, session_id, message, content_type, accept)
    stored = so_ok(response, media_type=accept)  # Content-Type: <accept>; charset=utf-8
    if accept in SO_XML_TYPES:
        assert ET.fromstring(response.content).tag == "ChatMessage"
    assert set(stored) == CHAT_MESSAGE_FIELDS, stored
    assert stored == {**message, "ChatMessageId": stored["ChatMessageId"], "WhenPosted": "2024-07-01T10:00:00.5000000Z"}
    assert listed(api, integrator, session_id, stored["ChatMessageId"]) == stored


def test_listing_in_xml_is_an_array_of_chat_message(api, integrator, session) -> None:
    session_id = session["ChatSessionId"]
    posted = [so_ok(post_message(api, integrator, session_id, {"Message": f"m{n}"})) for n in range(2)]
    response = api.get(chat_messages_path(session_id), integrator, headers={"Accept": "application/xml"})
    assert so_ok(response, media_type="application/xml") == posted
    root = ET.fromstring(response.content)
    assert root.tag == "ArrayOfChatMessage"
    assert [child.tag for child in root] == ["ChatMessage", "ChatMessage"]


def test_session_in_xml(api, integrator, session) -> None:
    response = api.get(chat_session_path(session["ChatSessionId"]), integrator, headers={"Accept": "text/xml"})
    as_xml = so_ok(response, media_type="text/xml")
    assert ET.fromstring(response.content).tag == "ChatSession"
    assert (as_xml["ChatSessionId"], as_xml["Status"], as_xml["CustomerId"]) == (
        session["ChatSessionId"], "Chatting", session["CustomerId"])


# Accept -> the type answered.
NEGOTIATED = {
    "no Accept": (None, "application/json"),
    "*/*": ("*/*", "application/json"),
    "application/*": ("application/*", "application/json"),
    "charset parameter": ("application/json; charset=utf-8", "application/json"),
    "q-values: XML preferred": ("application/json;q=0.5, application/xml", "application/xml"),
    "q-values: text/xml over html": ("text/html, text/xml;q=0.2", "text/xml"),
    "q-values: text/json preferred": ("application/xml;q=0.9, text/json", "text/json"),
    "tie: the contract's order": ("text/json, application/json", "application/json"),
}


@pytest.mark.parametrize(("accept", "answered"), NEGOTIATED.values(), ids=NEGOTIATED.keys())
def test_accept_is_negotiated(api, integrator, shared_session, accept, answered) -> None:
    headers = {"Accept": accept}  # None removes requests' default Accept
    response = post_message(api, integrator, shared_session["ChatSessionId"], {"Message": "negotiated"}, headers=headers)
    assert so_ok(response, media_type=answered)["Message"] == "negotiated"


def test_no_content_type_is_read_as_json(api, integrator, shared_session) -> None:
    response = api.post(chat_messages_path(shared_session["ChatSessionId"]), integrator,
                        data=to_json({"Message": "untyped"}))
    assert so_ok(response)["Message"] == "untyped"


UNREADABLE = {
    "text/plain": (415, "UnsupportedMediaType", {"Content-Type": "text/plain"}, b"hello"),
    "charset not UTF-8": (415, "UnsupportedMediaType", {"Content-Type": "application/json; charset=iso-8859-1"},
                          b'{"Message": "hello"}'),
    "Accept text/html": (406, "NotAcceptable", {"Accept": "text/html"}, b'{"Message": "hello"}'),
    "Accept: XML refused with q=0": (406, "NotAcceptable", {"Accept": "application/xml;q=0, text/html"},
                                     b'{"Message": "hello"}'),
    "malformed JSON": (400, "InvalidInput", {}, b'{"Message": '),
    "malformed XML": (400, "InvalidInput", {"Content-Type": "application/xml"}, b"<ChatMessage><Message>hi</ChatMessage>"),
    "XML with another root": (400, "InvalidInput", {"Content-Type": "application/xml"},
                              b"<ChatSession><Message>hi</Message></ChatSession>"),
    "body over 256 KiB": (413, "PayloadTooLarge", {}, to_json({"Message": "x", "Padding": "a" * 256 * 1024})),
}


@pytest.mark.parametrize(("status", "error_type", "headers", "body"), UNREADABLE.values(), ids=UNREADABLE.keys())
def test_unreadable_or_unanswerable_requests_write_nothing(api, integrator, shared_session, writes_nothing, status,
                                                           error_type, headers, body) -> None:
    with writes_nothing():
        response = post_message(api, integrator, shared_session["ChatSessionId"], headers=headers, body=body)
    assert_so_error(response, status, error_type)  # 406 is answered in JSON


# --- hostile XML ----------------------------------------------------------------------------------

XXE = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<!DOCTYPE ChatMessage [\n'
    b'  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
    b']>\n'
    b'<ChatMessage><Type>ToCustomer</Type><Message>&xxe;</Message></ChatMessage>'
)
EXTERNAL_DTD = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<!DOCTYPE ChatMessage SYSTEM "file:///etc/passwd">\n'
    b'<ChatMessage><Message>hello</Message></ChatMessage>'
)
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n'
    b'<!DOCTYPE lolz [\n'
    b'  <!ENTITY lol "lol">\n'
    b'  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
    b'  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">\n'
    b'  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n'
    b'  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">\n'
    b'  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">\n'
    b'  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">\n'
    b'  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">\n'
    b'  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">\n'
    b'  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">\n'
    b']>\n'
    b'<ChatMessage><Message>&lol9;</Message></ChatMessage>'
)
HOSTILE_XML = {"XXE": XXE, "external DTD": EXTERNAL_DTD, "billion laughs": BILLION_LAUGHS}


@pytest.mark.parametrize("content_type", SO_XML_TYPES)
@pytest.mark.parametrize("body", HOSTILE_XML.values(), ids=HOSTILE_XML.keys())
def test_xml_with_a_dtd_is_400_and_never_expanded(api, integrator, shared_session, writes_nothing, body,
                                                  content_type) -> None:
    with writes_nothing():
        response = post_message(api, integrator, shared_session["ChatSessionId"], content_type=content_type, body=body)
    assert_so_error(response, 400, "InvalidInput")
    assert "root:" not in response.text
    assert "lollol" not in response.text
    assert len(response.content) < 4096


# --- errors in SuperOffice's body ---------------------------------------------------------------

# id: (message, ErrorSource at fault); {session} stands for the path's session id.
INVALID_MESSAGES = {
    "ChatSessionId of another session": ({"ChatSessionId": "{other}", "Message": "x"}, "ChatSessionId"),
    "ChatSessionId negative": ({"ChatSessionId": -1, "Message": "x"}, "ChatSessionId"),
    "unknown Type": ({"Type": "Shouting", "Message": "x"}, "Type"),
    "Type out of range": ({"Type": 4, "Message": "x"}, "Type"),
    "unknown SpecialType": ({"SpecialType": "Fireworks", "Message": "x"}, "SpecialType"),
    "SpecialType 4 (not defined)": ({"SpecialType": 4, "Message": "x"}, "SpecialType"),
    "no Message": ({"Type": "ToCustomer"}, "Message"),
    "empty Message": ({"Message": ""}, "Message"),
    "Message of 2001 characters": ({"Message": "x" * 2001}, "Message"),
    "Author of 256 characters": ({"Message": "x", "Author": "a" * 256}, "Author"),
    "SpecialParam of 2001 characters": ({"Message": "x", "SpecialParam": "p" * 2001}, "SpecialParam"),
    "WhenPosted not a date": ({"Message": "x", "WhenPosted": "yesterday"}, "WhenPosted"),
    "WhenPosted with 8 fractional digits": ({"Message": "x", "WhenPosted": "2024-07-01T10:00:00.12345678Z"},
                                            "WhenPosted"),
    "ReadByCustomer not an integer": ({"Message": "x", "ReadByCustomer": "often"}, "ReadByCustomer"),
}


@pytest.mark.parametrize(("message", "source"), INVALID_MESSAGES.values(), ids=INVALID_MESSAGES.keys())
def test_invalid_message_is_400_naming_the_field(api, integrator, shared_session, writes_nothing, message,
                                                 source) -> None:
    session_id = shared_session["ChatSessionId"]
    message = {k: (session_id + 1 if v == "{other}" else v) for k, v in message.items()}
    with writes_nothing():
        response = post_message(api, integrator, session_id, message)
    assert_so_error(response, 400, "InvalidInput", source)


# id: (message, what it reads back as)
LENIENT_MESSAGES = {
    "ChatSessionId 0": ({"ChatSessionId": 0, "Message": "x"}, {"ChatSessionId": "{session}"}),
    "Type by number": ({"Type": 2, "Message": "x"}, {"Type": "ToUser"}),
    "Type in lower case": ({"Type": "tocustomer", "Message": "x"}, {"Type": "ToCustomer"}),
    "SpecialType by number": ({"SpecialType": 16, "Message": "x"}, {"SpecialType": "BotMessage"}),
    "SpecialType in lower case": ({"SpecialType": "url", "Message": "x"}, {"SpecialType": "Url"}),
    "field names in any case": ({"message": "lower", "TYPE": "ToUser", "specialparam": "p"},
                                {"Message": "lower", "Type": "ToUser", "SpecialParam": "p"}),
    "unknown fields ignored": ({"Message": "x", "Mood": "happy", "Attachments": [1]}, {"Message": "x"}),
    "empty Message of a Special": ({"Type": "Special", "Message": ""}, {"Type": "Special", "Message": ""}),
    "empty Message with a SpecialType": ({"SpecialType": "Welcome"}, {"Message": "", "SpecialType": "Welcome"}),
    "2000 characters, 8000 bytes": ({"Message": "\N{GRINNING FACE}" * 2000}, {"Message": "\N{GRINNING FACE}" * 2000}),
    "Author absent: the agent's login": ({"Message": "x"}, {"Author": "integrator"}),
    "Author null: the agent's login": ({"Message": "x", "Author": None}, {"Author": "integrator"}),
    "Author given": ({"Message": "x", "Author": "Ada"}, {"Author": "Ada"}),
}


@pytest.mark.parametrize(("message", "expected"), LENIENT_MESSAGES.values(), ids=LENIENT_MESSAGES.keys())
def test_message_fields_are_read_as_superoffice_does(api, integrator, shared_session, message, expected) -> None:
    session_id = shared_session["ChatSessionId"]
    stored = so_ok(post_message(api, integrator, session_id, message))
    expected = {k: (session_id if v == "{session}" else v) for k, v in expected.items()}
    assert {k: stored[k] for k in expected} == expected
    assert set(stored) == CHAT_MESSAGE_FIELDS


BAD_SESSION_IDS = ["0", "-1", "2147483648", "abc", "1.5"]


@pytest.mark.parametrize("raw_id", BAD_SESSION_IDS)
def test_chat_session_id_not_an_int32_is_400(api, integrator, writes_nothing, raw_id) -> None:
    with writes_nothing():
        posted = post_message(api, integrator, raw_id, {"Message": "x"})
    assert_so_error(posted, 400, "InvalidInput", "chatSessionId")
    assert_so_error(api.get(chat_session_path(raw_id), integrator), 400, "InvalidInput", "chatSessionId")
    assert_so_error(api.get(chat_messages_path(raw_id), integrator), 400, "InvalidInput", "chatSessionId")


def test_unknown_session_is_404(api, integrator, writes_nothing) -> None:
    with writes_nothing():
        assert_so_error(post_message(api, integrator, UNKNOWN_SESSION, {"Message": "x"}), 404, "NotFound")
    assert_so_error(api.get(chat_session_path(UNKNOWN_SESSION), integrator), 404, "NotFound")
    assert_so_error(api.get(chat_messages_path(UNKNOWN_SESSION), integrator), 404, "NotFound")


def test_errors_are_answered_in_the_negotiated_format(api, integrator) -> None:
    for accept in SO_ACCEPT_TYPES:
        response = post_message(api, integrator, UNKNOWN_SESSION, {"Message": "x"}, accept=accept)
        assert_so_error(response, 404, "NotFound", media_type=accept)


def test_ended_session_refuses_messages_with_409(api, integrator, session, writes_nothing) -> None:
    session_id = session["ChatSessionId"]
    so_ok(post_message(api, integrator, session_id, {"Message": "before closing"}))
    close_thread(api, integrator, session_id)
    ended = get_session(api, integrator, session_id)
    assert (ended["Status"], ended["MessageCount"]) == ("Ended", 1)

    with writes_nothing():
        response = post_message(api, integrator, session_id, {"Message": "after closing"})
    assert_so_error(response, 409, "SessionClosed")
    assert [m["Message"] for m in all_chat_messages(api, integrator, session_id)] == ["before closing"]
    assert api.thread(integrator, session_id)["status"] == "CLOSED"


# path -> (a method it does not take, the methods it does)
OTHER_METHODS = {
    CHAT_SESSIONS: ("GET", {"POST"}),
    chat_session_path(1): ("DELETE", {"GET"}),
    chat_messages_path(1): ("PUT", {"GET", "POST"}),
}


@pytest.mark.parametrize(("path", "method", "allowed"), [(p, *v) for p, v in OTHER_METHODS.items()],
                         ids=OTHER_METHODS.keys())
def test_other_methods_are_405_in_superoffice_shape(api, integrator, path, method, allowed) -> None:
    response = api.request(method, path, integrator)
    assert_so_error(response, 405, "MethodNotAllowed")
    assert {m.strip() for m in response.headers.get("Allow", "").split(",")} >= allowed, response.headers


@pytest.mark.parametrize("role", ["administrator", "bot"])
def test_other_roles_are_forbidden(api, tokens, shared_session, writes_nothing, role) -> None:
    session_id = shared_session["ChatSessionId"]
    with writes_nothing():
        assert_so_error(post_message(api, tokens[role], session_id, {"Message": "x"}), 403, "Forbidden")
        assert_so_error(create_session(api, tokens[role]), 403, "Forbidden")
    assert_so_error(api.get(chat_messages_path(session_id), tokens[role]), 403, "Forbidden")
    assert_so_error(api.get(chat_session_path(session_id), tokens[role]), 403, "Forbidden")


# --- languages ----------------------------------------------------------------------------------


def not_found_in(api, integrator, headers: dict) -> tuple[dict, str]:
    """The 404 of an unknown session with these headers, and its Content-Language."""
    response = api.get(chat_session_path(UNKNOWN_SESSION), integrator, headers=headers)
    return assert_so_error(response, 404, "NotFound"), response.headers.get("Content-Language")


def test_so_language_selects_norwegian(api, integrator) -> None:
    english, english_tag = not_found_in(api, integrator, {"SO-Language": "en"})
    norwegian, norwegian_tag = not_found_in(api, integrator, {"SO-Language": "nb"})
    assert (english_tag, norwegian_tag) == ("en", "nb")
    assert norwegian["ErrorMessage"] != english["ErrorMessage"]
    assert (norwegian["ErrorType"], norwegian["ErrorSource"]) == (english["ErrorType"], english["ErrorSource"])


@pytest.mark.parametrize("tag", ["no", "nn", "nb-NO", "NB"])
def test_norwegian_variants_are_norwegian(api, integrator, tag) -> None:
    english, _ = not_found_in(api, integrator, {"SO-Language": "en"})
    body, content_language = not_found_in(api, integrator, {"SO-Language": tag})
    assert body["ErrorMessage"] != english["ErrorMessage"]
    assert content_language and content_language != "en"


LANGUAGE_HEADERS = {
    "unknown SO-Language": ({"SO-Language": "xx"}, "en"),
    "no language header": ({}, "en"),
    "Accept-Language": ({"Accept-Language": "nb"}, "nb"),
    "Accept-Language q-values": ({"Accept-Language": "en;q=0.5, nb"}, "nb"),
    "Accept-Language, English preferred": ({"Accept-Language": "nb;q=0.4, en;q=0.8"}, "en"),
    "SO-Language overrides Accept-Language": ({"SO-Language": "en", "Accept-Language": "nb"}, "en"),
    "SO-Culture alone changes nothing": ({"SO-Culture": "nb"}, "en"),
}


@pytest.mark.parametrize(("headers", "language"), LANGUAGE_HEADERS.values(), ids=LANGUAGE_HEADERS.keys())
def test_language_of_error_messages(api, integrator, headers, language) -> None:
    reference, _ = not_found_in(api, integrator, {"SO-Language": language})
    body, content_language = not_found_in(api, integrator, headers)
    assert content_language == language
    assert body["ErrorMessage"] == reference["ErrorMessage"]


def test_so_culture_changes_no_value(api, integrator, session) -> None:
    session_id = session["ChatSessionId"]
    message = {"Message": "1,5 or 1.5", "ReadByCustomer": 1234567, "WhenPosted": "2024-07-01T10:00:00Z"}
    plain = so_ok(post_message(api, integrator, session_id, message))
    with_culture = listed(api, integrator, session_id, plain["ChatMessageId"], headers={"SO-Culture": "nb"})
    assert with_culture == plain
    assert plain["WhenPosted"] == "2024-07-01T10:00:00.0000000Z"


# --- authentication -----------------------------------------------------------------------------


def test_login_returns_a_ticket_and_sets_the_cookies(creds) -> None:
    body = creds.login_response.json()
    assert set(body) == {"userId", "login", "token", "role", "ticket"}
    assert isinstance(body["ticket"], str) and body["ticket"] and " " not in body["ticket"]
    cookies = set_cookies(creds.login_response)
    session_cookie, xsrf = cookies["chat_session"], cookies["XSRF-TOKEN"]
    assert session_cookie["value"] and xsrf["value"] and session_cookie["value"] != xsrf["value"]
    assert session_cookie.get("path") == "/api"
    assert "httponly" in session_cookie and "secure" in session_cookie
    assert session_cookie.get("samesite", "").lower() == "strict"
    assert xsrf.get("path") == "/"
    assert "httponly" not in xsrf, "the XSRF cookie must be readable by the page's script"
    assert "secure" in xsrf and xsrf.get("samesite", "").lower() == "strict"


def cookie_headers(session_cookie: str | None, xsrf_cookie: str | None, xsrf_header: str | None) -> dict:
    cookies = [f"{name}={value}" for name, value in (("chat_session", session_cookie), ("XSRF-TOKEN", xsrf_cookie))
               if value is not None]
    headers = {"Cookie": "; ".join(cookies)} if cookies else {}
    if xsrf_header is not None:
        headers["X-XSRF-TOKEN"] = xsrf_header
    return headers


# id: headers built from `creds` (c) and the module's agent (a); the login the message is by.
ACCEPTED = {
    "Bearer": (lambda c, a: {"Authorization": c.token}, "integrator"),
    "Basic": (lambda c, a: {"Authorization": c.basic}, "integrator"),
    "Basic, another agent": (lambda c, a: {"Authorization": basic_auth(a.login, a.password)}, None),
    "SOTicket": (lambda c, a: {"Authorization": f"SOTicket {c.ticket}", "SO-AppToken": c.app_token}, "integrator"),
    "cookie + X-XSRF-TOKEN": (lambda c, a: cookie_headers(c.session_cookie, c.xsrf, c.xsrf), "integrator"),
}


@pytest.mark.parametrize(("make_headers", "author"), ACCEPTED.values(), ids=ACCEPTED.keys())
def test_each_scheme_is_accepted(api, creds, agent, shared_session, make_headers, author) -> None:
    session_id = shared_session["ChatSessionId"]
    headers = make_headers(creds, agent)
    stored = so_ok(post_message(api, None, session_id, {"Message": "authenticated"}, headers=headers))
    assert stored["Author"] == (author or agent.login)
    assert so_ok(api.get(chat_session_path(session_id), None, headers=headers))["ChatSessionId"] == session_id


REFUSED = {
    "no credentials": lambda c, a: {},
    "Bearer, unknown token": lambda c, a: {"Authorization": "Bearer garbage"},
    "Basic, wrong password": lambda c, a: {"Authorization": basic_auth(a.login, "wrong-" + a.password)},
    "Basic, unknown login": lambda c, a: {"Authorization": basic_auth(unique("nobody"), "secret")},
    "Basic, not base64": lambda c, a: {"Authorization": "Basic !!not-base64!!"},
    "SOTicket, unknown ticket": lambda c, a: {"Authorization": "SOTicket 7-unknown", "SO-AppToken": c.app_token},
    "SOTicket, no SO-AppToken": lambda c, a: {"Authorization": f"SOTicket {c.ticket}"},
    "SOTicket, unknown SO-AppToken": lambda c, a: {"Authorization": f"SOTicket {c.ticket}",
                                                   "SO-AppToken": unique("not-an-app")},
    "SOTicket, the bearer token as ticket": lambda c, a: {"Authorization": "SOTicket " + c.token.split(" ", 1)[1],
                                                          "SO-AppToken": c.app_token},
    "cookie, no X-XSRF-TOKEN": lambda c, a: cookie_headers(c.session_cookie, c.xsrf, None),
    "cookie, X-XSRF-TOKEN mismatched": lambda c, a: cookie_headers(c.session_cookie, c.xsrf, c.xsrf + "x"),
    "cookie, another login's XSRF token": lambda c, a: cookie_headers(c.session_cookie, c.other_xsrf, c.other_xsrf),
    "X-XSRF-TOKEN without the session cookie": lambda c, a: cookie_headers(None, c.xsrf, c.xsrf),
}


@pytest.mark.parametrize("make_headers", REFUSED.values(), ids=REFUSED.keys())
def test_wrong_credentials_are_401_and_write_nothing(api, creds, agent, shared_session, writes_nothing,
                                                     make_headers) -> None:
    headers = make_headers(creds, agent)
    with writes_nothing():
        response = post_message(api, None, shared_session["ChatSessionId"], {"Message": "intruder"}, headers=headers)
    assert_so_error(response, 401, "Unauthorized")
    challenge = response.headers.get("WWW-Authenticate", "")
    assert all(part in challenge for part in WWW_AUTHENTICATE_PARTS), challenge
    assert_so_error(api.get(chat_messages_path(shared_session["ChatSessionId"]), None, headers=headers), 401,
                    "Unauthorized")


def test_credentials_never_appear_in_error_bodies(api, creds, shared_session) -> None:
    app_token = unique("secret-app-token")
    headers = {"Authorization": f"SOTicket {creds.ticket}", "SO-AppToken": app_token}
    response = post_message(api, None, shared_session["ChatSessionId"], {"Message": "x"}, headers=headers)
    assert_so_error(response, 401, "Unauthorized")
    assert creds.ticket not in response.text and app_token not in response.text


# --- time zones ---------------------------------------------------------------------------------

SUMMER, WINTER = "2024-07-01T10:00:00Z", "2024-01-15T10:00:00Z"
# SO-TimeZone -> (summer, winter) as written back.
ZONES = {
    "none": (None, "2024-07-01T10:00:00.0000000Z", "2024-01-15T10:00:00.0000000Z"),
    "Europe/Oslo": ("Europe/Oslo", "2024-07-01T12:00:00.0000000", "2024-01-15T11:00:00.0000000"),
    "Europe/Oslo, includeTZOffset": ("Europe/Oslo, includeTZOffset", "2024-07-01T12:00:00.0000000+02:00",
                                     "2024-01-15T11:00:00.0000000+01:00"),
    "America/New_York, includeTZOffset": ("America/New_York, includeTZOffset", "2024-07-01T06:00:00.0000000-04:00",
                                          "2024-01-15T05:00:00.0000000-05:00"),
    "UTC": ("UTC", "2024-07-01T10:00:00.0000000", "2024-01-15T10:00:00.0000000"),
    "+02:00": ("+02:00", "2024-07-01T12:00:00.0000000", "2024-01-15T12:00:00.0000000"),
    "-05:30, includeTZOffset": ("-05:30, includeTZOffset", "2024-07-01T04:30:00.0000000-05:30",
                                "2024-01-15T04:30:00.0000000-05:30"),
}


@pytest.fixture(scope="module")
def zoned(api, integrator) -> SimpleNamespace:
    """A session with a summer and a winter message, posted without SO-TimeZone."""
    session_id = new_session(api, integrator)["ChatSessionId"]
    summer = so_ok(post_message(api, integrator, session_id, {"Message": "summer", "WhenPosted": SUMMER}))
    winter = so_ok(post_message(api, integrator, session_id, {"Message": "winter", "WhenPosted": WINTER}))
    return SimpleNamespace(session_id=session_id, summer=summer, winter=winter)


@pytest.mark.parametrize(("zone", "summer", "winter"), ZONES.values(), ids=ZONES.keys())
def test_so_timezone_converts_dates_read_back(api, integrator, zoned, zone, summer, winter) -> None:
    headers = {"SO-TimeZone": zone} if zone else None
    by_id = {m["ChatMessageId"]: m for m in list_messages(api, integrator, zoned.session_id, headers=headers)}
    assert by_id[zoned.summer["ChatMessageId"]]["WhenPosted"] == summer
    assert by_id[zoned.winter["ChatMessageId"]]["WhenPosted"] == winter
    # Only the dates change.
    assert {**by_id[zoned.summer["ChatMessageId"]], "WhenPosted": zoned.summer["WhenPosted"]} == zoned.summer


def test_so_timezone_applies_to_the_post_answer_and_the_session(api, integrator, session) -> None:
    session_id = session["ChatSessionId"]
    headers = {"SO-TimeZone": "Europe/Oslo, includeTZOffset"}
    stored = so_ok(post_message(api, integrator, session_id, {"Message": "x", "WhenPosted": SUMMER}, headers=headers))
    assert stored["WhenPosted"] == "2024-07-01T12:00:00.0000000+02:00"
    zoned_session = get_session(api, integrator, session_id, headers=headers)
    for field in ("WhenRequested", "LastMessage"):
        assert zoned_session[field][-6:] in ("+01:00", "+02:00"), zoned_session
        assert instant(zoned_session[field]) == instant(get_session(api, integrator, session_id)[field])


# WhenPosted sent -> as written back without SO-TimeZone.
WHEN_POSTED = {
    "offset": ("2024-07-01T12:00:00+02:00", "2024-07-01T10:00:00.0000000Z"),
    "negative offset": ("2024-07-01T05:30:00.25-04:30", "2024-07-01T10:00:00.2500000Z"),
    "no offset is UTC": ("2024-07-01T10:00:00", "2024-07-01T10:00:00.0000000Z"),
    "7 fractional digits": ("2024-07-01T10:00:00.1234567Z", "2024-07-01T10:00:00.1234567Z"),
    "milliseconds": ("2024-07-01T10:00:00.500Z", "2024-07-01T10:00:00.5000000Z"),
}


@pytest.mark.parametrize(("sent", "written"), WHEN_POSTED.values(), ids=WHEN_POSTED.keys())
def test_when_posted_keeps_the_instant(api, integrator, shared_session, sent, written) -> None:
    stored = so_ok(post_message(api, integrator, shared_session["ChatSessionId"], {"Message": "x", "WhenPosted": sent}))
    assert stored["WhenPosted"] == written


@pytest.mark.parametrize("when_posted", ["absent", None])
def test_when_posted_absent_or_null_is_now(api, integrator, shared_session, when_posted) -> None:
    message = {"Message": "x"} if when_posted == "absent" else {"Message": "x", "WhenPosted": None}
    before = datetime.now(timezone.utc)
    stored = so_ok(post_message(api, integrator, shared_session["ChatSessionId"], message))
    assert stored["WhenPosted"].endswith("Z") and len(stored["WhenPosted"]) == len("2024-07-01T10:00:00.0000000Z")
    assert before - timedelta(minutes=5) < instant(stored["WhenPosted"]) < datetime.now(timezone.utc) + timedelta(minutes=5)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Europe/Olso", "+25:00"])
def test_unknown_time_zone_is_400(api, integrator, shared_session, writes_nothing, zone) -> None:
    session_id = shared_session["ChatSessionId"]
    headers = {"SO-TimeZone": zone}
    with writes_nothing():
        response = post_message(api, integrator, session_id, {"Message": "x"}, headers=headers)
    assert_so_error(response, 400, "InvalidInput", "SO-TimeZone")
    assert_so_error(api.get(chat_messages_path(session_id), integrator, headers=headers), 400, "InvalidInput",
                    "SO-TimeZone")


# --- listing and paging -------------------------------------------------------------------------


def test_listing_is_oldest_first_and_pages_with_after(api, integrator, session) -> None:
    session_id = session["ChatSessionId"]
    assert list_messages(api, integrator, session_id) == []
    posted = [so_ok(post_message(api, integrator, session_id, {"Message": f"message {n}"})) for n in range(5)]
    ids = [m["ChatMessageId"] for m in posted]
    # Unique, but not increasing: each function process hands out ids from its own block; the
    # session lists messages in the order they were accepted.
    assert len(set(ids)) == 5

    assert list_messages(api, integrator, session_id) == posted
    assert list_messages(api, integrator, session_id, after=0) == posted
    assert list_messages(api, integrator, session_id, limit=2) == posted[:2]
    assert list_messages(api, integrator, session_id, limit=2, after=ids[1]) == posted[2:4]
    assert list_messages(api, integrator, session_id, limit=2, after=ids[3]) == posted[4:]
    assert list_messages(api, integrator, session_id, limit=2, after=ids[4]) == []
    assert list_messages(api, integrator, session_id, after=ids[2]) == posted[3:]
    assert [len(page) for page in message_pages(api, integrator, session_id, 2)] == [2, 2, 1]


BAD_PAGING = {
    "after negative": ({"after": -1}, "after"),
    "after not a number": ({"after": "abc"}, "after"),
    "after over int32": ({"after": 2**31}, "after"),
    "limit 0": ({"limit": 0}, "limit"),
    "limit 101": ({"limit": 101}, "limit"),
    "limit not a number": ({"limit": "ten"}, "limit"),
}


@pytest.mark.parametrize(("params", "source"), BAD_PAGING.values(), ids=BAD_PAGING.keys())
def test_bad_paging_parameters_are_400(api, integrator, shared_session, params, source) -> None:
    response = api.get(chat_messages_path(shared_session["ChatSessionId"]), integrator, params=params)
    assert_so_error(response, 400, "InvalidInput", source)


CONCURRENT_POSTS = 40


def test_concurrent_posts_to_one_session_all_land_once(api, integrator, session, entity_delta) -> None:
    session_id = session["ChatSessionId"]

    def post(n: int):
        return post_message(api, integrator, session_id, {"Message": f"concurrent {n}"})

    with entity_delta() as delta, ThreadPoolExecutor(max_workers=CONCURRENT_POSTS) as pool:
        # Each call opens its own connection (helpers.Api), so the posts really overlap.
        responses = list(pool.map(post, range(CONCURRENT_POSTS)))
    stored = [so_ok(response) for response in responses]

    ids = [m["ChatMessageId"] for m in stored]
    assert all(type(i) is int and 0 < i <= INT32_MAX for i in ids), ids
    assert len(set(ids)) == CONCURRENT_POSTS
    assert [m["Message"] for m in stored] == [f"concurrent {n}" for n in range(CONCURRENT_POSTS)]
    assert delta.added == added(MESSAGE=CONCURRENT_POSTS)

    pages = message_pages(api, integrator, session_id, 15)
    assert [len(page) for page in pages] == [15, 15, 10]
    listed_ids = [m["ChatMessageId"] for page in pages for m in page]
    assert sorted(listed_ids) == sorted(ids), "each message listed once"
    # In the order they were accepted: the time each was stamped with, then the id.
    listed_times = [m["WhenPosted"] for page in pages for m in page]
    assert listed_times == sorted(listed_times), listed_times
    assert {m["ChatMessageId"]: m for page in pages for m in page} == {m["ChatMessageId"]: m for m in stored}
    assert get_session(api, integrator, session_id)["MessageCount"] == CONCURRENT_POSTS
    assert api.thread(integrator, session_id)["messageCount"] == CONCURRENT_POSTS


# --- idempotency --------------------------------------------------------------------------------


def test_retry_with_the_same_key_is_the_same_message_in_its_own_format(api, integrator, session,
                                                                       entity_delta) -> None:
    session_id = session["ChatSessionId"]
    key = {"Idempotency-Key": unique("key")}
    message = {"Message": "only once", "WhenPosted": SUMMER}
    with entity_delta() as delta:
        first = so_ok(post_message(api, integrator, session_id, message, headers=key))
        retry = so_ok(post_message(api, integrator, session_id, message, headers=key))
        as_xml = so_ok(post_message(api, integrator, session_id, message, accept="application/xml", headers=key),
                       media_type="application/xml")
        in_oslo = so_ok(post_message(api, integrator, session_id, message,
                                     headers={**key, "SO-TimeZone": "Europe/Oslo"}))
    assert retry == first
    assert as_xml == first
    assert in_oslo == {**first, "WhenPosted": "2024-07-01T12:00:00.0000000"}
    assert delta.added == added(MESSAGE=1)
    assert [m["ChatMessageId"] for m in all_chat_messages(api, integrator, session_id)] == [first["ChatMessageId"]]


def test_same_key_with_another_body_is_422(api, integrator, session, writes_nothing) -> None:
    session_id = session["ChatSessionId"]
    key = {"Idempotency-Key": unique("key")}
    so_ok(post_message(api, integrator, session_id, {"Message": "first"}, headers=key))
    with writes_nothing():
        reused = post_message(api, integrator, session_id, {"Message": "second"}, headers=key)
    assert_so_error(reused, 422, "IdempotencyKeyReused")


def test_creating_a_session_twice_with_one_key_creates_one(api, integrator, entity_delta) -> None:
    key = {"Idempotency-Key": unique("key")}
    fields = {"CustomerAlias": unique("visitor")}
    with entity_delta() as delta:
        first = create_session(api, integrator, fields, headers=key)
        retry = create_session(api, integrator, fields, headers=key)
    assert so_ok(retry, 201) == so_ok(first, 201)
    assert delta.added == added(CLIENT=1, THREAD=1)


# --- POST /api/v1/ChatSession ---------------------------------------------------------------------


def assert_new_session(created: dict) -> None:
    assert set(created) == CHAT_SESSION_FIELDS, created
    assert type(created["ChatSessionId"]) is int and 0 < created["ChatSessionId"] <= INT32_MAX
    assert type(created["CustomerId"]) is int and created["CustomerId"] > 0
    assert (created["Status"], created["MessageCount"]) == ("Chatting", 0)
    assert created["WhenRequested"].endswith("Z")
    assert abs(instant(created["WhenRequested"]) - datetime.now(timezone.utc)) < timedelta(minutes=10)


def test_new_anonymous_session(api, integrator, entity_delta) -> None:
    with entity_delta() as delta:
        response = create_session(api, integrator, {"CustomerAlias": "Grace Hopper"})
    created = so_ok(response, 201)
    assert_new_session(created)
    assert (created["CustomerAlias"], created["CustomerExternalId"]) == ("Grace Hopper", None)
    assert delta.added == added(CLIENT=1, THREAD=1)

    session_id = created["ChatSessionId"]
    location = response.headers.get("Location", "")
    assert location.endswith(chat_session_path(session_id)), location
    assert so_ok(api.get(urllib.parse.urlsplit(location).path, integrator)) == created
    assert get_session(api, integrator, session_id) == created
    assert list_messages(api, integrator, session_id) == []

    thread = api.thread(integrator, session_id)
    assert (thread["id"], thread["status"], thread["clientId"]) == (session_id, "OPEN", created["CustomerId"])
    assert (thread["clientExternalId"], thread["messageCount"]) == (None, 0)


def test_each_anonymous_session_is_a_new_client(api, integrator) -> None:
    first, second = new_session(api, integrator), new_session(api, integrator)
    assert_new_session(first)
    assert first["CustomerAlias"] is None
    assert first["CustomerId"] != second["CustomerId"]
    assert first["ChatSessionId"] != second["ChatSessionId"]


CREATE_BODIES = {
    "text/json": ("text/json", lambda alias: to_json({"CustomerAlias": alias})),
    "application/xml": ("application/xml", lambda alias: to_xml({"CustomerAlias": alias}, root="ChatSession")),
    "text/xml, namespace": ("text/xml", lambda alias: to_xml({"CustomerAlias": alias}, NAMESPACE, root="ChatSession")),
    "form": ("application/x-www-form-urlencoded", lambda alias: to_form({"CustomerAlias": alias})),
}


@pytest.mark.parametrize(("content_type", "encode"), CREATE_BODIES.values(), ids=CREATE_BODIES.keys())
def test_new_session_from_every_body_type(api, integrator, content_type, encode) -> None:
    alias = f"Åse {unique()}"
    response = api.post(CHAT_SESSIONS, integrator, data=encode(alias), headers={"Content-Type": content_type})
    created = so_ok(response, 201)
    assert_new_session(created)
    assert created["CustomerAlias"] == alias


def test_new_session_for_a_client_by_external_id(api, integrator, admin, entity_delta) -> None:
    customer = admin.create_client(unique("customer"), "Ada Lovelace")
    with entity_delta() as delta:
        created = new_session(api, integrator, {"CustomerExternalId": customer["externalId"]})
    assert_new_session(created)
    assert (created["CustomerId"], created["CustomerExternalId"], created["CustomerAlias"]) == (
        customer["clientId"], customer["externalId"], "Ada Lovelace")
    assert delta.added == added(THREAD=1)
    # The edna side sends to that client in this session.
    sent = ok(api.send(integrator, {"text": "hello", "clientId": customer["externalId"]}))
    assert sent["threadId"] == created["ChatSessionId"]


def test_customer_id_comes_before_customer_external_id(api, integrator, client) -> None:
    created = new_session(api, integrator, {"CustomerId": client["clientId"], "CustomerExternalId": unique("nobody")})
    assert (created["CustomerId"], created["CustomerExternalId"]) == (client["clientId"], client["externalId"])


UNKNOWN_CUSTOMERS = {
    "CustomerId": ({"CustomerId": 9_007_199_254_740_000}, "CustomerId"),
    "CustomerExternalId": ({"CustomerExternalId": "no-such-customer"}, "CustomerExternalId"),
}


@pytest.mark.parametrize(("fields", "source"), UNKNOWN_CUSTOMERS.values(), ids=UNKNOWN_CUSTOMERS.keys())
def test_unknown_customer_is_404(api, integrator, writes_nothing, fields, source) -> None:
    with writes_nothing():
        assert_so_error(create_session(api, integrator, fields), 404, "NotFound", source)


def test_customer_alias_over_255_characters_is_400(api, integrator, writes_nothing) -> None:
    with writes_nothing():
        response = create_session(api, integrator, {"CustomerAlias": "a" * 256})
    assert_so_error(response, 400, "InvalidInput", "CustomerAlias")


def test_second_open_session_for_a_client_is_409(api, integrator, client, writes_nothing) -> None:
    first = new_session(api, integrator, {"CustomerId": client["clientId"]})
    with writes_nothing():
        again = create_session(api, integrator, {"CustomerId": client["clientId"]})
    error = assert_so_error(again, 409, "Conflict")
    assert str(first["ChatSessionId"]) in error["ErrorMessage"]


def test_a_thread_opened_on_the_edna_side_is_the_open_session(api, integrator, client, writes_nothing) -> None:
    sent = ok(api.send(integrator, {"text": "hello", "clientId": client["externalId"]}))
    with writes_nothing():
        conflict = create_session(api, integrator, {"CustomerExternalId": client["externalId"]})
    error = assert_so_error(conflict, 409, "Conflict")
    assert str(sent["threadId"]) in error["ErrorMessage"]

    session = get_session(api, integrator, sent["threadId"])
    assert (session["Status"], session["MessageCount"], session["CustomerId"]) == ("Chatting", 1, client["clientId"])


def test_after_the_session_ends_a_new_one_can_start(api, integrator, client) -> None:
    first = new_session(api, integrator, {"CustomerId": client["clientId"]})
    close_thread(api, integrator, first["ChatSessionId"])
    assert get_session(api, integrator, first["ChatSessionId"])["Status"] == "Ended"

    second = new_session(api, integrator, {"CustomerId": client["clientId"]})
    assert second["ChatSessionId"] != first["ChatSessionId"]
    assert second["Status"] == "Chatting"
    sent = ok(api.send(integrator, {"text": "hello again", "threadsClientId": client["clientId"]}))
    assert sent["threadId"] == second["ChatSessionId"]


def test_session_counts_and_last_message_follow_both_dialects(api, integrator, session) -> None:
    session_id = session["ChatSessionId"]
    ok(api.send(integrator, {"text": "edna", "threadId": session_id}))
    posted = so_ok(post_message(api, integrator, session_id, {"Message": "superoffice", "WhenPosted": "2001-01-01T00:00:00Z"}))
    now = get_session(api, integrator, session_id)
    assert now["MessageCount"] == 2
    # LastMessage is when the last message was accepted, not its WhenPosted.
    assert instant(now["LastMessage"]) >= instant(session["WhenRequested"])
    assert instant(now["LastMessage"]) != instant(posted["WhenPosted"])
    thread = api.thread(integrator, session_id)
    assert abs(instant(now["LastMessage"]) - instant(thread["lastMessageTime"])) < timedelta(milliseconds=1)
