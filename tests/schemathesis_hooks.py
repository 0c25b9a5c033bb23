"""Schemathesis hooks for scripts/test (loaded through SCHEMATHESIS_HOOKS=tests/schemathesis_hooks.py).

The local stack's front door is `cargo lambda watch`, which turns each HTTP request into an API
Gateway event itself. For two kinds of request it cannot build that event and answers its own
500 (problem JSON, never produced by our functions, which are not even invoked):
  - a header value that is not visible ASCII (e.g. a generated `Idempotency-Key: é`);
  - a body that is not UTF-8 under a text or JSON Content-Type.
Those 500s say nothing about the API, so they are dropped.

XML and form bodies carry text only, so a generated `null`, number or boolean field goes out as
text (`null`, `5`, `true` in XML; in a form `True`, and a `null` field is left out), and XML drops
characters it cannot carry. The case is given the values that are actually sent, so that
schemathesis judges what the server received: `<Message>null</Message>` is the text "null", valid.

More things the document cannot say, below: a posted ChatMessage's `ChatSessionId` may be the
path's session (generated requests get it); the Basic credentials `ignored_auth` probes with
belong to one login that the lockout locks (its 429 is dropped, nothing else of that check); a
webhook's URL must name a host that resolves to a public address (generated subscriptions get
one the local stack takes, and are deleted when the run ends); a replay's `since` may not be
after its `until` (generated windows are put the right way round); the cursors of the event feed
and of the deliveries list are only the ones the server gave (generated ones are swapped for
those).
Every other failure is kept. Each dropped failure is listed in dropped-failures.log (in the
directory schemathesis runs in: .cache/schemathesis for scripts/test).
"""

from __future__ import annotations

import atexit
import json
from datetime import datetime

import requests
import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transforms import to_wire_string

# What cargo-lambda's emulator answers when it fails to build the event.
EMULATOR_500 = {"type": "https://httpstatuses.com/500", "status": 500, "title": "Internal Server Error"}


def _visible_ascii(raw: bytes) -> bool:
    return all(b == 0x09 or 0x20 <= b <= 0x7E for b in raw)


def _emulator_cannot_carry(request) -> bool:
    for value in request.headers.values():
        raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        if not _visible_ascii(raw):
            return True
    body = request.body
    if body is None:
        return False
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    content_type = str(request.headers.get("Content-Type", "")).lower()
    if not content_type or content_type.startswith(("text/", "application/json")):
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return True
    return False


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    keep = _keep(failure, response)
    if not keep:
        # What was dropped, for review: dropped-failures.log next to the reports.
        with open("dropped-failures.log", "a", encoding="utf-8") as log:
            title = getattr(failure, "title", type(failure).__name__)
            status = getattr(response, "status_code", None)
            log.write(f"{getattr(failure, 'operation', '?')}\t{status}\t{title}\n")
    return keep


def _keep(failure, response) -> bool:
    if _locked_out_probe(failure, response):
        return False
    if response is None or response.status_code != 500:
        return True
    try:
        body = json.loads(response.content)
    except ValueError:
        return True
    if body == EMULATOR_500 and _emulator_cannot_carry(response.request):
        return False
    return True


# --- text bodies: the case holds what is sent ----------------------------------------------------


def _xml_text(value):
    """A scalar as schemathesis' XML serializer writes it (transport/serialization.py)."""
    if value is None or isinstance(value, (bool, int, float)):
        return to_wire_string(value)
    return "".join(
        char
        for char in value
        if char in "\t\n\r" or 0x20 <= ord(char) <= 0xD7FF or 0xE000 <= ord(char) <= 0xFFFD or ord(char) >= 0x10000
    )


def _form_text(value):
    """A scalar as `requests` form-encodes it (`str()`; a `None` is left out by the caller)."""
    return value if isinstance(value, str) else str(value)


