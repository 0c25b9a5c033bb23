"""A recording webhook receiver for scripts/soak.py and scripts/bench_webhooks.py (not a CLI: for
trying the API by hand, scripts/webhook_receiver.py prints each event).

`Receiver()` listens on a free port of 127.0.0.1 (a threaded http.server), verifies every request
with the Standard Webhooks reference library (`standardwebhooks`) against the secret of the
subscription `subscribe()` made for it, answers `status` (200 unless told otherwise, e.g. 503 for
a while) and records every request as a `Delivery`: webhook-id, type, message id, the body's
bytes, when it arrived (time.monotonic(), the caller's clock), whether it verified, what it was
answered. A request that does not verify is answered 401 and recorded with verified=False.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Delivery:
    webhook_id: str | None
    type: str | None
    message_id: int | None  # data.message.id of a message event
    thread_id: int | None  # data.message.threadId, or data.thread.id
    sequence: int | None  # data.message.sequence
    body: bytes
    at: float  # time.monotonic() on arrival
    verified: bool
    answered: int


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.status = status  # what deliveries are answered; may be changed while it runs
        self.deliveries: list[Delivery] = []
        self.changed = threading.Condition()
        self._verifier: Webhook | None = None
        self._ready = threading.Event()  # the secret is known
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                at = time.monotonic()
                receiver._ready.wait(10)  # bounded: only a delivery racing subscribe()'s answer waits
                verified, event = False, None
                if receiver._verifier is not None:
                    try:
                        event = receiver._verifier.verify(body, dict(self.headers))
                        verified = True
                    except WebhookVerificationError:
                        pass
                status = receiver.status if verified else 401
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
                event = event if isinstance(event, dict) else {}
                data = event.get("data") if isinstance(event.get("data"), dict) else {}
                message, thread = data.get("message") or {}, data.get("thread") or {}
                delivery = Delivery(
                    webhook_id=self.headers.get("webhook-id"), type=event.get("type"),
                    message_id=message.get("id"), thread_id=message.get("threadId", thread.get("id")),
                    sequence=message.get("sequence"), body=body, at=at, verified=verified, answered=status)
                with receiver.changed:
                    receiver.deliveries.append(delivery)
                    receiver.changed.notify_all()

            def log_message(self, *_: object) -> None:
                pass

        ThreadingHTTPServer.request_queue_size = 256
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="webhook-receiver")
        self._thread.start()
        self.subscription: dict = {}

    def subscribe(self, api: str, auth: dict, events: list[str] | None = None, attempts: int = 10) -> dict:
        """POST /api/v1/webhooks for this receiver (as whoever `auth` is); keeps the secret."""
        body: dict = {"url": self.url, "description": "scripts/webhook_sink.py"}
        if events:
            body["events"] = events
        for attempt in range(attempts):  # bounded: the function's first process may still be starting
            try:
                response = requests.post(api + "/api/v1/webhooks", json=body, headers=auth, timeout=30)
                if response.status_code == 201:
                    self.subscription = response.json()
                    self._verifier = Webhook(self.subscription["secret"])
                    self._ready.set()
                    return self.subscription
            except requests.RequestException:
                response = None
            time.sleep(1 + attempt)
        raise RuntimeError(f"could not subscribe the receiver: {getattr(response, 'status_code', 'no answer')} "
                           f"{getattr(response, 'text', '')[:300]}")

    def unsubscribe(self, api: str, auth: dict) -> None:
        if self.subscription:
            try:
                requests.delete(f"{api}/api/v1/webhooks/{self.subscription['id']}", headers=auth, timeout=30)
            except requests.RequestException:
                pass

    def snapshot(self) -> list[Delivery]:
        with self.changed:
            return list(self.deliveries)

    def wait_for(self, done, timeout: float) -> bool:
        """Waits (at most `timeout` s) until done(deliveries) is true; returns whether it was."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not done(self.deliveries):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 1.0))
            return True

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def check(deliveries: list[Delivery], stored_messages: set[int], stored_threads: set[int] | None = None) -> dict:
    """What the soak judges: every stored message's `message.created` arrived, every delivery
    verified, a repeat only of a webhook-id already seen with the same body, no event for a message
    (or thread) that was not stored."""
    first: dict[str, Delivery] = {}
    repeats, differing = 0, []
    for d in deliveries:
        if d.webhook_id is None:
            continue
        if d.webhook_id in first:
            repeats += 1
            if d.body != first[d.webhook_id].body:
                differing.append(d.webhook_id)
        else:
            first[d.webhook_id] = d
    created = {d.message_id for d in first.values() if d.type == "message.created" and d.verified}
    # One message.created per message: two event ids for one message would be a duplicate event.
    created_ids = [d.message_id for d in first.values() if d.type == "message.created" and d.verified]
    unverified = [d for d in deliveries if not d.verified]
    unknown_messages = sorted({d.message_id for d in first.values() if d.message_id is not None} - stored_messages)
    unknown_threads = (sorted({d.thread_id for d in first.values() if d.thread_id is not None} - stored_threads)
                       if stored_threads is not None else [])
    return {
        "deliveries": len(deliveries),
        "events": len(first),
        "by_type": dict(sorted(_count(d.type or "?" for d in first.values()).items())),
        "created": len(created),
        "missing": sorted(stored_messages - created),
        "unverified": len(unverified),
        "repeats": repeats,
        "repeats_differing": differing,
        "two_events_one_message": len(created_ids) - len(set(created_ids)),
        "unknown_messages": unknown_messages,
        "unknown_threads": unknown_threads,
    }


def _count(items) -> dict:
    counts: dict = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts

