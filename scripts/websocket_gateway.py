#!/usr/bin/env python3
"""The local stand-in for the web chat's API Gateway WebSocket API (docs/webchat.md, section 3).

    websocket_gateway.py --lambda-port 3000 [--port 3001] [--static-dir webchat] [--ready-file F]

Started by scripts/local-api next to the stream poller; stopped with SIGTERM or SIGINT (open
connections are closed with 1001 and get their $disconnect, within a few seconds).
On 127.0.0.1:PORT (0: a free one, written to the ready file):
  - `GET /` with a WebSocket upgrade: the `$connect` event goes to `webchat-connect`; a statusCode
    other than 2xx refuses the handshake with that status and body. Each frame the client sends is
    a `$default` event to `webchat-message` (binary frames in base64), one at a time per
    connection, connections side by side; the answer's body, if any, goes back as one text frame.
    When the connection closes (either side), `$disconnect` goes to `webchat-disconnect`.
  - API Gateway's limits: a message over 128 KB closes the connection with 1009 (frames over
    32 KB reach the function, which refuses them itself); no frame from the client for
    WS_IDLE_SECONDS (default 600) or an age of WS_MAX_SECONDS (default 7200) closes it with 1001.
  - The management API: `POST /@connections/{id}` (the body goes to the client as one frame),
    `GET` (connectedAt, lastActiveAt, identity), `DELETE` (closes it); 410 GoneException for a
    connection that is not open. SigV4 signatures are not checked.
  - The widget: the files of --static-dir under `/webchat/` (index.html at `/webchat/`).
Functions are invoked through cargo-lambda's Lambda Invoke API:
POST http://127.0.0.1:LAMBDA_PORT/2015-03-31/functions/<binary>/invocations.

Logs go to stderr: route keys, connection ids, statuses and timings only. The connect request's
query string carries the visitor's token, so no URL, header or frame content is ever logged.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import logging
import os
import secrets
import signal
import string
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import ClientError, ClientSession, ClientTimeout, WSCloseCode, WSMessage, WSMsgType, web

ROOT = Path(__file__).resolve().parent.parent
LOG_PREFIX = "[websocket-gateway]"

CONNECT_FUNCTION = "webchat-connect"
MESSAGE_FUNCTION = "webchat-message"
DISCONNECT_FUNCTION = "webchat-disconnect"

MAX_MESSAGE_BYTES = 128 * 1024
IDLE_SECONDS = float(os.environ.get("WS_IDLE_SECONDS", "600"))
MAX_SECONDS = float(os.environ.get("WS_MAX_SECONDS", "7200"))
# API Gateway gives up on an integration after 29 s; a function's first call may also wait for
# cargo-lambda to start it.
INTEGRATION_TIMEOUT = 29.0
COLD_START_ALLOWANCE = 120.0
# How long a stop waits for the closing connections' $disconnect invocations.
SHUTDOWN_SECONDS = 5.0

# What the requestContext names: API Gateway's api id is 10 lower-case letters and digits.
API_ID = "localwsapi"
STAGE = "local"
GOING_AWAY = (WSCloseCode.GOING_AWAY, "Going away")
# Connection headers of the handshake that API Gateway does not pass to $connect.
HOP_BY_HOP = frozenset({"connection", "upgrade"})
_ID_ALPHABET = string.ascii_letters + string.digits


def log(msg: str) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%S.%f")[:-3]
    print(f"{LOG_PREFIX} {stamp} {msg}", file=sys.stderr, flush=True)


class ContentFreeLog(logging.Handler):
    """Other modules' log records (aiohttp's, asyncio's) without their arguments or exception
    messages: aiohttp quotes a malformed request line, and that line may carry a token."""

    def emit(self, record: logging.LogRecord) -> None:
        line = f"{record.name}: {record.msg}"
        kind, _, trace = record.exc_info or (None, None, None)
        if kind:
            line += f" ({kind.__name__})\n" + "".join(traceback.format_tb(trace)).rstrip()
        log(line)


def api_gateway_id() -> str:
    """An id shaped like API Gateway's connection and request ids, e.g. `Xyz0AcdEIAMCJkA=`."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(15)) + "="


def epoch_ms() -> int:
    return time.time_ns() // 1_000_000


def request_time(ms: int) -> str:
    """API Gateway's `requestTime`: `02/Dec/2026:17:00:45 +0000`."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def iso_time(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


def single_and_multi(pairs) -> tuple[dict[str, str], dict[str, list[str]]]:
    """API Gateway's pair of maps: the last value of each name, and all of them."""
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {name: values[-1] for name, values in multi.items()}, multi


