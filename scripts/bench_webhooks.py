"""Webhook figures of the local stack (called by scripts/bench.py before the mixed traffic;
BENCH_WEBHOOKS=0 skips it). Figures, never pass/fail.

A receiver on 127.0.0.1 (scripts/webhook_sink.py: answers 200 at once, verifies every request
with `standardwebhooks`) is subscribed to `message.created`. Then:

1. Send → webhook latency: BENCH_WEBHOOK_SENDS (default 300) edna sends to devices (20 SMS devices,
   each already created) at BENCH_WEBHOOK_CONCURRENCY (default 4); for each, the time from the
   send's answer reaching the client to its `message.created` arriving at the receiver (one clock:
   both are in this process). It covers the stream (the poller reads DynamoDB Local's stream
   every ~0.15 s), publish-events, the delivery item's own stream record and deliver-webhooks'
   attempt, each invocation going through cargo-lambda's emulator. Before that, IDLE_SENDS
   sends one at a time, each waiting for its event: the latency of an idle pipeline. The
   poller's log lines give publish-events' batches meanwhile (records, ms).
2. Drain rate: sends until the subscription has BENCH_WEBHOOK_QUEUED (default 1000) deliveries,
   then `POST /api/v1/webhooks/{id}/replay` over all of them: one request makes every one PENDING
   again with no attempt made, so all of them are queued for deliver-webhooks at once (the stream
   brings their changes; publish-events is not involved). Measured at the receiver: deliveries
   per second from the replay request to the last re-delivery (re-deliveries start while the
   replay is still resetting), from the first to the last arrival, and between the 10th and 90th
   percentile of arrivals (the steady rate). One subscription's deliveries share one lane of
   the event source mapping and are attempted one after another: this is the rate one receiver
   gets from one deliver-webhooks path.
3. DynamoDB units per send, from the functions' log lines (`dynamodb_write_units`,
   `dynamodb_read_units`), for the sends of 1. (a subscription exists) and for as many sends to
   the same devices made before subscribing: the send path writes nothing for events, so the two
   should be the same.

Writes docs/performance.md's section between <!-- bench:webhooks:start --> and its end marker.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import percentile, provenance, write_section  # noqa: E402
from webhook_sink import Receiver, check  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:webhooks:start -->", "<!-- bench:webhooks:end -->"
WAIT = 180.0  # seconds any phase waits for its deliveries (bounded)
DEVICES = 20
IDLE_SENDS = 5
INVOKE = re.compile(r"\[stream-poller\] (\S+) invoke .*?function=(\S+) .*?records=(\d+) .*?ms=(\d+)")


def utc(at: datetime.datetime) -> str:
    return at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Sender:
    def __init__(self, api: str, auth: dict) -> None:
        self.api, self.auth = api, auth
        tag = random.randrange(10**6)
        self.devices = [{"channelType": "SMS", "deviceAddress": f"+1555{tag:06d}{n:03d}"} for n in range(DEVICES)]
        self.answered: dict[int, float] = {}  # message id -> time.monotonic() when the answer came
        self.failed = 0
        self.lock = threading.Lock()

    def send(self, n: int, request_id: str) -> int | None:
        body = {"text": f"bench webhook {n}", "clientApplicationDescriptor": self.devices[n % DEVICES]}
        try:
            response = requests.post(self.api + "/api/v1/messages/outgoing-to-device", json=body, timeout=60,
                                     headers={**self.auth, "X-Request-Id": request_id})
        except requests.RequestException:
            response = None
        at = time.monotonic()
        if response is None or response.status_code != 200:
            with self.lock:
                self.failed += 1
            return None
        message = response.json()["id"]
        with self.lock:
            self.answered[message] = at
        return message

    def many(self, count: int, concurrency: int, prefix: str, first: int = 0) -> list[int]:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            ids = list(pool.map(lambda n: self.send(n, f"{prefix}{n:06d}"), range(first, first + count)))
        return [m for m in ids if m is not None]


def created(receiver: Receiver) -> dict[int, float]:
    """message id -> when its message.created first arrived."""
    first: dict[int, float] = {}
    for d in receiver.snapshot():
        if d.type == "message.created" and d.verified and d.message_id not in first:
            first[d.message_id] = d.at
    return first


def wait_for_messages(receiver: Receiver, ids: list[int], what: str) -> bool:
    want = set(ids)
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if want <= set(created(receiver)):
            return True
        time.sleep(0.1)
    print(f"  webhooks: {len(want - set(created(receiver)))} of {len(want)} {what} never arrived "
          f"within {WAIT:.0f} s", file=sys.stderr)
    return False


def units(log: Path, start: int, prefix: str) -> dict:
    """Median write and read units, and the distinct write-unit values, of the request log lines
    whose request id starts with `prefix`."""
    write, read = [], []
    with open(log, errors="replace") as lines:
        lines.seek(start)
        for line in lines:
            at = line.find('{"timestamp"')
            if at < 0 or '"message":"request"' not in line:
                continue
            try:
                entry = json.loads(line[at:])
            except ValueError:
                continue
            if str(entry.get("request_id", "")).startswith(prefix) and entry.get("status") == 200:
                write.append(float(entry.get("dynamodb_write_units", 0.0)))
                read.append(float(entry.get("dynamodb_read_units", 0.0)))
    return {"n": len(write), "wru": statistics.median(write) if write else 0.0,
            "rru": statistics.median(read) if read else 0.0,
            "wru_values": sorted(set(write)), "wru_mean": statistics.mean(write) if write else 0.0}


def invocations(log: Path, start: int, function: str) -> list[tuple[int, int]]:
    """(records, ms) of the poller's stream invocations of `function` logged after `start`."""
    found = []
    with open(log, errors="replace") as lines:
        lines.seek(start)
        for line in lines:
            match = INVOKE.search(line)
            if match and match.group(2) == function:
                found.append((int(match.group(3)), int(match.group(4))))
    return found


