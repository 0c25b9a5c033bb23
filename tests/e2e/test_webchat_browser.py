"""The web chat widget (webchat/, docs/webchat.md) in a real browser: Debian's headless Chromium
driven by Playwright, against the local stack's WebSocket gateway, with the agents on the other
side using edna's and SuperOffice's HTTP APIs. What a visitor and an agent would see.

Needs, besides conftest.py's variables:
  WIDGET_URL  the widget page the local stack serves, e.g. http://127.0.0.1:3001/webchat/
  WS_URL      the local WebSocket gateway, e.g. ws://127.0.0.1:3001/
  CHROMIUM    optional, the browser (default /usr/bin/chromium, Debian's `chromium` package;
              scripts/test installs it on a CI machine that lacks it)
Screenshots (a desktop window and a 390x844 phone) are left in test-output/webchat/.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from boto3.dynamodb.conditions import Key
from playwright.sync_api import Browser, Page, WebSocketRoute, expect, sync_playwright

from helpers import basic_auth, chat_messages_path, ok, remember, so_ok, unique

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "webchat"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VISITORS = "/api/v1/webchat/visitors"
# The product pushes within 1 s locally; the rest is room for a loaded machine.
PUSH_MS = 5_000
# The first connection, answer and push of a run may each be a function's first event, which
# waits for cargo-lambda to start its process (seconds on a busy machine).
FIRST_USE_MS = 20_000
# Back-off is capped at 10 s: a reconnection comes within that once the socket can open again.
RECONNECT_MS = 15_000
# The visitor's locale and time zone, so that the time of day on the page can be checked.
LOCALE, TIME_ZONE = "en-GB", "Europe/Berlin"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


# --- fixtures -----------------------------------------------------------------------------------


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"the web chat browser test needs {name} (scripts/test exports it from the local stack's state)")
    return value


@pytest.fixture(scope="module")
def widget_url() -> str:
    return required_env("WIDGET_URL")


@pytest.fixture(scope="module")
def ws_url() -> str:
    return required_env("WS_URL")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.access(executable, os.X_OK):
        pytest.fail(f"no browser at {executable}: install Debian's chromium package (scripts/test does on CI)")
    with sync_playwright() as playwright:
        # Playwright cannot download its own browsers here: Debian's, with the flags a headless
        # run in a container needs (no sandbox, no GPU, nothing fetched in the background).
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """`open_page(viewport, **context options)`: a page in a context of its own, with the
    visitor's locale and time zone; page errors fail the test."""
    contexts, errors = [], []

    def open_(viewport: dict, **options) -> Page:
        context = browser.new_context(viewport=viewport, locale=LOCALE, timezone_id=TIME_ZONE, **options)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, f"the widget threw: {errors}"


def new_visitor(api, integrator: str, ws_url: str, **fields) -> dict:
    response = api.post(VISITORS, integrator, json=fields)
    assert response.status_code == 201, f"expected 201, got {response.status_code}: {response.text[:1000]}"
    visitor = response.json()
    remember(visitor["visitorToken"])  # test_zz_logs: the token must appear in no log line
    assert visitor["websocketUrl"].rstrip("/") == ws_url.rstrip("/"), visitor["websocketUrl"]
    return visitor


def page_address(widget_url: str, visitor: dict) -> str:
    """The widget with the visitor's token in the fragment, as the business's site would link it."""
    fragment = urllib.parse.urlencode({"token": visitor["visitorToken"], "ws": visitor["websocketUrl"]})
    return f"{widget_url}#{fragment}"


# --- what the page shows --------------------------------------------------------------------------


def widget(page: Page):
    return page.get_by_test_id("chat-widget")


def row(page: Page, message_id: int):
    return page.locator(f'[data-testid="chat-message"][data-message-id="{message_id}"]')


def shown_ids(page: Page) -> list[int]:
    return [int(i) for i in page.get_by_test_id("chat-message").evaluate_all(
        "rows => rows.map(r => r.dataset.messageId).filter(Boolean)")]


def set_visibility(page: Page, state: str) -> None:
    """What the page's document.visibilityState reads, with the event a browser sends when the
    visitor switches tabs (a headless page is always visible otherwise)."""
    page.evaluate("""state => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => state});
        document.dispatchEvent(new Event('visibilitychange'));
    }""", state)


def time_of_day(created_at: str) -> str:
    """The time on the page: the visitor's zone, en-GB's 2-digit hour and minute."""
    at = datetime.fromisoformat(created_at)
    return at.astimezone(ZoneInfo(TIME_ZONE)).strftime("%H:%M")