# ------------------------------------------------------------------------------------------------
# Invoking the functions.


@dataclass
class Answer:
    """A function's API Gateway proxy response, or why there is none (`failure`)."""

    status_code: int = 0
    body: str | None = None
    content_type: str | None = None
    failure: str | None = None

    @property
    def accepted(self) -> bool:
        return self.failure is None and 200 <= self.status_code < 300

    def describe(self) -> str:
        return self.failure or str(self.status_code)


class Invoker:
    def __init__(self, lambda_port: int) -> None:
        self.base_url = f"http://127.0.0.1:{lambda_port}/2015-03-31/functions"
        self.session = ClientSession()
        self.warm: set[str] = set()

    async def __call__(self, function: str, event: dict) -> Answer:
        limit = INTEGRATION_TIMEOUT + (0 if function in self.warm else COLD_START_ALLOWANCE)
        try:
            async with self.session.post(
                f"{self.base_url}/{function}/invocations",
                json=event,
                headers={"X-Amz-Invocation-Type": "RequestResponse"},
                timeout=ClientTimeout(total=limit),
            ) as resp:
                raw = await resp.read()
                if resp.status != 200 or "X-Amz-Function-Error" in resp.headers:
                    return Answer(failure=f"function error (HTTP {resp.status})")
        except (ClientError, TimeoutError) as e:
            return Answer(failure=f"no answer ({type(e).__name__})")
        self.warm.add(function)
        try:
            response = json.loads(raw)
        except ValueError:
            response = None
        if not isinstance(response, dict) or not isinstance(response.get("statusCode"), int):
            return Answer(failure="not an API Gateway proxy response")
        headers = {str(k).lower(): v for k, v in (response.get("headers") or {}).items()}
        body = response.get("body")
        return Answer(response["statusCode"], body if isinstance(body, str) else None, headers.get("content-type"))

    async def close(self) -> None:
        await self.session.close()


# ------------------------------------------------------------------------------------------------
# Connections and their events.


@dataclass
class Connection:
    id: str
    source_ip: str
    user_agent: str
    domain_name: str
    connected_at: int  # epoch ms
    last_active_at: int  # epoch ms: the last frame from the client (what API Gateway's idle counts)
    ws: web.WebSocketResponse
    frames: asyncio.Queue = field(default_factory=asyncio.Queue)
    # Why it closed: the client's close frame, or what the gateway closed it with.
    close_code: int = WSCloseCode.ABNORMAL_CLOSURE
    close_reason: str = ""

    def request_context(self, route_key: str, event_type: str) -> dict:
        now = epoch_ms()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": api_gateway_id(),
            "requestTime": request_time(now),
            "messageDirection": "IN",
            "stage": STAGE,
            "connectedAt": self.connected_at,
            "requestTimeEpoch": now,
            "identity": {"sourceIp": self.source_ip, "userAgent": self.user_agent},
            "requestId": api_gateway_id(),
            "domainName": self.domain_name,
            "connectionId": self.id,
            "apiId": API_ID,
        }

    def message_event(self, frame: WSMessage) -> dict:
        context = self.request_context("$default", "MESSAGE")
        context["messageId"] = api_gateway_id()
        context["identity"] = {"sourceIp": self.source_ip}
        if frame.type is WSMsgType.BINARY:
            return {"requestContext": context, "body": base64.b64encode(frame.data).decode(), "isBase64Encoded": True}
        return {"requestContext": context, "body": frame.data, "isBase64Encoded": False}

    def disconnect_event(self) -> dict:
        context = self.request_context("$disconnect", "DISCONNECT")
        context["disconnectStatusCode"] = int(self.close_code)
        context["disconnectReason"] = self.close_reason
        headers = {"Host": self.domain_name, "X-Forwarded-For": self.source_ip}
        return {
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "requestContext": context,
            "isBase64Encoded": False,
        }

    def deadline(self) -> tuple[float, str]:
        """When API Gateway would close it (epoch s), and which limit that is."""
        idle = self.last_active_at / 1000 + IDLE_SECONDS
        aged = self.connected_at / 1000 + MAX_SECONDS
        return (idle, "idle") if idle < aged else (aged, "max age")

    async def send(self, data: str | bytes) -> bool:
        """One frame to the client; False when the connection is no longer open."""
        if self.ws.closed:
            return False
        try:
            if isinstance(data, str):
                await self.ws.send_str(data)
            else:
                await self.ws.send_bytes(data)
        except ConnectionError:
            return False
        return True

    async def close(self, code: int, reason: str) -> None:
        self.close_code, self.close_reason = code, reason
        await self.ws.close(code=code, message=reason.encode())


