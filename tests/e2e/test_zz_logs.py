"""The stack's log after the whole suite (this module's name sorts it last): it carries ids,
statuses and timings, never what callers sent — message text, device addresses (phone numbers,
e-mail addresses), names, passwords, tokens, tickets.

Every request the suite makes through helpers.py notes those values (helpers.SENT; the README
walk-throughs add their literals); the first tests here add failed requests full of them, since
error paths are where they would slip into a log line. Needs LOCAL_API_LOG (scripts/test sets it
to the local stack's log); skipped without it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from helpers import CHAT_SESSIONS, SENT, TO_DEVICE, basic_auth, chat_messages_path, remember, unique

LOG = os.environ.get("LOCAL_API_LOG")
pytestmark = pytest.mark.skipif(not LOG or not Path(LOG).is_file(), reason="LOCAL_API_LOG names no log file")

# Request log lines, one per request the functions answered.
REQUEST_LINE = re.compile(r'"message":"request"')


def distinctive(kind: str) -> str:
    return f"{kind} {unique('pii')}"


def test_failed_requests_full_of_personal_data(api, integrator, demo_password, client) -> None:
    phone = "+44 7700 9" + unique("")[-6:].translate(str.maketrans("abcdef", "123456"))
    email = f"{unique('ada')}@Example.org"
    calls = [
        # Addresses unfit for their channel, and fit ones with a client that does not exist.
        api.send_to_device(integrator, {"text": distinctive("text"), "clientApplicationDescriptor": {
            "channelType": "WHATSAPP", "deviceAddress": f"{phone} ext. {unique('x')}"}}),
        api.send_to_device(integrator, {"text": distinctive("text"), "clientApplicationDescriptor": {
            "channelType": "EMAIL", "deviceAddress": email.replace("@", " at ")}}),
        api.send_to_device(integrator, {"text": distinctive("text"), "clientApplicationDescriptor": {
            "channelType": "SMS", "deviceAddress": phone, "clientId": unique("nobody")}}),
        # A device of one authorized client claimed for another (409), by phone and by e-mail.
        *[
            api.send_to_device(integrator, {"text": distinctive("text"), "clientApplicationDescriptor": {
                "channelType": channel, "deviceAddress": address, "clientId": external_id}})
            for channel, address in (("VIBER", phone), ("EMAIL", email))
            for external_id in (client["externalId"], unique("other"))
        ],
        # Texts to threads that do not exist, too long, or from a role that may not send.
        api.send(integrator, {"text": distinctive("text"), "threadId": 999_999_999}),
        api.send(integrator, {"text": distinctive("long text") * 200, "clientId": client["externalId"]}),
        api.send(api.login("bot", demo_password)["token"], {"text": distinctive("text"), "clientId": "x"}),
        # Wrong passwords and tokens, in every scheme.
        api.post("/api/auth/login", json={"login": "integrator", "password": distinctive("password")}),
        api.post("/api/auth/login", json={"login": unique("nobody"), "password": distinctive("password")}),
        api.send(f"Bearer 1.{unique('forged')}", {"text": distinctive("text"), "clientId": "x"}),
        api.get(chat_messages_path(1), basic_auth("integrator", distinctive("password"))),
        api.get(chat_messages_path(1), f"SOTicket 1.{unique('ticket')}", headers={"SO-AppToken": unique("app")}),
        # SuperOffice bodies: a name and a message in XML to a session that does not exist.
        api.post(CHAT_SESSIONS, integrator, json={"CustomerAlias": distinctive("Grace"), "CustomerId": 2_000_000_000}),
        api.post(chat_messages_path(2_147_000_000), integrator, data=(
            f"<ChatMessage><Message>{distinctive('message')}</Message></ChatMessage>"
        ).encode(), headers={"Content-Type": "application/xml"}),
    ]
    remember(phone)
    remember(email)
    remember(email.lower())
    statuses = sorted({response.status_code for response in calls})
    assert all(status < 500 for status in statuses) and 400 in statuses and 409 in statuses, statuses
    # And a success, whose log line is the common case.
    ok_sent = api.send_to_device(integrator, {"text": distinctive("text"), "clientApplicationDescriptor": {
        "channelType": "EMAIL", "deviceAddress": email, "clientId": client["externalId"]}})
    assert ok_sent.status_code == 200, ok_sent.text


def test_the_log_holds_nothing_the_suite_sent(demo_password) -> None:
    remember(demo_password)
    lines = Path(LOG).read_text(encoding="utf-8", errors="replace").splitlines()
    requests_logged = sum(1 for line in lines if REQUEST_LINE.search(line))
    assert requests_logged >= 20, f"{LOG} has {requests_logged} request lines: is it the stack's log?"
    assert len(SENT) >= 20, f"only {len(SENT)} values were noted: is helpers.SENT still filled?"
    # A value may be logged as it was sent or escaped inside a JSON string.
    forms = {form: value for value in SENT for form in (value, json.dumps(value)[1:-1])}
    leaks: dict[str, list[str]] = {}
    for number, line in enumerate(lines, 1):
        for form, value in forms.items():
            if form in line:
                leaks.setdefault(value, []).append(f"{LOG}:{number}: {line[:300]}")
    assert not leaks, "the log holds what callers sent:\n" + "\n".join(
        f"{value!r}:\n  " + "\n  ".join(found[:3]) for value, found in leaks.items()
    )


def test_request_lines_are_embedded_metric_format() -> None:
    """Each request line is CloudWatch embedded metric format (issue 17): `_aws` names a timestamp
    and one directive whose dimensions are string members of the line and whose metrics are
    number members, so that CloudWatch makes the ChatCenter metrics from the log alone."""
    lines = [json.loads(line) for line in Path(LOG).read_text(encoding="utf-8", errors="replace").splitlines()
             if REQUEST_LINE.search(line) and line.startswith("{")]
    assert lines, f"{LOG} has no request lines"
    for line in lines:
        metadata = line["_aws"]
        assert isinstance(metadata["Timestamp"], int), line
        (directive,) = metadata["CloudWatchMetrics"]
        assert directive["Namespace"] == "ChatCenter", line
        assert [["route"], ["route", "status_class"], ["kind"]] == directive["Dimensions"], line
        for dimension in {name for names in directive["Dimensions"] for name in names}:
            assert isinstance(line[dimension], str), (dimension, line)
        for metric in directive["Metrics"]:
            assert isinstance(line[metric["Name"]], (int, float)), (metric, line)
        assert line["status_class"] == f"{line['status'] // 100}xx", line
