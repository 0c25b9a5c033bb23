#!/usr/bin/env python3
"""Web chat push on the local stack (docs/webchat.md): many visitors with an open WebSocket each,
agents sending to all of them through edna's API. Figures, and four checks that are pass/fail.

    scripts/bench_webchat.py [--state F] [--visitors 50] [--messages 20] [--concurrency 8] [--no-write]

Against a running stack: API_URL and DEMO_PASSWORD from the environment, or from the local-api
state file --state names (`LOCAL_API_STATE=f PORT=0 WS_PORT=0 scripts/local-api
--background`, then `--state f`). `scripts/bench webchat` starts a stack and runs this.

1. VISITORS visitors (`POST /api/v1/webchat/visitors` as integrator), each connected to the
   `websocketUrl` it was given, with its token, and synced (`{"action": "sync"}` answered with
   its empty history). One more visitor gets IDLE_SENDS sends one at a time, each waiting for its frame: the push
   latency of an idle pipeline (not counted below).
2. MESSAGES edna sends to each (`POST /api/v1/messages/outgoing`, `threadsClientId`): a visitor's
   sends one after another (each waits for its 200), CONCURRENCY sends in flight across visitors.
3. Every `message` frame each socket receives is noted with its arrival time. Checks: none lost,
   none twice, none of another visitor's, and each visitor's frames in the order of its sends (its
   sent ids, in sending order). The push latency is from a send's 200 at this process to its frame
   at the visitor's socket (one process, one clock): the stream (the poller reads DynamoDB Local's
   every ~0.15 s), publish-events through cargo-lambda, the gateway's @connections and the socket.

Prints the figures and, unless --no-write, writes docs/performance.md's section between
<!-- bench:webchat:start --> and its end marker. Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime
import json
import os
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import percentile, provenance, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:webchat:start -->", "<!-- bench:webchat:end -->"
# Bounded waits: a connection's handshake and first answer, and the last push after the last send.
CONNECT_SECONDS = 60.0
DRAIN_SECONDS = 120.0
IDLE_SENDS = 5
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass
class Visitor:
    number: int
    token: str
    client_id: int
    websocket_url: str
    socket: ClientConnection | None = None
    connect_ms: float = 0.0
    sent: list[int] = field(default_factory=list)                   # message ids, in sending order
    answered: dict[int, float] = field(default_factory=dict)        # id -> monotonic time of its 200
    received: list[tuple[int, float]] = field(default_factory=list)  # (id, monotonic arrival) per frame
    errors: list[dict] = field(default_factory=list)                # error frames
    history: asyncio.Event = field(default_factory=asyncio.Event)


def from_state_file(path: str, names: tuple[str, ...]) -> dict[str, str]:
    """These variables of a local-api state file, read by the shell that wrote it (`%q` quoting)."""
    script = 'source "$1" && shift && for name; do printf "%s\\0" "${!name:-}"; done'
    out = subprocess.run(["bash", "-c", script, "state", path, *names], capture_output=True, text=True, check=True)
    return dict(zip(names, out.stdout.split("\0")))


async def login(http: aiohttp.ClientSession, api: str, password: str) -> str:
    async with http.post(f"{api}/api/auth/login", json={"login": "integrator", "password": password}) as response:
        body = await response.json()
        if response.status != 200:
            sys.exit(f"login as integrator: {response.status} {body}")
        return body["token"]


async def new_visitor(http: aiohttp.ClientSession, api: str, auth: str, number: int) -> Visitor:
    async with http.post(f"{api}/api/v1/webchat/visitors", headers={"Authorization": auth},
                         json={"name": f"bench visitor {number}"}) as response:
        body = await response.json()
        if response.status != 201:
            raise RuntimeError(f"POST /api/v1/webchat/visitors: {response.status} {body}")
        return Visitor(number, body["visitorToken"], body["clientId"], body["websocketUrl"])


async def listen(visitor: Visitor) -> None:
    """Notes every frame of one visitor's socket until it closes."""
    async for raw in visitor.socket:
        arrived = time.monotonic()
        frame = json.loads(raw)
        kind = frame.get("type")
        if kind == "message":
            visitor.received.append((frame["message"]["id"], arrived))
        elif kind == "history":
            visitor.history.set()
        elif kind == "error":
            visitor.errors.append(frame)


