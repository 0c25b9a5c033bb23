"""Helpers of the end-to-end suite (fixtures are in conftest.py)."""

from __future__ import annotations

import base64
import collections
import contextlib
import http.client
import json
import re
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Mapping

import requests

# The local stack runs a few processes per function; the first call of each may be slow.
TIMEOUT = 60
DEMO_ROLES = ("integrator", "operator", "supervisor", "administrator", "bot", "gateway")
SENDING_ROLES = ("integrator", "operator", "supervisor")
ENTITIES = ("AGENT", "CLIENT", "THREAD", "MESSAGE", "DEVICE", "SESSION")
ERROR_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")

EMULATOR_500_PREFIX = '{"type":"https://httpstatuses.com/500"'
OUTGOING = "/api/v1/messages/outgoing"
TO_DEVICE = "/api/v1/messages/outgoing-to-device"


def unique(prefix: str = "e2e") -> str:
    """A name no other test (or earlier run) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# --- HTTP ----------------------------------------------------------------------------------------


class Api:
    """Thin wrapper around `requests` that knows the base URL and the edna conventions."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token is not None:
            headers["Authorization"] = token
        remember_credentials(headers)
        remember_fields(kwargs.get("json"))
        remember_body(kwargs.get("data"))
        # A fresh connection per call: safe from many threads at once.
        response = requests.request(method, self.base_url + path, headers=headers, timeout=TIMEOUT, **kwargs)
        if path == "/api/auth/login" and response.status_code == 200:
            remember_fields(response.json())  # the token and ticket handed out
        # cargo-lambda's emulator (the local front door, not our code) sometimes answers its own
        # problem-JSON 500 while it spawns another process of a function; a GET is safe to repeat.
        if method == "GET" and response.status_code == 500 and response.text.startswith(EMULATOR_500_PREFIX):
            response = requests.request(method, self.base_url + path, headers=headers, timeout=TIMEOUT, **kwargs)
        return response

    def post(self, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, token, **kwargs)

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, token, **kwargs)

    # edna endpoints

    def login(self, login: str, password: str) -> dict:
        return ok(self.post("/api/auth/login", json={"login": login, "password": password}))

    def send(self, token: str | None, body: dict, headers: dict | None = None) -> requests.Response:
        return self.post(OUTGOING, token, json=body, headers=headers)

    def send_to_device(self, token: str | None, body: dict, headers: dict | None = None) -> requests.Response:
        return self.post(TO_DEVICE, token, json=body, headers=headers)

    def thread(self, token: str, thread_id: int) -> dict:
        return ok(self.get(f"/api/v1/threads/{thread_id}", token))

    def messages_page(self, token: str, thread_id: int, **params: Any) -> dict:
        return ok(self.get(f"/api/v1/threads/{thread_id}/messages", token, params=params))

    def all_messages(self, token: str, thread_id: int, limit: int = 100) -> list[dict]:
        """Every message of the thread, newest first, following `nextCursor`."""
        items: list[dict] = []
        params: dict[str, Any] = {"limit": limit}
        while True:
            page = self.messages_page(token, thread_id, **params)
            items += page["items"]
            if page["nextCursor"] is None:
                return items
            params["cursor"] = page["nextCursor"]


def json_body(response: requests.Response) -> Any:
    content_type = response.headers.get("Content-Type", "")
    assert content_type.startswith("application/json"), (
        f"{response.status_code} with Content-Type {content_type!r}: {response.text[:500]!r}"
    )
    return response.json()


def ok(response: requests.Response) -> Any:
    """The JSON body of a 200 response."""
    assert response.status_code == 200, f"expected 200, got {response.status_code}: {response.text[:1000]}"
    return json_body(response)


def assert_error(
    response: requests.Response, status: int, code: str | None = None, field: str | None = None
) -> dict:
    """The response is an edna error: this status, JSON `{code, message, field?}`.

    `code`/`field`, when given, must match exactly; otherwise the code must still be UPPER_SNAKE.
    """
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:1000]}"
    body = json_body(response)
    assert isinstance(body, dict), body
    assert set(body) <= {"code", "message", "field"}, body
    assert isinstance(body.get("code"), str) and ERROR_CODE.match(body["code"]), body
    assert isinstance(body.get("message"), str) and body["message"], body
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert body.get("field") == field, body
    return body


def assert_sent(body: dict, agent_id: int) -> None:
    """The shape of a successful send: `{id, threadId, clientId, clientExternalId, agentId}`."""
    assert set(body) == {"id", "threadId", "clientId", "clientExternalId", "agentId"}, body
    for key in ("id", "threadId", "clientId", "agentId"):
        assert type(body[key]) is int and 0 < body[key] < 2**53, (key, body)
    assert body["clientExternalId"] is None or isinstance(body["clientExternalId"], str), body
    assert body["agentId"] == agent_id, body


