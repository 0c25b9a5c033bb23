#!/usr/bin/env python3
"""Drive every operation of the running stack through the Python client generated from
openapi.yaml by `openapi-python-client` (with its defaults), through its models only.

    python tests/clients/python_client_check.py GENERATED_DIR

GENERATED_DIR holds the generated project (its package `chat_center_messaging_api_client`).
Needs API_URL and DEMO_PASSWORD (scripts/test's client step sets them). Exits non-zero at the
first answer that is not what the document promises.
"""

from __future__ import annotations

import os
import sys
import uuid
from datetime import datetime, timedelta, timezone

sys.path.insert(0, sys.argv[1])

from chat_center_messaging_api_client import AuthenticatedClient, Client  # noqa: E402
from chat_center_messaging_api_client.api.auth import login  # noqa: E402
from chat_center_messaging_api_client.api.events import list_events  # noqa: E402
from chat_center_messaging_api_client.api.messages import (  # noqa: E402
    receive_incoming,
    send_outgoing,
    send_outgoing_to_device,
    update_message_status,
)
from chat_center_messaging_api_client.api.superoffice import (  # noqa: E402
    create_chat_session,
    get_chat_session,
    list_chat_messages,
    post_chat_message,
)
from chat_center_messaging_api_client.api.threads import close_thread, get_thread, list_thread_messages  # noqa: E402
from chat_center_messaging_api_client.api.webchat import create_visitor  # noqa: E402
from chat_center_messaging_api_client.api.webhooks import (  # noqa: E402
    create_webhook,
    delete_webhook,
    get_webhook,
    list_webhook_deliveries,
    list_webhooks,
    replay_webhook,
    rotate_webhook_secret,
)
from chat_center_messaging_api_client.models import (  # noqa: E402
    ApplicationDescriptor,
    ApplicationDescriptorChannelType,
    Attachment,
    ChatMessage,
    ChatMessageInput,
    ChatSession,
    ChatSessionInput,
    EventPage,
    EventType,
    IncomingMessageRequest,
    IncomingMessageResponse,
    LoginRequest,
    LoginResponse,
    MessagePage,
    MessageStatus,
    OutgoingMessageRequest,
    OutgoingMessageResponse,
    OutgoingToDeviceRequest,
    ReplayRequest,
    ReplayResponse,
    StatusRequest,
    StatusRequestStatus,
    Thread,
    Visitor,
    VisitorRequest,
    Webhook,
    WebhookDeliveryPage,
    WebhookList,
    WebhookRequest,
    WebhookWithSecret,
)

API_URL = os.environ["API_URL"].rstrip("/")
PASSWORD = os.environ["DEMO_PASSWORD"]
RUN = uuid.uuid4().hex[:12]
operations: set[str] = set()


def check(name: str, response, status: int, model):
    operations.add(name)
    body = response.content.decode("utf-8", "replace")[:300]
    assert response.status_code == status, f"{name}: {response.status_code} {body}"
    assert isinstance(response.parsed, model), f"{name}: parsed {type(response.parsed).__name__}, not {model.__name__}: {body}"
    return response.parsed


def logged_in(who: str) -> AuthenticatedClient:
    anonymous = Client(base_url=API_URL, raise_on_unexpected_status=True)
    answer = check("login", login.sync_detailed(client=anonymous, body=LoginRequest(login=who, password=PASSWORD)), 200, LoginResponse)
    assert answer.login == who and answer.token.startswith("Bearer ")
    # The token already reads "Bearer <token>": sent as it is (AuthenticatedClient's default
    # prefix "Bearer" would write it twice).
    return AuthenticatedClient(base_url=API_URL, token=answer.token, prefix="", raise_on_unexpected_status=True)


