"""scripts/websocket_gateway.py, the local stand-in for API Gateway's WebSocket API, as a process:
the events it makes of handshakes, frames and closes (events/websocket-*.json are recorded ones),
a refused handshake, per-connection order, the @connections management API, API Gateway's size,
idle and age limits, the widget's files, a clean stop. The functions are pollerkit.FakeFunctions
(cargo-lambda's Invoke API), answering as the web chat functions would."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from collections.abc import Callable

import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from pollerkit import ROOT, FakeFunctions, wait_until

CONNECT, MESSAGE, DISCONNECT = "webchat-connect", "webchat-message", "webchat-disconnect"
RECORDED_CONNECT = json.loads((ROOT / "events" / "websocket-connect.json").read_text())
RECORDED_MESSAGE = json.loads((ROOT / "events" / "websocket-message.json").read_text())
CONNECTION_ID = re.compile(r"^[A-Za-z0-9]{15}=$")
TOKEN = "vt_secret-token-value-0123456789"


def proxy_response(status: int = 200, body: str | None = None) -> tuple[int, dict]:
    """cargo-lambda's 200 carrying a function's API Gateway proxy response."""
    response: dict = {"statusCode": status, "headers": {"content-type": "application/json"}}
    if body is not None:
        response["body"] = body
    return 200, response


def echo(payload: dict) -> tuple[int, dict]:
    """webchat-message answering each frame with `echo:<frame>`."""
    return proxy_response(body=f"echo:{payload['body']}")


class Gateway:
    """The gateway as a process, listening on a free port."""

    def __init__(self, lambda_port: int, workdir: Path, env: dict[str, str], static_dir: Path) -> None:
        self.log = workdir / "gateway.log"
        ready = workdir / "gateway.ready"
        ready.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "websocket_gateway.py"), "--port", "0",
             "--lambda-port", str(lambda_port), "--static-dir", str(static_dir), "--ready-file", str(ready)],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=open(self.log, "a"),  # noqa: SIM115
        )
        deadline = time.monotonic() + 30
        while not ready.exists() or not ready.read_text().strip():
            assert self.proc.poll() is None, f"the gateway exited: {self.log.read_text()}"
            assert time.monotonic() < deadline, "the gateway did not start within 30 s"
            time.sleep(0.05)
        self.port = int(ready.read_text())
        self.url = f"ws://127.0.0.1:{self.port}/"
        self.http = f"http://127.0.0.1:{self.port}"

    def connect(self, query: str = f"token={TOKEN}", **kwargs) -> ClientConnection:
        return connect(f"{self.url}?{query}", proxy=None, open_timeout=10, close_timeout=5, **kwargs)

    def connections_url(self, connection_id: str) -> str:
        # As aws-sdk-apigatewaymanagement sends it: the id percent-encoded ("=" as %3D).
        return f"{self.http}/@connections/{urllib.parse.quote(connection_id, safe='')}"

    def stop(self) -> float:
        """SIGTERM; how long it took to exit."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=15)
        return time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def webchat_functions(functions: FakeFunctions) -> FakeFunctions:
    """The web chat functions: connect and disconnect accept, message echoes."""
    functions.known |= {CONNECT, MESSAGE, DISCONNECT}
    functions.behaviour[CONNECT] = lambda payload: proxy_response()
    functions.behaviour[MESSAGE] = echo
    functions.behaviour[DISCONNECT] = lambda payload: proxy_response()
    return functions


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "webchat"
    folder.mkdir()
    (folder / "index.html").write_text("<!doctype html><title>widget</title>")
    (folder / "widget.js").write_text("console.log('widget')")
    return folder


@pytest.fixture
def gateway_factory(tmp_path: Path, webchat_functions: FakeFunctions, static_dir: Path):
    made: list[Gateway] = []

    def make(**env: str) -> Gateway:
        made.append(Gateway(webchat_functions.port, tmp_path, env, static_dir))
        return made[-1]

    yield make
    for gateway in made:
        gateway.kill()


@pytest.fixture
def gateway(gateway_factory) -> Gateway:
    return gateway_factory()


def connection_ids(functions: FakeFunctions, name: str) -> list[str]:
    return [p["requestContext"]["connectionId"] for p in functions.payloads(name)]


def disconnects(functions: FakeFunctions, connection_id: str) -> list[dict]:
    return [p for p in functions.payloads(DISCONNECT) if p["requestContext"]["connectionId"] == connection_id]


def closed_with(ws: ClientConnection, timeout: float = 10.0) -> int:
    """Reads until the gateway closes the connection; the close code it sent."""
    deadline = time.monotonic() + timeout
    with pytest.raises(ConnectionClosed) as closed:
        while time.monotonic() < deadline:
            ws.recv(timeout=deadline - time.monotonic())
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code