@dataclass
class RawResponse:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        assert self.headers.get("Content-Type", "").startswith("application/json"), self.headers
        return json.loads(self.body)


def raw_post(base_url: str, path: str, body: bytes, headers: dict[str, str | bytes]) -> RawResponse:
    """POST exactly these bytes with exactly these headers (plus Host), nothing re-serialised."""
    remember_credentials(headers)
    remember_body(body)
    url = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=TIMEOUT)
    try:
        connection.putrequest("POST", path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return RawResponse(response.status, response.headers, response.read())
    finally:
        connection.close()


# --- what the suite sent: test_zz_logs.py looks for each of these in the stack's log ------------

# Body fields (both dialects, any format) that hold personal data, message content or secrets.
SENSITIVE_FIELDS = frozenset(
    {"text", "deviceAddress", "password", "token", "ticket", "url", "Message", "CustomerAlias", "Author"}
)
# Shorter values ("hello", "1") turn up in any log by chance; the suite's are longer.
MIN_SCANNED_CHARS = 8
PHONE_LIKE = re.compile(r"^\+?[\d\s().-]+$")
SENT: set[str] = set()


def remember(value: str) -> None:
    """Notes one sensitive value (and the forms the server may turn it into) for the log scan."""
    value = value.strip()
    candidates = {value, value.removeprefix("Bearer ").strip()}
    if PHONE_LIKE.match(value):
        candidates.add(re.sub(r"[\s().-]", "", value))  # a phone number as the server normalises it
    SENT.update(candidate for candidate in candidates if len(candidate) >= MIN_SCANNED_CHARS)


def remember_fields(value: Any) -> None:
    """Every sensitive field of a JSON value, nested ones and JSON Patch values included."""
    if isinstance(value, dict):
        patched = str(value.get("path", "")).rsplit("/", 1)[-1]
        for key, item in value.items():
            if isinstance(item, str) and (key in SENSITIVE_FIELDS or (key == "value" and patched in SENSITIVE_FIELDS)):
                remember(item)
            else:
                remember_fields(item)
    elif isinstance(value, list):
        for item in value:
            remember_fields(item)


def remember_body(body: bytes | str | None) -> None:
    """The sensitive fields of a raw body: JSON, XML or a form."""
    if not body:
        return
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        remember_fields(json.loads(text))
        return
    except ValueError:
        pass
    if text.lstrip().startswith("<"):
        try:
            for element in ET.fromstring(text).iter():
                if element.tag.rsplit("}", 1)[-1] in SENSITIVE_FIELDS and element.text:
                    remember(element.text)
        except ET.ParseError:
            remember(text)
        return
    for key, values in urllib.parse.parse_qs(text).items():
        if key in SENSITIVE_FIELDS:
            for value in values:
                remember(value)


def remember_credentials(headers: Mapping[str, str]) -> None:
    """Tokens, tickets, passwords and cookies of a request's headers."""
    for name, value in headers.items():
        if not isinstance(value, str):
            continue
        name = name.lower()
        if name == "authorization":
            scheme, _, secret = value.partition(" ")
            remember(secret)
            if scheme.lower() == "basic":
                with contextlib.suppress(ValueError):
                    remember(base64.b64decode(secret).decode("utf-8", "replace").partition(":")[2])
        elif name in ("so-apptoken", "x-xsrf-token"):
            remember(value)
        elif name == "cookie":
            for cookie in value.split(";"):
                remember(cookie.partition("=")[2])


# --- the table ------------------------------------------------------------------------------------


def count_entities(table) -> collections.Counter:
    """How many items of each `entity` (AGENT, CLIENT, THREAD, MESSAGE, DEVICE, SESSION) exist."""
    counts: collections.Counter = collections.Counter()
    kwargs: dict[str, Any] = {
        "ProjectionExpression": "#entity",
        "ExpressionAttributeNames": {"#entity": "entity"},
        "ConsistentRead": True,
    }
    while True:
        page = table.scan(**kwargs)
        counts.update(item["entity"] for item in page["Items"] if "entity" in item)
        if "LastEvaluatedKey" not in page:
            return counts
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# --- the SuperOffice dialect (docs/superoffice.md) ------------------------------------------------

CHAT_SESSIONS = "/api/v1/ChatSession"
SO_ERROR_TYPES = frozenset(
    {
        "InvalidInput", "Unauthorized", "Forbidden", "NotFound", "MethodNotAllowed", "NotAcceptable",
        "Conflict", "SessionClosed", "PayloadTooLarge", "UnsupportedMediaType", "IdempotencyKeyReused",
        "RateLimited", "StorageUnavailable", "InternalError",
    }
)
SO_JSON_TYPES = ("application/json", "text/json", "application/json-patch+json", "application/merge-patch+json")
SO_XML_TYPES = ("application/xml", "text/xml")
# Every `Accept` the SuperOffice operations answer (the seed's list, in the contract's tie order).
SO_ACCEPT_TYPES = ("application/json", "text/json", "application/xml", "text/xml",
                   "application/json-patch+json", "application/merge-patch+json")
# ChatMessage fields that are integers (XML carries them as text).
SO_INT_FIELDS = frozenset({"ChatMessageId", "ChatSessionId", "ReadByCustomer", "CustomerId", "MessageCount"})


def chat_session_path(session_id: int | str) -> str:
    return f"{CHAT_SESSIONS}/{session_id}"


def chat_messages_path(session_id: int | str) -> str:
    return f"{CHAT_SESSIONS}/{session_id}/Messages"


def basic_auth(login: str, password: str) -> str:
    """The `Authorization` value of HTTP Basic credentials."""
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode("ascii")


def xml_element_to_dict(element) -> dict[str, Any]:
    """`<X><A>1</A><B/></X>` as `{"A": 1, "B": ""}`: one entry per child (namespaces dropped),
    integer fields (`SO_INT_FIELDS`) as int, `true`/`false` of `Error` as bool."""
    fields: dict[str, Any] = {}
    for child in element:
        name = child.tag.rsplit("}", 1)[-1]
        text = child.text or ""
        if name in SO_INT_FIELDS and text.strip():
            fields[name] = int(text)
        elif name == "Error":
            fields[name] = {"true": True, "false": False}.get(text.strip(), text)
        else:
            fields[name] = text
    return fields


def so_body(response: requests.Response, media_type: str = "application/json") -> Any:
    """The body of a SuperOffice response in `media_type`: its `Content-Type` must be exactly
    `<media_type>; charset=utf-8`. JSON types give the JSON value; XML types give the root element
    as a dict (`xml_element_to_dict`), or for `ArrayOfChatMessage` a list of such dicts."""
    content_type = response.headers.get("Content-Type", "")
    assert content_type == f"{media_type}; charset=utf-8", (
        f"{response.status_code} with Content-Type {content_type!r}, expected {media_type}: {response.text[:500]!r}"
    )
    if media_type in SO_XML_TYPES:
        root = ET.fromstring(response.content)
        if root.tag == "ArrayOfChatMessage":
            return [xml_element_to_dict(child) for child in root]
        return xml_element_to_dict(root)
    return json.loads(response.content)


def so_ok(response: requests.Response, status: int = 200, media_type: str = "application/json") -> Any:
    """The body of a successful SuperOffice response (200, or 201 for a new session)."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:1000]}"
    return so_body(response, media_type)


def create_session(api: Api, auth: str | None, fields: dict | None = None, headers: dict | None = None):
    """POST /api/v1/ChatSession with `fields` as JSON."""
    return api.post(CHAT_SESSIONS, auth, data=json.dumps(fields or {}, ensure_ascii=False).encode("utf-8"),
                    headers={"Content-Type": "application/json", **(headers or {})})


def new_session(api: Api, auth: str, fields: dict | None = None) -> dict:
    """A new ChatSession (201), as the server answered it."""
    return so_ok(create_session(api, auth, fields), 201)


def assert_so_error(
    response: requests.Response,
    status: int,
    error_type: str | None = None,
    source: str | None = None,
    media_type: str = "application/json",
) -> dict:
    """The response is a SuperOffice error: this status and
    `{"Error": true, "ErrorType", "ErrorMessage", "ErrorSource"}` in `media_type`
    (XML root `ErrorInformation`). `error_type`/`source`, when given, must match exactly."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:1000]}"
    body = so_body(response, media_type)
    if media_type in SO_XML_TYPES:
        assert ET.fromstring(response.content).tag == "ErrorInformation", response.text
    assert isinstance(body, dict), body
    assert set(body) == {"Error", "ErrorType", "ErrorMessage", "ErrorSource"}, body
    assert body["Error"] is True, body
    assert body["ErrorType"] in SO_ERROR_TYPES, body
    assert isinstance(body["ErrorMessage"], str) and body["ErrorMessage"], body
    assert isinstance(body["ErrorSource"], str), body
    if error_type is not None:
        assert body["ErrorType"] == error_type, body
    if source is not None:
        assert body["ErrorSource"] == source, body
    return body


def set_cookies(response: requests.Response) -> dict[str, dict[str, str]]:
    """The cookies a response sets, by name: `{"value": ..., "path": ..., "httponly": "", ...}`
    (attribute names in lower case; flags map to ""). Each `Set-Cookie` header is read on its own."""
    cookies: dict[str, dict[str, str]] = {}
    for header in response.raw.headers.getlist("Set-Cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = first.partition("=")
        cookie = {"value": value}
        for attribute in attributes:
            key, _, attribute_value = attribute.partition("=")
            cookie[key.strip().lower()] = attribute_value.strip()
        cookies[name.strip()] = cookie
    return cookies
