"""The poller against a real DynamoDB Local stream (no mock of DynamoDB): what reaches the
functions, checkpoints across restarts (a clean stop and a kill mid-batch), retries given up into
the failure file, the schedule. The functions are pollerkit.FakeFunctions (cargo-lambda's Invoke
API)."""

from __future__ import annotations

import signal
import threading
import time

from pollerkit import client, wait_until


def put(ddb, table: str, pk: str, sk: str, entity: str, **attrs) -> None:
    item = {"pk": {"S": pk}, "sk": {"S": sk}, "entity": {"S": entity}, "text": {"S": "private words"}}
    item.update(attrs)
    ddb.put_item(TableName=table, Item=item)


def thread(ddb, table: str, n: int) -> None:
    put(ddb, table, f"THREAD#{n}", "THREAD", "THREAD", threadId={"N": str(n)})


def keys(records: list[dict]) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]


def test_filtered_records_reach_each_consumer_in_order(poller_factory, functions, table, ddb_endpoint):
    ddb = client("dynamodb", ddb_endpoint)
    # Written before the poller starts: TRIM_HORIZON reads them.
    for n in range(3):
        thread(ddb, table, n)
    put(ddb, table, "AGENT#1", "PROFILE", "AGENT")  # filtered out everywhere
    poller = poller_factory()
    poller.start()
    for n in range(3, 6):
        thread(ddb, table, n)
    for w in range(4):
        for d in range(5):
            put(ddb, table, f"WEBHOOK#{w}", f"DELIVERY#{d}", "DELIVERY", attempts={"N": "0"}, seq={"N": str(d)})
    put(ddb, table, "WEBHOOK#0", "DELIVERY#9", "DELIVERY", attempts={"N": "1"})  # filtered out

    wait_until(lambda: len(functions.records("publish-events")) >= 6, what="the threads")
    wait_until(lambda: len(functions.records("deliver-webhooks")) >= 20, what="the deliveries")
    time.sleep(0.5)  # nothing more arrives
    published = functions.records("publish-events")
    # Each thread is a key of its own: publish-events' lanes may take them in any order.
    assert sorted(keys(published)) == sorted(f"THREAD#{n}" for n in range(6))
    delivered = functions.records("deliver-webhooks")
    assert len(delivered) == 20
    for w in range(4):  # one key's records in order, whatever the lanes
        mine = [r for r in delivered if r["dynamodb"]["Keys"]["pk"]["S"] == f"WEBHOOK#{w}"]
        assert [r["dynamodb"]["NewImage"]["seq"]["N"] for r in mine] == [str(d) for d in range(5)]
    # Lambda's record shape.
    r = published[0]
    assert list(r) == ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN"]
    assert r["eventSource"] == "aws:dynamodb" and r["eventVersion"] == "1.1" and r["eventName"] == "INSERT"
    assert isinstance(r["dynamodb"]["ApproximateCreationDateTime"], float)
    assert r["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert r["eventSourceARN"].startswith("arn:aws:dynamodb:") and f"table/{table}/stream/" in r["eventSourceARN"]
    # Every record once, each with its own sequence number.
    seqs = [int(x["dynamodb"]["SequenceNumber"]) for x in published]
    assert len(set(seqs)) == len(seqs) == 6
    assert poller.stop() < 3
    # The log names consumers and counts, never an item's content.
    log = poller.log.read_text()
    assert "consumer=PublishEventsFunction.TableStream" in log and "records=" in log
    assert "private words" not in log and "THREAD#" not in log


def test_restart_neither_loses_nor_repeats(poller_factory, functions, table, ddb_endpoint):
    ddb = client("dynamodb", ddb_endpoint)
    poller = poller_factory()
    poller.start()
    for n in range(5):
        thread(ddb, table, n)
    wait_until(lambda: len(functions.records("publish-events")) >= 5, what="the first threads")
    assert poller.stop(signal.SIGTERM) < 3
    # Written while it is down.
    for n in range(5, 9):
        thread(ddb, table, n)
    again = poller_factory()
    again.start()
    for n in range(9, 11):
        thread(ddb, table, n)
    wait_until(lambda: len(functions.records("publish-events")) >= 11, what="the later threads")
    time.sleep(0.5)
    assert sorted(keys(functions.records("publish-events"))) == sorted(f"THREAD#{n}" for n in range(11))
    cps = again.checkpoints["consumers"]
    assert set(cps) == {"PublishEventsFunction.TableStream", "DeliverWebhooksFunction.NewDeliveries"}
    again.stop()


def test_kill_mid_batch_sends_that_batch_again(poller_factory, functions, table, ddb_endpoint):
    ddb = client("dynamodb", ddb_endpoint)
    release = threading.Event()
    held: list[list[str]] = []

    def slow_on_thread_3(payload):
        ks = keys(payload["Records"])
        if "THREAD#3" in ks and not release.is_set():
            held.append(ks)
            release.wait(20)
        return 200, {"batchItemFailures": []}

    functions.behaviour["publish-events"] = slow_on_thread_3
    poller = poller_factory()
    poller.start()
    for n in range(3):
        thread(ddb, table, n)
    wait_until(lambda: len(functions.records("publish-events")) >= 3, what="the first threads")
    thread(ddb, table, 3)
    wait_until(lambda: held, what="the batch in flight")
    poller.proc.kill()  # no chance to checkpoint anything
    poller.proc.wait(timeout=10)
    release.set()
    thread(ddb, table, 4)
    again = poller_factory()
    again.start()
    wait_until(lambda: "THREAD#4" in keys(functions.records("publish-events")), what="the thread after the kill")
    time.sleep(0.5)
    got = keys(functions.records("publish-events"))
    # At least once: the batch in flight again, nothing before it again, nothing lost.
    # (Threads are keys of their own, in lanes of their own: compared whatever their order.)
    assert sorted(got) == ["THREAD#0", "THREAD#1", "THREAD#2", "THREAD#3", "THREAD#3", "THREAD#4"]
    again.stop()


def test_retries_end_in_the_failure_file(poller_factory, functions, table, ddb_endpoint):
    ddb = client("dynamodb", ddb_endpoint)

    def refuse_thread_2(payload):
        for r in payload["Records"]:
            if r["dynamodb"]["Keys"]["pk"]["S"] == "THREAD#2":
                return 200, {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]}]}
        return 200, {"batchItemFailures": []}

    functions.behaviour["publish-events"] = refuse_thread_2
    poller = poller_factory()
    poller.start()
    for n in range(4):
        thread(ddb, table, n)
    wait_until(lambda: poller.failures, what="the failure record")
    thread(ddb, table, 9)
    wait_until(lambda: "THREAD#9" in keys(functions.records("publish-events")), what="the thread after it")
    (failure,) = poller.failures
    info = failure["DDBStreamBatchInfo"]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 11  # MaximumRetryAttempts 10
    assert failure["eventSourceMapping"] == "PublishEventsFunction.TableStream"
    assert f"table/{table}/stream/" in info["streamArn"]
    assert int(info["startSequenceNumber"]) <= int(info["endSequenceNumber"])
    tries = [b for b in functions.batches("publish-events") if "THREAD#2" in keys(b)]
    assert len(tries) == 11 and all(keys(b)[0] == "THREAD#2" for b in tries[1:])
    assert "private words" not in poller.failures.__repr__()
    poller.stop()


