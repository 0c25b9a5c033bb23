//! `$default`: every frame a visitor's page sends, fed as recorded API Gateway WebSocket events.

use serde_json::{Value, json};
use shared::App;
use shared::core::model::Role;
use shared::core::sending::Recipient;
use shared::core::validation::{MessageContent, RawContent};
use shared::core::webchat::{self, NewVisitor, VisitorRequest};
use shared::testing::{self, CapturedLog, websocket_call, websocket_event};
use shared::webchat::{frames, wire};

fn text(text: &str) -> MessageContent {
    RawContent { text: Some(text.into()), attachments: None }.validate().unwrap()
}

/// A visitor's page connected: its token's visitor and its connection id.
async fn connected(app: &'static App) -> (NewVisitor, String) {
    let visitor = webchat::create_visitor(&app.store, &VisitorRequest::default()).await.unwrap();
    let connection_id = testing::unique("conn");
    webchat::connect(&app.store, Some(&visitor.token), &connection_id).await.unwrap();
    (visitor, connection_id)
}

/// Sends `frame` on the connection; the status and the answer frame.
async fn frame(app: &'static App, connection_id: &str, frame: &str) -> (u16, Value) {
    let event = websocket_event("$default", connection_id, None, Some(frame));
    let (status, body) = websocket_call(app, frames::handle, wire::error_frame, event).await;
    (status, body.expect("every frame is answered"))
}

#[tokio::test]
async fn a_page_syncs_sends_as_the_customer_and_marks_the_agents_message_read() {
    let app = testing::app().await;
    let (visitor, connection) = connected(app).await;
    let (status, empty) = frame(app, &connection, r#"{"action": "sync", "requestId": 1}"#).await;
    assert_eq!(status, 200);
    assert_eq!(empty, json!({"type": "history", "threadId": null, "messages": [], "requestId": 1}));

    let (agent, _) = testing::agent(app, Role::Operator).await;
    let recipient = Recipient::ThreadsClientId(visitor.client.client_id);
    let sent = testing::send(app, &agent, &recipient, text("Hello, how can we help?")).await;

    let (_, history) = frame(app, &connection, r#"{"action": "sync"}"#).await;
    assert_eq!(history["threadId"], json!(sent.thread_id));
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["id"], json!(sent.id));
    assert_eq!(
        (messages[0]["direction"].as_str(), messages[0]["status"].as_str()),
        (Some("OUTGOING"), Some("ACCEPTED"))
    );
    assert_eq!(messages[0]["text"], json!("Hello, how can we help?"));

    let send = json!({"action": "send", "text": "Where is my order?", "clientMessageId": "c-1", "requestId": "r-2"});
    let (status, reply) = frame(app, &connection, &send.to_string()).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!((reply["type"].as_str(), reply["clientMessageId"].as_str()), (Some("sent"), Some("c-1")));
    assert_eq!(reply["requestId"], json!("r-2"));
    assert_eq!(reply["message"]["direction"], json!("INCOMING"));
    assert_eq!(reply["message"]["threadId"], json!(sent.thread_id));
    // A resend after a reconnect stores nothing new.
    let (_, again) = frame(app, &connection, &send.to_string()).await;
    assert_eq!(again["message"]["id"], reply["message"]["id"]);

    let (_, after) = frame(app, &connection, &json!({"action": "sync", "after": sent.id}).to_string()).await;
    let ids: Vec<&Value> = after["messages"].as_array().unwrap().iter().map(|m| &m["id"]).collect();
    assert_eq!(ids, [&reply["message"]["id"]], "only what came after");

    let (status, read) = frame(app, &connection, &json!({"action": "read", "messageId": sent.id}).to_string()).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read, json!({"type": "read", "messageId": sent.id, "status": "READ"}));
}

#[tokio::test]
async fn a_token_reaches_only_its_own_clients_thread() {
    let app = testing::app().await;
    let (mine, connection) = connected(app).await;
    let (other, _) = connected(app).await;
    let (agent, _) = testing::agent(app, Role::Operator).await;
    let own = testing::send(app, &agent, &Recipient::ThreadsClientId(mine.client.client_id), text("yours")).await;
    let foreign = testing::send(app, &agent, &Recipient::ThreadsClientId(other.client.client_id), text("theirs")).await;

    let cases = [
        (json!({"action": "read", "messageId": foreign.id}), 403, None),
        (json!({"action": "sync", "threadId": foreign.thread_id}), 403, None),
        (json!({"action": "send", "text": "hi", "clientMessageId": "c", "threadId": foreign.thread_id}), 403, None),
        (json!({"action": "read", "messageId": 999_999_999_999u64}), 404, Some("messageId")),
    ];
    for (sent, status, field) in cases {
        let (answered, error) = frame(app, &connection, &sent.to_string()).await;
        assert_eq!(answered, status, "{sent} -> {error}");
        assert_eq!((error["type"].as_str(), error["status"].as_u64()), (Some("error"), Some(u64::from(status))));
        assert_eq!(error["field"].as_str(), field, "{error}");
    }
    // Its own thread, named, is fine.
    let (status, history) =
        frame(app, &connection, &json!({"action": "sync", "threadId": own.thread_id}).to_string()).await;
    assert_eq!((status, history["threadId"].as_u64()), (200, Some(own.thread_id)));
}

#[tokio::test]
async fn bad_frames_get_error_frames_naming_the_field_and_never_a_crash() {
    let app = testing::app().await;
    let log = CapturedLog::start();
    let (_, connection) = connected(app).await;
    let oversized = json!({"action": "send", "clientMessageId": "c", "text": "x".repeat(40_000)}).to_string();
    let cases = [
        ("not json", 400, Some("frame")),
        ("[1, 2]", 400, None),
        (r#"{"action": "dance"}"#, 400, Some("action")),
        (r#"{"text": "no action"}"#, 400, Some("action")),
        (r#"{"action": "read"}"#, 400, Some("messageId")),
        (r#"{"action": "read", "messageId": "seven"}"#, 400, Some("messageId")),
        (r#"{"action": "send", "text": "no id"}"#, 400, Some("clientMessageId")),
        (r#"{"action": "send", "text": "", "clientMessageId": "c"}"#, 400, Some("text")),
        (r#"{"action": "send", "text": "hi", "clientMessageId": "has space"}"#, 400, Some("clientMessageId")),
        (oversized.as_str(), 413, Some("frame")),
    ];
    for (sent, status, field) in cases {
        let (answered, error) = frame(app, &connection, sent).await;
        assert_eq!((answered, error["type"].as_str()), (status, Some("error")), "{sent:.60} -> {error}");
        assert_eq!(error["field"].as_str(), field, "{sent:.60} -> {error}");
        assert!(error["message"].as_str().is_some_and(|message| !message.is_empty()), "{error}");
    }
    assert!(log.text().contains("websocket"), "each frame has its log line");
}

#[tokio::test]
async fn a_ping_costs_nothing_and_a_frame_of_an_unknown_connection_is_refused() {
    let app = testing::app().await;
    let meter = testing::Meter::start(app);
    let (status, pong) = frame(app, "any-connection", r#"{"action": "ping", "requestId": 9}"#).await;
    assert_eq!((status, pong), (200, json!({"type": "pong", "requestId": 9})));
    assert_eq!(meter.cost(), (0, 0), "a ping reads nothing");
    let (status, error) = frame(app, &testing::unique("gone"), r#"{"action": "sync"}"#).await;
    assert_eq!((status, error["code"].as_str()), (401, Some("UNAUTHORIZED")));
}
