"""Drives the local stack and prints figures (see scripts/bench)."""

import json
import os
import random
import statistics
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import requests

API = os.environ["API_URL"]
N = int(os.environ.get("BENCH_REQUESTS", "200"))
session = requests.Session()


def timed(method, path, **kwargs):
    started = time.perf_counter()
    response = session.request(method, API + path, timeout=60, **kwargs)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code, response.text)
    return elapsed, response.json()


def percentiles(values):
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return f"p50 {pick(0.5):7.2f}  p95 {pick(0.95):7.2f}  p99 {pick(0.99):7.2f}  mean {statistics.mean(ordered):7.2f}"


def main():
    _, login = timed("POST", "/api/auth/login", json={"login": "integrator", "password": os.environ["DEMO_PASSWORD"]})
    auth = {"Authorization": login["token"]}
    made = subprocess.run(
        [os.environ["ADMIN_BIN"], "client", "create", "--external-id", f"bench-{random.randrange(10**9)}"],
        check=True, capture_output=True, text=True,
    )
    client_id = json.loads(made.stdout)["clientId"]
    known_device = {"channelType": "WHATSAPP", "deviceAddress": "+4477009" + str(random.randrange(10**5)).zfill(5)}

    # One call each first, so that every function process is started and warm.
    _, sent = timed("POST", "/api/v1/messages/outgoing", headers=auth, json={"text": "warm-up", "threadsClientId": client_id})
    timed("POST", "/api/v1/messages/outgoing-to-device", headers=auth, json={"text": "warm-up", "clientApplicationDescriptor": known_device})
    thread = sent["threadId"]
    log_start = Path(os.environ["LOCAL_API_LOG"]).stat().st_size

    client_side = {
        "POST outgoing (known client, open thread)": [
            timed("POST", "/api/v1/messages/outgoing", headers=auth, json={"text": f"m{i}", "threadsClientId": client_id})[0]
            for i in range(N)
        ],
        "POST outgoing-to-device (known device)": [
            timed("POST", "/api/v1/messages/outgoing-to-device", headers=auth,
                  json={"text": f"d{i}", "clientApplicationDescriptor": known_device})[0]
            for i in range(N)
        ],
        "POST outgoing-to-device (new device)": [
            timed("POST", "/api/v1/messages/outgoing-to-device", headers=auth,
                  json={"text": "hi", "clientApplicationDescriptor": {"channelType": "SMS", "deviceAddress": f"+1555{i:07d}{random.randrange(10)}"}})[0]
            for i in range(N // 4)
        ],
        "GET thread": [timed("GET", f"/api/v1/threads/{thread}", headers=auth)[0] for _ in range(N)],
        "GET thread messages (limit 50)": [timed("GET", f"/api/v1/threads/{thread}/messages", headers=auth)[0] for _ in range(N)],
    }
    print(f"\nClient-side latency over HTTP, ms ({N} requests per endpoint, sequential)")
    for name, values in client_side.items():
        print(f"  {name:45s} {percentiles(values)}")

    server = defaultdict(lambda: {"latency": [], "dynamodb": []})
    with open(os.environ["LOCAL_API_LOG"], errors="replace") as log:
        log.seek(log_start)
        for line in log:
            start = line.find('{"timestamp"')
            if start < 0:
                continue
            try:
                event = json.loads(line[start:])
            except ValueError:
                continue
            if event.get("message") == "request" and "dynamodb_requests" in event:
                key = f'{event["method"]} {event["route"]} {event["status"]}'
                server[key]["latency"].append(event["latency_ms"])
                server[key]["dynamodb"].append(event["dynamodb_requests"])
    print("\nIn the function (its log line), ms, and DynamoDB requests per request")
    for key, figures in sorted(server.items()):
        counts = sorted(set(figures["dynamodb"]))
        print(f"  {key:55s} {percentiles(figures['latency'])}  dynamodb {counts}")

    print("\nResident memory of the function processes (ps, MiB)")
    ps = subprocess.run(["ps", "-eo", "rss=,args="], capture_output=True, text=True).stdout
    for line in ps.splitlines():
        rss, _, args = line.strip().partition(" ")
        if "/optimized/" in args and "chat-admin" not in args:
            print(f"  {Path(args.split()[0]).name:28s} {int(rss) / 1024:6.1f}")

    target = Path(os.environ["ADMIN_BIN"]).parent.parent
    release = target / "release"
    print("\nRelease binaries (profile release: fat LTO, 1 codegen unit, stripped, panic=abort)")
    bins = sorted(p for p in release.glob("*") if p.is_file() and os.access(p, os.X_OK) and p.suffix == "") if release.exists() else []
    if not bins:
        print("  not built; `cargo build --release --workspace --bins` (or `sam build`) first")
    for path in bins:
        print(f"  {path.name:28s} {path.stat().st_size / 2**20:6.2f} MiB")


if __name__ == "__main__":
    main()