def test_schedule_invokes_with_a_scheduled_event(poller_factory, functions):
    poller = poller_factory(LOCAL_SCHEDULE_SECONDS="0.2")
    poller.start()
    wait_until(lambda: len(functions.payloads("retry-webhooks")) >= 4, timeout=10, what="scheduled runs")
    started = time.monotonic()
    assert poller.stop() < 3
    assert time.monotonic() - started < 3
    ev = functions.payloads("retry-webhooks")[0]
    assert ev["detail-type"] == "Scheduled Event" and ev["source"] == "aws.events" and ev["detail"] == {}
    assert ev["resources"][0].startswith("arn:aws:events:") and ":rule/" in ev["resources"][0]
    ids = {p["id"] for p in functions.payloads("retry-webhooks")}
    assert len(ids) == len(functions.payloads("retry-webhooks"))


def test_missing_function_holds_its_records(poller_factory, functions, table, ddb_endpoint):
    ddb = client("dynamodb", ddb_endpoint)
    functions.known.discard("publish-events")  # not built yet: cargo-lambda answers 404
    poller = poller_factory()
    poller.start()
    thread(ddb, table, 1)
    wait_until(lambda: "has no function 'publish-events'" in poller.log.read_text(), what="the warning")
    functions.known.add("publish-events")
    wait_until(lambda: functions.records("publish-events"), timeout=10, what="the held record")
    assert keys(functions.records("publish-events")) == ["THREAD#1"]
    assert not poller.failures
    poller.stop()