def connect_event(request: web.Request, conn: Connection, port: int) -> dict:
    headers = [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in request.raw_headers
        if name.decode("latin-1").lower() not in HOP_BY_HOP
    ]
    trace = f"Root=1-{conn.connected_at // 1000:08x}-{secrets.token_hex(12)}"
    headers += [
        ("X-Amzn-Trace-Id", trace),
        ("X-Forwarded-For", conn.source_ip),
        ("X-Forwarded-Port", str(port)),
        ("X-Forwarded-Proto", "http"),
    ]
    event: dict = {}
    event["headers"], event["multiValueHeaders"] = single_and_multi(headers)
    if request.query:
        event["queryStringParameters"], event["multiValueQueryStringParameters"] = single_and_multi(
            request.query.items()
        )
    event["requestContext"] = conn.request_context("$connect", "CONNECT")
    event["isBase64Encoded"] = False
    return event


def internal_error_frame(event: dict) -> str:
    """What API Gateway sends the client when the route's integration failed."""
    context = event["requestContext"]
    return json.dumps(
        {"message": "Internal server error", "connectionId": context["connectionId"], "requestId": context["requestId"]}
    )


def gone(connection_id: str) -> web.Response:
    return web.json_response(
        {"message": f"connection {connection_id} is gone", "__type": "GoneException"},
        status=410,
        headers={"x-amzn-ErrorType": "GoneException"},
    )


# ------------------------------------------------------------------------------------------------
# The gateway.