def _send_as_text(case) -> None:
    media_type = (case.media_type or "").split(";")[0].strip().lower()
    if not isinstance(case.body, dict):
        return
    if media_type in ("application/xml", "text/xml"):
        scalar, drop_none = _xml_text, False
    elif media_type == "application/x-www-form-urlencoded":
        scalar, drop_none = _form_text, True
    else:
        return
    for name, value in list(case.body.items()):
        if isinstance(value, list):
            # One element (or form field) per item: none is an absent field, one is a plain field.
            kept = [item for item in value if not (drop_none and item is None)]
            items = [item if isinstance(item, (dict, list)) else scalar(item) for item in kept]
            if not items:
                del case.body[name]
            elif len(items) == 1 and isinstance(items[0], str):
                case.body[name] = items[0]
            else:
                case.body[name] = items
        elif isinstance(value, dict):
            continue
        elif value is None and drop_none:
            del case.body[name]
        else:
            case.body[name] = scalar(value)


# --- what the document cannot say -------------------------------------------------------------

# `ChatSessionId` in a posted ChatMessage may be 0 or the session of the path (any other is 400);
# a schema cannot relate a body field to a path parameter, so the document allows any session id
# and generated requests get the path's (or keep 0 / blank / null, which are always fine).
POST_CHAT_MESSAGE = "POST /api/v1/ChatSession/{chatSessionId}/Messages"


