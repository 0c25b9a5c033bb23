"""Schemathesis hooks for scripts/test (loaded through SCHEMATHESIS_HOOKS=tests/schemathesis_hooks.py).

The local stack's front door is `cargo lambda watch`, which turns each HTTP request into an API
Gateway event itself. For two kinds of request it cannot build that event and answers its own
500 (problem JSON, never produced by our functions, which are not even invoked):
  - a header value that is not visible ASCII (e.g. a generated `Idempotency-Key: é`);
  - a body that is not UTF-8 under a text or JSON Content-Type.
Those 500s say nothing about the API, so they are dropped; every other failure is kept.
"""

from __future__ import annotations

import json

import schemathesis

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
    if response is None or response.status_code != 500:
        return True
    try:
        body = json.loads(response.content)
    except ValueError:
        return True
    if body == EMULATOR_500 and _emulator_cannot_carry(response.request):
        return False
    return True
