"""Mixed traffic at a fixed concurrency against the local stack (called by scripts/bench.py).

Prints requests per second, p50/p99 per endpoint, errors, peak memory per function, and the
share of writes that went to the most written item (read back from the table's stream, which
records every write), then writes docs/performance.md's throughput section and its chart.
"""

from __future__ import annotations

import collections
import datetime
import os
import random
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import requests

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "performance.md"
CHART = ROOT / "docs" / "performance-latency.svg"
START, END = "<!-- bench:throughput:start -->", "<!-- bench:throughput:end -->"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


class PeakMemory(threading.Thread):
    """Samples the resident memory of the function processes until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak: dict[str, float] = collections.defaultdict(float)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.25):
            ps = subprocess.run(["ps", "-eo", "rss=,args="], capture_output=True, text=True).stdout
            for line in ps.splitlines():
                rss, _, args = line.strip().partition(" ")
                if "/optimized/" in args and "chat-admin" not in args:
                    name = Path(args.split()[0]).name
                    self.peak[name] = max(self.peak[name], int(rss) / 1024)


def hottest_item_share(table: str, endpoint: str, since: datetime.datetime, sends: int) -> tuple[str, int, float]:
    """The item written most often since `since`, its writes, and their share of `sends`."""
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="local", aws_secret_access_key="local")
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    writes: collections.Counter[str] = collections.Counter()
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(100_000):  # bounded: a shard ends or stops returning records
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                created = record["dynamodb"].get("ApproximateCreationDateTime")
                if created is not None and created < since:
                    continue
                keys = record["dynamodb"]["Keys"]
                writes[f'{keys["pk"]["S"]} / {keys["sk"]["S"]}'] += 1
            iterator = page.get("NextShardIterator")
            if not iterator or not page["Records"]:
                break
    key, count = writes.most_common(1)[0] if writes else ("-", 0)
    return key, count, count / max(sends, 1)


class Mix:
    """The bench's traffic, one round at a time, over `clients` SMS devices. A round sends to a
    device (the first send to one creates its client, device and thread in one transaction), then
    does one of a SuperOffice post, a thread read, an edna listing or a SuperOffice listing (or
    nothing) on a random client's thread. `call(name, method, path, **requests_kwargs)` makes
    each request and returns its JSON when it succeeded, else None; `text(label, n)` is the text
    of each message sent (scripts/soak.py marks every send with it)."""

    def __init__(self, call, clients: int, text=lambda label, n: f"{label} {n}") -> None:
        self.call, self.clients, self.text = call, clients, text
        self.devices = [{"channelType": "SMS", "deviceAddress": f"+1555{random.randrange(10**6):06d}{n:04d}"}
                        for n in range(clients)]
        self.session_of: dict[int, int] = {}  # device index -> the thread its last send joined
        self.client_of: dict[int, int] = {}  # device index -> its client's internal id

    def round(self, n: int) -> None:
        device = self.devices[n % self.clients]
        # Each client's first send creates it (and its device and thread) in one transaction.
        sent = self.call("POST outgoing-to-device", "POST", "/api/v1/messages/outgoing-to-device",
                         json={"text": self.text("load", n), "clientApplicationDescriptor": device})
        if sent:
            self.session_of[n % self.clients] = sent["threadId"]
            self.client_of[n % self.clients] = sent["clientId"]
        thread = self.session_of.get(random.randrange(self.clients))
        if thread is None:
            return
        kind = n % 5
        if kind == 0:
            self.call("POST ChatSession/{id}/Messages", "POST", f"/api/v1/ChatSession/{thread}/Messages",
                      json={"Message": self.text("so", n)})
        elif kind == 1:
            self.call("GET threads/{id}", "GET", f"/api/v1/threads/{thread}")
        elif kind == 2:
            self.call("GET threads/{id}/messages", "GET", f"/api/v1/threads/{thread}/messages", params={"limit": 20})
        elif kind == 3:
            self.call("GET ChatSession/{id}/Messages", "GET", f"/api/v1/ChatSession/{thread}/Messages",
                      params={"limit": 20})


def run(api: str, auth: dict, concurrency: int, sends: int, clients: int) -> dict:
    figures: dict[str, list[float]] = collections.defaultdict(list)
    errors: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def call(name: str, method: str, path: str, **kwargs) -> dict | list | None:
        started = time.perf_counter()
        try:
            response = requests.request(method, api + path, headers=auth, timeout=60, **kwargs)
            ok = response.status_code in (200, 201)
        except requests.RequestException:
            response, ok = None, False
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            figures[name].append(elapsed)
            if not ok:
                errors[f"{name}: {response.status_code if response is not None else 'no answer'}"] += 1
        return response.json() if ok else None

    mix = Mix(call, clients)
    memory = PeakMemory()
    memory.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(mix.round, range(sends)))
    elapsed = time.perf_counter() - started
    memory.done.set()
    memory.join()
    total = sum(len(v) for v in figures.values())
    return {"figures": figures, "errors": errors, "elapsed": elapsed, "total": total, "memory": dict(memory.peak)}


def provenance() -> tuple[str, str]:
    """The short commit and the machine figures were measured at, for a section's first line."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return commit, f"{os.cpu_count()} cores, {os.uname().sysname} {os.uname().machine}"


