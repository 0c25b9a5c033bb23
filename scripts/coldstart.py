"""Cold start of the release bootstraps against a local Lambda Runtime API (see scripts/coldstart).

Standard library only (plus the `openssl` command, to make the TLS proxy's certificates). Each
start of a binary gets its own Runtime API server on 127.0.0.1 (a free port), the environment
Lambda gives a provided.al2023 function, and the first event already queued (a cold start is
triggered by a request). The functions reach DynamoDB Local through a TLS proxy (unless --plain),
so that the first invocation opens a TLS connection as it does in AWS. Measured:
  init   process start (just before the spawn) -> the runtime's first GET .../invocation/next
  first  event written to the runtime -> its POST .../response (the first DynamoDB calls included)
  warm   the same for each following invocation of the same process
each as wall time (time.perf_counter_ns) and as the process's on-CPU time (schedstat of all its
threads, read while it waits on the Runtime API), which a busy machine hardly moves. Binaries
run one at a time, round-robin over the rounds (the order rotates each round), each start killed
(SIGKILL, as Lambda ends a sandbox) before the next one, so that every binary sees the same
machine load on average.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import select
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
PREFIX = "/2018-06-01/runtime"
HELLO = "hello-lambda"
# Goal figures of issue 7, item 4.
INIT_GOAL = 1.3
FIRST_GOAL = 2.0

# Function -> (method, route pattern, path parameters, body, expected status). `{login}`,
# `{password}`, `{client}`, `{thread}` and `{device}` are filled from the fixtures made before the
# rounds; every event is answered after at least one DynamoDB call (not-found and hello-lambda
# excepted: the baselines without I/O).
CALLS = {
    HELLO: ("GET", "/hello", {}, None, 200),
    "login": ("POST", "/api/auth/login", {}, {"login": "{login}", "password": "{password}"}, 200),
    "get-thread": ("GET", "/api/v1/threads/{threadId}", {"threadId": "{thread}"}, None, 200),
    "list-thread-messages": ("GET", "/api/v1/threads/{threadId}/messages", {"threadId": "{thread}"}, None, 200),
    "send-outgoing": ("POST", "/api/v1/messages/outgoing", {}, {"text": "cold start", "threadsClientId": "{client}"}, 200),
    "send-outgoing-to-device": ("POST", "/api/v1/messages/outgoing-to-device", {},
                                {"text": "cold start", "clientApplicationDescriptor": {"channelType": "SMS", "deviceAddress": "{device}"}}, 200),
    "get-chat-session": ("GET", "/api/v1/ChatSession/{chatSessionId}", {"chatSessionId": "{thread}"}, None, 200),
    "list-chat-messages": ("GET", "/api/v1/ChatSession/{chatSessionId}/Messages", {"chatSessionId": "{thread}"}, None, 200),
    "post-chat-message": ("POST", "/api/v1/ChatSession/{chatSessionId}/Messages", {"chatSessionId": "{thread}"},
                          {"Message": "cold start"}, 200),
    "not-found": ("GET", "/api/v1/nowhere", {}, None, 404),
}
DEFAULT_FUNCTIONS = [HELLO, "login", "get-thread", "send-outgoing", "post-chat-message", "not-found"]
# Binaries the fixtures need whatever is measured (chat-admin, then login and send-outgoing).
FIXTURE_PACKAGES = ["chat-admin", "login", "send-outgoing"]

_live: dict[int, subprocess.Popen] = {}


def log(message: str) -> None:
    print(f"[coldstart] {message}", file=sys.stderr, flush=True)


class Failure(Exception):
    pass


# --- the Runtime API ---------------------------------------------------------------------------

class RuntimeApi:
    """One Lambda Runtime API for one process: events are queued by the harness, `next` hands
    them out, `response`/`error`/`init/error` are reported on `done` with their arrival time."""

    def __init__(self) -> None:
        self.events: queue.Queue = queue.Queue()
        self.done: queue.Queue = queue.Queue()
        self.first_next = threading.Event()
        self.first_next_at = 0
        self.sent_at: dict[str, int] = {}
        # On-CPU time of the process (all its threads), read while it waits on us: at its first
        # `next` and around every invocation. Unlike wall time, barely moved by the machine's load.
        self.pid = 0
        self.spawned = threading.Event()
        self.cpu_at_init = 0
        self.cpu_sent: dict[str, int] = {}
        self.closing = threading.Event()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.api = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # the connection of a runtime we killed
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the runtime's client expects
    disable_nagle_algorithm = True  # no 40 ms Nagle/delayed-ACK stalls on small writes
    timeout = 60  # an idle connection's thread ends, whatever the client does

    def log_message(self, *_args) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: tuple = ()) -> None:
        head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\n",
                "Content-Type: application/json\r\n", f"Content-Length: {len(body)}\r\n"]
        head += [f"{name}: {value}\r\n" for name, value in headers]
        # One write: headers and body leave in one segment.
        self.wfile.write(("".join(head) + "\r\n").encode("latin-1") + body)

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        api: RuntimeApi = self.server.api
        if self.path != f"{PREFIX}/invocation/next":
            return self._send(404, b'{"errorMessage":"unknown path"}')
        if not api.first_next.is_set():
            api.first_next_at = time.perf_counter_ns()
            api.spawned.wait(5)  # Popen may not have returned yet
            api.cpu_at_init = cpu_ns(api.pid)
            api.first_next.set()
        while True:  # a long poll, as Lambda's: answered when there is an event
            if api.closing.is_set():
                self.close_connection = True
                return None
            try:
                request_id, payload = api.events.get(timeout=0.1)
                break
            except queue.Empty:
                continue
        deadline = int(time.time() * 1000) + 10_000  # the template's Timeout: 10 s
        # Stamped before the write: the answer may arrive on another connection before this
        # thread runs again.
        api.cpu_sent[request_id] = cpu_ns(api.pid)
        api.sent_at[request_id] = time.perf_counter_ns()
        self._send(200, payload, (
            ("Lambda-Runtime-Aws-Request-Id", request_id),
            ("Lambda-Runtime-Deadline-Ms", deadline),
            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:coldstart"),
            ("Lambda-Runtime-Trace-Id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"),
        ))
        return None

    def do_POST(self) -> None:
        api: RuntimeApi = self.server.api
        body = self._body()
        now = time.perf_counter_ns()
        cpu = cpu_ns(api.pid)
        parts = self.path[len(PREFIX):].strip("/").split("/")
        if parts == ["init", "error"]:
            api.done.put(("init-error", None, body, now, cpu))
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            api.done.put((parts[2], parts[1], body, now, cpu))
        else:
            return self._send(404, b'{"errorMessage":"unknown path"}')
        return self._send(202, b'{"status":"OK"}')


# --- TLS in front of DynamoDB Local (unless --plain) -------------------------------------------

class TlsProxy:
    """HTTPS on 127.0.0.1 in front of DynamoDB Local's plain HTTP, with a certificate of a CA made
    for the run: the functions' first invocation then pays a TLS handshake, as against DynamoDB
    in AWS (an RSA 2048 leaf under one CA: a shorter chain than AWS's)."""

    def __init__(self, upstream: str, workdir: Path) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.ca = workdir / "tls-ca.pem"
        key, leaf, ca_key, csr, ext = (workdir / name for name in ("tls-leaf.key", "tls-leaf.pem", "tls-ca.key",
                                                                    "tls-leaf.csr", "tls-leaf.ext"))
        ext.write_text("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                       "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
        for command in (
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", self.ca, "-days", "2",
             "-subj", "/CN=coldstart test CA"],
            ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", ca_key, "-CAcreateserial", "-out", leaf,
             "-days", "2", "-extfile", ext],
        ):
            try:
                done = subprocess.run(["openssl", *map(str, command)], capture_output=True, text=True, timeout=60)
            except FileNotFoundError:
                raise Failure("the TLS proxy needs the openssl command (or run with --plain)") from None
            if done.returncode != 0:
                raise Failure(f"openssl {command[0]} failed: {done.stderr.strip()}")
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(leaf, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.endpoint = f"https://127.0.0.1:{self.listener.getsockname()[1]}"
        self.closing = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._pump, args=(conn,), daemon=True).start()

    def _pump(self, conn: socket.socket) -> None:
        tls = upstream = None
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(10)
            tls = self.context.wrap_socket(conn, server_side=True)
            upstream = socket.create_connection(self.upstream, timeout=10)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while not self.closing.is_set():
                ready = [tls] if tls.pending() else select.select([tls, upstream], [], [], 1.0)[0]
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is tls else tls).sendall(data)
        except (OSError, ssl.SSLError):
            pass
        finally:
            for sock in (tls or conn, upstream):
                if sock is not None:
                    sock.close()

    def trust(self, env: dict) -> dict:
        """`env` trusting the run's CA next to the Amazon roots the functions trust anyway
        (shared/src/app.rs reads `DYNAMODB_CA_FILE` at init; in AWS it is unset)."""
        return {**env, "DYNAMODB_CA_FILE": str(self.ca)}

    def close(self) -> None:
        self.closing.set()
        self.listener.close()