def eventually(check: Callable[[], object], seconds: float, what: str):
    """Polls `check` until it returns a truthy value, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, f"{what}: not within {seconds} s"
            return value
        time.sleep(0.2)


# --- what the agents see --------------------------------------------------------------------------


def edna_message(api, token: str, thread_id: int, message_id: int) -> dict:
    found = [m for m in api.all_messages(token, thread_id) if m["id"] == message_id]
    assert len(found) == 1, f"message {message_id} listed {len(found)} times in thread {thread_id}"
    return found[0]


def superoffice_message(api, auth: str, session_id: int, message_id: int) -> dict:
    listed = so_ok(api.get(chat_messages_path(session_id), auth, params={"limit": 100}))
    found = [m for m in listed if m["ChatMessageId"] == message_id]
    assert len(found) == 1, f"ChatMessage {message_id} listed {len(found)} times in session {session_id}"
    return found[0]


# --- the tests --------------------------------------------------------------------------------------


def test_a_visitor_chats_with_agents_of_both_dialects(api, integrator, demo_password, widget_url, ws_url,
                                                      open_page) -> None:
    visitor = new_visitor(api, integrator, ws_url, clientId=unique("visitor"), name="Ada Visitor")
    operator_basic = basic_auth("operator", demo_password)  # SuperOffice's own credential scheme

    page = open_page(DESKTOP)
    page.goto(page_address(widget_url, visitor))
    expect(widget(page)).to_have_attribute("data-state", "open", timeout=FIRST_USE_MS)
    expect(page.get_by_test_id("chat-status")).to_have_text("Connected")
    # A new visitor has no thread yet: the page says so once its history came.
    expect(page.get_by_test_id("chat-empty")).to_be_visible(timeout=FIRST_USE_MS)

    # An agent answers through edna's API, with an attachment; markup in a text is shown as text.
    edna_text = f"Hello Ada <b>{unique('edna')}</b> & welcome, here is the manual"
    manual = {"url": "https://example.com/docs/manual.pdf?v=2&lang=en", "name": "manual.pdf",
              "type": "application/pdf", "size": 123_456}
    sent = ok(api.send(integrator, {"text": edna_text, "threadsClientId": visitor["clientId"],
                                    "attachments": [manual]}))
    thread_id = sent["threadId"]
    from_edna = row(page, sent["id"])
    expect(from_edna.get_by_test_id("chat-message-text")).to_have_text(edna_text, timeout=FIRST_USE_MS)
    expect(from_edna).to_have_attribute("data-direction", "OUTGOING")
    expect(from_edna.get_by_test_id("chat-message-author")).to_have_text("integrator")
    assert from_edna.locator("b").count() == 0, "a message's text reached the page as HTML"
    attachment = from_edna.get_by_test_id("chat-attachment")
    expect(attachment).to_have_text("manual.pdf")
    expect(attachment).to_have_attribute("href", manual["url"])

    # Another agent answers through SuperOffice's API, in the same thread (its ChatSession).
    so_text = f"SuperOffice here {unique('so')}: anything unclear?"
    posted = so_ok(api.post(chat_messages_path(thread_id), operator_basic,
                            data=json.dumps({"Type": "ToCustomer", "Message": so_text}).encode(),
                            headers={"Content-Type": "application/json"}))
    from_superoffice = row(page, posted["ChatMessageId"])
    expect(from_superoffice.get_by_test_id("chat-message-text")).to_have_text(so_text, timeout=PUSH_MS)
    expect(from_superoffice.get_by_test_id("chat-message-author")).to_have_text(posted["Author"])

    # The time of day, in the visitor's locale and zone.
    created = edna_message(api, integrator, thread_id, sent["id"])["createdAt"]
    expect(from_edna.get_by_test_id("chat-message-time")).to_have_text(time_of_day(created))

    # The visitor replies: typed, then the send button.
    reply = f"Thanks! My order is {unique('order')}"
    remember(reply)  # sent from the page, not through helpers: test_zz_logs looks for it too
    page.get_by_label("Your message").fill(reply)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_label("Your message")).to_have_value("")
    own = page.get_by_test_id("chat-message").filter(has_text=reply)
    expect(own).to_have_attribute("data-direction", "INCOMING", timeout=PUSH_MS)
    # Stored: no longer pending, and under its id (its answer and its push are one row).
    expect(own).to_have_attribute("data-message-id", re.compile(r"^\d+$"), timeout=PUSH_MS)
    expect(own).not_to_have_attribute("data-status", "PENDING")
    reply_id = int(own.get_attribute("data-message-id"))
    assert shown_ids(page) == [sent["id"], posted["ChatMessageId"], reply_id]

    # The agents read the reply as the customer's, in both dialects.
    as_edna = edna_message(api, integrator, thread_id, reply_id)
    assert (as_edna["direction"], as_edna["text"], as_edna["agentId"]) == ("INCOMING", reply, None), as_edna
    as_superoffice = superoffice_message(api, operator_basic, thread_id, reply_id)
    assert (as_superoffice["Type"], as_superoffice["Message"]) == ("ToUser", reply), as_superoffice

    # The visitor has seen both answers (the page is visible, the messages on screen): READ.
    for message_id in (sent["id"], posted["ChatMessageId"]):
        expect(row(page, message_id)).to_have_attribute("data-status", "READ", timeout=PUSH_MS)
        assert edna_message(api, integrator, thread_id, message_id)["status"] == "READ"
        assert superoffice_message(api, operator_basic, thread_id, message_id)["ReadByCustomer"] == 1
    # Still one row per message, whatever came both as an answer and as a push.
    assert shown_ids(page) == [sent["id"], posted["ChatMessageId"], reply_id]

    # While the page is hidden (another tab in front), what arrives is shown but not READ; it is
    # once the visitor comes back to the page.
    set_visibility(page, "hidden")
    unseen = ok(api.send(integrator, {"text": "Are you still there?", "threadsClientId": visitor["clientId"]}))
    expect(row(page, unseen["id"])).to_be_visible(timeout=PUSH_MS)
    page.wait_for_timeout(1_000)  # what a wrong page would take to send its read
    assert edna_message(api, integrator, thread_id, unseen["id"])["status"] != "READ"
    set_visibility(page, "visible")
    expect(row(page, unseen["id"])).to_have_attribute("data-status", "READ", timeout=PUSH_MS)
    assert edna_message(api, integrator, thread_id, unseen["id"])["status"] == "READ"
    seen_ids = [sent["id"], posted["ChatMessageId"], reply_id, unseen["id"]]

    # A reload shows the history, in order.
    page.reload()
    expect(widget(page)).to_have_attribute("data-state", "open", timeout=PUSH_MS)
    expect(row(page, unseen["id"])).to_be_visible(timeout=PUSH_MS)
    assert shown_ids(page) == seen_ids
    expect(row(page, sent["id"])).to_have_attribute("data-status", "READ")

    # The same visitor on a phone: the history, the input at the bottom, nothing wider than the
    # screen; a new answer reaches both of the visitor's pages.
    phone = open_page(PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    phone.goto(page_address(widget_url, visitor))
    expect(widget(phone)).to_have_attribute("data-state", "open", timeout=PUSH_MS)
    expect(row(phone, unseen["id"])).to_be_visible(timeout=PUSH_MS)
    assert shown_ids(phone) == seen_ids
    later = ok(api.send(integrator, {"text": "Anything else?", "threadsClientId": visitor["clientId"]}))
    for each in (page, phone):
        expect(row(each, later["id"])).to_be_visible(timeout=PUSH_MS)
    input_box = phone.get_by_label("Your message").bounding_box()
    assert input_box and PHONE["height"] - 120 < input_box["y"] + input_box["height"] <= PHONE["height"], input_box
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desktop.png"))
    phone.screenshot(path=str(SCREENSHOTS / "phone.png"))


class Interceptor:
    """Stands between the page and the gateway (Playwright's WebSocket routing): passes frames
    both ways and notes what the page sent; `cut_after_send` cuts the connection right after the
    page's next `send` reached the gateway (so its answer and push are lost), and from then on
    refuses new connections until `blocked` is cleared."""

    def __init__(self) -> None:
        self.frames: list[dict] = []  # what the page sent, on every connection
        self.cut_after_send = False
        self.blocked = False

    def __call__(self, route: WebSocketRoute) -> None:
        if self.blocked:
            route.close()  # the page sees a connection that never opened
            return
        server = route.connect_to_server()
        cut = False

        def from_page(message: str | bytes) -> None:
            nonlocal cut
            frame = json.loads(message)
            self.frames.append(frame)
            if cut:
                return
            server.send(message)
            if self.cut_after_send and frame.get("action") == "send":
                cut, self.cut_after_send, self.blocked = True, False, True
                server.close()
                route.close()

        def from_server(message: str | bytes) -> None:
            if not cut:
                route.send(message)

        route.on_message(from_page)
        server.on_message(from_server)

    def sent(self, action: str) -> list[dict]:
        return [frame for frame in self.frames if frame.get("action") == action]


def test_a_dropped_connection_shows_reconnecting_and_resumes(api, integrator, widget_url, ws_url,
                                                              open_page) -> None:
    """The connection drops right after the visitor's message reached the gateway, before its
    answer: the page says it is reconnecting and keeps the message pending; an agent writes
    meanwhile. Once the socket opens again the page asks for what came after the last message it
    has and resends the pending message with the same clientMessageId: every message shown once,
    the visitor's stored once."""
    visitor = new_visitor(api, integrator, ws_url)
    first = ok(api.send(integrator, {"text": "Before the drop", "threadsClientId": visitor["clientId"]}))
    page = open_page(PHONE, is_mobile=True, has_touch=True)
    interceptor = Interceptor()
    page.context.route_web_socket(lambda url: url.startswith(visitor["websocketUrl"].rstrip("/")), interceptor)
    page.goto(page_address(widget_url, visitor))
    expect(widget(page)).to_have_attribute("data-state", "open", timeout=FIRST_USE_MS)
    expect(row(page, first["id"])).to_be_visible(timeout=PUSH_MS)

    interceptor.cut_after_send = True
    typed = f"Typed before the drop {unique('drop')}"
    remember(typed)  # test_zz_logs looks for it
    page.get_by_label("Your message").fill(typed)
    page.get_by_test_id("chat-send").click()
    expect(widget(page)).to_have_attribute("data-state", "reconnecting", timeout=PUSH_MS)
    expect(page.get_by_test_id("chat-status")).to_have_text("Reconnecting…")
    pending = page.get_by_test_id("chat-message").filter(has_text=typed)
    expect(pending).to_have_attribute("data-status", "PENDING")
    # The frame reached the gateway before the cut: stored, though the page was never told.
    eventually(lambda: [m for m in api.all_messages(integrator, first["threadId"]) if m["text"] == typed],
               PUSH_MS / 1000, "the message sent just before the cut stored")
    meanwhile = ok(api.send(integrator, {"text": "Sent while you were away", "threadsClientId": visitor["clientId"]}))

    syncs_before = len(interceptor.sent("sync"))
    interceptor.blocked = False
    expect(widget(page)).to_have_attribute("data-state", "open", timeout=RECONNECT_MS)
    expect(row(page, meanwhile["id"])).to_be_visible(timeout=PUSH_MS)
    expect(pending).to_have_attribute("data-message-id", re.compile(r"^\d+$"), timeout=PUSH_MS)
    expect(pending).not_to_have_attribute("data-status", "PENDING")
    stored_id = int(pending.get_attribute("data-message-id"))

    syncs = interceptor.sent("sync")
    assert syncs[0].get("after") is None, syncs  # the first connection asks for everything
    assert len(syncs) == syncs_before + 1 and syncs[-1]["after"] == first["id"], syncs
    sends = interceptor.sent("send")
    assert len(sends) == 2 and sends[0]["clientMessageId"] == sends[1]["clientMessageId"], sends
    assert shown_ids(page) == [first["id"], stored_id, meanwhile["id"]]
    thread = api.all_messages(integrator, first["threadId"])
    assert [m["id"] for m in thread if m["text"] == typed] == [stored_id], "the resent message was stored twice"


def test_a_forgotten_connection_says_the_session_expired(api, integrator, widget_url, ws_url, table,
                                                         open_page) -> None:
    """When the functions no longer know the page's connection (its token expired and the
    connection items were deleted: docs/webchat.md, section 4), the next frame is refused with
    401: the page stops, says the session expired, and does not keep the message as pending."""
    visitor = new_visitor(api, integrator, ws_url)
    page = open_page(PHONE, is_mobile=True, has_touch=True)
    page.goto(page_address(widget_url, visitor))
    expect(widget(page)).to_have_attribute("data-state", "open", timeout=FIRST_USE_MS)
    expect(page.get_by_test_id("chat-empty")).to_be_visible(timeout=PUSH_MS)

    client_key = f"CLIENT#{visitor['clientId']}"
    connections = table.query(KeyConditionExpression=Key("pk").eq(client_key) & Key("sk").begins_with("CONNECTION#"),
                              ConsistentRead=True)["Items"]
    assert len(connections) == 1, connections
    for item in connections:
        table.delete_item(Key={"pk": item["sk"], "sk": "CONNECTION"})
        table.delete_item(Key={"pk": client_key, "sk": item["sk"]})

    page.get_by_label("Your message").fill("Is anyone there?")
    page.get_by_test_id("chat-send").click()
    expect(widget(page)).to_have_attribute("data-state", "expired", timeout=PUSH_MS)
    expect(page.get_by_test_id("chat-error")).to_contain_text("expired")
    expect(page.get_by_label("Your message")).to_be_disabled()
    expect(page.get_by_test_id("chat-message").filter(has_text="Is anyone there?")).to_have_attribute(
        "data-status", "FAILED")
