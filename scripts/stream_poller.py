#!/usr/bin/env python3
"""The local stand-in for Lambda's DynamoDB stream event source mappings and EventBridge schedules.

    stream_poller.py --port 3000 --table chat-center-local --endpoint http://127.0.0.1:8000
                     [--template template.yaml] [--state-prefix .cache/local-api] [--region R]
                     [--ready-file F] [--poll-interval 0.15]

Started by scripts/local-api once `cargo lambda watch` answers; stopped with SIGTERM or SIGINT.
It reads template.yaml and, for every function:
  - each `Type: DynamoDB` event: a consumer of the table's stream in DynamoDB Local, as Lambda's
    event source mapping runs it: `FilterCriteria` (Lambda's filter-pattern grammar; a record that
    matches no pattern is dropped), `BatchSize`, `ParallelizationFactor` (lanes chosen by a hash of
    the record's partition key: one key's records stay in order in one lane, lanes run side by
    side), `StartingPosition`, `FunctionResponseTypes: [ReportBatchItemFailures]` (the batch is
    retried from the lowest sequence number reported), `BisectBatchOnFunctionError`,
    `MaximumRetryAttempts` (then the batch goes to the failure file, the stand-in for the SQS
    on-failure destination, in Lambda's own on-failure record shape: which records, never their
    contents). The batch is the JSON Lambda sends (events/dynamodb-stream-batch.json);
  - each `Type: Schedule` (or `ScheduleV2`) event with `rate(...)`: invoked every
    LOCAL_SCHEDULE_SECONDS (default 1) with an EventBridge "Scheduled Event"; a run that takes
    longer delays the next one (runs never overlap). `cron(...)` schedules are not run.
Functions are invoked through cargo-lambda's Lambda Invoke API:
POST http://127.0.0.1:PORT/2015-03-31/functions/<BuildProperties.Binary>/invocations.

Checkpoints (at least once, like Lambda): per consumer, shard and lane, the last sequence number
fully handled, in <state-prefix>-stream-checkpoints.json (written atomically after every batch).
A restart resumes after it: only the batches in flight when it stopped are sent again. With no
checkpoint a consumer starts at its StartingPosition. A new stream (the table was recreated, or
DynamoDB Local restarted in memory) starts over. Failures: <state-prefix>-stream-failures.jsonl.

Logs go to stderr, one line per stream invocation (consumer, lane, records, failures, ms) and per
problem; schedules log their first run, each error and a summary a minute. Item contents (message
texts, webhook bodies) are never logged.

Environment: LOCAL_SCHEDULE_SECONDS (schedule period, default 1), LOCAL_STREAM_RETRY_BASE_SECONDS
(first retry's backoff, doubled per retry up to 2 s; default 0.2), AWS_REGION (the records'
awsRegion, default us-east-1).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent
LOG_PREFIX = "[stream-poller]"

# ------------------------------------------------------------------------------------------------
# Logging: stderr only, never an item's content.

_log_lock = threading.Lock()


def log(msg: str) -> None:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%H:%M:%S.%f")[:-3]
    with _log_lock:
        print(f"{LOG_PREFIX} {stamp} {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------
# The template: which functions consume the stream, which run on a schedule.


def load_template(path: Path) -> dict:
    """template.yaml with CloudFormation's short tags tolerated (scripts/create_table.py's loader)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        from create_table import load_template as _load
    finally:
        sys.path.pop(0)
    return _load(path)


@dataclass
class StreamConsumer:
    name: str  # "<FunctionLogicalId>.<EventName>", the checkpoint's key
    function: str  # the binary, cargo-lambda's function name
    timeout: float  # the function's Timeout (s)
    batch_size: int = 100
    parallelization: int = 1
    starting_position: str = "TRIM_HORIZON"
    max_retries: int = -1  # -1: until the record expires, as Lambda's default
    bisect: bool = False
    report_failures: bool = False
    filters: list["FilterPattern"] = field(default_factory=list)
    enabled: bool = True


@dataclass
class ScheduledFunction:
    name: str
    function: str
    timeout: float
    expression: str
    rule_name: str


_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")


def rate_seconds(expression: str) -> int | None:
    """`rate(5 minutes)` -> 300; None for anything else (cron(...))."""
    m = _RATE.match(expression.strip())
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2)
    return n * {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]


