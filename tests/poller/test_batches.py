"""Batches, lanes and answers as scripts/stream_poller.py handles them: lane assignment, partial
batch responses, retries, bisection, the failure destination, the records' and events' shape."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter

import pytest

from pollerkit import ROOT, stream_poller
from stream_poller import InvokeResult, Lane, PendingRecord, StreamConsumer, interpret, lane_of


def rec(seq: int, pk: str = "WEBHOOK#1") -> dict:
    return {
        "eventID": f"id{seq}",
        "eventName": "INSERT",
        "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": f"DELIVERY#{seq}"}}, "SequenceNumber": str(seq)},
    }


# --- lanes ---------------------------------------------------------------------------------------


def test_one_key_one_lane_stable():
    lanes = {lane_of(rec(i, "WEBHOOK#42"), "pk", 10) for i in range(50)}
    assert len(lanes) == 1
    # Stable across processes and releases (md5 of the key's JSON), so lane checkpoints survive
    # a restart: a change here must come with a note that old checkpoints are re-read.
    assert lane_of(rec(1, "WEBHOOK#42"), "pk", 10) == lane_of(rec(2, "WEBHOOK#42"), "pk", 10)
    assert [lane_of(rec(1, f"WEBHOOK#{i}"), "pk", 10) for i in range(8)] == [
        lane_of(rec(9, f"WEBHOOK#{i}"), "pk", 10) for i in range(8)
    ]


def test_keys_spread_over_lanes():
    counts = Counter(lane_of(rec(1, f"WEBHOOK#{i}"), "pk", 10) for i in range(1000))
    assert set(counts) == set(range(10))
    assert min(counts.values()) > 50


def test_one_lane_without_parallelization():
    assert {lane_of(rec(1, f"K#{i}"), "pk", 1) for i in range(20)} == {0}


# --- the function's answer -------------------------------------------------------------------------


def ok(body) -> InvokeResult:
    return InvokeResult(200, json.dumps(body).encode())


SEQS = ["10", "11", "12", "13"]


@pytest.mark.parametrize(
    "result, kind, at",
    [
        (ok({"batchItemFailures": []}), "ok", 0),
        (ok({}), "ok", 0),
        (ok(None), "ok", 0),
        (InvokeResult(200, b""), "ok", 0),
        (ok({"batchItemFailures": None}), "ok", 0),
        (ok({"batchItemFailures": [{"itemIdentifier": "12"}]}), "partial", 2),
        (ok({"batchItemFailures": [{"itemIdentifier": "13"}, {"itemIdentifier": "11"}]}), "partial", 1),
        (ok({"batchItemFailures": [{"itemIdentifier": ""}]}), "partial", 0),  # whole batch
        (ok({"batchItemFailures": [{"itemIdentifier": None}]}), "partial", 0),
        (ok({"batchItemFailures": [{"itemId": "12"}]}), "partial", 0),  # wrong key name
        (ok({"batchItemFailures": [{"itemIdentifier": "99"}]}), "partial", 0),  # not in the batch
        (InvokeResult(500, b'{"errorType":"x"}', function_error="HTTP 500"), "failed", 0),
        (InvokeResult(200, b'{"errorType":"x"}', function_error="Unhandled"), "failed", 0),
        (InvokeResult(0, b"", function_error="no answer (timeout)"), "failed", 0),
        (InvokeResult(200, b"not json"), "failed", 0),
    ],
)
def test_interpret(result, kind, at):
    out = interpret(result, SEQS, report_failures=True)
    assert (out.kind, out.failed_at) == (kind, at)


def test_failures_ignored_without_report_batch_item_failures():
    out = interpret(ok({"batchItemFailures": [{"itemIdentifier": "12"}]}), SEQS, report_failures=False)
    assert out.kind == "ok"


# --- a lane's retries ------------------------------------------------------------------------------


class Script:
    """A function that answers from a script: a list of callables (batch seqs -> InvokeResult),
    the last one repeated."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.seen: list[list[str]] = []

    def __call__(self, records: list[PendingRecord]) -> InvokeResult:
        seqs = [r.seq for r in records]
        self.seen.append(seqs)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(seqs)


def fail_at(seq: str):
    return lambda seqs: ok({"batchItemFailures": [{"itemIdentifier": seq}]} if seq in seqs else {})


def succeed(seqs):
    return ok({"batchItemFailures": []})


def crash(seqs):
    return InvokeResult(500, b"{}", function_error="HTTP 500")