class Gateway:
    def __init__(self, invoke: Invoker, static_dir: Path) -> None:
        self.invoke = invoke
        self.static_dir = static_dir.resolve()
        self.port = 0  # known once listening
        self.connections: dict[str, Connection] = {}
        self.handlers: set[asyncio.Task] = set()
        self.app = web.Application(client_max_size=MAX_MESSAGE_BYTES + 1)
        self.app.router.add_get("/", self.websocket)
        self.app.router.add_post("/@connections/{connection_id}", self.post_to_connection)
        self.app.router.add_get("/@connections/{connection_id}", self.get_connection)
        self.app.router.add_delete("/@connections/{connection_id}", self.delete_connection)
        self.app.router.add_get("/webchat", self.widget_folder)
        self.app.router.add_get("/webchat/{path:.*}", self.widget_file)

    # --- the WebSocket ------------------------------------------------------------------------

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        # timeout: how long a close waits for the client's close frame.
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, timeout=2.0)
        if not ws.can_prepare(request).ok:
            return web.Response(status=426, text="Upgrade Required: this is a WebSocket endpoint\n")
        now = epoch_ms()
        conn = Connection(
            id=api_gateway_id(),
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent", ""),
            domain_name=request.host,
            connected_at=now,
            last_active_at=now,
            ws=ws,
        )
        started = time.monotonic()
        answer = await self.invoke(CONNECT_FUNCTION, connect_event(request, conn, self.port))
        log(f"{conn.id} $connect {answer.describe()} ({elapsed_ms(started)} ms)")
        if answer.failure:
            return web.json_response({"message": "Internal server error"}, status=500)
        if not answer.accepted:
            return web.Response(
                status=answer.status_code, text=answer.body or "",
                headers={"Content-Type": answer.content_type or "text/plain"},
            )
        await ws.prepare(request)
        handler = asyncio.current_task()
        self.handlers.add(handler)
        try:
            await self.run_connection(conn)
        finally:
            self.handlers.discard(handler)
        return ws

    async def run_connection(self, conn: Connection) -> None:
        self.connections[conn.id] = conn
        worker = asyncio.create_task(self.deliver_frames(conn))
        try:
            await self.read_frames(conn)
        finally:
            self.connections.pop(conn.id, None)
            conn.frames.put_nowait(None)  # the frames already read still reach the function
            await worker
            started = time.monotonic()
            answer = await self.invoke(DISCONNECT_FUNCTION, conn.disconnect_event())
            log(f"{conn.id} $disconnect ({conn.close_code}) {answer.describe()} ({elapsed_ms(started)} ms)")

    async def read_frames(self, conn: Connection) -> None:
        """Queues the client's frames until the connection closes, whoever closes it."""
        while True:
            deadline, limit = conn.deadline()
            wait = deadline - time.time()
            if wait <= 0:
                log(f"{conn.id} {limit} limit reached: closing")
                await conn.close(*GOING_AWAY)
                return
            try:
                frame = await conn.ws.receive(timeout=wait)
            except TimeoutError:
                continue
            if frame.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                conn.last_active_at = epoch_ms()
                conn.frames.put_nowait(frame)
            elif frame.type is WSMsgType.CLOSE:  # the client's close frame
                conn.close_code, conn.close_reason = frame.data, frame.extra or ""
                return
            elif frame.type is WSMsgType.ERROR:  # aiohttp closed it: too big (1009) or malformed
                conn.close_code = getattr(frame.data, "code", WSCloseCode.PROTOCOL_ERROR)
                log(f"{conn.id} closed by the gateway ({conn.close_code})")
                return
            else:  # CLOSING / CLOSED: closed by the gateway (DELETE, stop) or the socket dropped
                return

    async def deliver_frames(self, conn: Connection) -> None:
        """Invokes the function for each frame of one connection in order, one at a time."""
        while (frame := await conn.frames.get()) is not None:
            event = conn.message_event(frame)
            started = time.monotonic()
            answer = await self.invoke(MESSAGE_FUNCTION, event)
            log(f"{conn.id} $default {answer.describe()} ({elapsed_ms(started)} ms)")
            reply = internal_error_frame(event) if answer.failure else answer.body
            if reply is not None:
                await conn.send(reply)

    # --- the management API -------------------------------------------------------------------

    async def post_to_connection(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["connection_id"]
        data = await request.read()
        conn = self.connections.get(connection_id)
        try:
            frame: str | bytes = data.decode("utf-8")
        except UnicodeDecodeError:
            frame = data
        if conn is None or not await conn.send(frame):
            log(f"{connection_id} @connections POST 410")
            return gone(connection_id)
        log(f"{connection_id} @connections POST 200")
        return web.Response(status=200)

    async def get_connection(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["connection_id"]
        conn = self.connections.get(connection_id)
        if conn is None:
            return gone(connection_id)
        return web.json_response(
            {
                "connectedAt": iso_time(conn.connected_at),
                "lastActiveAt": iso_time(conn.last_active_at),
                "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
            }
        )

    async def delete_connection(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["connection_id"]
        conn = self.connections.pop(connection_id, None)
        log(f"{connection_id} @connections DELETE {204 if conn else 410}")
        if conn is None:
            return gone(connection_id)
        await conn.close(WSCloseCode.OK, "")
        return web.Response(status=204)

    # --- the widget ---------------------------------------------------------------------------

    async def widget_folder(self, request: web.Request) -> web.Response:
        raise web.HTTPPermanentRedirect("/webchat/")  # the page's relative URLs need the slash

    async def widget_file(self, request: web.Request) -> web.FileResponse:
        path = (self.static_dir / request.match_info["path"]).resolve()
        if path.is_dir():
            path = path / "index.html"
        if not path.is_relative_to(self.static_dir) or not path.is_file():
            raise web.HTTPNotFound()
        # no-cache: an edited widget file shows on the next reload.
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    # --- stopping -----------------------------------------------------------------------------

    async def close_all(self) -> None:
        """Closes every connection (1001) and waits, bounded, for their $disconnect."""
        await asyncio.gather(*(conn.close(*GOING_AWAY) for conn in list(self.connections.values())))
        if self.handlers:
            await asyncio.wait(self.handlers, timeout=SHUTDOWN_SECONDS)


def elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


async def serve(args: argparse.Namespace) -> None:
    invoker = Invoker(args.lambda_port)
    gateway = Gateway(invoker, Path(args.static_dir))
    # access_log=None: a request line would carry the connect URL's ?token=.
    runner = web.AppRunner(gateway.app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port)
    await site.start()
    gateway.port = runner.addresses[0][1]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log(f"listening on 127.0.0.1:{gateway.port} (functions on 127.0.0.1:{args.lambda_port}; "
        f"idle {IDLE_SECONDS:g} s, max age {MAX_SECONDS:g} s)")
    if args.ready_file:
        Path(args.ready_file).write_text(f"{gateway.port}\n", encoding="utf-8")
    await stop.wait()
    log(f"stopping: closing {len(gateway.connections)} connection(s)")
    await gateway.close_all()
    await runner.cleanup()
    await invoker.close()
    log("stopped")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=int(os.environ.get("WS_PORT", "3001")),
                    help="port to listen on (0: a free one); default WS_PORT or 3001")
    ap.add_argument("--lambda-port", type=int, required=True, help="cargo lambda watch's port")
    ap.add_argument("--static-dir", default=str(ROOT / "webchat"), help="served at /webchat/")
    ap.add_argument("--ready-file", help="written (the port) once listening")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, handlers=[ContentFreeLog()])
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