def _as_bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def functions_from_template(template: dict) -> tuple[list[StreamConsumer], list[ScheduledFunction]]:
    """Every DynamoDB stream consumer and every schedule of the template's Lambda functions."""
    globals_fn = ((template.get("Globals") or {}).get("Function")) or {}
    default_timeout = float(globals_fn.get("Timeout", 3))
    consumers: list[StreamConsumer] = []
    schedules: list[ScheduledFunction] = []
    for logical_id, res in (template.get("Resources") or {}).items():
        if not isinstance(res, dict) or res.get("Type") not in ("AWS::Serverless::Function",):
            continue
        props = res.get("Properties") or {}
        binary = ((res.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
        if not binary:
            continue
        timeout = float(props.get("Timeout", default_timeout))
        for event_name, event in (props.get("Events") or {}).items():
            kind = event.get("Type")
            ep = event.get("Properties") or {}
            name = f"{logical_id}.{event_name}"
            if kind == "DynamoDB":
                patterns = [
                    FilterPattern(json.loads(f["Pattern"]) if isinstance(f["Pattern"], str) else f["Pattern"])
                    for f in ((ep.get("FilterCriteria") or {}).get("Filters") or [])
                ]
                consumers.append(
                    StreamConsumer(
                        name=name,
                        function=binary,
                        timeout=timeout,
                        batch_size=int(ep.get("BatchSize", 100)),
                        parallelization=int(ep.get("ParallelizationFactor", 1)),
                        starting_position=str(ep.get("StartingPosition", "TRIM_HORIZON")),
                        max_retries=int(ep.get("MaximumRetryAttempts", -1)),
                        bisect=_as_bool(ep.get("BisectBatchOnFunctionError"), False),
                        report_failures="ReportBatchItemFailures" in (ep.get("FunctionResponseTypes") or []),
                        filters=patterns,
                        enabled=_as_bool(ep.get("Enabled"), True),
                    )
                )
            elif kind in ("Schedule", "ScheduleV2"):
                expression = ep.get("Schedule") or ep.get("ScheduleExpression") or ""
                enabled = _as_bool(ep.get("Enabled"), True) and str(ep.get("State", "ENABLED")) != "DISABLED"
                if enabled:
                    schedules.append(
                        ScheduledFunction(
                            name=name,
                            function=binary,
                            timeout=timeout,
                            expression=str(expression),
                            rule_name=str(ep.get("Name") or f"{logical_id}{event_name}"),
                        )
                    )
    return consumers, schedules


# ------------------------------------------------------------------------------------------------
# Lambda's event filtering (the EventBridge pattern grammar Lambda uses for FilterCriteria).
#
# A pattern is an object; each key names a field of the record. A nested object matches a nested
# object; an array lists the values the field may have (any of them: OR). Keys of one object must
# all match (AND). A value in the array is a string, number, boolean or null (matched exactly,
# strings against strings only: DynamoDB's {"N": "0"} is matched by "0", not by 0), or one of
# {"prefix": s}, {"suffix": s}, {"equals-ignore-case": s}, {"wildcard": s}, {"exists": bool},
# {"anything-but": value | [values] | {"prefix": s} | {"suffix": s}}, {"numeric": [op, n, ...]}.
# A field that is an array in the record matches when any element does. A field the record does
# not have matches only {"exists": false}.

_MISSING = object()
_OPS = {"<", "<=", "=", ">", ">="}


class PatternError(ValueError):
    pass


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class FilterPattern:
    def __init__(self, pattern: Any):
        if not isinstance(pattern, dict) or not pattern:
            raise PatternError("a filter pattern must be a non-empty JSON object")
        self.source = pattern
        _validate(pattern, "")

    def matches(self, record: dict) -> bool:
        return _match_object(self.source, record)

    def __repr__(self) -> str:
        return f"FilterPattern({json.dumps(self.source)})"


def _validate(pattern: dict, path: str) -> None:
    for key, sub in pattern.items():
        where = f"{path}.{key}" if path else key
        if isinstance(sub, dict):
            if not sub:
                raise PatternError(f"{where}: empty object")
            _validate(sub, where)
        elif isinstance(sub, list):
            if not sub:
                raise PatternError(f"{where}: empty list of values")
            for cond in sub:
                _validate_condition(cond, where)
        else:
            raise PatternError(f"{where}: a field's values must be in an array (or a nested object)")


def _validate_condition(cond: Any, where: str) -> None:
    if cond is None or isinstance(cond, (str, bool)) or _is_number(cond):
        return
    if not isinstance(cond, dict) or len(cond) != 1:
        raise PatternError(f"{where}: unsupported condition {json.dumps(cond)}")
    (op, arg), = cond.items()
    if op in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
        if isinstance(arg, dict) and op in ("prefix", "suffix") and set(arg) == {"equals-ignore-case"}:
            arg = arg["equals-ignore-case"]
        if not isinstance(arg, str):
            raise PatternError(f"{where}: {op} takes a string")
    elif op == "exists":
        if not isinstance(arg, bool):
            raise PatternError(f"{where}: exists takes true or false")
    elif op == "anything-but":
        if isinstance(arg, dict):
            if len(arg) != 1 or next(iter(arg)) not in ("prefix", "suffix", "equals-ignore-case"):
                raise PatternError(f"{where}: unsupported anything-but {json.dumps(arg)}")
        elif isinstance(arg, list):
            if not arg or not all(isinstance(a, str) or _is_number(a) for a in arg):
                raise PatternError(f"{where}: anything-but takes strings or numbers")
        elif not (isinstance(arg, str) or _is_number(arg)):
            raise PatternError(f"{where}: anything-but takes a string, a number or a list")
    elif op == "numeric":
        if not isinstance(arg, list) or not arg or len(arg) % 2 or len(arg) > 4:
            raise PatternError(f"{where}: numeric takes [op, n] or [op, n, op, n]")
        for i in range(0, len(arg), 2):
            if arg[i] not in _OPS or not _is_number(arg[i + 1]):
                raise PatternError(f"{where}: numeric takes [op, n] or [op, n, op, n]")
    else:
        raise PatternError(f"{where}: unsupported operator {op!r}")


def _match_object(pattern: dict, value: Any) -> bool:
    if isinstance(value, list):
        return any(_match_object(pattern, v) for v in value)
    obj = value if isinstance(value, dict) else {}
    for key, sub in pattern.items():
        field_value = obj.get(key, _MISSING)
        if isinstance(sub, dict):
            if field_value is _MISSING or not isinstance(field_value, (dict, list)):
                # Only {"exists": false} further down can match a field that is not there.
                if not _match_object(sub, {}):
                    return False
            elif not _match_object(sub, field_value):
                return False
        elif not any(_match_condition(cond, field_value) for cond in sub):
            return False
    return True


def _leaf_values(value: Any) -> list:
    if isinstance(value, list):
        return value
    return [value]


def _match_condition(cond: Any, value: Any) -> bool:
    if isinstance(cond, dict):
        (op, arg), = cond.items()
        if op == "exists":
            present = value is not _MISSING and not isinstance(value, dict)
            return present if arg else value is _MISSING
        if value is _MISSING:
            return False
        values = _leaf_values(value)
        if op == "anything-but":
            return all(_anything_but(arg, v) for v in values) if values else False
        return any(_match_operator(op, arg, v) for v in values)
    if value is _MISSING:
        return False
    return any(_equal(cond, v) for v in _leaf_values(value))


def _equal(expected: Any, v: Any) -> bool:
    if expected is None:
        return v is None
    if isinstance(expected, bool) or isinstance(v, bool):
        return isinstance(expected, bool) and isinstance(v, bool) and expected == v
    if isinstance(expected, str):
        return isinstance(v, str) and v == expected
    return _is_number(v) and float(v) == float(expected)


def _wildcard(pattern: str, v: str) -> bool:
    parts = [re.escape(p) for p in re.split(r"(?<!\\)\*", pattern)]
    return re.fullmatch(".*".join(parts), v, flags=re.S) is not None


def _match_operator(op: str, arg: Any, v: Any) -> bool:
    if op == "numeric":
        if not _is_number(v):
            return False
        for i in range(0, len(arg), 2):
            o, n = arg[i], arg[i + 1]
            if not {"<": v < n, "<=": v <= n, "=": v == n, ">": v > n, ">=": v >= n}[o]:
                return False
        return True
    if not isinstance(v, str):
        return False
    if isinstance(arg, dict):  # {"prefix": {"equals-ignore-case": s}}
        arg_s = arg["equals-ignore-case"].lower()
        v = v.lower()
    else:
        arg_s = arg
    if op == "prefix":
        return v.startswith(arg_s)
    if op == "suffix":
        return v.endswith(arg_s)
    if op == "equals-ignore-case":
        return v.lower() == arg_s.lower()
    if op == "wildcard":
        return _wildcard(arg_s, v)
    return False


def _anything_but(arg: Any, v: Any) -> bool:
    if isinstance(arg, dict):
        (op, s), = arg.items()
        return isinstance(v, str) and not _match_operator(op, s, v)
    excluded = arg if isinstance(arg, list) else [arg]
    return not any(_equal(e, v) for e in excluded)


def matches_filters(filters: list[FilterPattern], record: dict) -> bool:
    """Lambda's rule: no FilterCriteria lets everything through; otherwise any pattern must match."""
    return not filters or any(f.matches(record) for f in filters)


# ------------------------------------------------------------------------------------------------
# Records as Lambda sends them.


def _attr_json(value: Any) -> Any:
    """boto3's AttributeValue back to DynamoDB JSON (binary as base64, as Lambda sends it)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "B":
                out[k] = base64.b64encode(bytes(v)).decode("ascii")
            elif k == "BS":
                out[k] = [base64.b64encode(bytes(b)).decode("ascii") for b in v]
            else:
                out[k] = _attr_json(v)
        return out
    if isinstance(value, list):
        return [_attr_json(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _epoch(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return float(value.timestamp())
    return float(value)


def lambda_record(raw: dict, stream_arn: str, region: str) -> dict:
    """A GetRecords record as the record Lambda puts in its event (events/dynamodb-stream-batch.json)."""
    d = raw.get("dynamodb") or {}
    ddb: dict[str, Any] = {}
    if "ApproximateCreationDateTime" in d:
        ddb["ApproximateCreationDateTime"] = _epoch(d["ApproximateCreationDateTime"])
    for k in ("Keys", "NewImage", "OldImage"):
        if k in d:
            ddb[k] = _attr_json(d[k])
    for k in ("SequenceNumber", "SizeBytes", "StreamViewType"):
        if k in d:
            ddb[k] = d[k]
    rec: dict[str, Any] = {
        "eventID": raw.get("eventID"),
        "eventName": raw.get("eventName"),
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": raw.get("eventSource", "aws:dynamodb"),
        # DynamoDB Local says "ddblocal"; deployed, it is the table's region.
        "awsRegion": region if raw.get("awsRegion") in (None, "ddblocal") else raw["awsRegion"],
        "dynamodb": ddb,
    }
    if "userIdentity" in raw:  # TTL deletions
        rec["userIdentity"] = raw["userIdentity"]
    rec["eventSourceARN"] = stream_arn
    return rec


def lane_of(record: dict, hash_key: str, lanes: int) -> int:
    """The lane of a record: a stable hash of its partition key, so one key stays in one lane."""
    if lanes <= 1:
        return 0
    key = ((record.get("dynamodb") or {}).get("Keys") or {}).get(hash_key)
    digest = hashlib.md5(json.dumps(key, sort_keys=True).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % lanes


def scheduled_event(rule_name: str, region: str, account: str, when: dt.datetime | None = None) -> dict:
    """The event EventBridge sends a scheduled rule's target."""
    when = (when or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{rule_name}"],
        "detail": {},
    }


# ------------------------------------------------------------------------------------------------
# Invoking a function and reading its answer.


@dataclass
class InvokeResult:
    status: int  # HTTP status; 0 when no answer came (connection refused, timeout)
    body: bytes = b""
    function_error: str | None = None  # set when the function failed (or did not answer)
    missing: bool = False  # cargo-lambda does not know the function (not built into the workspace)


class Invoker:
    """POSTs to cargo-lambda's Lambda Invoke API."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self._warm: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, function: str, payload: dict, timeout: float) -> InvokeResult:
        url = f"{self.base_url}/2015-03-31/functions/{function}/invocations"
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        req = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "X-Amz-Invocation-Type": "RequestResponse"},
        )
        with self._lock:
            cold = function not in self._warm
        # The first call of a function may start it with `cargo run` (which waits for the build
        # lock): allow it more than the function's own timeout.
        limit = timeout + (120.0 if cold else 5.0)
        try:
            with urllib.request.urlopen(req, timeout=limit) as resp:  # noqa: S310 (local URL)
                body = resp.read()
                status = resp.status
                fn_error = resp.headers.get("X-Amz-Function-Error")
        except urllib.error.HTTPError as e:
            body = e.read() if e.fp else b""
            missing = e.code == 404 and b"Missing function" in body
            return InvokeResult(e.code, body, function_error=f"HTTP {e.code}", missing=missing)
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            reason = getattr(e, "reason", e)
            return InvokeResult(0, b"", function_error=f"no answer ({type(reason).__name__})")
        with self._lock:
            self._warm.add(function)
        return InvokeResult(status, body, function_error=fn_error)


@dataclass
class BatchOutcome:
    """What a batch's invocation means: everything done, done up to `failed_at`, or all failed."""

    kind: str  # "ok", "partial" (records [failed_at:] to retry), "failed" (function error)
    failed_at: int = 0
    reported: int = 0  # how many items the function named in batchItemFailures


def interpret(result: InvokeResult, sequence_numbers: list[str], report_failures: bool) -> BatchOutcome:
    """Lambda's reading of a stream batch's answer (ReportBatchItemFailures)."""
    if result.function_error:
        return BatchOutcome("failed")
    if not report_failures:
        return BatchOutcome("ok")
    text = result.body.strip()
    if not text or text == b"null":
        return BatchOutcome("ok")
    try:
        answer = json.loads(text)
    except ValueError:
        return BatchOutcome("failed")
    if not isinstance(answer, dict):
        return BatchOutcome("ok")
    failures = answer.get("batchItemFailures")
    if not failures:  # missing, null or empty: complete success
        return BatchOutcome("ok")
    if not isinstance(failures, list):
        return BatchOutcome("partial", 0, 1)
    position = {s: i for i, s in enumerate(sequence_numbers)}
    lowest = None
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        # An empty, null or unknown identifier fails the whole batch.
        if not isinstance(ident, str) or ident not in position:
            return BatchOutcome("partial", 0, len(failures))
        lowest = position[ident] if lowest is None else min(lowest, position[ident])
    return BatchOutcome("partial", lowest or 0, len(failures))


# ------------------------------------------------------------------------------------------------
# A lane: its records in order, batches, retries, bisection.


@dataclass
class PendingRecord:
    seq: str
    record: dict  # the Lambda record


class Lane:
    """Sends one lane's records to the function in order, as Lambda's event source mapping does.

    `invoke(records) -> InvokeResult`, `done(records)` (handled: checkpoint them),
    `discard(records, info)` (retries exhausted: to the failure destination, then as done),
    `sleep(seconds) -> bool` (False: stop now).
    """

    def __init__(
        self,
        consumer: StreamConsumer,
        index: int,
        invoke: Callable[[list[PendingRecord]], InvokeResult],
        done: Callable[[int, list[PendingRecord]], None],
        discard: Callable[[int, list[PendingRecord], dict], None],
        sleep: Callable[[float], bool],
        label: str = "",
        retry_base: float = 0.2,
    ):
        self.consumer = consumer
        self.index = index
        self.invoke = invoke
        self.done = done
        self.discard = discard
        self.sleep = sleep
        self.label = label
        self.retry_base = retry_base
        self.queue: deque[PendingRecord] = deque()
        self.plan: deque[int] = deque()  # sizes of the next batches (a bisected or trimmed batch)
        self.failures_at_head = 0  # failed invocations whose batch started with queue[0]
        self.missing_logged = False
        self.cond = threading.Condition()

    def add(self, rec: PendingRecord) -> None:
        with self.cond:
            self.queue.append(rec)
            self.cond.notify()

    def pending(self) -> int:
        with self.cond:
            return len(self.queue)

    def wait_for_records(self, timeout: float) -> bool:
        with self.cond:
            if not self.queue:
                self.cond.wait(timeout)
            return bool(self.queue)

    def _take(self) -> list[PendingRecord]:
        with self.cond:
            if not self.queue:
                return []
            size = self.plan[0] if self.plan else self.consumer.batch_size
            return list(self.queue)[: max(1, min(size, len(self.queue)))]

    def _pop(self, n: int) -> list[PendingRecord]:
        with self.cond:
            return [self.queue.popleft() for _ in range(min(n, len(self.queue)))]

    def _backoff(self) -> float:
        return min(2.0, self.retry_base * (2 ** max(0, self.failures_at_head - 1)))

    def step(self) -> bool:
        """One invocation (and what follows from its answer). False when there was nothing to do
        or the lane was told to stop."""
        batch = self._take()
        if not batch:
            return False
        c = self.consumer
        started = time.monotonic()
        result = self.invoke(batch)
        ms = int((time.monotonic() - started) * 1000)
        if result.missing:
            if not self.missing_logged:
                log(
                    f"{c.name}{self.label}: cargo-lambda has no function {c.function!r} (not in the "
                    f"workspace when the stack started); its records wait, retrying every 5 s"
                )
                self.missing_logged = True
            return self.sleep(5.0)
        self.missing_logged = False
        outcome = interpret(result, [r.seq for r in batch], c.report_failures)
        failures = 0 if outcome.kind == "ok" else (outcome.reported or len(batch))
        log(
            f"invoke consumer={c.name} function={c.function}{self.label} records={len(batch)} "
            f"failures={failures} ms={ms}"
            + (f" error={result.function_error!r}" if result.function_error else "")
            + (f" status={result.status}" if result.status != 200 else "")
        )
        used_plan = bool(self.plan)
        if outcome.kind == "ok":
            if used_plan:
                self.plan.popleft()
            self._complete(batch)
            return True
        if outcome.kind == "partial" and outcome.failed_at > 0:
            # Done up to the first failure; the rest is retried. With bisection on, Lambda splits
            # the batch there and retries only its remainder.
            self._complete(batch[: outcome.failed_at])
            rest = len(batch) - outcome.failed_at
            if used_plan:
                self.plan[0] = rest
            elif c.bisect:
                self.plan.appendleft(rest)
            self.failures_at_head = 1
        elif outcome.kind == "failed" and c.bisect and len(batch) > 1:
            # Bisect a failed invocation; splitting does not count as a retry.
            half = len(batch) // 2
            if used_plan:
                self.plan.popleft()
            self.plan.appendleft(len(batch) - half)
            self.plan.appendleft(half)
            return self.sleep(self.retry_base)
        else:
            self.failures_at_head += 1
            if c.bisect and not used_plan:
                self.plan.appendleft(len(batch))
        start = outcome.failed_at if outcome.kind == "partial" else 0
        if c.max_retries >= 0 and self.failures_at_head > c.max_retries:
            gone = batch[start:]
            if self.plan:
                self.plan.popleft()
            self._pop(len(gone))
            info = {
                "statusCode": result.status,
                "functionError": "Unhandled" if result.function_error else None,
                "attempts": self.failures_at_head,
            }
            self.failures_at_head = 0
            log(
                f"{c.name}{self.label}: {len(gone)} record(s) given up after "
                f"{c.max_retries} retries (sent to the failure destination)"
            )
            self.discard(self.index, gone, info)
            return True
        return self.sleep(self._backoff())

    def _complete(self, records: list[PendingRecord]) -> None:
        if not records:
            return
        self._pop(len(records))
        self.failures_at_head = 0
        self.done(self.index, records)


# ------------------------------------------------------------------------------------------------
# Checkpoints.


class Checkpoints:
    """{"version": 1, "consumers": {name: {"streamArn": arn, "shards": {shardId: {"position": seq |
    null, "finished": bool, "lanes": {lane: seq}, "laneCount": n}}}}}, written atomically."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.RLock()
        self.data: dict = {"version": 1, "consumers": {}}
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict) and loaded.get("version") == 1:
                self.data = loaded
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as e:
            log(f"ignoring unreadable checkpoint file {path} ({type(e).__name__}); starting over")
        self.data.setdefault("consumers", {})

    def consumer(self, name: str, stream_arn: str) -> dict:
        """The consumer's checkpoints for this stream; those of another stream are dropped."""
        with self.lock:
            entry = self.data["consumers"].get(name)
            if not entry or entry.get("streamArn") != stream_arn:
                if entry:
                    log(f"{name}: the table's stream changed; its checkpoints start over")
                entry = {"streamArn": stream_arn, "shards": {}}
                self.data["consumers"][name] = entry
                self.save()
            return entry

    def save(self) -> None:
        with self.lock:
            tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.data, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)


class FailureDestination:
    """The stand-in for the on-failure SQS queue: Lambda's invocation record, one JSON a line."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()

    def write(self, entry: dict) -> None:
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, separators=(",", ":")) + "\n")


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def failure_record(
    consumer: StreamConsumer, function_arn: str, shard_id: str, stream_arn: str, records: list[PendingRecord], info: dict
) -> dict:
    """Lambda's on-failure record for a DynamoDB stream batch (no item contents)."""
    times = [r.record.get("dynamodb", {}).get("ApproximateCreationDateTime") for r in records]
    response: dict[str, Any] = {"statusCode": info.get("statusCode") or 0, "executedVersion": "$LATEST"}
    if info.get("functionError"):
        response["functionError"] = info["functionError"]
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": info.get("attempts", 1),
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0].seq,
            "endSequenceNumber": records[-1].seq,
            "approximateArrivalOfFirstRecord": _iso(times[0]),
            "approximateArrivalOfLastRecord": _iso(times[-1]),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
        # Local only: which event source mapping gave up.
        "eventSourceMapping": consumer.name,
    }


# ------------------------------------------------------------------------------------------------
# Reading the stream.


def _code(e: Exception) -> str:
    return getattr(e, "response", {}).get("Error", {}).get("Code", type(e).__name__)


@dataclass
class _Read:
    seq: str
    prev: str | None  # the last sequence number read before this record (or the starting point)
    done: bool = False


class ShardWorker:
    """One consumer on one shard: reads it in order, filters, feeds the lanes, checkpoints."""

    def __init__(self, poller: "Poller", consumer: StreamConsumer, stream_arn: str, shard: dict, entry: dict):
        self.p = poller
        self.c = consumer
        self.stream_arn = stream_arn
        self.shard_id = shard["ShardId"]
        self.entry = entry  # this shard's checkpoint, inside Checkpoints.data (under its lock)
        self.stop = threading.Event()
        self.finished = threading.Event()
        self.gone = False  # the stream disappeared
        self.lock = threading.Lock()
        self.reads: deque[_Read] = deque()  # matched records not yet handled, in stream order
        self.by_seq: dict[str, _Read] = {}
        self.last_read: str | None = entry.get("position")
        if entry.get("laneCount") != consumer.parallelization:
            entry["lanes"] = {}
            entry["laneCount"] = consumer.parallelization
        self.lane_done: dict[str, str] = entry.setdefault("lanes", {})
        label_shard = self.shard_id[-8:]
        self.lanes = [
            Lane(
                consumer,
                i,
                invoke=self._invoke,
                done=self._done,
                discard=self._discard,
                sleep=self._sleep,
                label=(f" shard=..{label_shard}" + (f" lane={i}" if consumer.parallelization > 1 else "")),
                retry_base=poller.retry_base,
            )
            for i in range(consumer.parallelization)
        ]
        self.threads: list[threading.Thread] = []

    # -- lanes' callbacks ---------------------------------------------------------------------
    def _sleep(self, seconds: float) -> bool:
        return not (self.stop.wait(seconds) or self.p.stopping.is_set())

    def _invoke(self, records: list[PendingRecord]) -> InvokeResult:
        return self.p.invoke(self.c.function, {"Records": [r.record for r in records]}, self.c.timeout)

    def _done(self, lane: int, records: list[PendingRecord]) -> None:
        with self.lock:
            for r in records:
                read = self.by_seq.pop(r.seq, None)
                if read:
                    read.done = True
            with self.p.checkpoints.lock:
                self.lane_done[str(lane)] = records[-1].seq
                self._advance()
                self.p.checkpoints.save()

    def _discard(self, lane: int, records: list[PendingRecord], info: dict) -> None:
        self.p.failures.write(
            failure_record(self.c, self.p.function_arn(self.c.function), self.shard_id, self.stream_arn, records, info)
        )
        self._done(lane, records)

    def _advance(self) -> None:
        """Moves the shard's position past every record handled (caller holds both locks)."""
        while self.reads and self.reads[0].done:
            self.reads.popleft()
        position = self.reads[0].prev if self.reads else self.last_read
        if position is not None:
            self.entry["position"] = position
            # Lane checkpoints at or before the position say nothing more.
            for lane, seq in list(self.lane_done.items()):
                if int(seq) <= int(position):
                    del self.lane_done[lane]

    # -- reading ------------------------------------------------------------------------------
    def start(self) -> None:
        for lane in self.lanes:
            t = threading.Thread(target=self._lane_loop, args=(lane,), daemon=True, name=f"{self.c.name}-lane{lane.index}")
            t.start()
            self.threads.append(t)
        t = threading.Thread(target=self._read_loop, daemon=True, name=f"{self.c.name}-reader")
        t.start()
        self.threads.append(t)

    def _lane_loop(self, lane: Lane) -> None:
        while not self.stop.is_set() and not self.p.stopping.is_set():
            try:
                if lane.wait_for_records(0.5):
                    lane.step()
            except Exception as e:  # noqa: BLE001 (a bug here must not stop the stack)
                log(f"{self.c.name}: lane {lane.index} error {type(e).__name__}: {e}; continuing")
                self._sleep(1.0)

    def _iterator(self, after: str | None) -> str:
        streams = self.p.streams
        if after is not None:
            return streams.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=self.shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=after,
            )["ShardIterator"]
        kind = self.entry.get("start", self.c.starting_position)
        if kind not in ("TRIM_HORIZON", "LATEST"):
            kind = "TRIM_HORIZON"
        return streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=self.shard_id, ShardIteratorType=kind)[
            "ShardIterator"
        ]

    def _backlog(self) -> int:
        with self.lock:
            return len(self.reads)

    def _read_loop(self) -> None:
        iterator: str | None = None
        errors = 0
        limit_backlog = max(1000, 4 * self.c.batch_size * self.c.parallelization)
        while not self.stop.is_set() and not self.p.stopping.is_set():
            try:
                if iterator is None:
                    iterator = self._iterator(self.last_read)
                if self._backlog() >= limit_backlog:
                    self._sleep(self.p.poll_interval)
                    continue
                resp = self.p.streams.get_records(ShardIterator=iterator, Limit=1000)
                errors = 0
            except Exception as e:  # noqa: BLE001
                code = _code(e)
                if code == "ExpiredIteratorException":
                    iterator = None  # re-acquired after the last record read
                    continue
                if code == "TrimmedDataAccessException":
                    log(f"{self.c.name}: shard ..{self.shard_id[-8:]} was trimmed past the checkpoint; "
                        "records were lost; reading from the oldest one left")
                    self.last_read = None
                    self.entry["start"] = "TRIM_HORIZON"
                    iterator = None
                    continue
                if code == "ResourceNotFoundException":
                    self.gone = True
                    self.stop.set()
                    return
                errors += 1
                if errors in (1, 10) or errors % 100 == 0:
                    log(f"{self.c.name}: reading the stream failed ({code}), retrying")
                self._sleep(min(2.0, 0.2 * errors))
                iterator = None if errors > 3 else iterator
                continue
            records = resp.get("Records") or []
            for raw in records:
                self._dispatch(raw)
            iterator = resp.get("NextShardIterator")
            if iterator is None:
                self._drain_then_finish()
                return
            if not records:
                self._sleep(self.p.poll_interval)

    def _dispatch(self, raw: dict) -> None:
        rec = lambda_record(raw, self.stream_arn, self.p.region)
        seq = rec["dynamodb"].get("SequenceNumber") or ""
        lane_index = None
        if matches_filters(self.c.filters, rec):
            lane_index = lane_of(rec, self.p.hash_key, self.c.parallelization)
            with self.p.checkpoints.lock:
                already = self.lane_done.get(str(lane_index))
            if already is not None and int(seq) <= int(already):
                lane_index = None  # handled before a restart
        with self.lock:
            # last_read moves under the lock, with the record's entry: a lane finishing meanwhile
            # must not see the position past a record that is not queued yet.
            prev = self.last_read
            self.last_read = seq
            if lane_index is None:
                if not self.reads:
                    with self.p.checkpoints.lock:
                        self._advance()
                        # Not saved for every filtered record: the next batch, or the main
                        # loop within a second, saves it.
                        self.p.dirty = True
                return
            read = _Read(seq, prev)
            self.reads.append(read)
            self.by_seq[seq] = read
        self.lanes[lane_index].add(PendingRecord(seq, rec))

    def _drain_then_finish(self) -> None:
        while not self.stop.is_set() and not self.p.stopping.is_set():
            if self._backlog() == 0:
                with self.p.checkpoints.lock:
                    self.entry["finished"] = True
                    self.p.checkpoints.save()
                self.finished.set()
                return
            self._sleep(self.p.poll_interval)