async def open_socket(visitor: Visitor) -> asyncio.Task:
    started = time.monotonic()
    base = visitor.websocket_url
    url = f"{base}{'&' if '?' in base else '?'}token={urllib.parse.quote(visitor.token, safe='')}"
    visitor.socket = await connect(url, open_timeout=CONNECT_SECONDS, max_size=2**20)
    listener = asyncio.create_task(listen(visitor))
    await visitor.socket.send(json.dumps({"action": "sync"}))
    await asyncio.wait_for(visitor.history.wait(), CONNECT_SECONDS)
    visitor.connect_ms = (time.monotonic() - started) * 1000
    return listener


async def send_one(http: aiohttp.ClientSession, api: str, auth: str, visitor: Visitor, n: int,
                   failures: list[str]) -> int | None:
    """An agent's edna send to the visitor; its id, noted with the time its 200 arrived."""
    body = {"text": f"bench push {visitor.number}.{n}", "threadsClientId": visitor.client_id}
    try:
        async with http.post(f"{api}/api/v1/messages/outgoing", json=body, headers={"Authorization": auth}) as response:
            answer = await response.json()
            answered = time.monotonic()
            if response.status != 200:
                failures.append(f"{response.status} {answer}")
                return None
    except (aiohttp.ClientError, TimeoutError) as err:
        failures.append(repr(err))
        return None
    visitor.sent.append(answer["id"])
    visitor.answered[answer["id"]] = answered
    return answer["id"]


async def send_all(http: aiohttp.ClientSession, api: str, auth: str, visitor: Visitor, messages: int,
                   slots: asyncio.Semaphore, failures: list[str]) -> None:
    """One visitor's sends, one after another (so their order is the order of acceptance)."""
    for n in range(messages):
        async with slots:
            await send_one(http, api, auth, visitor, n, failures)


async def idle_latencies(http: aiohttp.ClientSession, api: str, auth: str, probe: Visitor) -> list[float]:
    """Sends one at a time, each after the previous one's frame arrived: an idle pipeline."""
    latencies, failures = [], []
    for n in range(IDLE_SENDS):
        message_id = await send_one(http, api, auth, probe, n, failures)
        deadline = time.monotonic() + DRAIN_SECONDS
        while message_id is not None and time.monotonic() < deadline:
            arrived = next((at for i, at in probe.received if i == message_id), None)
            if arrived is not None:
                latencies.append((arrived - probe.answered[message_id]) * 1000)
                break
            await asyncio.sleep(0.01)
    return latencies


def all_arrived(visitors: list[Visitor]) -> bool:
    return all({i for i, _ in v.received} >= set(v.sent) for v in visitors)


async def run(api: str, password: str, visitors_wanted: int, messages: int, concurrency: int) -> dict:
    load_before = os.getloadavg()
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http:
        auth = await login(http, api, password)
        visitors = await asyncio.gather(*(new_visitor(http, api, auth, n) for n in range(visitors_wanted)))
        connecting = time.monotonic()
        listeners = await asyncio.gather(*(open_socket(v) for v in visitors))
        connected_for = time.monotonic() - connecting

        probe = await new_visitor(http, api, auth, visitors_wanted)
        listeners.append(await open_socket(probe))
        idle = await idle_latencies(http, api, auth, probe)

        failures: list[str] = []
        slots = asyncio.Semaphore(concurrency)
        sending = time.monotonic()
        await asyncio.gather(*(send_all(http, api, auth, v, messages, slots, failures) for v in visitors))
        sent_for = time.monotonic() - sending

        deadline = time.monotonic() + DRAIN_SECONDS
        while not all_arrived(visitors) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        # Room for a late duplicate to show up.
        await asyncio.sleep(1.0)
        for v in [*visitors, probe]:
            await v.socket.close()
        await asyncio.gather(*listeners, return_exceptions=True)
    return {"visitors": visitors, "failures": failures, "connected_for": connected_for, "sent_for": sent_for,
            "concurrency": concurrency, "idle": idle, "load_before": load_before, "load_after": os.getloadavg()}


def verdict(visitors: list[Visitor]) -> dict:
    lost = twice = foreign = out_of_order = 0
    latencies = []
    for v in visitors:
        ids = [i for i, _ in v.received]
        counts = collections.Counter(ids)
        mine = set(v.sent)
        lost += len(mine - set(ids))
        twice += sum(n - 1 for i, n in counts.items() if n > 1)
        foreign += sum(1 for i in ids if i not in mine)
        first_seen = list(dict.fromkeys(i for i in ids if i in mine))
        if first_seen != [i for i in v.sent if i in counts]:
            out_of_order += 1
        arrival = {}
        for i, at in v.received:
            arrival.setdefault(i, at)
        latencies += [(arrival[i] - v.answered[i]) * 1000 for i in v.sent if i in arrival]
    return {"lost": lost, "twice": twice, "foreign": foreign, "out_of_order": out_of_order, "latencies": latencies,
            "errors": sum(len(v.errors) for v in visitors)}