def make_lane(script, batch_size=4, retries=2, bisect=False, n=6):
    consumer = StreamConsumer(
        name="T.E", function="f", timeout=1, batch_size=batch_size, max_retries=retries, bisect=bisect, report_failures=True
    )
    done: list[str] = []
    gone: list[tuple[list[str], dict]] = []
    lane = Lane(
        consumer,
        0,
        invoke=script,
        done=lambda i, rs: done.extend(r.seq for r in rs),
        discard=lambda i, rs, info: (gone.append(([r.seq for r in rs], info)), done.extend(r.seq for r in rs)),
        sleep=lambda s: True,
        retry_base=0,
    )
    for i in range(1, n + 1):
        lane.add(PendingRecord(str(i), rec(i)))
    return lane, done, gone


def run(lane, steps=100):
    for _ in range(steps):
        if not lane.step():
            break


def test_whole_batches_in_order():
    script = Script(succeed)
    lane, done, gone = make_lane(script, batch_size=4, n=6)
    run(lane)
    assert script.seen == [["1", "2", "3", "4"], ["5", "6"]]
    assert done == ["1", "2", "3", "4", "5", "6"] and not gone


def test_partial_failure_retries_from_the_failed_record():
    # "3" fails once, then succeeds.
    script = Script(fail_at("3"), succeed)
    lane, done, gone = make_lane(script, batch_size=4, n=6)
    run(lane)
    assert script.seen[0] == ["1", "2", "3", "4"]
    assert script.seen[1][0] == "3"  # from the failed one on
    assert done == ["1", "2", "3", "4", "5", "6"] and not gone


def test_partial_failure_with_bisect_retries_only_the_rest_of_the_batch():
    script = Script(fail_at("3"), succeed)
    lane, done, gone = make_lane(script, batch_size=4, n=6, bisect=True)
    run(lane)
    assert script.seen[:3] == [["1", "2", "3", "4"], ["3", "4"], ["5", "6"]]
    assert done == ["1", "2", "3", "4", "5", "6"]


def test_retries_exhausted_go_to_the_failure_destination():
    # "3" always fails; MaximumRetryAttempts 2: the first failure and two retries, then given up.
    script = Script(fail_at("3"))
    lane, done, gone = make_lane(script, batch_size=4, n=6, retries=2, bisect=True)
    run(lane)
    # "3" is tried in the first batch and twice more.
    assert script.seen[:3] == [["1", "2", "3", "4"], ["3", "4"], ["3", "4"]]
    assert gone == [(["3", "4"], {"statusCode": 200, "functionError": None, "attempts": 3})]
    assert script.seen[3:] == [["5", "6"]]
    assert done == ["1", "2", "3", "4", "5", "6"]


def test_no_retries():
    script = Script(fail_at("1"))
    lane, done, gone = make_lane(script, batch_size=2, n=2, retries=0)
    run(lane)
    assert script.seen == [["1", "2"]]
    assert [g[0] for g in gone] == [["1", "2"]]


def test_function_error_bisects_down_to_the_bad_record():
    bad = "3"

    def answer(seqs):
        return crash(seqs) if bad in seqs else succeed(seqs)

    script = Script(answer)
    lane, done, gone = make_lane(script, batch_size=4, n=6, retries=1, bisect=True)
    run(lane)
    assert script.seen[:4] == [["1", "2", "3", "4"], ["1", "2"], ["3", "4"], ["3"]]
    # "3" alone: the first failure and one retry, then given up; "4" and the rest go through.
    assert [g[0] for g in gone] == [["3"]]
    assert gone[0][1]["functionError"] == "Unhandled"
    assert done == ["1", "2", "3", "4", "5", "6"]


def test_function_error_without_bisect_retries_the_whole_batch():
    script = Script(crash, crash, succeed)
    lane, done, gone = make_lane(script, batch_size=4, n=4, retries=5)
    run(lane)
    assert script.seen == [["1", "2", "3", "4"]] * 3
    assert done == ["1", "2", "3", "4"] and not gone


def test_unlimited_retries_keep_trying():
    script = Script(*([crash] * 30), succeed)
    lane, done, gone = make_lane(script, batch_size=1, n=1, retries=-1)
    run(lane, steps=40)
    assert len(script.seen) == 31 and done == ["1"] and not gone


def test_missing_function_waits_without_counting():
    missing = lambda seqs: InvokeResult(404, b'{"title":"Missing function"}', function_error="HTTP 404", missing=True)  # noqa: E731
    script = Script(missing, missing, missing, succeed)
    lane, done, gone = make_lane(script, batch_size=4, n=2, retries=0)
    run(lane)
    assert done == ["1", "2"] and not gone


def test_stop_interrupts_the_backoff():
    script = Script(crash)
    lane, done, gone = make_lane(script, batch_size=1, n=1, retries=-1)
    lane.sleep = lambda s: False  # told to stop
    assert lane.step() is False
    assert done == []


# --- shapes ---------------------------------------------------------------------------------------