# --- one start of a binary ---------------------------------------------------------------------

def cpu_ns(pid: int) -> int:
    """Nanoseconds the process's live threads have run (first field of each task's schedstat)."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def lambda_env(function: str, port: int, table: str, endpoint: str) -> dict:
    """What Lambda sets for a provided.al2023 function (template.yaml's variables included), and
    nothing from the caller's environment (no AWS_PROFILE or the like leaks in)."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "_HANDLER": "bootstrap",
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "coldstart",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        # Lambda hands the execution role's credentials in the environment; DynamoDB Local takes any.
        "AWS_ACCESS_KEY_ID": "coldstart",
        "AWS_SECRET_ACCESS_KEY": "coldstart",
        "AWS_SESSION_TOKEN": "coldstart",
        "TABLE_NAME": table,
        "DYNAMODB_ENDPOINT": endpoint,
        "LOG_LEVEL": "info",
        "TOKEN_TTL_SECONDS": "86400",
        "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH": "true",
    }


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the process group (the binary leads its own) and reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        log(f"pid {proc.pid} did not exit 10 s after SIGKILL")
    _live.pop(proc.pid, None)


def peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start(binary: Path, function: str, events: list[bytes], ctx: argparse.Namespace, log_path: Path,
          extra_env: dict | None = None) -> dict:
    """Starts `binary`, feeds it `events` one after the other and kills it. Returns the init
    time and the latency of every invocation (wall and on-CPU, ms), the parsed responses and the
    peak RSS."""
    api = RuntimeApi()
    proc = None
    try:
        request_ids = [str(uuid.uuid4()) for _ in events]
        api.events.put((request_ids[0], events[0]))
        env = {**lambda_env(function, api.port, ctx.table, ctx.endpoint), **(extra_env or {})}
        with open(log_path, "ab") as out:
            started = time.perf_counter_ns()
            proc = subprocess.Popen([str(binary)], env=env, cwd=binary.parent, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            spawned = time.perf_counter_ns()
        _live[proc.pid] = proc
        api.pid = proc.pid
        api.spawned.set()

        def failed(what: str) -> Failure:
            return Failure(f"{function} ({binary}): {what}\n--- its output ({log_path}):\n{tail(log_path)}")

        limit = time.monotonic() + ctx.timeout
        while not api.first_next.wait(0.02):
            if proc.poll() is not None:
                raise failed(f"exited with {proc.returncode} before asking for an event")
            if not api.done.empty() and api.done.queue[0][0] == "init-error":
                raise failed(f"reported an init error: {api.done.queue[0][2][:500]!r}")
            if time.monotonic() > limit:
                raise failed(f"no GET .../invocation/next within {ctx.timeout} s")
        init_ms = (api.first_next_at - started) / 1e6

        latencies, cpu, responses = [], [], []
        for index, request_id in enumerate(request_ids):
            if index:
                api.events.put((request_id, events[index]))
            limit = time.monotonic() + ctx.timeout
            while True:
                try:
                    kind, answered_id, body, at, cpu_at = api.done.get(timeout=0.05)
                    break
                except queue.Empty:
                    if proc.poll() is not None:
                        raise failed(f"exited with {proc.returncode} during invocation {index + 1}") from None
                    if time.monotonic() > limit:
                        raise failed(f"no answer to invocation {index + 1} within {ctx.timeout} s") from None
            if kind != "response" or answered_id != request_id:
                raise failed(f"invocation {index + 1}: {kind} for {answered_id}: {body[:500]!r}")
            latencies.append((at - api.sent_at[request_id]) / 1e6)
            cpu.append((cpu_at - api.cpu_sent[request_id]) / 1e6)
            responses.append(json.loads(body))
        return {"init": init_ms, "spawn": (spawned - started) / 1e6, "init_cpu": api.cpu_at_init / 1e6,
                "latencies": latencies, "cpu": cpu, "responses": responses, "rss": peak_rss_mib(proc.pid)}
    finally:
        if proc is not None:
            kill(proc)
        api.close()


# --- events and fixtures -----------------------------------------------------------------------

RECORDED = json.loads((REPO / "events" / "http-api-v2.json").read_text())


def fill(value, fixtures: dict):
    if isinstance(value, str):
        for name, replacement in fixtures.items():
            value = value.replace("{" + name + "}", str(replacement))
        return int(value) if value.isdigit() else value  # ids are JSON integers
    if isinstance(value, dict):
        return {k: fill(v, fixtures) for k, v in value.items()}
    return value


def http_event(function: str, fixtures: dict) -> bytes:
    """An API Gateway HTTP API 2.0 event, made from the recorded one as shared/src/testing.rs does."""
    method, pattern, parameters, body, _ = CALLS[function]
    parameters = {k: str(fill(v, fixtures)) for k, v in parameters.items()}
    path = pattern
    for name, value in parameters.items():
        path = path.replace("{" + name + "}", value)
    catch_all = function in ("not-found", HELLO)
    route_key = "$default" if catch_all else f"{method} {pattern}"
    headers = {"accept": "application/json", "user-agent": "coldstart"}
    if fixtures.get("token") and function not in ("login", HELLO, "not-found"):
        headers["authorization"] = fixtures["token"]
    if body is not None:
        headers["content-type"] = "application/json"
    event = json.loads(json.dumps(RECORDED))
    event.update({
        "routeKey": route_key, "rawPath": path, "rawQueryString": "", "cookies": [], "headers": headers,
        "queryStringParameters": None, "pathParameters": parameters or None,
        "body": None if body is None else json.dumps(fill(body, fixtures)), "isBase64Encoded": False,
    })
    context = event["requestContext"]
    context.update({"routeKey": route_key, "requestId": str(uuid.uuid4()), "timeEpoch": int(time.time() * 1000)})
    context["http"].update({"method": method, "path": path, "sourceIp": "127.0.0.1", "userAgent": "coldstart"})
    return json.dumps(event).encode()


def answer(function: str, response: dict) -> dict:
    expected = CALLS[function][4]
    status = response.get("statusCode")
    if status != expected:
        raise Failure(f"{function}: status {status}, expected {expected}: {json.dumps(response)[:600]}")
    try:
        return json.loads(response.get("body") or "null") or {}
    except ValueError:
        return {}


def admin(ctx: argparse.Namespace, args: list[str], stdin: str = "") -> dict:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TABLE_NAME": ctx.table,
           "DYNAMODB_ENDPOINT": ctx.plain_endpoint, "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
           "LOG_LEVEL": "warn"}
    done = subprocess.run([str(ctx.binaries["chat-admin"]), *args], input=stdin, env=env, capture_output=True,
                          text=True, timeout=120)
    if done.returncode != 0:
        raise Failure(f"chat-admin {' '.join(args)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def make_fixtures(ctx: argparse.Namespace) -> dict:
    """An agent, a client, a login token and an open thread, made through the release binaries
    (the two function starts double as page-cache warm-up and are not measured)."""
    suffix = f"{int(time.time())}-{random.randrange(10**6)}"
    fixtures = {"login": f"coldstart-{suffix}", "password": f"coldstart-password-{suffix}",
                "device": f"+1555{random.randrange(10**7):07d}"}
    admin(ctx, ["agent", "create", "--login", fixtures["login"], "--role", "INTEGRATOR"], fixtures["password"] + "\n")
    fixtures["client"] = admin(ctx, ["client", "create", "--external-id", f"coldstart-{suffix}"])["clientId"]
    logged_in = start(ctx.binaries["login"], "login", [http_event("login", fixtures)], ctx, ctx.logs / "setup.log",
                      ctx.fixture_env)
    fixtures["token"] = answer("login", logged_in["responses"][0])["token"]
    sent = start(ctx.binaries["send-outgoing"], "send-outgoing", [http_event("send-outgoing", fixtures)], ctx,
                 ctx.logs / "setup.log", ctx.fixture_env)
    fixtures["thread"] = answer("send-outgoing", sent["responses"][0])["threadId"]
    log(f"fixtures: agent {fixtures['login']}, client {fixtures['client']}, thread {fixtures['thread']}")
    return fixtures


# --- the run -----------------------------------------------------------------------------------

def median(values):
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/coldstart", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10, help="measured starts per binary (default 10)")
    parser.add_argument("--warm", type=int, default=5, help="warm invocations after the first, per start (default 5)")
    parser.add_argument("--warmup-rounds", type=int, default=1, help="unmeasured rounds first (default 1)")
    parser.add_argument("--functions", default=",".join(DEFAULT_FUNCTIONS),
                        help=f"comma-separated, or 'all' (known: {', '.join(CALLS)}); default: %(default)s")
    parser.add_argument("--extra", action="append", default=[], metavar="LABEL=FUNCTION[:PATH]",
                        help="also measure, as LABEL, the binary at PATH (default: FUNCTION's release binary) "
                             "with FUNCTION's event; e.g. a build of a local patch")
    parser.add_argument("--env", action="append", default=[], metavar="LABEL:NAME=VALUE",
                        help="set NAME=VALUE in LABEL's environment (on top of Lambda's)")
    parser.add_argument("--plain", action="store_true",
                        help="the functions reach DynamoDB Local over plain HTTP; by default they go through a TLS "
                             "proxy on 127.0.0.1, so that the first invocation opens a TLS connection as in AWS")
    parser.add_argument("--timeout", type=float, default=30, help="seconds any one wait may take (default 30)")
    parser.add_argument("--json", type=Path, help="also write every sample to this file")
    parser.add_argument("--no-build", action="store_true", help="(scripts/coldstart) use the binaries as built")
    ctx = parser.parse_args()

    functions = list(CALLS) if ctx.functions == "all" else [f.strip() for f in ctx.functions.split(",") if f.strip()]
    unknown = [f for f in functions if f not in CALLS]
    if unknown:
        parser.error(f"unknown function(s) {', '.join(unknown)}; known: {', '.join(CALLS)}")
    if HELLO not in functions:
        functions.insert(0, HELLO)  # the ratios need the baseline
    if ctx.rounds < 1 or ctx.warm < 1:
        parser.error("--rounds and --warm must be at least 1")
    ctx.table, ctx.plain_endpoint = os.environ["TABLE_NAME"], os.environ["DYNAMODB_ENDPOINT"]
    ctx.endpoint = ctx.plain_endpoint
    release = Path(os.environ["RELEASE_DIR"])

    # label -> (function, path); copied into a private directory as `bootstrap`, so that a build
    # running meanwhile cannot swap a binary halfway through the run.
    measured = {f: (f, release / f) for f in functions}
    for spec in ctx.extra:
        label, _, rest = spec.partition("=")
        function, _, path = rest.partition(":")
        if not label or function not in CALLS or label in measured:
            parser.error(f"--extra {spec!r}: want a new LABEL=FUNCTION[:PATH] with a known FUNCTION")
        measured[label] = (function, Path(path) if path else release / function)
    ctx.envs = {label: {} for label in measured}
    for spec in ctx.env:
        label, _, assignment = spec.partition(":")
        name, equals, value = assignment.partition("=")
        if label not in measured or not name or not equals:
            parser.error(f"--env {spec!r}: want LABEL:NAME=VALUE with a measured LABEL")
        ctx.envs[label][name] = value
    work = Path(tempfile.mkdtemp(prefix="coldstart-"))
    ctx.logs = work
    ctx.binaries = {}
    ctx.fixture_env = {}
    proxy = None
    try:
        if not ctx.plain:
            proxy = TlsProxy(ctx.plain_endpoint, work)
            ctx.endpoint = proxy.endpoint
            ctx.envs = {label: proxy.trust(env) for label, env in ctx.envs.items()}
            ctx.fixture_env = proxy.trust({})
        for label, (_, source) in {**{p: (p, release / p) for p in FIXTURE_PACKAGES}, **measured}.items():
            if not source.is_file():
                raise Failure(f"{source} is missing (build it: cargo build --release -p {label})")
            (work / label).mkdir()
            ctx.binaries[label] = shutil.copy2(source, work / label / "bootstrap")
            ctx.binaries[label] = Path(ctx.binaries[label])
        fixtures = make_fixtures(ctx)
        events = {label: http_event(function, fixtures) for label, (function, _) in measured.items()}

        labels = list(measured)
        samples = {label: {key: [] for key in ("init", "spawn", "first", "warm", "init_cpu", "first_cpu", "warm_cpu", "rss")}
                   for label in labels}
        load_before = os.getloadavg()
        total = ctx.warmup_rounds + ctx.rounds
        log(f"{len(labels)} binaries x {total} rounds ({ctx.warmup_rounds} unmeasured), "
            f"1 + {ctx.warm} invocations per start")
        for round_index in range(total):
            shift = round_index % len(labels)
            for label in labels[shift:] + labels[:shift]:
                function = measured[label][0]
                run = start(ctx.binaries[label], function, [events[label]] * (1 + ctx.warm), ctx,
                            work / f"{label}.log", ctx.envs[label])
                for response in run["responses"]:
                    answer(function, response)
                if round_index < ctx.warmup_rounds:
                    continue
                sample = samples[label]
                sample["init"].append(run["init"])
                sample["spawn"].append(run["spawn"])
                sample["init_cpu"].append(run["init_cpu"])
                sample["first_cpu"].append(run["cpu"][0])
                sample["warm_cpu"].extend(run["cpu"][1:])
                sample["first"].append(run["latencies"][0])
                sample["warm"].extend(run["latencies"][1:])
                if run["rss"] is not None:
                    sample["rss"].append(run["rss"])
            log(f"round {round_index + 1}/{total} done")
        load_after = os.getloadavg()
        report(ctx, labels, measured, samples, load_before, load_after)
        if ctx.json:
            ctx.json.write_text(json.dumps({"rounds": ctx.rounds, "warm": ctx.warm, "samples": samples}, indent=1))
        return 0
    except Failure as failure:
        log(f"error: {failure}")
        return 1
    finally:
        for proc in list(_live.values()):
            kill(proc)
        if proxy is not None:
            proxy.close()
        shutil.rmtree(work, ignore_errors=True)


def mark(ratio: float, goal: float) -> str:
    return f"{ratio:.2f}{'' if ratio <= goal else ' ✗'}"


def table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))) + " |")
    print("|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) + " |")


def report(ctx, labels, measured, samples, load_before, load_after) -> None:
    hello = samples[HELLO]
    spawn = median([value for label in labels for value in samples[label]["spawn"]])
    dynamodb = "DynamoDB Local over plain HTTP" if ctx.plain else "DynamoDB Local over HTTPS (TLS proxy)"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                            timeout=30).stdout.strip()
    release = Path(os.environ["RELEASE_DIR"]).resolve()
    built = "this tree's target/release" if release.is_relative_to(REPO) else str(release)
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, repository at commit {commit}, binaries from {built}")
    print(f"Cold start: release bootstraps on a local Lambda Runtime API (127.0.0.1), {dynamodb}; "
          f"{ctx.rounds} rounds round-robin (+{ctx.warmup_rounds} unmeasured), 1 + {ctx.warm} invocations per start; "
          f"nproc {os.cpu_count()}, load average {load_before[0]:.2f} -> {load_after[0]:.2f}")
    print("Medians, ms. init: process start -> its first GET .../invocation/next (including the harness's "
          f"fork+exec, median {spawn:.2f}); first, warm: event handed out -> response posted.\n")
    name = lambda label: label if measured[label][0] == label else f"{label} ({measured[label][0]})"
    p90 = lambda values: sorted(values)[min(len(values) - 1, int(0.9 * len(values)))]
    rows = []
    for label in labels:
        s = samples[label]
        init, first, warm = median(s["init"]), median(s["first"]), median(s["warm"])
        rows.append([name(label), f"{ctx.binaries[label].stat().st_size / 2**20:.2f}", f"{init:.2f}",
                     f"{p90(s['init']):.2f}", f"{first:.2f}", f"{warm:.2f}",
                     mark(init / median(hello["init"]), INIT_GOAL), mark(first / warm, FIRST_GOAL),
                     f"{median(s['rss']):.1f}"])
    table(["binary", "MiB", "init", "init p90", "first", "warm", "init / hello", "first / warm", "peak RSS MiB"], rows)

    print("\nOn-CPU time of the function process (all threads, /proc/PID/task/*/schedstat), medians, ms: what the "
          "binary itself spends, hardly moved by the machine's load; DynamoDB Local's time is not in it.\n")
    rows = []
    for label in labels:
        s = samples[label]
        init, first, warm = median(s["init_cpu"]), median(s["first_cpu"]), median(s["warm_cpu"])
        rows.append([name(label), f"{init:.2f}", f"{first:.2f}", f"{warm:.2f}",
                     mark(init / median(hello["init_cpu"]), INIT_GOAL), mark(first / warm, FIRST_GOAL)])
    table(["binary", "init CPU", "first CPU", "warm CPU", "init CPU / hello", "first CPU / warm"], rows)
    print(f"\nGoals (issue 7): init / hello <= {INIT_GOAL}, first / warm <= {FIRST_GOAL}; ✗ marks a miss.")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        for proc in list(_live.values()):
            kill(proc)
        sys.exit(130)