def write_section(page_path: Path, start: str, end: str, section: str) -> None:
    """Puts `section` (which begins with `start` and ends with `end`) in place of the page's part
    between those markers, or at its end when it has none."""
    page = page_path.read_text() if page_path.exists() else "# Performance\n"
    if start in page and end in page:
        page = page[: page.index(start)] + section + page[page.index(end) + len(end):]
    else:
        page = page.rstrip("\n") + "\n\n" + section + "\n"
    page_path.write_text(page)


def chart(figures: dict[str, list[float]]) -> str:
    """A horizontal bar chart (SVG) of p50 and p99 per endpoint."""
    rows = sorted(figures)
    scale = max(percentile(figures[name], 0.99) for name in rows) or 1.0
    width, left, row_height = 760, 260, 34
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{40 + row_height * len(rows)}" '
             'font-family="sans-serif" font-size="12">',
             '<text x="10" y="18" font-weight="bold">Latency per endpoint at the bench\'s concurrency, ms '
             '(dark: p50, light: p99)</text>']
    for i, name in enumerate(rows):
        y = 32 + i * row_height
        p50, p99 = percentile(figures[name], 0.5), percentile(figures[name], 0.99)
        bar = lambda value: max(1.0, (width - left - 80) * value / scale)  # noqa: E731
        parts.append(f'<text x="10" y="{y + 15}">{name}</text>')
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{bar(p99):.1f}" height="20" fill="#9ecae1"/>')
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{bar(p50):.1f}" height="20" fill="#3182bd"/>')
        parts.append(f'<text x="{left + bar(p99) + 6:.1f}" y="{y + 16}">{p50:.0f} / {p99:.0f}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    api = os.environ["API_URL"]
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "32"))
    sends = int(os.environ.get("BENCH_SENDS", "5000"))
    clients = int(os.environ.get("BENCH_CLIENTS", "500"))
    login = requests.post(api + "/api/auth/login", timeout=60,
                          json={"login": "integrator", "password": os.environ["DEMO_PASSWORD"]}).json()
    auth = {"Authorization": login["token"]}
    since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
    result = run(api, auth, concurrency, sends, clients)
    figures, errors = result["figures"], result["errors"]
    writes = len(figures["POST outgoing-to-device"]) + len(figures["POST ChatSession/{id}/Messages"])
    key, count, share = hottest_item_share(os.environ["TABLE_NAME"], os.environ["DYNAMODB_ENDPOINT"], since, writes)

    lines = [f"{result['total']} requests at concurrency {concurrency} in {result['elapsed']:.1f} s: "
             f"{result['total'] / result['elapsed']:.0f} requests/s, {sum(errors.values())} errors",
             "", "| endpoint | requests | p50 ms | p99 ms |", "|---|---|---|---|"]
    for name in sorted(figures):
        values = figures[name]
        lines.append(f"| {name} | {len(values)} | {percentile(values, 0.5):.1f} | {percentile(values, 0.99):.1f} |")
    lines += ["", "| function | peak resident memory, MiB |", "|---|---|"]
    lines += [f"| {name} | {mib:.1f} |" for name, mib in sorted(result["memory"].items())]
    lines += ["", f"Hottest item: `{key}`, written {count} times by {writes} sends: {share:.2%} of them."]
    if errors:
        lines += ["", "Errors: " + ", ".join(f"{k} × {v}" for k, v in errors.most_common())]
    print("\nThroughput (mixed traffic)")
    print("\n".join("  " + line for line in lines))

    commit, machine = provenance()
    section = "\n".join([
        START, "## Throughput (scripts/bench)", "",
        f"{datetime.date.today()}, {machine}, commit `{commit}`; the optimized profile under cargo-lambda's "
        f"emulator on DynamoDB Local, so figures include both emulators' overheads. {sends} rounds over "
        f"{clients} clients: each sends to a device (the first creates the client), then one of a SuperOffice "
        "post, a thread read, an edna listing or a SuperOffice listing.", "",
        *lines, "", "![latency per endpoint](performance-latency.svg)", END,
    ])
    write_section(PAGE, START, END, section)
    CHART.write_text(chart(figures))
    print(f"\n  wrote {PAGE.relative_to(ROOT)} and {CHART.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
