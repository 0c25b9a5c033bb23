"""What openapi.yaml says about values, held against the running stack (issue 8, item 5).

Schemathesis found these disagreements between the document and the server; each is pinned here
so that it stays fixed: numbers with a zero fraction are integers (bodies, paths, queries), every string of the
cursor's documented pattern is a cursor (and the server's cursors match it), an `after` that names
no message is 404, another method on a known path (QUERY too) is a JSON 405, a null `Type` or
`SpecialType` of a posted ChatMessage is the default, and in XML a field's text `null` is text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from helpers import assert_error, assert_so_error, chat_messages_path, new_session, ok, so_ok, unique

OPENAPI = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text(encoding="utf-8"))


def documented_cursor() -> re.Pattern[str]:
    return re.compile(OPENAPI["components"]["parameters"]["Cursor"]["schema"]["pattern"])


def test_integers_written_with_a_zero_fraction_are_integers(api, integrator, client) -> None:
    # json.dumps writes these floats as 82825.0 and 7.0: JSON Schema counts them as integers.
    file = {"url": "https://example.com/a.pdf", "name": "a.pdf", "size": 82825.0}
    first = ok(api.send(integrator, {"text": "x", "clientId": client["externalId"], "attachments": [file]}))
    again = ok(api.send(integrator, {"text": "y", "threadId": float(first["threadId"])}))
    assert again["threadId"] == first["threadId"]
    again = ok(api.send(integrator, {"text": "z", "threadsClientId": float(first["clientId"])}))
    assert again["clientId"] == first["clientId"]
    items = api.messages_page(integrator, first["threadId"], limit=3)["items"]
    assert items[-1]["attachments"][0]["size"] == 82825
    # So do integer path and query parameters (a generator writes the integer 4 as 4.0).
    thread = ok(api.get(f"/api/v1/threads/{first['threadId']}.0", integrator))
    assert thread["id"] == first["threadId"]
    assert len(ok(api.get(f"/api/v1/threads/{first['threadId']}/messages", integrator, params={"limit": "2.0"}))["items"]) == 2
    assert_error(api.get(f"/api/v1/threads/{first['threadId']}.5", integrator), 400, field="threadId")

    # A fraction is still refused, naming the field.
    bad = {"url": "https://example.com/a.pdf", "name": "a.pdf", "size": 82825.5}
    response = api.send(integrator, {"text": "x", "clientId": client["externalId"], "attachments": [bad]})
    assert_error(response, 400, "VALIDATION_FAILED", "attachments[0].size")


def test_cursors_are_exactly_the_strings_of_the_documented_pattern(api, integrator, client) -> None:
    sent = [ok(api.send(integrator, {"text": f"m{n}", "clientId": client["externalId"]})) for n in range(3)]
    thread_id = sent[0]["threadId"]
    page = api.messages_page(integrator, thread_id, limit=1)
    assert documented_cursor().fullmatch(page["nextCursor"]), page["nextCursor"]

    # Any string of the pattern is a cursor: a position no message has starts the page there.
    for cursor in ["AAAAAAAAAAAAAAAAAAAAAA", "f_________________-_9w"]:
        assert documented_cursor().fullmatch(cursor)
        assert isinstance(api.messages_page(integrator, thread_id, cursor=cursor)["items"], list)
    for cursor in ["0", "", "gAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAB"]:
        assert not documented_cursor().fullmatch(cursor)
        response = api.get(f"/api/v1/threads/{thread_id}/messages", integrator, params={"cursor": cursor})
        assert_error(response, 400, field="cursor")


def test_an_after_that_names_no_message_of_the_session_is_404(api, integrator, client) -> None:
    sent = ok(api.send(integrator, {"text": unique("after"), "clientId": client["externalId"]}))
    response = api.get(chat_messages_path(sent["threadId"]), integrator, params={"after": 2147483646})
    assert_so_error(response, 404, "NotFound", "after")


@pytest.mark.parametrize("method", ["QUERY", "PATCH"])
def test_another_method_on_a_known_path_is_a_json_405(api, integrator, method) -> None:
    response = api.request(method, "/api/v1/messages/outgoing", integrator)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers.get("Allow") == "POST", response.headers


def new_session_id(api, integrator) -> int:
    return new_session(api, integrator, {"CustomerAlias": unique("contract")})["ChatSessionId"]


@pytest.mark.parametrize("content_type", ["application/json", "application/merge-patch+json"])
def test_a_null_type_or_special_type_is_the_default_as_documented(api, integrator, content_type) -> None:
    schemas = OPENAPI["components"]["schemas"]
    for name in ("ChatMessageTypeInput", "ChatMessageSpecialTypeInput"):
        assert {"type": "null"} in schemas[name]["oneOf"], name
    session_id = new_session_id(api, integrator)
    body = json.dumps({"Type": None, "SpecialType": None, "Message": "defaults"})
    posted = so_ok(api.post(chat_messages_path(session_id), integrator, data=body, headers={"Content-Type": content_type}))
    assert (posted["Type"], posted["SpecialType"], posted["Message"]) == ("ToCustomer", "None", "defaults")


def test_an_xml_field_is_text_so_null_there_is_the_text_null(api, integrator) -> None:
    session_id = new_session_id(api, integrator)
    path, xml = chat_messages_path(session_id), {"Content-Type": "text/xml"}
    posted = so_ok(api.post(path, integrator, data="<ChatMessage><Message>null</Message></ChatMessage>", headers=xml))
    assert posted["Message"] == "null"
    # xsi:nil is XML's null: an empty message, refused like any other.
    nil = '<ChatMessage xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Message i:nil="true"/></ChatMessage>'
    assert_so_error(api.post(path, integrator, data=nil, headers=xml), 400, "InvalidInput", "Message")