# --- $connect ------------------------------------------------------------------------------------


def test_connect_event_is_api_gateways(gateway: Gateway, webchat_functions: FakeFunctions) -> None:
    before = int(time.time() * 1000)
    with gateway.connect(f"token={TOKEN}&tag=a&tag=b", additional_headers={"Origin": "https://shop.example.com"}):
        pass
    (event,) = webchat_functions.payloads(CONNECT)
    assert set(event) == set(RECORDED_CONNECT)
    context = event["requestContext"]
    assert set(context) == set(RECORDED_CONNECT["requestContext"])
    assert context["routeKey"] == "$connect" and context["eventType"] == "CONNECT"
    assert context["messageDirection"] == "IN"
    assert CONNECTION_ID.match(context["connectionId"]), context["connectionId"]
    assert context["requestId"] != context["extendedRequestId"]
    assert re.fullmatch(r"[a-z0-9]{10}", context["apiId"]) and context["stage"]
    assert context["domainName"] == f"127.0.0.1:{gateway.port}"
    assert before <= context["connectedAt"] <= context["requestTimeEpoch"] <= before + 10_000
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", context["requestTime"])
    assert context["identity"] == {"sourceIp": "127.0.0.1", "userAgent": event["headers"]["User-Agent"]}
    assert event["queryStringParameters"] == {"token": TOKEN, "tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"token": [TOKEN], "tag": ["a", "b"]}
    headers = event["headers"]
    assert headers["Origin"] == "https://shop.example.com"
    assert headers["Host"] == f"127.0.0.1:{gateway.port}" and headers["Sec-WebSocket-Version"] == "13"
    assert headers["X-Forwarded-For"] == "127.0.0.1" and headers["X-Forwarded-Port"] == str(gateway.port)
    assert headers["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert not {"connection", "upgrade"} & {name.lower() for name in headers}, "API Gateway drops them"
    assert event["multiValueHeaders"] == {name: [value] for name, value in headers.items()}
    assert event["isBase64Encoded"] is False

    # The close that followed: $disconnect, with the client's close code.
    wait_until(lambda: webchat_functions.payloads(DISCONNECT), what="$disconnect")
    (gone,) = webchat_functions.payloads(DISCONNECT)
    assert gone["requestContext"]["routeKey"] == "$disconnect"
    assert gone["requestContext"]["eventType"] == "DISCONNECT"
    assert gone["requestContext"]["connectionId"] == context["connectionId"]
    assert gone["requestContext"]["connectedAt"] == context["connectedAt"]
    assert gone["requestContext"]["disconnectStatusCode"] == 1000
    assert TOKEN not in gateway.log.read_text(), "the token reached the gateway's log"


@pytest.mark.parametrize(
    "answer, status, body",
    [
        (proxy_response(401, '{"code":"UNAUTHORIZED"}'), 401, b'{"code":"UNAUTHORIZED"}'),
        ((502, {"errorType": "Panic"}), 500, b'{"message": "Internal server error"}'),
    ],
    ids=["refused", "function-error"],
)
def test_a_refused_connect_is_not_upgraded(gateway, webchat_functions, answer, status, body) -> None:
    webchat_functions.behaviour[CONNECT] = lambda payload: answer
    with pytest.raises(InvalidStatus) as refused:
        gateway.connect()
    assert refused.value.response.status_code == status
    assert refused.value.response.body == body
    time.sleep(0.3)
    assert not webchat_functions.payloads(MESSAGE) and not webchat_functions.payloads(DISCONNECT)


def test_plain_http_on_the_websocket_path_is_426(gateway: Gateway) -> None:
    assert requests.get(gateway.http + "/", timeout=10).status_code == 426


def test_a_malformed_request_line_does_not_log_its_token(gateway: Gateway) -> None:
    # A page that put the token in the URL unencoded: aiohttp refuses the request line and
    # would quote it in its error log.
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as raw:
        raw.sendall(f"GET /?token=Bearer {TOKEN} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert raw.recv(1024).split(b"\r\n")[0].endswith(b" 400 Bad Request")
    wait_until(lambda: "BadStatusLine" in gateway.log.read_text(), what="the parser's complaint in the log")
    assert TOKEN not in gateway.log.read_text()


# --- frames --------------------------------------------------------------------------------------


def test_frames_become_default_events_in_order_one_at_a_time(gateway, webchat_functions) -> None:
    in_flight: dict[str, int] = {}
    overlapped: list[str] = []
    lock = threading.Lock()

    def slow_echo(payload: dict) -> tuple[int, dict]:
        connection_id = payload["requestContext"]["connectionId"]
        with lock:
            in_flight[connection_id] = in_flight.get(connection_id, 0) + 1
            if in_flight[connection_id] > 1:
                overlapped.append(connection_id)
        time.sleep(0.02)
        with lock:
            in_flight[connection_id] -= 1
        if payload["body"] == "no answer":
            return proxy_response()
        return echo(payload)

    webchat_functions.behaviour[MESSAGE] = slow_echo
    with gateway.connect() as ws:
        texts = [f'{{"action":"send","n":{n}}}' for n in range(12)]
        for text in texts:
            ws.send(text)
        assert [ws.recv(timeout=10) for _ in texts] == [f"echo:{text}" for text in texts]
        ws.send("no answer")
        ws.send(b"\x00\xffbinary")
        ws.send("a" * 40_000)  # over API Gateway's 32 KB frame limit: the function refuses it itself
        assert ws.recv(timeout=10) == "echo:" + base64.b64encode(b"\x00\xffbinary").decode()
        assert ws.recv(timeout=10) == "echo:" + "a" * 40_000
    assert not overlapped, "two frames of one connection were invoked at once"

    (connect_event,) = webchat_functions.payloads(CONNECT)
    events = webchat_functions.payloads(MESSAGE)
    assert [e["body"] for e in events[:12]] == texts
    first = events[0]
    assert set(first) == set(RECORDED_MESSAGE)
    assert set(first["requestContext"]) == set(RECORDED_MESSAGE["requestContext"])
    context = first["requestContext"]
    assert context["routeKey"] == "$default" and context["eventType"] == "MESSAGE"
    assert context["connectionId"] == connect_event["requestContext"]["connectionId"]
    assert context["connectedAt"] == connect_event["requestContext"]["connectedAt"]
    assert context["identity"] == {"sourceIp": "127.0.0.1"}
    assert len({e["requestContext"]["messageId"] for e in events}) == len(events)
    assert first["isBase64Encoded"] is False
    binary = events[13]
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == b"\x00\xffbinary"


def test_connections_are_invoked_side_by_side(gateway, webchat_functions) -> None:
    both_in = threading.Barrier(2, timeout=10)

    def meet(payload: dict) -> tuple[int, dict]:
        both_in.wait()  # breaks (and the answer is an error) unless the two calls overlap
        return echo(payload)

    webchat_functions.behaviour[MESSAGE] = meet
    with gateway.connect() as first, gateway.connect() as second:
        first.send("one")
        second.send("two")
        assert first.recv(timeout=15) == "echo:one"
        assert second.recv(timeout=15) == "echo:two"


def test_a_failing_function_gets_api_gateways_error_frame(gateway, webchat_functions) -> None:
    webchat_functions.behaviour[MESSAGE] = lambda payload: (502, {"errorType": "Panic"})
    with gateway.connect() as ws:
        ws.send("boom")
        frame = json.loads(ws.recv(timeout=10))
    (event,) = webchat_functions.payloads(MESSAGE)
    assert frame == {
        "message": "Internal server error",
        "connectionId": event["requestContext"]["connectionId"],
        "requestId": event["requestContext"]["requestId"],
    }


# --- the management API --------------------------------------------------------------------------


def test_post_and_get_connection(gateway, webchat_functions) -> None:
    with gateway.connect(user_agent_header="widget-test/1") as ws:
        (connection_id,) = connection_ids(webchat_functions, CONNECT)
        pushed = json.dumps({"type": "message", "message": {"id": 1, "text": "héllo"}}, ensure_ascii=False)
        answer = requests.post(gateway.connections_url(connection_id), data=pushed.encode(), timeout=10)
        assert answer.status_code == 200, answer.text
        assert ws.recv(timeout=10) == pushed

        ws.send("ping")
        ws.recv(timeout=10)
        info = requests.get(gateway.connections_url(connection_id), timeout=10)
        assert info.status_code == 200
        body = info.json()
        assert set(body) == {"connectedAt", "lastActiveAt", "identity"}
        assert body["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "widget-test/1"}
        iso = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
        assert re.fullmatch(iso, body["connectedAt"]) and re.fullmatch(iso, body["lastActiveAt"])
        assert body["connectedAt"] <= body["lastActiveAt"]

    for method in ("POST", "GET", "DELETE"):
        missing = requests.request(method, gateway.connections_url("Nope0AcdEIAMCJk="), data=b"x", timeout=10)
        assert missing.status_code == 410, (method, missing.text)
        assert missing.headers["x-amzn-ErrorType"] == "GoneException"
        assert missing.json()["__type"] == "GoneException"


def test_delete_closes_the_connection_and_disconnects(gateway, webchat_functions) -> None:
    with gateway.connect() as ws:
        (connection_id,) = connection_ids(webchat_functions, CONNECT)
        deleted = requests.delete(gateway.connections_url(connection_id), timeout=10)
        assert deleted.status_code == 204
        closed_with(ws)
    wait_until(lambda: disconnects(webchat_functions, connection_id), what="$disconnect")
    assert requests.post(gateway.connections_url(connection_id), data=b"late", timeout=10).status_code == 410
    assert requests.delete(gateway.connections_url(connection_id), timeout=10).status_code == 410
    assert len(disconnects(webchat_functions, connection_id)) == 1


# --- API Gateway's limits ------------------------------------------------------------------------


def test_a_message_over_128_kb_closes_with_1009(gateway, webchat_functions) -> None:
    with gateway.connect() as ws:
        ws.send("x" * (128 * 1024))  # the limit itself is fine
        assert ws.recv(timeout=10) == "echo:" + "x" * (128 * 1024)
        (connection_id,) = connection_ids(webchat_functions, CONNECT)
        ws.send("x" * (128 * 1024 + 1))
        assert closed_with(ws) == 1009
    wait_until(lambda: disconnects(webchat_functions, connection_id), what="$disconnect")
    assert disconnects(webchat_functions, connection_id)[0]["requestContext"]["disconnectStatusCode"] == 1009
    assert len(webchat_functions.payloads(MESSAGE)) == 1


def keep_sending(ws: ClientConnection, every: float, until: Callable[[], bool], limit: float) -> float:
    """Sends a frame every `every` s until `until()` or the connection closes; the time it took."""
    started = time.monotonic()
    try:
        while not until() and time.monotonic() - started < limit:
            ws.send("ping")
            ws.recv(timeout=5)
            time.sleep(every)
    except ConnectionClosed:
        pass
    return time.monotonic() - started


def test_idle_connections_are_closed_and_disconnected(gateway_factory, webchat_functions) -> None:
    gateway = gateway_factory(WS_IDLE_SECONDS="1.5")
    with gateway.connect() as ws:
        (connection_id,) = connection_ids(webchat_functions, CONNECT)
        # Frames keep it open past the idle limit; control pings (the client's keepalive) do not.
        lived = keep_sending(ws, 0.3, lambda: False, limit=3.0)
        assert lived >= 3.0, "closed although frames kept coming"
        started = time.monotonic()
        assert closed_with(ws, timeout=10) == 1001
        assert 0.7 <= time.monotonic() - started <= 5.0
    wait_until(lambda: disconnects(webchat_functions, connection_id), what="$disconnect")
    assert disconnects(webchat_functions, connection_id)[0]["requestContext"]["disconnectStatusCode"] == 1001


def test_connections_are_closed_at_their_max_age(gateway_factory, webchat_functions) -> None:
    gateway = gateway_factory(WS_MAX_SECONDS="2")
    with gateway.connect() as ws:
        (connection_id,) = connection_ids(webchat_functions, CONNECT)
        lived = keep_sending(ws, 0.2, lambda: bool(disconnects(webchat_functions, connection_id)), limit=15)
        assert 1.5 <= lived <= 8, lived
        assert closed_with(ws) == 1001
    wait_until(lambda: disconnects(webchat_functions, connection_id), what="$disconnect")


# --- the widget and stopping ---------------------------------------------------------------------


def test_the_widget_folder_is_served(gateway: Gateway, static_dir: Path) -> None:
    index = requests.get(gateway.http + "/webchat/", timeout=10)
    assert index.status_code == 200 and index.headers["Content-Type"].startswith("text/html")
    assert index.text == (static_dir / "index.html").read_text()
    redirect = requests.get(gateway.http + "/webchat", timeout=10, allow_redirects=False)
    assert redirect.status_code == 308 and redirect.headers["Location"] == "/webchat/"
    script = requests.get(gateway.http + "/webchat/widget.js", timeout=10)
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    assert requests.get(gateway.http + "/webchat/missing.js", timeout=10).status_code == 404
    assert requests.get(gateway.http + "/webchat/%2E%2E/gateway.log", timeout=10).status_code == 404


def test_sigterm_closes_connections_and_exits(gateway, webchat_functions) -> None:
    with gateway.connect() as ws:
        (connection_id,) = connection_ids(webchat_functions, CONNECT)
        took = gateway.stop()
        assert closed_with(ws) == 1001
    assert took < 8, f"the gateway took {took:.1f} s to stop"
    assert gateway.proc.returncode == 0
    assert disconnects(webchat_functions, connection_id), "no $disconnect on the way out"