def report(result: dict, checks: dict, profile: str, write: bool) -> None:
    visitors, lat = result["visitors"], checks["latencies"]
    sends = sum(len(v.sent) for v in visitors)
    connect_ms = [v.connect_ms for v in visitors]
    before, after = result["load_before"], result["load_after"]
    lines = [
        f"{len(visitors)} visitors connected and synced in {result['connected_for']:.1f} s (a connection's "
        f"handshake to its history: p50 {percentile(connect_ms, 0.5):.0f} ms, max {max(connect_ms):.0f} ms).",
        "",
        f"Push latency on an idle pipeline, one send at a time, each waiting for its frame: "
        f"{', '.join(f'{ms:.0f}' for ms in result['idle'])} ms.",
        "",
        f"{sends} sends ({sends // max(1, len(visitors))} per visitor, each visitor's one after another, "
        f"{result['concurrency']} in flight across visitors) in "
        f"{result['sent_for']:.1f} s ({sends / max(result['sent_for'], 1e-9):.0f} sends/s), "
        f"{len(result['failures'])} failed.",
        "",
        f"Push latency, send's 200 → `message` frame at the visitor's socket, {len(lat)} frames: "
        f"p50 {percentile(lat, 0.5):.0f} ms, p90 {percentile(lat, 0.9):.0f} ms, p99 {percentile(lat, 0.99):.0f} ms, "
        f"max {max(lat, default=0):.0f} ms.",
        "",
        f"Checks: {checks['lost']} lost, {checks['twice']} received twice, {checks['foreign']} of another visitor, "
        f"{checks['out_of_order']} visitors with frames out of their sends' order; {checks['errors']} error frames.",
    ]
    print("\nWeb chat push")
    print("\n".join("  " + line for line in lines if line))
    for failure in result["failures"][:5]:
        print(f"  send failed: {failure}")
    if not write:
        return
    commit, machine = provenance()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = "\n".join([
        START, "## Web chat push (scripts/bench_webchat.py)", "",
        f"{now}, {machine}, load average {before[0]:.1f} / {before[1]:.1f} / {before[2]:.1f} (1, 5, 15 min) "
        f"before the run and {after[0]:.1f} / {after[1]:.1f} / {after[2]:.1f} after, commit `{commit}`; the "
        f"{profile} profile under cargo-lambda's emulator on DynamoDB Local, the stream read by "
        "scripts/stream_poller.py (every ~0.15 s), publish-events pushing through "
        "scripts/websocket_gateway.py's `@connections`, the visitors' sockets (Python `websockets`) in "
        "the same process as the sends, so one clock times both ends.", "",
        *lines, END,
    ])
    write_section(PAGE, START, END, section)
    print(f"\n  wrote {PAGE.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--state", help="a local-api state file (API_URL, DEMO_PASSWORD)")
    parser.add_argument("--visitors", type=int, default=int(os.environ.get("BENCH_WEBCHAT_VISITORS", "50")))
    parser.add_argument("--messages", type=int, default=int(os.environ.get("BENCH_WEBCHAT_MESSAGES", "20")),
                        help="sends to each visitor")
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("BENCH_WEBCHAT_CONCURRENCY", "8")),
                        help="sends in flight across visitors")
    parser.add_argument("--profile", default=os.environ.get("LOCAL_API_PROFILE", "dev"),
                        help="the stack's cargo profile, for the write-up")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args(argv)

    # The state file names the stack asked for; the environment is the fallback.
    names = ("API_URL", "DEMO_PASSWORD")
    settings = {name: os.environ.get(name, "") for name in names}
    if args.state:
        settings.update(from_state_file(args.state, names))
    missing = [name for name, value in settings.items() if not value]
    if missing:
        parser.error(f"{', '.join(missing)} missing: set them or give --state")

    result = asyncio.run(run(settings["API_URL"].rstrip("/"), settings["DEMO_PASSWORD"], args.visitors,
                             args.messages, args.concurrency))
    checks = verdict(result["visitors"])
    report(result, checks, args.profile, write=not args.no_write)
    failed = checks["lost"] or checks["twice"] or checks["foreign"] or checks["out_of_order"] or result["failures"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
