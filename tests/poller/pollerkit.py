"""Helpers of the stream poller's tests: a stand-in for cargo-lambda's Invoke API, the poller as a
process, DynamoDB clients, waiting. (conftest.py holds the fixtures.)"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import boto3

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import stream_poller  # noqa: E402,F401

TEMPLATE = ROOT / "template.yaml"


def client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


class FakeFunctions:
    """Records every invocation; `behaviour[name](payload) -> (status, body)` decides the answer
    (default: 200 with an empty partial batch response)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.behaviour: dict[str, Callable[[dict], tuple[int, object]]] = {}
        self.known = {"publish-events", "deliver-webhooks", "retry-webhooks"}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                m = re.fullmatch(r"/2015-03-31/functions/([^/]+)/invocations", self.path)
                length = int(self.headers.get("content-length") or 0)
                payload = json.loads(self.rfile.read(length) or b"null")
                if not m or m.group(1) not in fake.known:
                    self._send(404, {"title": "Missing function", "detail": "not a binary"})
                    return
                name = m.group(1)
                with fake.lock:
                    fake.calls.append((name, payload))
                    behave = fake.behaviour.get(name)
                status, body = behave(payload) if behave else (200, {"batchItemFailures": []})
                self._send(status, body)

            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def batches(self, name: str) -> list[list[dict]]:
        with self.lock:
            return [p["Records"] for n, p in self.calls if n == name]

    def records(self, name: str) -> list[dict]:
        return [r for b in self.batches(name) for r in b]

    def payloads(self, name: str) -> list[dict]:
        with self.lock:
            return [p for n, p in self.calls if n == name]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class PollerProcess:
    def __init__(self, port: int, table: str, endpoint: str, prefix: Path, env: dict[str, str]):
        self.args = [
            sys.executable,
            str(ROOT / "scripts" / "stream_poller.py"),
            "--port", str(port),
            "--table", table,
            "--endpoint", endpoint,
            "--state-prefix", str(prefix),
            "--poll-interval", "0.1",
        ]
        self.prefix = prefix
        self.env = {**os.environ, "LOCAL_SCHEDULE_SECONDS": "3600", "LOCAL_STREAM_RETRY_BASE_SECONDS": "0.01", **env}
        self.proc: subprocess.Popen | None = None
        self.log = prefix.with_name(prefix.name + "-poller.log")

    def start(self) -> None:
        ready = self.prefix.with_name(self.prefix.name + ".ready")
        ready.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            self.args + ["--ready-file", str(ready)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.log, "a"),  # noqa: SIM115
        )
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert self.proc.poll() is None, f"the poller exited: {self.log.read_text()}"
            assert time.monotonic() < deadline, "the poller did not start within 30 s"
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> float:
        """Signals the poller; returns how long it took to exit."""
        assert self.proc
        started = time.monotonic()
        self.proc.send_signal(sig)
        self.proc.wait(timeout=15)
        return time.monotonic() - started

    @property
    def checkpoints(self) -> dict:
        return json.loads(self.prefix.with_name(self.prefix.name + "-stream-checkpoints.json").read_text())

    @property
    def failures(self) -> list[dict]:
        path = self.prefix.with_name(self.prefix.name + "-stream-failures.jsonl")
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def wait_until(predicate: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
