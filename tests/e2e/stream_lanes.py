"""Which lane of a stream consumer a record takes, as the local stack's poller (and Lambda's
ParallelizationFactor) assigns it: one partition key, one lane. Read from template.yaml and
scripts/stream_poller.py, so the tests never restate either."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]


@cache
def _poller():
    spec = importlib.util.spec_from_file_location("stream_poller", ROOT / "scripts" / "stream_poller.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("stream_poller", module)
    spec.loader.exec_module(module)
    return module


@cache
def _lanes(function: str) -> int:
    template = _poller().load_template(ROOT / "template.yaml")
    events = template["Resources"][function]["Properties"]["Events"]
    (stream,) = [event for event in events.values() if event.get("Type") == "DynamoDB"]
    return int(stream["Properties"].get("ParallelizationFactor", 1))


def delivery_lane(webhook_id: str) -> int:
    """The deliver-webhooks lane of a subscription's deliveries (partition `WEBHOOK#<id>`)."""
    record = {"dynamodb": {"Keys": {"pk": {"S": f"WEBHOOK#{webhook_id}"}}}}
    return _poller().lane_of(record, "pk", _lanes("DeliverWebhooksFunction"))
