"""Drives the local stack and prints figures (see scripts/bench)."""

import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import requests

# Prices (USD, us-east-1, read off the AWS pricing pages on 2026-11-01), named so a change is one
# line: API Gateway HTTP API per million requests (first 300 M a month), Lambda arm64 per GB-second
# and per million requests, DynamoDB on-demand per million write and read request units.
PRICES_DATE = "2026-11-01"
HTTP_API_PER_MILLION = 1.00
LAMBDA_ARM64_PER_GB_SECOND = 0.0000133334
LAMBDA_PER_MILLION_REQUESTS = 0.20
DYNAMODB_PER_MILLION_WRITE_UNITS = 0.625
DYNAMODB_PER_MILLION_READ_UNITS = 0.125

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

    _, gateway_login = timed("POST", "/api/auth/login", json={"login": "gateway", "password": os.environ["DEMO_PASSWORD"]})
    gateway = {"Authorization": gateway_login["token"]}

    # One call each first, so that every function process is started and warm.
    _, sent = timed("POST", "/api/v1/messages/outgoing", headers=auth, json={"text": "warm-up", "threadsClientId": client_id})
    timed("POST", "/api/v1/messages/outgoing-to-device", headers=auth, json={"text": "warm-up", "clientApplicationDescriptor": known_device})
    timed("POST", "/api/v1/messages/incoming", headers=gateway, json={"text": "warm-up", "clientApplicationDescriptor": known_device})
    timed("POST", f"/api/v1/messages/{sent['id']}/status", headers=gateway, json={"status": "SENT"})
    # Messages whose delivery the gateway will report, one status each.
    to_report = [
        timed("POST", "/api/v1/messages/outgoing", headers=auth, json={"text": f"r{i}", "threadsClientId": client_id})[1]["id"]
        for i in range(N)
    ]
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
        "POST incoming (known device, providerMessageId)": [
            timed("POST", "/api/v1/messages/incoming", headers=gateway,
                  json={"text": f"c{i}", "providerMessageId": f"bench-{random.randrange(10**12)}-{i}",
                        "clientApplicationDescriptor": known_device})[0]
            for i in range(N)
        ],
        "POST messages/{id}/status (DELIVERED)": [
            timed("POST", f"/api/v1/messages/{message_id}/status", headers=gateway, json={"status": "DELIVERED"})[0]
            for message_id in to_report
        ],
        "GET thread": [timed("GET", f"/api/v1/threads/{thread}", headers=auth)[0] for _ in range(N)],
        "GET thread messages (limit 50)": [timed("GET", f"/api/v1/threads/{thread}/messages", headers=auth)[0] for _ in range(N)],
        "POST ChatSession/{id}/Messages (JSON)": [
            timed("POST", f"/api/v1/ChatSession/{thread}/Messages", headers=auth, json={"Message": f"s{i}"})[0]
            for i in range(N)
        ],
        "GET ChatSession/{id}/Messages (limit 50)": [
            timed("GET", f"/api/v1/ChatSession/{thread}/Messages", headers=auth)[0] for _ in range(N)
        ],
    }
    print(f"\nClient-side latency over HTTP, ms ({N} requests per endpoint, sequential)")
    for name, values in client_side.items():
        print(f"  {name:45s} {percentiles(values)}")

    server = defaultdict(lambda: {"latency": [], "dynamodb": [], "round_trips": [], "read": [], "write": []})
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
                server[key]["round_trips"].append(event.get("dynamodb_round_trips", 0))
                server[key]["read"].append(event.get("dynamodb_read_units", 0.0))
                server[key]["write"].append(event.get("dynamodb_write_units", 0.0))
    print("\nIn the function (its log line): ms; DynamoDB round trips, requests, read and write units")
    for key, figures in sorted(server.items()):
        trips, counts = sorted(set(figures["round_trips"])), sorted(set(figures["dynamodb"]))
        units = f"rru {statistics.median(figures['read']):4.1f}  wru {statistics.median(figures['write']):4.1f}"
        print(f"  {key:60s} {percentiles(figures['latency'])}  trips {trips} requests {counts}  {units}")

    memory = template_memory_mb()
    print(f"\nCost per million calls, USD (prices of {PRICES_DATE}; Lambda arm64 at the template's MemorySize")
    print("and the measured median duration, rounded up to 1 ms; DynamoDB on-demand at the measured units)")
    print(f"  {'call':60s} {'API':>6s} {'Lambda':>7s} {'DynamoDB':>9s} {'total':>7s}")
    for key, figures in sorted(server.items()):
        if not key.endswith(" 200") and not key.endswith(" 201"):
            continue
        duration_s = max(1, math.ceil(statistics.median(figures["latency"]))) / 1000
        method, route, _ = key.split(" ")
        memory_mb = memory.get((method, route), memory[None])
        lambda_cost = LAMBDA_PER_MILLION_REQUESTS + duration_s * memory_mb / 1024 * LAMBDA_ARM64_PER_GB_SECOND * 1e6
        dynamo_cost = (statistics.median(figures["write"]) * DYNAMODB_PER_MILLION_WRITE_UNITS
                       + statistics.median(figures["read"]) * DYNAMODB_PER_MILLION_READ_UNITS)
        total = HTTP_API_PER_MILLION + lambda_cost + dynamo_cost
        print(f"  {key:60s} {HTTP_API_PER_MILLION:6.2f} {lambda_cost:7.2f} {dynamo_cost:9.2f} {total:7.2f}")

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
        print("  not built; `cargo build --release --workspace --exclude chat-admin`, as `sam build` does, first")
    newest_source = newest_build_input()
    for path in bins:
        # A binary older than the code or the profile is not today's size: say so.
        stale = "  (older than the sources: rebuild for today's size)" if path.stat().st_mtime < newest_source else ""
        print(f"  {path.name:28s} {path.stat().st_size / 2**20:6.2f} MiB{stale}")


def newest_build_input() -> float:
    """When the Rust sources, manifests or lock file last changed (mtime)."""
    repo = Path(__file__).resolve().parents[1]
    inputs = [repo / "Cargo.toml", repo / "Cargo.lock"]
    for folder in ("shared", "functions", "admin"):
        inputs += [*(repo / folder).rglob("*.rs"), *(repo / folder).rglob("Cargo.toml")]
    return max((path.stat().st_mtime for path in inputs if path.exists()), default=0.0)


def template_memory_mb() -> dict:
    """MemorySize of each (method, route) in template.yaml, and the Globals' under None."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from template_checks import load_template

    template = load_template(Path(__file__).resolve().parents[1] / "template.yaml")
    default = template.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    memory = {None: default}
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties", {})
        for event in properties.get("Events", {}).values():
            if event.get("Type") == "HttpApi":
                route = (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
                memory[route] = properties.get("MemorySize", default)
    return memory


if __name__ == "__main__":
    main()
    if os.environ.get("BENCH_WEBHOOKS", "1") != "0":
        # Before the mixed traffic, whose events would still be queued; it unsubscribes when done.
        import bench_webhooks

        bench_webhooks.main()
    if os.environ.get("BENCH_LOAD", "1") != "0":
        import bench_load

        bench_load.main()