class ConsumerRunner:
    """One event source mapping: finds the stream and its shards, runs a ShardWorker per shard
    (a child shard once its parent is done), starts over on a new stream."""

    def __init__(self, poller: "Poller", consumer: StreamConsumer):
        self.p = poller
        self.c = consumer
        self.workers: dict[str, ShardWorker] = {}
        self.stream_arn: str | None = None

    def run(self) -> None:
        waited = 0
        while not self.p.stopping.is_set():
            try:
                arn = self.p.stream_arn()
            except Exception as e:  # noqa: BLE001
                waited += 1
                if waited in (1, 30):
                    log(f"{self.c.name}: no stream yet ({_code(e)}); waiting for the table")
                self.p.stopping.wait(1.0)
                continue
            if arn != self.stream_arn:
                self._stop_workers()
                self.stream_arn = arn
            try:
                self._schedule_shards(arn)
            except Exception as e:  # noqa: BLE001
                log(f"{self.c.name}: DescribeStream failed ({_code(e)}); retrying")
            if any(w.gone for w in self.workers.values()):
                self._stop_workers()
                self.stream_arn = None
            self.p.stopping.wait(2.0)

    def _stop_workers(self) -> None:
        for w in self.workers.values():
            w.stop.set()
        self.workers = {}

    def _schedule_shards(self, arn: str) -> None:
        entry = self.p.checkpoints.consumer(self.c.name, arn)
        shards: list[dict] = []
        start: str | None = None
        while True:
            kw = {"StreamArn": arn, "Limit": 100}
            if start:
                kw["ExclusiveStartShardId"] = start
            desc = self.p.streams.describe_stream(**kw)["StreamDescription"]
            shards.extend(desc.get("Shards") or [])
            start = desc.get("LastEvaluatedShardId")
            if not start:
                break
        known = {s["ShardId"] for s in shards}
        with self.p.checkpoints.lock:
            saved = entry["shards"]
            fresh = not saved
            before = json.dumps(saved, sort_keys=True)
            for shard in shards:
                sid = shard["ShardId"]
                if sid in self.workers or (saved.get(sid) or {}).get("finished"):
                    continue
                parent = shard.get("ParentShardId")
                if parent and parent in known and not (saved.get(parent) or {}).get("finished"):
                    continue  # its parent first
                if sid not in saved:
                    open_shard = "EndingSequenceNumber" not in (shard.get("SequenceNumberRange") or {})
                    if fresh and self.c.starting_position == "LATEST" and not open_shard:
                        saved[sid] = {"position": None, "finished": True, "lanes": {}}
                        continue
                    # A first start begins where the mapping says; a child shard at its start.
                    start_at = self.c.starting_position if fresh else "TRIM_HORIZON"
                    saved[sid] = {"position": None, "finished": False, "lanes": {}, "start": start_at}
                worker = ShardWorker(self.p, self.c, arn, shard, saved[sid])
                self.workers[sid] = worker
                worker.start()
            # Shards the stream no longer lists are forgotten once finished.
            for sid in [s for s in saved if s not in known and saved[s].get("finished")]:
                del saved[sid]
            if json.dumps(saved, sort_keys=True) != before:
                self.p.checkpoints.save()