def batches(found: list[tuple[int, int]]) -> str:
    if not found:
        return "none logged"
    records, ms = [r for r, _ in found], [m for _, m in found]
    return (f"{len(found)} invocations, {sum(records)} records, median {statistics.median(records):.0f} records "
            f"in {statistics.median(ms):.0f} ms ({sum(ms) / max(sum(records), 1):.1f} ms a record)")


def main() -> None:
    api = os.environ["API_URL"]
    log = Path(os.environ["LOCAL_API_LOG"])
    sends = int(os.environ.get("BENCH_WEBHOOK_SENDS", "300"))
    concurrency = int(os.environ.get("BENCH_WEBHOOK_CONCURRENCY", "4"))
    queued = int(os.environ.get("BENCH_WEBHOOK_QUEUED", "1000"))
    login = requests.post(api + "/api/auth/login", timeout=60,
                          json={"login": "integrator", "password": os.environ["DEMO_PASSWORD"]}).json()
    auth = {"Authorization": login["token"]}
    sender = Sender(api, auth)
    run = f"bwh{random.randrange(10**6):06d}"
    began = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)

    # Every device exists (its first send creates client, device and thread: more units), then
    # the control sends, with no subscription.
    sender.many(DEVICES, concurrency, f"{run}-new-")
    log_start = log.stat().st_size
    sender.many(sends, concurrency, f"{run}-ctl-")

    receiver = Receiver()
    receiver.subscribe(api, auth, events=["message.created"])
    try:
        # A probe: the pipeline has caught up with everything before, and each function is warm.
        probe = sender.many(1, 1, f"{run}-probe-")
        wait_for_messages(receiver, probe, "probe")
        # One send at a time on an idle pipeline, each waiting for its event.
        idle = []
        for n in range(IDLE_SENDS):
            one = sender.many(1, 1, f"{run}-idle-", first=100_000 + n)
            if one and wait_for_messages(receiver, one, "idle send"):
                idle.append((created(receiver)[one[0]] - sender.answered[one[0]]) * 1000)

        # 1. Send -> webhook latency.
        log_measured = log.stat().st_size
        started = time.monotonic()
        measured = sender.many(sends, concurrency, f"{run}-lat-", first=1)
        sent_for = time.monotonic() - started
        complete = wait_for_messages(receiver, measured, "message.created of the measured sends")
        arrival = created(receiver)
        lags = [(arrival[m] - sender.answered[m]) * 1000 for m in measured if m in arrival]
        drained_after = max((arrival[m] for m in measured if m in arrival), default=started) - started
        publish = invocations(log, log_measured, "publish-events")

        # 2. Drain rate: top up to `queued` deliveries, then replay them all at once.
        have = len({d.webhook_id for d in receiver.snapshot()})
        if have < queued:
            more = sender.many(queued - have, max(concurrency, 8), f"{run}-fill-", first=sends + 1)
            wait_for_messages(receiver, more, "message.created of the top-up sends")
        # The replay function's first process starts now (the emulator starts one on first use):
        # an empty window, so the measured replay finds it warm.
        replay = f"{api}/api/v1/webhooks/{receiver.subscription['id']}/replay"
        long_ago = utc(began - datetime.timedelta(days=1))
        requests.post(replay, headers=auth, timeout=60, json={"since": long_ago, "until": long_ago})
        time.sleep(1.0)
        before = len(receiver.snapshot())
        log_drain = log.stat().st_size
        replay_asked = time.monotonic()
        answer = requests.post(replay, headers=auth, timeout=60,
                               json={"since": utc(began), "until": utc(datetime.datetime.now(datetime.timezone.utc))})
        replay_answered = time.monotonic()
        replayed = answer.json().get("replayed", 0) if answer.status_code == 202 else 0
        receiver.wait_for(lambda ds: len(ds) - before >= replayed, WAIT)
        again = receiver.snapshot()[before:]
        times = sorted(d.at for d in again)
        drain = (times[-1] - replay_asked) if times else 0.0
        spread = (times[-1] - times[0]) if len(times) > 1 else 0.0
        lo, hi = (times[len(times) // 10], times[(len(times) * 9) // 10]) if len(times) >= 10 else (0.0, 0.0)
        steady = (len(times) * 8 // 10) / (hi - lo) if hi > lo else 0.0
        first_delay = (times[0] - replay_asked) if times else 0.0
        time.sleep(1.0)
        deliver = invocations(log, log_drain, "deliver-webhooks")
        verdict = check(receiver.snapshot(), set(sender.answered))
    finally:
        receiver.unsubscribe(api, auth)
        receiver.close()

    time.sleep(1.0)  # the last log lines are written
    control, measured_units = units(log, log_start, f"{run}-ctl-"), units(log, log_start, f"{run}-lat-")

    lines = [
        f"Send → `message.created` at the receiver, one send at a time on an idle pipeline: "
        + ", ".join(f"{ms:.0f}" for ms in idle) + " ms.",
        "",
        f"Send → `message.created` at the receiver, {len(lags)} of {len(measured)} sends at concurrency "
        f"{concurrency} ({len(measured) / sent_for:.0f} sends/s): p50 {percentile(lags, 0.5):.0f} ms, "
        f"p90 {percentile(lags, 0.9):.0f} ms, p99 {percentile(lags, 0.99):.0f} ms, "
        f"max {max(lags, default=0):.0f} ms; the last arrived {drained_after:.1f} s after the first send"
        + ("" if complete else " (some never arrived within the wait)")
        + f". publish-events meanwhile: {batches(publish)}.",
        "",
        f"Drain: {replayed} deliveries queued by one replay (its request took "
        f"{(replay_answered - replay_asked) * 1000:.0f} ms; re-deliveries began {first_delay:.2f} s after it was "
        f"sent, while it was still resetting); {len(again)} re-delivered, the last {drain:.1f} s after the replay "
        f"was sent: {len(again) / drain if drain else 0:.0f} deliveries/s from the request, "
        f"{len(again) / spread if spread else 0:.0f}/s from the first to the last arrival, {steady:.0f}/s between "
        f"the 10th and 90th percentile of arrivals. deliver-webhooks meanwhile: {batches(deliver)} (one "
        "subscription: one lane, one invocation at a time, attempts one after another).",
        "",
        f"DynamoDB units per send (`POST outgoing-to-device` to an existing device, medians of the log lines): "
        f"without a subscription {control['wru']:.1f} WRU / {control['rru']:.1f} RRU ({control['n']} sends, "
        f"WRU values {control['wru_values']}), with one {measured_units['wru']:.1f} WRU / "
        f"{measured_units['rru']:.1f} RRU ({measured_units['n']} sends, WRU values {measured_units['wru_values']}).",
        "",
        f"Receiver: {verdict['deliveries']} deliveries, {verdict['unverified']} that did not verify, "
        f"{verdict['repeats']} repeats of a webhook-id (of them {len(verdict['repeats_differing'])} with another "
        f"body, the replay's included), sends failed: {sender.failed}.",
    ]
    print("\nWebhooks")
    print("\n".join("  " + line for line in lines))

    commit, machine = provenance()
    load = os.getloadavg()[0]
    section = "\n".join([
        START, "## Webhooks (scripts/bench)", "",
        f"{datetime.date.today()}, {machine} (load average {load:.1f} at the end), commit `{commit}`; the "
        "optimized profile under cargo-lambda's emulator on DynamoDB Local, the stream read by "
        "scripts/stream_poller.py (which polls it every ~0.15 s and invokes publish-events and "
        "deliver-webhooks through the emulator), so every hop includes both emulators' overheads. One "
        "subscription to `message.created`, its receiver on 127.0.0.1 answering 200 at once and verifying "
        "every delivery with `standardwebhooks`. The latency is from a send's answer at the client to its "
        "event's arrival at the receiver (one process, one clock). The drain queues every delivery of the "
        "subscription at once with one replay (each made PENDING with no attempt, so the stream hands "
        "all of them to deliver-webhooks) and times the re-deliveries at the receiver. Units per send "
        "are the functions' own log figures.", "",
        *lines, END,
    ])
    write_section(PAGE, START, END, section)
    print(f"\n  wrote {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