def test_lambda_record_from_get_records():
    # What boto3's GetRecords gives (datetime, bytes), as DynamoDB Local sends it.
    raw = {
        "eventID": "2b56e0be-6b8d-4fc8-a30a-e0278635ef0b",
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "ddblocal",
        "dynamodb": {
            "ApproximateCreationDateTime": dt.datetime(2026, 12, 4, 20, 36, tzinfo=dt.timezone.utc),
            "Keys": {"sk": {"S": "THREAD"}, "pk": {"S": "THREAD#1"}},
            "NewImage": {"pk": {"S": "THREAD#1"}, "b": {"B": b"\x00\x01"}, "bs": {"BS": [b"\xff"]},
                         "m": {"M": {"x": {"B": b"a"}}}, "n": {"N": "2"}},
            "OldImage": {"pk": {"S": "THREAD#1"}, "n": {"N": "0"}},
            "SequenceNumber": "000000000000000000004",
            "SizeBytes": 89,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    arn = "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/2026-12-04T20:36:36.224"
    out = stream_poller.lambda_record(raw, arn, "eu-west-1")
    recorded = json.loads((ROOT / "events" / "dynamodb-stream-batch.json").read_text())["Records"][0]
    assert list(out) == list(recorded)  # the same fields, in Lambda's order
    assert list(out["dynamodb"]) == [
        "ApproximateCreationDateTime", "Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType"
    ]
    assert out["awsRegion"] == "eu-west-1" and out["eventSourceARN"] == arn
    assert out["dynamodb"]["ApproximateCreationDateTime"] == 1796416560.0
    assert out["dynamodb"]["NewImage"]["b"] == {"B": "AAE="}
    assert out["dynamodb"]["NewImage"]["bs"] == {"BS": ["/w=="]}
    assert out["dynamodb"]["NewImage"]["m"] == {"M": {"x": {"B": "YQ=="}}}
    assert out["dynamodb"]["NewImage"]["n"] == {"N": "2"}
    json.dumps(out)  # plain JSON


def test_scheduled_event_shape():
    ev = stream_poller.scheduled_event("stack-RetryWebhooksFunctionSweep", "eu-west-1", "000000000000",
                                       dt.datetime(2026, 12, 4, 20, 36, 5, 123000, tzinfo=dt.timezone.utc))
    assert set(ev) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert ev["detail-type"] == "Scheduled Event" and ev["source"] == "aws.events" and ev["detail"] == {}
    assert ev["time"] == "2026-12-04T20:36:05Z" and ev["version"] == "0"
    assert ev["resources"] == ["arn:aws:events:eu-west-1:000000000000:rule/stack-RetryWebhooksFunctionSweep"]


def test_template_consumers_and_schedules(template):
    consumers, schedules = stream_poller.functions_from_template(template)
    by_fn = {c.function: c for c in consumers}
    assert set(by_fn) == {"publish-events", "deliver-webhooks"}
    pe, dw = by_fn["publish-events"], by_fn["deliver-webhooks"]
    assert (pe.batch_size, pe.parallelization, pe.max_retries, pe.bisect, pe.report_failures) == (100, 10, 10, True, True)
    assert (dw.batch_size, dw.parallelization, dw.max_retries, dw.bisect, dw.report_failures) == (25, 10, 10, True, True)
    assert pe.starting_position == dw.starting_position == "TRIM_HORIZON"
    assert pe.timeout == 30 and dw.timeout == 30
    assert [(s.function, s.expression) for s in schedules] == [("retry-webhooks", "rate(1 minute)")]
    assert schedules[0].timeout == 70


@pytest.mark.parametrize("expr, secs", [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(2 hours)", 7200),
                                        ("rate(1 day)", 86400), ("cron(0 12 * * ? *)", None)])
def test_rate(expr, secs):
    assert stream_poller.rate_seconds(expr) == secs


def test_checkpoint_file_is_replaced_atomically(tmp_path):
    path = tmp_path / "cp.json"
    cps = stream_poller.Checkpoints(path)
    entry = cps.consumer("A.B", "arn1")
    entry["shards"]["s1"] = {"position": "5", "finished": False, "lanes": {}}
    errors = []

    def writer():
        for _ in range(200):
            cps.save()

    def reader():
        for _ in range(200):
            try:
                if path.exists():
                    json.loads(path.read_text())
            except ValueError as e:  # a torn write
                errors.append(e)

    ts = [threading.Thread(target=writer), threading.Thread(target=reader)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert not errors
    again = stream_poller.Checkpoints(path)
    assert again.consumer("A.B", "arn1")["shards"]["s1"]["position"] == "5"
    # Another stream (the table was recreated): start over.
    assert again.consumer("A.B", "arn2")["shards"] == {}