class ScheduleRunner:
    def __init__(self, poller: "Poller", sched: ScheduledFunction, period: float):
        self.p = poller
        self.s = sched
        self.period = period

    def run(self) -> None:
        runs = errors = 0
        slowest = 0
        first = True
        window_start = time.monotonic()
        while not self.p.stopping.is_set():
            started = time.monotonic()
            event = scheduled_event(self.s.rule_name, self.p.region, self.p.account)
            result = self.p.invoke(self.s.function, event, self.s.timeout)
            ms = int((time.monotonic() - started) * 1000)
            runs += 1
            slowest = max(slowest, ms)
            if result.missing:
                if first:
                    log(f"schedule {self.s.name}: cargo-lambda has no function {self.s.function!r}; retrying every 5 s")
                    first = False
                self.p.stopping.wait(5.0)
                continue
            if result.function_error:
                errors += 1
                log(f"invoke schedule={self.s.name} function={self.s.function} ms={ms} error={result.function_error!r}")
            elif first:
                log(f"invoke schedule={self.s.name} function={self.s.function} ms={ms} (every {self.period:g} s "
                    f"locally for {self.s.expression}; a summary a minute)")
            first = False
            if time.monotonic() - window_start >= 60:
                log(f"schedule {self.s.name}: {runs} runs, {errors} errors, slowest {slowest} ms in the last minute")
                runs = errors = slowest = 0
                window_start = time.monotonic()
            wait = self.period - (time.monotonic() - started)
            if wait > 0:
                self.p.stopping.wait(wait)


