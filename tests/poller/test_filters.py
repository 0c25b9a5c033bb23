"""Lambda's FilterCriteria as scripts/stream_poller.py applies them: the template's real patterns
against records shaped like the recorded batch (events/dynamodb-stream-batch.json), and the rest
of the grammar."""

from __future__ import annotations

import copy
import json

import pytest

from pollerkit import ROOT, stream_poller
from stream_poller import FilterPattern, PatternError, matches_filters

RECORDED = json.loads((ROOT / "events" / "dynamodb-stream-batch.json").read_text())["Records"]


def record(event_name: str, new: dict | None = None, old: dict | None = None, pk: str = "THREAD#41") -> dict:
    ddb: dict = {
        "ApproximateCreationDateTime": 1796230845.0,
        "Keys": {"pk": {"S": pk}, "sk": {"S": "THREAD"}},
        "SequenceNumber": "4421584500000000017450439090",
        "SizeBytes": 201,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        ddb["NewImage"] = {"pk": {"S": pk}, "sk": {"S": "THREAD"}, **new}
    if old is not None:
        ddb["OldImage"] = {"pk": {"S": pk}, "sk": {"S": "THREAD"}, **old}
    return {
        "eventID": "c4ca4238a0b923820dcc509a6f75849b",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": ddb,
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/chat-center/stream/2026-12-01T09:12:44.182",
    }


THREAD = {"entity": {"S": "THREAD"}, "threadId": {"N": "41"}, "status": {"S": "OPEN"}, "messageCount": {"N": "1"}}
MESSAGE = {"entity": {"S": "MESSAGE"}, "messageId": {"N": "301"}, "text": {"S": "hello"}, "status": {"S": "ACCEPTED"}}
DELIVERY_NEW = {"entity": {"S": "DELIVERY"}, "attempts": {"N": "0"}, "status": {"S": "PENDING"}}
DELIVERY_TRIED = {"entity": {"S": "DELIVERY"}, "attempts": {"N": "1"}, "status": {"S": "PENDING"}}
AGENT = {"entity": {"S": "AGENT"}, "login": {"S": "integrator"}}


def test_template_patterns_parse(consumers):
    assert len(consumers["publish-events"].filters) == 2
    assert len(consumers["deliver-webhooks"].filters) == 1


@pytest.mark.parametrize(
    "rec, wanted",
    [
        (record("INSERT", THREAD), True),  # a thread opened
        (record("MODIFY", {**THREAD, "messageCount": {"N": "2"}}, THREAD), True),  # a message added
        (record("MODIFY", {**THREAD, "status": {"S": "CLOSED"}}, THREAD), True),  # closed
        (record("REMOVE", None, THREAD), False),  # no NewImage
        (record("MODIFY", {**MESSAGE, "status": {"S": "SENT"}}, MESSAGE), True),  # a status change
        (record("INSERT", MESSAGE), False),  # a new message is seen through its thread's MODIFY
        (record("INSERT", AGENT), False),
        (record("MODIFY", AGENT, AGENT), False),
        (record("INSERT", DELIVERY_NEW), False),
        (record("INSERT", {"login": {"S": "x"}}), False),  # no entity at all
    ],
)
def test_publish_events_filter(consumers, rec, wanted):
    assert matches_filters(consumers["publish-events"].filters, rec) is wanted


@pytest.mark.parametrize(
    "rec, wanted",
    [
        (record("INSERT", DELIVERY_NEW, pk="WEBHOOK#7"), True),
        (record("MODIFY", DELIVERY_NEW, DELIVERY_TRIED, pk="WEBHOOK#7"), True),  # replayed
        (record("MODIFY", DELIVERY_TRIED, DELIVERY_NEW, pk="WEBHOOK#7"), False),  # attempted
        (record("REMOVE", None, DELIVERY_NEW, pk="WEBHOOK#7"), False),
        (record("INSERT", {**DELIVERY_NEW, "attempts": {"N": "00"}}), False),  # strings, exactly
        (record("INSERT", {"entity": {"S": "DELIVERY"}}), False),  # no attempts
        (record("INSERT", THREAD), False),
    ],
)
def test_deliver_webhooks_filter(consumers, rec, wanted):
    assert matches_filters(consumers["deliver-webhooks"].filters, rec) is wanted


def test_recorded_batch_against_publish_events(consumers):
    # The recorded batch: a thread's INSERT, then two messages' INSERTs.
    got = [matches_filters(consumers["publish-events"].filters, r) for r in RECORDED]
    assert got == [True, False, False]


def test_dynamodb_numbers_are_strings():
    p = FilterPattern({"dynamodb": {"NewImage": {"n": {"N": ["0"]}}}})
    assert p.matches(record("INSERT", {"n": {"N": "0"}}))
    assert not FilterPattern({"dynamodb": {"NewImage": {"n": {"N": [0]}}}}).matches(record("INSERT", {"n": {"N": "0"}}))


def test_no_filters_let_everything_through():
    assert matches_filters([], record("REMOVE", None, AGENT))


@pytest.mark.parametrize(
    "pattern, rec, wanted",
    [
        ({"eventName": [{"exists": True}]}, record("INSERT", THREAD), True),
        ({"dynamodb": {"OldImage": {"entity": [{"exists": False}]}}}, record("INSERT", THREAD), True),
        ({"dynamodb": {"OldImage": {"entity": [{"exists": False}]}}}, record("MODIFY", THREAD, THREAD), False),
        ({"dynamodb": {"NewImage": {"entity": [{"exists": True}]}}}, record("INSERT", THREAD), False),  # an object
        ({"dynamodb": {"NewImage": {"entity": {"S": [{"exists": True}]}}}}, record("INSERT", THREAD), True),
        ({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "THREAD#"}]}}}}, record("INSERT", THREAD), True),
        ({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "AGENT#"}]}}}}, record("INSERT", THREAD), False),
        ({"dynamodb": {"Keys": {"pk": {"S": [{"suffix": "#41"}]}}}}, record("INSERT", THREAD), True),
        ({"eventName": [{"anything-but": "REMOVE"}]}, record("INSERT", THREAD), True),
        ({"eventName": [{"anything-but": ["INSERT", "MODIFY"]}]}, record("INSERT", THREAD), False),
        ({"eventName": [{"anything-but": {"prefix": "IN"}}]}, record("MODIFY", THREAD, THREAD), True),
        ({"eventName": [{"anything-but": {"prefix": "IN"}}]}, record("INSERT", THREAD), False),
        ({"eventName": [{"equals-ignore-case": "insert"}]}, record("INSERT", THREAD), True),
        ({"eventName": [{"wildcard": "MOD*"}]}, record("MODIFY", THREAD, THREAD), True),
        ({"dynamodb": {"SizeBytes": [{"numeric": [">", 100, "<=", 201]}]}}, record("INSERT", THREAD), True),
        ({"dynamodb": {"SizeBytes": [{"numeric": [">", 201]}]}}, record("INSERT", THREAD), False),
        ({"dynamodb": {"SizeBytes": [201]}}, record("INSERT", THREAD), True),
        ({"dynamodb": {"SizeBytes": ["201"]}}, record("INSERT", THREAD), False),
        # A missing field matches nothing but exists: false.
        ({"userIdentity": {"type": ["Service"]}}, record("REMOVE", None, THREAD), False),
        ({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["MESSAGE"]}}}}, record("INSERT", THREAD), False),
        ({"eventName": [None]}, {**record("INSERT", THREAD), "eventName": None}, True),
    ],
)
def test_grammar(pattern, rec, wanted):
    assert FilterPattern(pattern).matches(rec) is wanted


