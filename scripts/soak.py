"""The soak test's driver (run by scripts/soak, which starts the stack it needs and says how).

Mixed traffic at a fixed concurrency over every endpoint: the bench's rounds (scripts/bench_load.py,
`Mix`) plus edna `outgoing` (by internal client id and by thread), SuperOffice session creation and
reads, thread closing and logins. Every message and session sent carries a unique marker in its
text (or alias); every other send also carries an `Idempotency-Key` and, like a careful client,
is sent again with it after a 503 (its first answer is the one the checks below judge, its final
answer must then agree with the table too). Halfway through, DynamoDB Local's JVM is frozen (SIGSTOP) for --freeze seconds,
then thawed (SIGCONT). A quarter of the way in, the stream poller (LOCAL_API_POLLER_PID of the
stack's state file) is killed with SIGKILL; scripts/local-api's supervisor starts it again, and
it resumes after its checkpoints. Afterwards the table is read back whole and compared with the
answers.

Webhooks (issue 14): before the traffic, a receiver on 127.0.0.1 (scripts/webhook_sink.py: a
threaded http.server answering 200, verifying every request with `standardwebhooks`) is
subscribed to every event. After the traffic the soak waits (WEBHOOK_WAIT s, longer while events
still arrive, at most WEBHOOK_WAIT_MAX s) until it has a `message.created` for every message the
table holds, then judges what it got.

Fails (exit 1) unless:
  - no 500, no answer that is not JSON under a JSON content type, no request left unanswered;
  - every answer came within the functions' Timeout (template.yaml), and every 503 has Retry-After;
  - no send lost (answered 2xx, not stored), duplicated (stored twice) or stored although its
    answer said it failed (a 4xx, or a 503 other than OUTCOME_UNKNOWN: that one says the write
    was sent and not confirmed before the deadline, and is counted apart, stored or not);
    every stored send has the ids its answer gave; each thread's
    messageCount equals the messages stored under it;
  - recovery <= 2 s: from the thaw to the start of the first request after which every request
    succeeded (status < 500);
  - the poller was killed and a new one ran within POLLER_BACK s;
  - webhooks: every stored message's `message.created` arrived (none lost), every delivery
    verified, a repeat only of a webhook-id already seen and with an identical body (counted),
    one `message.created` event per message, no event for a message or thread not stored.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import itertools
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import Mix, percentile, provenance, write_section  # noqa: E402  (the bench's traffic, not a copy of it)
from webhook_sink import Receiver, check as check_webhooks  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "performance.md"
START, END = "<!-- soak:start -->", "<!-- soak:end -->"
MARKER = re.compile(r"soak-[0-9a-f]{6}-\d{6}")
RECOVERY_LIMIT = 2.0  # seconds from the thaw (issue 8)
CLIENT_TIMEOUT = 30.0  # seconds; a request not answered by then counts as unanswered
NOWHERE = 2_000_000_000  # an id nobody has (int32, like every id)
STALL = 90.0  # seconds without any answer (a freeze lasts less) after which the run stops: failed
RETRY_FOR = 90.0  # seconds a keyed send is retried after a 503 (the key's claim has a 30 s lease)
WEBHOOK_WAIT = 120.0  # seconds after the traffic for every stored message's message.created...
WEBHOOK_WAIT_MAX = 600.0  # ...or longer while they still arrive (a full run's backlog), never more
POLLER_BACK = 60.0  # seconds for scripts/local-api's supervisor to run a killed poller again


@dataclass
class Record:
    name: str
    started: float
    ended: float = 0.0
    status: int | None = None  # None: no answer
    json_ok: bool = False
    retry_after: bool = False
    marker: str | None = None
    request_id: str = ""
    answer: object = None
    function_ms: float | None = None  # latency_ms of the function's log line for this request
    keyed: bool = False  # sent with an Idempotency-Key, and retried with it after a 503
    retries: int = 0
    final_status: int | None = None  # after the retries (the first answer's when none)
    final_answer: object = None
    final_replayed: bool = False  # the final answer was the key's stored one (Idempotent-Replayed)

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 500

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def outcome_unknown(self) -> bool:
        """A 503 saying the write was sent and not confirmed in time: it may be stored (edna
        OUTCOME_UNKNOWN, SuperOffice OutcomeUnknown). Any other 503 says nothing was stored."""
        answer = self.answer if isinstance(self.answer, dict) else {}
        return self.status == 503 and (answer.get("code") == "OUTCOME_UNKNOWN"
                                       or answer.get("ErrorType") == "OutcomeUnknown")


@dataclass
class Soak:
    api: str
    auth: dict
    login_body: dict
    records: list[Record] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    sequence: itertools.count = field(default_factory=itertools.count)
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    last_answer: float = field(default_factory=time.monotonic)

    def text(self, label: str, n: int) -> str:
        return f"{label} {n} soak-{self.run_id}-{next(self.sequence):06d}"

    def call(self, name: str, method: str, path: str, **kwargs) -> dict | list | None:
        body = kwargs.get("json") or {}
        found = MARKER.search(" ".join(str(body.get(k, "")) for k in ("text", "Message", "CustomerAlias")))
        record = Record(name, time.monotonic(), marker=found.group(0) if found else None)
        # Every request names itself, so that the function's log line can be found.
        record.request_id = record.marker or f"soak-{self.run_id}-q{next(self.sequence):06d}"
        headers = dict(self.auth) if kwargs.pop("authorized", True) else {}
        headers["X-Request-Id"] = record.request_id
        # Every other send carries an Idempotency-Key (its marker) and, like a careful client,
        # is sent again with it after a 503 until it gets another answer.
        record.keyed = bool(record.marker) and int(record.marker[-1]) % 2 == 0
        if record.keyed:
            headers["Idempotency-Key"] = record.marker
        try:
            response = requests.request(method, self.api + path, headers=headers, timeout=CLIENT_TIMEOUT, **kwargs)
        except requests.RequestException:
            response = None
        record.ended = time.monotonic()
        if response is not None:
            self.last_answer = record.ended
            record.status = response.status_code
            record.retry_after = "retry-after" in response.headers
            try:
                record.answer = response.json()
                record.json_ok = "json" in response.headers.get("content-type", "").lower()
            except ValueError:
                record.json_ok = False
        with self.lock:
            self.records.append(record)
        record.final_status, record.final_answer = record.status, record.answer
        if record.keyed and record.status in (None, 503):
            self.retry(record, method, path, headers, kwargs)
        return record.final_answer if record.final_status in (200, 201) else None

    def retry(self, record: Record, method: str, path: str, headers: dict, kwargs: dict) -> None:
        """Sends a keyed send again (same key and body) while the answer is 503, no answer, or 409
        because the first request's claim on the key is still held (its lease is 30 s)."""
        give_up = time.monotonic() + RETRY_FOR
        while time.monotonic() < give_up:
            time.sleep(1.0)  # Retry-After: 1
            headers = {**headers, "X-Request-Id": f"{record.request_id}-r{record.retries + 1}"}
            record.retries += 1
            try:
                response = requests.request(method, self.api + path, headers=headers, timeout=CLIENT_TIMEOUT, **kwargs)
            except requests.RequestException:
                continue
            record.final_status = response.status_code
            record.final_replayed = response.headers.get("idempotent-replayed") == "true"
            try:
                record.final_answer = response.json()
            except ValueError:
                record.final_answer = None
            answer = record.final_answer if isinstance(record.final_answer, dict) else {}
            claim_held = response.status_code == 409 and (
                answer.get("code") == "IDEMPOTENCY_KEY_IN_PROGRESS" or answer.get("ErrorType") == "Conflict")
            if response.status_code != 503 and not claim_held:
                return