class Poller:
    def __init__(self, args: argparse.Namespace):
        import boto3
        from botocore.config import Config

        self.stopping = threading.Event()
        self.region = args.region
        self.account = "000000000000"  # DynamoDB Local's account in its ARNs
        self.table = args.table
        self.poll_interval = args.poll_interval
        self.retry_base = float(os.environ.get("LOCAL_STREAM_RETRY_BASE_SECONDS", "0.2"))
        self.dirty = False
        cfg = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})
        kw = dict(
            endpoint_url=args.endpoint,
            region_name=self.region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=cfg,
        )
        self.ddb = boto3.client("dynamodb", **kw)
        self.streams = boto3.client("dynamodbstreams", **kw)
        self.invoker = Invoker(f"http://127.0.0.1:{args.port}")
        self.checkpoints = Checkpoints(Path(args.state_prefix + "-stream-checkpoints.json"))
        self.failures = FailureDestination(Path(args.state_prefix + "-stream-failures.jsonl"))
        template = load_template(Path(args.template))
        self.consumers, self.schedules = functions_from_template(template)
        key_schema = (((template.get("Resources") or {}).get(args.table_resource) or {}).get("Properties") or {}).get(
            "KeySchema"
        ) or []
        self.hash_key = next((k["AttributeName"] for k in key_schema if k.get("KeyType") == "HASH"), "pk")
        self.schedule_period = float(os.environ.get("LOCAL_SCHEDULE_SECONDS", "1"))
        self._arn_cache: tuple[float, str] | None = None
        self._arn_lock = threading.Lock()

    def invoke(self, function: str, payload: dict, timeout: float) -> InvokeResult:
        return self.invoker(function, payload, timeout)

    def function_arn(self, function: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{function}"

    def stream_arn(self) -> str:
        """The table's latest stream (cached for a second: every consumer asks every 2 s)."""
        with self._arn_lock:
            now = time.monotonic()
            if self._arn_cache and now - self._arn_cache[0] < 1.0:
                return self._arn_cache[1]
            table = self.ddb.describe_table(TableName=self.table)["Table"]
            arn = table.get("LatestStreamArn")
            if not arn or not (table.get("StreamSpecification") or {}).get("StreamEnabled", True):
                raise RuntimeError("the table has no stream")
            self._arn_cache = (now, arn)
            return arn

    def run(self, ready_file: str | None) -> int:
        threads = []
        for c in self.consumers:
            if not c.enabled:
                log(f"{c.name}: disabled in the template; not polled")
                continue
            log(
                f"{c.name}: stream -> {c.function} (batch {c.batch_size}, lanes {c.parallelization}, "
                f"{len(c.filters)} filter(s), retries {c.max_retries}, bisect {c.bisect})"
            )
            t = threading.Thread(target=ConsumerRunner(self, c).run, daemon=True, name=c.name)
            threads.append(t)
        for s in self.schedules:
            if rate_seconds(s.expression) is None:
                log(f"{s.name}: schedule {s.expression!r} is not a rate(...); not run locally")
                continue
            log(f"{s.name}: {s.expression} -> {s.function}, every {self.schedule_period:g} s locally")
            threads.append(
                threading.Thread(target=ScheduleRunner(self, s, self.schedule_period).run, daemon=True, name=s.name)
            )
        for t in threads:
            t.start()
        if ready_file:
            Path(ready_file).write_text(f"{os.getpid()}\n", encoding="utf-8")
        while not self.stopping.wait(1.0):
            if self.dirty:
                with self.checkpoints.lock:
                    self.dirty = False
                    self.checkpoints.save()
        # Stop promptly: batches in flight are not checkpointed, so they are sent again on the
        # next start (at least once, as Lambda).
        with self.checkpoints.lock:
            self.checkpoints.save()
        log("stopped")
        return 0


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True, help="cargo lambda watch's port")
    ap.add_argument("--table", default=os.environ.get("TABLE_NAME"))
    ap.add_argument("--endpoint", default=os.environ.get("DYNAMODB_ENDPOINT"))
    ap.add_argument("--template", default=str(ROOT / "template.yaml"))
    ap.add_argument("--table-resource", default="Table", help="logical id of the table in the template")
    ap.add_argument(
        "--state-prefix",
        default=str(ROOT / ".cache" / "local-api"),
        help="checkpoints go to PREFIX-stream-checkpoints.json, failures to PREFIX-stream-failures.jsonl",
    )
    ap.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    ap.add_argument("--poll-interval", type=float, default=0.15, help="seconds between reads of an idle shard")
    ap.add_argument("--ready-file", help="written once the poller has started")
    args = ap.parse_args(list(argv) if argv is not None else None)
    if not args.table or not args.endpoint:
        ap.error("--table and --endpoint (or TABLE_NAME and DYNAMODB_ENDPOINT) are required")

    poller = Poller(args)

    def stop(signum, _frame):
        poller.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return poller.run(args.ready_file)


if __name__ == "__main__":
    sys.exit(main())