def main() -> int:
    integrator, gateway = logged_in("integrator"), logged_in("gateway")
    customer = f"py-client-{RUN}"
    phone = "+4477" + str(uuid.uuid4().int % 10**8).zfill(8)

    # --- messages ----------------------------------------------------------------------------
    descriptor = ApplicationDescriptor(
        channel_type=ApplicationDescriptorChannelType.WHATSAPP, device_address=phone, client_id=customer
    )
    to_device = check(
        "sendOutgoingToDevice",
        send_outgoing_to_device.sync_detailed(
            client=integrator, body=OutgoingToDeviceRequest(text="Hello on WhatsApp", client_application_descriptor=descriptor)
        ),
        200,
        OutgoingMessageResponse,
    )
    assert to_device.client_external_id == customer
    file = Attachment(url="https://example.com/invoice.pdf", name="invoice.pdf", size=48213)
    sent = check(
        "sendOutgoing",
        send_outgoing.sync_detailed(
            client=integrator,
            body=OutgoingMessageRequest(text="Your order has shipped", client_id=customer, attachments=[file]),
            idempotency_key=f"py-{RUN}",
        ),
        200,
        OutgoingMessageResponse,
    )
    assert (sent.thread_id, sent.client_id) == (to_device.thread_id, to_device.client_id)
    incoming = check(
        "receiveIncoming",
        receive_incoming.sync_detailed(
            client=gateway,
            body=IncomingMessageRequest(
                text="Where is it now?",
                provider_message_id=f"wamid.py-{RUN}",
                client_application_descriptor=ApplicationDescriptor(
                    channel_type=ApplicationDescriptorChannelType.WHATSAPP, device_address=phone
                ),
            ),
        ),
        200,
        IncomingMessageResponse,
    )
    assert incoming.thread_id == sent.thread_id
    status = check(
        "updateMessageStatus",
        update_message_status.sync_detailed(sent.id, client=gateway, body=StatusRequest(status=StatusRequestStatus.DELIVERED)),
        200,
        MessageStatus,
    )
    assert status.to_dict()["status"] == "DELIVERED", status.to_dict()

    # --- threads -----------------------------------------------------------------------------
    thread = check("getThread", get_thread.sync_detailed(sent.thread_id, client=integrator), 200, Thread)
    assert thread.id == sent.thread_id and thread.to_dict()["status"] == "OPEN", thread.to_dict()
    page = check("listThreadMessages", list_thread_messages.sync_detailed(sent.thread_id, client=integrator, limit=2), 200, MessagePage)
    assert [m.to_dict()["id"] for m in page.items] == [incoming.id, sent.id], page.to_dict()
    assert page.next_cursor, page.to_dict()

    # --- SuperOffice -------------------------------------------------------------------------
    session = check(
        "createChatSession",
        create_chat_session.sync_detailed(client=integrator, body=ChatSessionInput(customer_alias=f"Py {RUN}")),
        201,
        ChatSession,
    )
    assert session.to_dict()["Status"] == "Chatting"
    posted = check(
        "postChatMessage",
        post_chat_message.sync_detailed(session.chat_session_id, client=integrator, body=ChatMessageInput(message="Hello from Python")),
        200,
        ChatMessage,
    )
    assert posted.message == "Hello from Python" and posted.chat_session_id == session.chat_session_id
    got = check("getChatSession", get_chat_session.sync_detailed(session.chat_session_id, client=integrator), 200, ChatSession)
    assert got.message_count == 1, got.to_dict()
    listed = list_chat_messages.sync_detailed(session.chat_session_id, client=integrator)
    operations.add("listChatMessages")
    assert listed.status_code == 200 and isinstance(listed.parsed, list), listed.content[:300]
    assert [m.chat_message_id for m in listed.parsed if isinstance(m, ChatMessage)] == [posted.chat_message_id]

    closed = check("closeThread", close_thread.sync_detailed(sent.thread_id, client=integrator), 200, Thread)
    assert closed.to_dict()["status"] == "CLOSED", closed.to_dict()

    # --- webhooks and events -----------------------------------------------------------------
    since = datetime.now(timezone.utc) - timedelta(minutes=5)
    hook = check(
        "createWebhook",
        create_webhook.sync_detailed(
            client=integrator,
            body=WebhookRequest(url="http://127.0.0.1:9/x", events=[EventType.THREAD_CLOSED], description=f"py {RUN}"),
        ),
        201,
        WebhookWithSecret,
    )
    assert hook.secret.startswith("whsec_") and hook.url == "http://127.0.0.1:9/x"
    hooks = check("listWebhooks", list_webhooks.sync_detailed(client=integrator), 200, WebhookList)
    assert hook.id in [h.id for h in hooks.items]
    assert check("getWebhook", get_webhook.sync_detailed(hook.id, client=integrator), 200, Webhook).id == hook.id
    rotated = check("rotateWebhookSecret", rotate_webhook_secret.sync_detailed(hook.id, client=integrator), 200, WebhookWithSecret)
    assert rotated.secret != hook.secret
    check("listWebhookDeliveries", list_webhook_deliveries.sync_detailed(hook.id, client=integrator, limit=10), 200, WebhookDeliveryPage)
    replayed = check(
        "replayWebhook",
        replay_webhook.sync_detailed(
            hook.id, client=integrator, body=ReplayRequest(since=since, until=datetime.now(timezone.utc))
        ),
        202,
        ReplayResponse,
    )
    assert replayed.replayed >= 0
    events = check("listEvents", list_events.sync_detailed(client=integrator, limit=5), 200, EventPage)
    assert events.next_cursor
    deleted = check("deleteWebhook", delete_webhook.sync_detailed(hook.id, client=integrator), 200, Webhook)
    assert deleted.id == hook.id
    gone = get_webhook.sync_detailed(hook.id, client=integrator)
    assert gone.status_code == 404, gone.status_code

    # --- web chat ------------------------------------------------------------------------------
    visitor = check(
        "createVisitor",
        create_visitor.sync_detailed(client=integrator, body=VisitorRequest(client_id=customer, name="Py Client")),
        201,
        Visitor,
    )
    assert visitor.visitor_token.startswith("vt_") and visitor.client_external_id == customer, visitor
    assert visitor.device_address == f"visitor-{visitor.client_id}", visitor

    print(f"python client: {len(operations)} operations answered as documented", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
