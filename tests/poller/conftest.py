"""Fixtures of the stream poller's tests (scripts/stream_poller.py).

The pure logic (filter patterns, lanes, batch answers, retries) needs nothing. The checkpoint and
restart tests need DynamoDB Local: DYNAMODB_ENDPOINT when set (scripts/test's), otherwise one is
started here with scripts/dynamodb-local.sh (and stopped at the end). The functions are a small
HTTP server speaking cargo-lambda's Invoke API (pollerkit.FakeFunctions), so no Rust build is
needed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from pollerkit import ROOT, TEMPLATE, FakeFunctions, PollerProcess, client, stream_poller


@pytest.fixture(scope="session")
def template() -> dict:
    return stream_poller.load_template(TEMPLATE)


@pytest.fixture(scope="session")
def consumers(template) -> dict[str, stream_poller.StreamConsumer]:
    found, _ = stream_poller.functions_from_template(template)
    return {c.function: c for c in found}


# --- DynamoDB Local ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ddb_endpoint() -> Iterator[str]:
    endpoint = os.environ.get("DYNAMODB_ENDPOINT")
    if endpoint:
        yield endpoint
        return
    proc = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "dynamodb-local.sh")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    found: list[str] = []

    def read() -> None:
        assert proc.stdout
        for line in proc.stdout:
            m = re.search(r"DYNAMODB_ENDPOINT=(\S+)", line)
            if m:
                found.append(m.group(1))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 120
    while not found and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        if not found:
            pytest.skip("DynamoDB Local did not start (scripts/dynamodb-local.sh)")
        yield found[0]
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def table(ddb_endpoint: str) -> Iterator[str]:
    """A fresh table of template.yaml's shape (stream included), dropped afterwards."""
    name = f"poller-test-{uuid.uuid4().hex[:10]}"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "create_table.py"), "--endpoint", ddb_endpoint, "--table-name", name, "--fresh"],
        check=True,
        timeout=120,
        capture_output=True,
    )
    yield name
    try:
        client("dynamodb", ddb_endpoint).delete_table(TableName=name)
    except Exception:  # noqa: BLE001
        pass


# --- the functions: cargo-lambda's Invoke API ----------------------------------------------------


@pytest.fixture
def functions() -> Iterator[FakeFunctions]:
    fake = FakeFunctions()
    yield fake
    fake.close()


# --- the poller as a process ---------------------------------------------------------------------


@pytest.fixture
def poller_factory(tmp_path: Path, ddb_endpoint: str, table: str, functions: FakeFunctions):
    made: list[PollerProcess] = []

    def make(**env: str) -> PollerProcess:
        p = PollerProcess(functions.port, table, ddb_endpoint, tmp_path / "stack", env)
        made.append(p)
        return p

    yield make
    for p in made:
        p.kill()