def test_lists_in_the_record_match_any_element():
    rec = record("INSERT", {"tags": {"L": [{"S": "a"}, {"S": "b"}]}})
    assert FilterPattern({"dynamodb": {"NewImage": {"tags": {"L": {"S": ["b"]}}}}}).matches(rec)
    assert not FilterPattern({"dynamodb": {"NewImage": {"tags": {"L": {"S": ["c"]}}}}}).matches(rec)


@pytest.mark.parametrize(
    "pattern",
    [
        {},
        {"eventName": "INSERT"},  # values must be in an array
        {"eventName": []},
        {"eventName": [{"prefix": 1}]},
        {"eventName": [{"numeric": [">"]}]},
        {"eventName": [{"numeric": ["!", 1]}]},
        {"eventName": [{"nope": 1}]},
        {"eventName": [{"exists": "yes"}]},
        {"eventName": [["INSERT"]]},
    ],
)
def test_invalid_patterns_are_refused(pattern):
    with pytest.raises(PatternError):
        FilterPattern(pattern)


def test_matching_does_not_change_the_record(consumers):
    rec = record("MODIFY", {**MESSAGE, "status": {"S": "SENT"}}, MESSAGE)
    before = copy.deepcopy(rec)
    matches_filters(consumers["publish-events"].filters, rec)
    assert rec == before


def test_every_filter_of_the_template_is_valid(template):
    for res in template["Resources"].values():
        for ev in ((res.get("Properties") or {}).get("Events") or {}).values():
            for f in ((ev.get("Properties") or {}).get("FilterCriteria") or {}).get("Filters") or []:
                stream_poller.FilterPattern(json.loads(f["Pattern"]))