class SoakMix(Mix):
    """The bench's round, then one more call: edna `outgoing` by client or by thread, a
    SuperOffice session read or creation, a thread closed, or a login."""

    def __init__(self, soak: Soak, clients: int) -> None:
        super().__init__(soak.call, clients, text=soak.text)
        self.soak = soak

    def round(self, n: int) -> None:
        super().round(n)
        pick = random.randrange(self.clients)
        thread, client = self.session_of.get(pick), self.client_of.get(pick)
        extra = n % 10
        if extra in (0, 5) and client:
            self.call("POST outgoing", "POST", "/api/v1/messages/outgoing",
                      json={"text": self.text("out", n), "threadsClientId": client})
        elif extra == 1 and thread:
            self.call("POST outgoing", "POST", "/api/v1/messages/outgoing",
                      json={"text": self.text("out", n), "threadId": thread})
        elif extra in (2, 7) and thread:
            self.call("GET ChatSession/{id}", "GET", f"/api/v1/ChatSession/{thread}")
        elif extra == 3:
            self.call("POST ChatSession", "POST", "/api/v1/ChatSession",
                      json={"CustomerAlias": self.text("session", n)})
        elif extra == 4 and thread and n % 20 == 4:
            self.call("POST threads/{id}/close", "POST", f"/api/v1/threads/{thread}/close")
        elif extra == 6 and n % 30 == 6:
            self.call("POST auth/login", "POST", "/api/auth/login", json=self.soak.login_body, authorized=False)


# --- processes ------------------------------------------------------------------------------------

def check_java(pid: int) -> None:
    comm = Path(f"/proc/{pid}/comm").read_text().strip()
    if comm != "java":
        sys.exit(f"soak: pid {pid} is {comm!r}, not DynamoDB Local's JVM: freezing it would freeze nothing")