def _is_positive_integer(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value >= 1 and float(value).is_integer()
    if isinstance(value, str):
        text = value.strip()
        return text.lstrip("+").isdigit() and int(text.lstrip("+")) >= 1
    return False


def _the_paths(value, session: int):
    return str(session) if isinstance(value, str) else session


@schemathesis.hook
def before_call(context, case, **kwargs):
    # At the call rather than at generation, so that every phase's cases (coverage, fuzzing,
    # stateful) get it; schemathesis revalidates a case a before_call hook changed.
    _send_as_text(case)
    _webhook_cases(case)
    _server_cursor(case)
    session = (case.path_parameters or {}).get("chatSessionId")
    if isinstance(session, str) and session.isdigit():
        session = int(session)
    if case.operation.label != POST_CHAT_MESSAGE or not isinstance(session, int):
        return
    if isinstance(case.body, dict):  # JSON, XML, form and merge patch bodies
        for name in list(case.body):
            if name.lower() == "chatsessionid" and _is_positive_integer(case.body[name]):
                case.body[name] = _the_paths(case.body[name], session)
    elif isinstance(case.body, list):  # JSON Patch: the operations that set it
        for operation in case.body:
            if (
                isinstance(operation, dict)
                and operation.get("path") == "/ChatSessionId"
                and _is_positive_integer(operation.get("value"))
            ):
                operation["value"] = _the_paths(operation["value"], session)


# The Basic credentials schemathesis probes `ignored_auth` with are always the same login
# (`SCHEMATHESIS-INVALID-VALUE`). After five failed attempts in a row that login is locked for 15
# minutes, and Basic calls for it get 429 `RateLimited` with `Retry-After` (docs/superoffice.md,
# "Authentication": the lockout answers before the password is checked, so it tells nothing about
# it). The probe is therefore refused, with 429 instead of 401; every other `ignored_auth` probe
# (no credentials, a bad bearer token, a bad SOTicket, a bad session cookie) still has to get 401,
# and basicAuth is listed last in the document so that those probes run first.
def _locked_out_probe(failure, response) -> bool:
    if type(failure).__name__ != "IgnoredAuth" or "got `429 " not in str(getattr(failure, "message", "")):
        return False
    return "/api/v1/ChatSession" in str(getattr(failure, "operation", ""))


# --- webhooks --------------------------------------------------------------------------------------

CREATE_WEBHOOK = "POST /api/v1/webhooks"
REPLAY_WEBHOOK = "POST /api/v1/webhooks/{id}/replay"
# A subscription's `url` must also be https to a host that resolves to a public address (plain
# http to 127.0.0.1 only where the deployment allows it, as the local stack does): which hosts
# resolve where is no schema's business, so a generated URL is 400 `url` whatever its form. A
# positive case is therefore given a URL the local stack takes: plain http to port 9 of
# 127.0.0.1, where nothing listens, and only `thread.closed` events (few in this run), so that
# its deliveries, all failing and retried, cost the stack little. The subscriptions live until
# the run ends (the stateful phase reads, rotates, replays and deletes them), then are deleted.
WEBHOOK_URL = "http://127.0.0.1:9/schemathesis"
WEBHOOK_EVENTS = ["thread.closed"]
CREATED_WEBHOOKS: list[tuple[str, dict]] = []  # (URL, headers) to DELETE at the end


def _is_positive_body(case) -> bool:
    meta = getattr(case, "meta", None)
    return meta is None or not meta.is_negative_at(ParameterLocation.BODY)


def _instant(value):
    """A date-time string as an aware datetime, or None when Python cannot read it."""
    if not isinstance(value, str):
        return None
    try:
        instant = datetime.fromisoformat(value.strip().upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else None


def _webhook_cases(case) -> None:
    label = case.operation.label
    if label == CREATE_WEBHOOK and isinstance(case.body, dict) and _is_positive_body(case):
        if isinstance(case.body.get("url"), str):
            case.body["url"] = WEBHOOK_URL
            case.body["events"] = list(WEBHOOK_EVENTS)
    elif label == REPLAY_WEBHOOK and isinstance(case.body, dict):
        # `since` after `until` is 400 `until`, a rule between two fields: put them in order.
        since, until = _instant(case.body.get("since")), _instant(case.body.get("until"))
        if since is not None and until is not None and since > until:
            case.body["since"], case.body["until"] = case.body["until"], case.body["since"]


# The feed's `after` and the deliveries' `cursor` are opaque: only what a `nextCursor` said is a
# cursor, and the document's pattern (base64url) says only what a cursor looks like. A generated
# one in a positive case is therefore replaced by a `nextCursor` the server gave earlier in the
# run, or left out until there is one; the negative cases keep theirs (400).
SERVER_CURSORS = {"GET /api/v1/events": ("after", []), "GET /api/v1/webhooks/{id}/deliveries": ("cursor", [])}


def _server_cursor(case) -> None:
    name, given = SERVER_CURSORS.get(case.operation.label, (None, None))
    query = case.query
    if name is None or not isinstance(query, dict) or name not in query:
        return
    meta = getattr(case, "meta", None)
    if meta is not None and meta.is_negative_at(ParameterLocation.QUERY):
        return
    if given:
        query[name] = given[-1]
    else:
        del query[name]


@schemathesis.hook
def after_call(context, case, response):
    label = case.operation.label
    if label in SERVER_CURSORS and response.status_code == 200:
        try:
            cursor = json.loads(response.content).get("nextCursor")
        except (ValueError, AttributeError):
            return
        given = SERVER_CURSORS[label][1]
        if isinstance(cursor, str) and cursor not in given:
            given[:] = [*given[-9:], cursor]
        return
    if label != CREATE_WEBHOOK or response.status_code != 201:
        return
    try:
        webhook_id = json.loads(response.content)["id"]
    except (ValueError, KeyError, TypeError):
        return  # the checks report a 201 without an id
    request = response.request
    url = request.url.split("?", 1)[0].rstrip("/") + "/" + str(webhook_id)
    headers = {"Authorization": request.headers["Authorization"]} if "Authorization" in request.headers else {}
    CREATED_WEBHOOKS.append((url, headers))


@atexit.register
def _delete_created_webhooks() -> None:
    for url, headers in CREATED_WEBHOOKS:
        try:
            requests.delete(url, headers=headers, timeout=30)
        except requests.RequestException:
            pass  # the stack is stopped right after the run anyway