def function_processes(root: int, names: list[str]) -> collections.Counter[str]:
    """Function processes per function under `root` (the emulator; other stacks run the same binaries)."""
    children: dict[int, list[tuple[int, str]]] = collections.defaultdict(list)
    ps = subprocess.run(["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True).stdout
    for line in ps.splitlines():
        pid, ppid, *args = line.split(None, 2)
        children[int(ppid)].append((int(pid), args[0] if args else ""))
    counts: collections.Counter[str] = collections.Counter()
    todo = [root]
    while todo:
        for pid, args in children.pop(todo.pop(), []):
            todo.append(pid)
            name = Path(args.split(" ", 1)[0]).name
            if name in names:
                counts[name] += 1
    return counts


WARM = {  # function -> a request that reads the table and writes nothing
    "login": ("POST", "/api/auth/login", None),
    "send-outgoing": ("POST", "/api/v1/messages/outgoing", {"text": "warm-up", "threadsClientId": NOWHERE}),
    "send-outgoing-to-device": ("POST", "/api/v1/messages/outgoing-to-device",
                                {"text": "warm-up", "clientApplicationDescriptor":
                                 {"channelType": "SMS", "deviceAddress": "+15550000000", "clientId": "soak-nobody"}}),
    "get-thread": ("GET", f"/api/v1/threads/{NOWHERE}", None),
    "list-thread-messages": ("GET", f"/api/v1/threads/{NOWHERE}/messages", None),
    "close-thread": ("POST", f"/api/v1/threads/{NOWHERE}/close", None),
    "create-chat-session": ("POST", "/api/v1/ChatSession", {"CustomerId": NOWHERE}),
    "get-chat-session": ("GET", f"/api/v1/ChatSession/{NOWHERE}", None),
    "post-chat-message": ("POST", f"/api/v1/ChatSession/{NOWHERE}/Messages", {"Message": "warm-up"}),
    "list-chat-messages": ("GET", f"/api/v1/ChatSession/{NOWHERE}/Messages", None),
}


def prespawn(soak: Soak, pid: int, instances: int, emulator: int) -> collections.Counter[str]:
    """Start every function's full pool of processes before the measured phase.

    cargo-lambda's emulator starts a function's processes lazily (`cargo run`, one when a request
    waits and none is idle) and may answer its own problem-JSON 500 while it does; under a frozen
    database every process is busy, so the measured freeze would start new ones. So: freeze the
    database, send `instances` requests to every function at once (each holds a process until
    its 503), thaw. Those answers are not counted."""
    def one(spec: tuple) -> None:
        method, path, body = spec
        login = path.endswith("/login")
        try:
            requests.request(method, soak.api + path, timeout=CLIENT_TIMEOUT,
                             json=soak.login_body if login else body, headers={} if login else soak.auth)
        except requests.RequestException:
            pass

    # Up to twice as many requests as processes, so the queue stays long enough for the slowest to
    # start, but never more than 90 at once: past 100 waiting requests the emulator stops answering.
    each = min(2 * instances, max(instances, 90 // len(WARM)))
    work = [spec for spec in WARM.values() for _ in range(each)]
    counts: collections.Counter[str] = collections.Counter()
    for attempt in range(3):
        before = counts
        os.kill(pid, signal.SIGSTOP)
        try:
            with ThreadPoolExecutor(max_workers=len(work)) as pool:
                list(pool.map(one, work))
        finally:
            os.kill(pid, signal.SIGCONT)
        # A process being started is a `cargo run` (which then execs the function) until cargo has
        # checked the build: that waits for cargo's lock, and rebuilds when the sources changed.
        seen, steady = counts, 0
        for _ in range(600):  # bounded: 300 s, or 10 s without a new process and none starting
            counts = function_processes(emulator, [*WARM, "cargo"])
            starting = counts.pop("cargo", 0)
            if all(counts[name] >= instances for name in WARM):
                return counts
            steady = steady + 1 if counts == seen and not starting else 0
            seen = counts
            if steady >= 20:
                break
            time.sleep(0.5)
        if counts == before:
            break  # the missing ones are still being built by `cargo run`; they count as started
        print(f"  warm-up {attempt + 1}: {dict(sorted(counts.items()))}; again", file=sys.stderr)
    return counts


def wait_until_served(soak: Soak) -> None:
    for _ in range(120):  # bounded: 60 s
        try:
            if requests.get(soak.api + f"/api/v1/threads/{NOWHERE}", headers=soak.auth, timeout=5).status_code == 404:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    sys.exit("soak: the API did not serve again after the warm-up")


def function_latencies(log: Path) -> dict[str, float]:
    """request id -> latency_ms of the function's log line (one JSON line per request)."""
    latencies = {}
    for line in log.read_text(errors="replace").splitlines():
        if '"message":"request"' not in line:
            continue
        try:
            entry = json.loads(line[line.index("{"):])
        except ValueError:
            continue
        if "request_id" in entry and "latency_ms" in entry:
            latencies[entry["request_id"]] = float(entry["latency_ms"])
    return latencies


# --- the measured phase ----------------------------------------------------------------------------

def state_value(state: Path, name: str) -> str:
    for line in state.read_text().splitlines() if state.exists() else []:
        if line.startswith(name + "="):
            return line.split("=", 1)[1].strip("'\"")
    return ""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A zombie is not alive: its parent (the supervisor) has not reaped it yet.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def kill_poller(state: Path, times: dict) -> None:
    """SIGKILL the stack's stream poller, then wait (bounded) until its supervisor has started
    another one and named it in the state file."""
    old = int(state_value(state, "LOCAL_API_POLLER_PID") or 0)
    cmdline = Path(f"/proc/{old}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace") if old else ""
    if "stream_poller.py" not in cmdline:
        times["poller_note"] = f"no stream poller to kill (LOCAL_API_POLLER_PID={old or 'empty'})"
        return
    os.kill(old, signal.SIGKILL)
    times["poller_killed"] = time.monotonic()
    for _ in range(int(POLLER_BACK * 10)):  # bounded
        new = int(state_value(state, "LOCAL_API_POLLER_PID") or 0)
        if new and new != old and alive(new):
            times["poller_back"] = time.monotonic()
            times["poller_pids"] = (old, new)
            return
        time.sleep(0.1)
    times["poller_note"] = f"no new poller within {POLLER_BACK:.0f} s of killing {old}"


def run(soak: Soak, mix: SoakMix, pid: int, total: int, freeze: float, concurrency: int,
        state: Path | None = None) -> dict:
    rounds = itertools.count()
    times: dict = {}

    def worker() -> None:
        while len(soak.records) < total:
            if time.monotonic() - soak.last_answer > STALL:
                times["stalled"] = time.monotonic()
                return
            mix.round(next(rounds))

    def freezer() -> None:
        for _ in range(1_000_000):  # bounded; the workers reach half way long before
            if len(soak.records) >= total // 2:
                break
            if "stalled" in times:
                times["freeze"] = times["thaw"] = time.monotonic()
                return
            time.sleep(0.02)
        os.kill(pid, signal.SIGSTOP)
        times["freeze"] = time.monotonic()
        try:
            time.sleep(freeze)
        finally:
            os.kill(pid, signal.SIGCONT)
            times["thaw"] = time.monotonic()

    def poller_killer() -> None:
        for _ in range(1_000_000):  # bounded; a quarter of the way comes long before
            if len(soak.records) >= total // 4 or "stalled" in times:
                break
            time.sleep(0.02)
        try:
            kill_poller(state, times)
        except OSError as e:
            times["poller_note"] = f"could not kill the poller: {e}"

    times["start"] = time.monotonic()
    stopper = threading.Thread(target=freezer, daemon=True)
    stopper.start()
    killer = threading.Thread(target=poller_killer, daemon=True)
    if state is not None:
        killer.start()
    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for future in [pool.submit(worker) for _ in range(concurrency)]:
                future.result()
    finally:
        stopper.join()  # it always thaws
        if killer.is_alive():
            killer.join(POLLER_BACK + 5)
    times["end"] = time.monotonic()
    return times


# --- reading the table back ------------------------------------------------------------------------

def read_table(table: str, endpoint: str) -> dict:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")
    messages: dict[str, list[tuple[int, int]]] = collections.defaultdict(list)  # marker -> (thread, message)
    message_ids: set[int] = set()  # every message, marked or not
    per_thread: collections.Counter[int] = collections.Counter()
    threads: dict[int, dict] = {}
    clients: dict[str, list[int]] = collections.defaultdict(list)  # marker in the name -> client ids
    kwargs: dict = {"TableName": table, "ConsistentRead": True}
    for _ in range(1_000_000):  # bounded: ends at the last page
        page = dynamodb.scan(**kwargs)
        for item in page["Items"]:
            pk, sk = item["pk"]["S"], item["sk"]["S"]
            if pk.startswith("THREAD#") and sk.startswith("MSG#"):
                thread = int(pk.split("#", 1)[1])
                per_thread[thread] += 1
                if "messageId" in item:
                    message_ids.add(int(item["messageId"]["N"]))
                found = MARKER.search(item.get("text", {}).get("S", ""))
                if found:
                    messages[found.group(0)].append((thread, int(item["messageId"]["N"])))
            elif pk.startswith("THREAD#") and sk == "THREAD":
                threads[int(item["threadId"]["N"])] = {"clientId": int(item["clientId"]["N"]),
                                                       "messageCount": int(item.get("messageCount", {}).get("N", "0"))}
            elif pk.startswith("CLIENT#") and sk == "PROFILE":
                found = MARKER.search(item.get("displayName", {}).get("S", ""))
                if found:
                    clients[found.group(0)].append(int(item["clientId"]["N"]))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return {"messages": messages, "per_thread": per_thread, "threads": threads, "clients": clients,
            "message_ids": message_ids}


def ids_differ(r: Record, answer: dict, copies: list, stored: dict) -> bool:
    """Whether a 2xx answer names other ids than the one stored copy."""
    if r.name == "POST ChatSession":
        return stored["threads"].get(answer.get("ChatSessionId"), {}).get("clientId") not in copies
    said = ((answer.get("ChatSessionId"), answer.get("ChatMessageId")) if "ChatMessageId" in answer
            else (answer.get("threadId"), answer.get("id")))
    return tuple(copies[0]) != said


def compare(records: list[Record], stored: dict) -> dict:
    lost, duplicated, phantom, mismatched, retried, retried_wrong = [], [], [], [], [], []
    unknown_stored, unknown_not_stored = [], []
    sent = set()
    for r in records:
        if r.marker is None:
            continue
        sent.add(r.marker)
        # A session is stored as its new client, named with the marker; a message as itself.
        copies = (stored["clients"] if r.name == "POST ChatSession" else stored["messages"]).get(r.marker, [])
        accepted = r.status in (200, 201)
        if accepted and len(copies) == 1 and ids_differ(r, r.answer, copies, stored):
            mismatched.append(r.marker)
        if accepted and not copies:
            lost.append(r.marker)
        if len(copies) > 1:
            duplicated.append(r.marker)
        # A keyed send whose retry stored it afresh (not a replay of the key's record) was stored
        # by that retry, not by the request that was answered failed.
        stored_by_retry = r.final_status in (200, 201) and not r.final_replayed and r.retries > 0
        if r.outcome_unknown:
            (unknown_stored if copies and not stored_by_retry else unknown_not_stored).append(r.marker)
        elif not accepted and copies and not stored_by_retry:
            phantom.append(r.marker)
        if r.retries:
            # What the client finally holds must be the truth: 2xx with the stored copy's ids,
            # or a failure and nothing stored.
            retried.append(r.marker)
            final_ok = r.final_status in (200, 201)
            if (final_ok and (len(copies) != 1 or ids_differ(r, r.final_answer, copies, stored))) or (
                    not final_ok and copies):
                retried_wrong.append(r.marker)
    unknown = (set(stored["messages"]) | set(stored["clients"])) - sent
    miscounted = [t for t, th in stored["threads"].items() if th["messageCount"] != stored["per_thread"].get(t, 0)]
    return {"lost": lost, "duplicated": duplicated, "phantom": phantom, "mismatched": mismatched,
            "unknown_stored": unknown_stored, "unknown_not_stored": unknown_not_stored,
            "retried": retried, "retried_wrong": retried_wrong, "unknown": sorted(unknown), "miscounted": miscounted,
            "messages": sum(len(v) for v in stored["messages"].values()), "threads": len(stored["threads"])}


# --- the report --------------------------------------------------------------------------------------

def report(records: list[Record], times: dict, result: dict, limit: float, args) -> tuple[list[str], bool]:
    thaw, freeze = times["thaw"], times["freeze"]
    by_start = sorted(records, key=lambda r: r.started)
    failures = [i for i, r in enumerate(by_start) if not r.ok]
    if not failures:
        recovery, recovery_note = 0.0, "no request failed"
    elif failures[-1] + 1 < len(by_start):
        first_good = by_start[failures[-1] + 1]
        recovery = first_good.started - thaw
        recovery_note = (f"the last failed request started at thaw {by_start[failures[-1]].started - thaw:+.2f} s "
                         f"and was answered at thaw {by_start[failures[-1]].ended - thaw:+.2f} s")
    else:
        recovery, recovery_note = float("inf"), "the last request failed"
    recovery_shown = max(recovery, 0.0)

    statuses = collections.Counter(r.status if r.status is not None else "no answer" for r in records)
    served_500 = sum(1 for r in records if r.status is not None and r.status >= 500 and r.status != 503)
    not_json = sum(1 for r in records if r.status is not None and not r.json_ok)
    unanswered = statuses.get("no answer", 0)
    # The function's own time (its log line): what Lambda holds against the Timeout. The client's
    # time adds the emulator's queue when every process of a function is busy (Lambda would start
    # another); it is shown, and stands in only for an answer without a log line.
    answered = [r for r in records if r.status is not None]
    took = lambda r: r.function_ms / 1000 if r.function_ms is not None else r.seconds  # noqa: E731
    slow = [r for r in answered if took(r) > limit]
    unlogged = sum(1 for r in answered if r.function_ms is None)
    max_503 = max((took(r) for r in answered if r.status == 503), default=0.0)
    max_503_client = max((r.seconds for r in answered if r.status == 503), default=0.0)
    max_any = max((took(r) for r in answered), default=0.0)
    no_retry_after = sum(1 for r in records if r.status == 503 and not r.retry_after)
    elapsed = times["end"] - times["start"]
    # A send answered before the thaw could not learn its outcome: its transaction, sent just
    # before the freeze, waited in the frozen JVM's socket and was applied at the thaw.
    phantoms = set(result["phantom"])
    frozen_phantoms = sum(1 for r in records if r.marker in phantoms and r.ended < thaw)

    utc = lambda t: datetime.datetime.fromtimestamp(t - time.monotonic() + time.time(),  # noqa: E731
                                                    datetime.timezone.utc).strftime("%H:%M:%S.%f")[:-3]
    lines = [f"{len(records)} requests at concurrency {args.concurrency} in {elapsed:.1f} s: "
             f"{len(records) / elapsed:.0f} requests/s; DynamoDB Local frozen {thaw - freeze:.1f} s "
             f"from {freeze - times['start']:.1f} s in ({utc(freeze)} to {utc(thaw)} UTC)",
             "",
             "| endpoint | requests | 2xx | 4xx | 503 | 500 | not JSON / no answer | p50 ms | p99 ms | max ms |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    names = sorted({r.name for r in records})
    for name in names + ["all"]:
        rows = [r for r in records if name in ("all", r.name)]
        ms = [r.seconds * 1000 for r in rows if r.status is not None]
        count = lambda test: sum(1 for r in rows if r.status is not None and test(r.status))  # noqa: E731
        bad = sum(1 for r in rows if r.status is None or not r.json_ok)
        label = f"**{name}**" if name == "all" else name
        lines.append(f"| {label} | {len(rows)} | {count(lambda s: 200 <= s < 300)} | {count(lambda s: 400 <= s < 500)} | "
                     f"{count(lambda s: s == 503)} | {count(lambda s: s == 500)} | {bad} | "
                     f"{percentile(ms, 0.5):.0f} | {percentile(ms, 0.99):.0f} | {max(ms, default=0):.0f} |")
    lines += ["", "Statuses: " + ", ".join(f"{k} × {v}" for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0])))]
    checks = [
        ("500s and other 5xx but 503", served_500, served_500 == 0),
        ("answers not JSON (body or content type)", not_json, not_json == 0),
        ("requests not answered within 30 s", unanswered, unanswered == 0),
        (f"answers later than the function Timeout ({limit:g} s) in the function; slowest {max_any:.2f} s, "
         f"slowest 503 {max_503:.2f} s", len(slow), not slow),
        ("503s without Retry-After", no_retry_after, no_retry_after == 0),
        ("lost (answered 2xx, not stored)", len(result["lost"]), not result["lost"]),
        ("duplicated (stored more than once)", len(result["duplicated"]), not result["duplicated"]),
        (f"stored but answered failed: a 4xx or a 503 other than OUTCOME_UNKNOWN ({frozen_phantoms} answered "
         "while the database was still frozen)",
         len(result["phantom"]), not result["phantom"]),
        ("stored with other ids than answered", len(result["mismatched"]), not result["mismatched"]),
        (f"answered 503 OUTCOME_UNKNOWN (sent, not confirmed before the deadline; may be stored): stored "
         f"{len(result['unknown_stored'])}, not stored {len(result['unknown_not_stored'])}",
         len(result["unknown_stored"]) + len(result["unknown_not_stored"]), True),
        (f"keyed sends retried after a 503 ({len(result['retried'])}) whose final answer disagrees with the table",
         len(result["retried_wrong"]), not result["retried_wrong"]),
        ("threads whose messageCount differs from their messages", len(result["miscounted"]), not result["miscounted"]),
        ("stored markers nobody sent", len(result["unknown"]), not result["unknown"]),
        (f"recovery after the thaw, s (limit {RECOVERY_LIMIT:.0f})", f"{recovery_shown:.2f}", recovery <= RECOVERY_LIMIT),
        (f"runs stopped because nothing was answered for {STALL:.0f} s", int("stalled" in times), "stalled" not in times),
    ]
    lines += ["", "| check | value | |", "|---|--:|---|"]
    lines += [f"| {what} | {value} | {'ok' if good else '**FAIL**'} |" for what, value, good in checks]
    lines += ["", f"Read back: {result['threads']} threads, {result['messages']} marked messages; "
              f"{sum(1 for r in records if r.marker)} marked sends. Recovery = thaw → start of the first request "
              f"after which every request succeeded (status < 500): {recovery:+.2f} s ({recovery_note}); "
              f"503s: {statuses.get(503, 0)}, the slowest {max_503:.2f} s in the function, {max_503_client:.2f} s "
              f"at the client (which includes waiting in the emulator for a free process); answers without a "
              f"function log line: {unlogged}.",
              "", f"Every other send carried an Idempotency-Key and was sent again with it after a 503: "
              f"{len(result['retried'])} were, final answers "
              + (", ".join(f"{k} × {v}" for k, v in sorted(collections.Counter(
                  r.final_status for r in records if r.retries).items(), key=lambda kv: str(kv[0]))) or "none")
              + f"; of the {len(result['phantom'])} stored but answered failed, "
              f"{sum(1 for r in records if r.marker in phantoms and r.retries)} were keyed, and their retry "
              "got the stored message (the check above)."]
    return lines, all(good for _, _, good in checks)


def wait_for_webhooks(receiver: Receiver, stored: set[int]) -> float:
    """Waits until every stored message's message.created has arrived: at most WEBHOOK_WAIT s,
    or up to WEBHOOK_WAIT_MAX s while some still arrive (within the last 10 s); then a little
    longer for stragglers. Returns how long it waited for the last one."""
    began = time.monotonic()
    shown = progress = began
    missing_before = len(stored) + 1
    while True:
        arrived = {d.message_id for d in receiver.snapshot() if d.type == "message.created" and d.verified}
        missing = len(stored - arrived)
        now = time.monotonic()
        if missing < missing_before:
            missing_before, progress = missing, now
        if not missing or now - began > WEBHOOK_WAIT_MAX or (now - began > WEBHOOK_WAIT and now - progress > 10):
            break
        if now - shown >= 10:
            print(f"  webhooks: {missing} of {len(stored)} messages' message.created still to come "
                  f"({now - began:.0f} s)", file=sys.stderr)
            shown = now
        time.sleep(0.25)
    waited = time.monotonic() - began
    time.sleep(2.0)  # repeats or stray events still on their way are judged too
    return waited


def webhook_report(receiver: Receiver, records: list[Record], stored: dict, times: dict,
                   waited: float) -> tuple[list[str], bool, dict]:
    deliveries = receiver.snapshot()
    result = check_webhooks(deliveries, stored["message_ids"], set(stored["threads"]))
    # Send answered -> its message.created arrived (the first arrival of that event).
    arrival: dict[int, float] = {}
    for d in deliveries:
        if d.type == "message.created" and d.verified and d.message_id not in arrival:
            arrival[d.message_id] = d.at
    lags = []
    for r in records:
        if r.marker and r.status in (200, 201) and isinstance(r.answer, dict):
            message = r.answer.get("id") if "threadId" in r.answer else r.answer.get("ChatMessageId")
            if message in arrival:
                lags.append((arrival[message] - r.ended) * 1000)
    back = times.get("poller_back", 0.0) - times.get("poller_killed", 0.0) if "poller_back" in times else None
    killed_at = times["poller_killed"] - times["start"] if "poller_killed" in times else None
    lines = ["", "Webhooks: one subscription (every event type) to a receiver on 127.0.0.1 that answers 200 "
             "and verifies every request with `standardwebhooks`. "
             + (f"The stream poller was killed (SIGKILL) {killed_at:.1f} s in and ran again (pid "
                f"{times['poller_pids'][0]} → {times['poller_pids'][1]}) {back:.1f} s later."
                if back is not None else f"The stream poller was not restarted: {times.get('poller_note', '?')}."),
             f"{result['deliveries']} deliveries of {result['events']} events ("
             + ", ".join(f"{k} × {v}" for k, v in result["by_type"].items())
             + f"); the last stored message's message.created came {waited:.1f} s after the traffic; "
             f"send answered → message.created arrived, ms: p50 {percentile(lags, 0.5):.0f}, "
             f"p99 {percentile(lags, 0.99):.0f}, max {max(lags, default=0):.0f} ({len(lags)} sends)."]
    checks = [
        (f"stream poller killed and running again within {POLLER_BACK:.0f} s, s",
         f"{back:.1f}" if back is not None else "no", back is not None),
        (f"stored messages ({len(stored['message_ids'])}) whose message.created never arrived (waited "
         f"{WEBHOOK_WAIT:.0f} s after the traffic, longer while they came)", len(result["missing"]),
         not result["missing"]),
        ("deliveries that did not verify (standardwebhooks)", result["unverified"], not result["unverified"]),
        ("re-deliveries of a webhook-id already received (at least once: allowed)", result["repeats"], True),
        ("re-deliveries whose body differs from the first", len(result["repeats_differing"]),
         not result["repeats_differing"]),
        ("messages with more than one message.created event id", result["two_events_one_message"],
         not result["two_events_one_message"]),
        ("events for a message or thread that was not stored",
         len(result["unknown_messages"]) + len(result["unknown_threads"]),
         not result["unknown_messages"] and not result["unknown_threads"]),
    ]
    lines += ["", "| webhook check | value | |", "|---|--:|---|"]
    lines += [f"| {what} | {value} | {'ok' if good else '**FAIL**'} |" for what, value, good in checks]
    return lines, all(good for _, _, good in checks), result


def write_docs(lines: list[str], args, ci_seconds: float) -> None:
    commit, machine = provenance()
    load = os.getloadavg()[0]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = "\n".join([
        START, "## Soak under a frozen database (scripts/soak)", "",
        f"{when}, {machine} (load average {load:.1f} at the end), commit `{commit}`: "
        f"`scripts/soak --requests {args.requests} --freeze {args.freeze:g}` ({ci_seconds:.0f} s in all). Debug "
        f"binaries under cargo-lambda's emulator ({args.instances} processes per function), on DynamoDB "
        "Local, whose JVM is stopped with SIGSTOP half way through and resumed with SIGCONT; a quarter "
        "of the way through, the stream poller is killed (SIGKILL) and the stack's supervisor starts it "
        "again; then the table is read back whole and compared with every answer, and every webhook a "
        "receiver on 127.0.0.1 got is checked against it. The emulator starts a function's "
        "processes lazily and answers its own problem-JSON 500 while it does, so every process is started "
        "before the measured phase (a warm-up that freezes the database and sends each function as many "
        "requests as it has processes; those answers are not counted), and the emulator starts none "
        "after. Latencies are the client's (they include waiting in the emulator for a free process, "
        "which Lambda would not make a request do); the Timeout check uses the function's own "
        "`latency_ms` from its log line.", "",
        *lines, END,
    ])
    write_section(PAGE, START, END, section)
    print(f"\n  wrote {PAGE.relative_to(ROOT)}")


def main() -> int:
    began = time.monotonic()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--freeze", type=float, required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--instances", type=int, default=8)
    parser.add_argument("--timeout", type=float, required=True, help="the functions' Timeout, s")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    api, password = os.environ["API_URL"], os.environ["DEMO_PASSWORD"]
    pid = int(os.environ["SOAK_FREEZE_PID"])
    check_java(pid)
    login_body = {"login": "integrator", "password": password}
    token = None
    for _ in range(10):  # bounded: the login function's first process may wait for cargo's lock
        try:
            token = requests.post(api + "/api/auth/login", json=login_body, timeout=CLIENT_TIMEOUT).json()["token"]
            break
        except (requests.RequestException, ValueError, KeyError):
            time.sleep(1)
    if token is None:
        sys.exit("soak: could not log in")
    soak = Soak(api, {"Authorization": token}, login_body)
    receiver = Receiver()
    receiver.subscribe(api, soak.auth)
    print(f"webhooks: subscribed {receiver.subscription['id']} (every event) to {receiver.url}", file=sys.stderr)

    print(f"warm-up: {args.instances} processes for each of {len(WARM)} functions (DynamoDB Local frozen "
          "while they start)", file=sys.stderr)
    warming = time.monotonic()
    counts = prespawn(soak, pid, args.instances, int(os.environ["SOAK_WATCH_PID"]))
    wait_until_served(soak)
    print(f"  processes after {time.monotonic() - warming:.0f} s: {dict(sorted(counts.items()))}", file=sys.stderr)

    print(f"measured: {args.requests} requests at concurrency {args.concurrency}, {args.freeze:g} s freeze "
          "half way", file=sys.stderr)
    mix = SoakMix(soak, args.clients)
    state = Path(os.environ["SOAK_API_STATE"]) if os.environ.get("SOAK_API_STATE") else None
    times = run(soak, mix, pid, args.requests, args.freeze, args.concurrency, state)
    after = function_processes(int(os.environ["SOAK_WATCH_PID"]), list(WARM))
    time.sleep(1)  # anything DynamoDB Local still had buffered is applied by now
    stored = read_table(os.environ["TABLE_NAME"], os.environ["DYNAMODB_ENDPOINT"])
    result = compare(soak.records, stored)
    latencies = function_latencies(Path(os.environ["SOAK_API_LOG"]))
    for record in soak.records:
        record.function_ms = latencies.get(record.request_id)
    lines, passed = report(soak.records, times, result, args.timeout, args)
    print("webhooks: waiting for every stored message's message.created", file=sys.stderr)
    waited = wait_for_webhooks(receiver, stored["message_ids"])
    hook_lines, hooks_passed, hooks = webhook_report(receiver, soak.records, stored, times, waited)
    receiver.close()
    lines += hook_lines
    passed = passed and hooks_passed
    if after != counts:
        lines += ["", f"Function processes changed during the run: {dict(sorted(after.items()))}"]
    print("\nSoak under a frozen database")
    print("\n".join("  " + line for line in lines))
    for key in ("lost", "duplicated", "phantom", "mismatched", "retried_wrong", "unknown"):
        if result[key]:
            print(f"  {key}: {' '.join(map(str, result[key]))}")
    for key in ("missing", "repeats_differing", "unknown_messages", "unknown_threads"):
        if hooks[key]:
            print(f"  webhooks {key}: {' '.join(map(str, hooks[key][:50]))}")
    if args.write_docs:
        write_docs(lines, args, time.monotonic() - began)
    print("\nsoak: " + ("PASS" if passed else "FAIL"))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
