use jiff::Timestamp;
use serde_json::{Value, json};
use shared::App;
use shared::core::credentials as auth;
use shared::core::model::{Client, Role};
use shared::routes;
use shared::store::records::AttachmentRecord;
use shared::store::{AgentStore, ClientStore, PageStart, Session, SessionKind, ThreadStore};
use shared::testing::{self, Event, FORMATS, Format};

use shared::routes::{handle, send_outgoing::SendOutgoing};

async fn send(app: &'static App, token: &str, body: Value) -> (u16, Value) {
    send_as(app, Format::HttpApiV2, token, body, None).await
}

async fn send_as(app: &'static App, format: Format, token: &str, body: Value, key: Option<&str>) -> (u16, Value) {
    let mut event = Event::new(format, routes::SEND_OUTGOING, &[]).bearer(token).json(&body);
    if let Some(key) = key {
        event = event.header("Idempotency-Key", key);
    }
    let (status, body, _) = testing::call(app, routes::SEND_OUTGOING, handle::<SendOutgoing>, event).await;
    (status, body)
}

async fn refreshed(app: &App, client: &Client) -> Client {
    app.store.client(client.client_id).await.unwrap().unwrap()
}

#[tokio::test]
async fn sends_by_each_identifier_land_in_the_clients_one_open_thread() {
    let app = testing::app().await;
    let (agent, token) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let external_id = client.external_id.clone().unwrap();

    let (status, first) =
        send_as(app, Format::RestApiV1, &token, json!({"text": "hello", "clientId": external_id}), None).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["clientId"], json!(client.client_id));
    assert_eq!(first["clientExternalId"], json!(external_id));
    assert_eq!(first["agentId"], json!(agent.agent_id));
    let thread_id = first["threadId"].as_u64().unwrap();

    let (_, second) = send(app, &token, json!({"text": "again", "threadsClientId": client.client_id})).await;
    let (_, third) = send(app, &token, json!({"text": "and again", "threadId": thread_id})).await;
    for reply in [&second, &third] {
        assert_eq!(reply["threadId"], json!(thread_id), "{reply}");
        assert_eq!(reply["clientId"], json!(client.client_id));
    }
    let ids: Vec<u64> = [&first, &second, &third].iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert!(ids[0] < ids[1] && ids[1] < ids[2], "{ids:?}");

    let thread = app.store.thread(thread_id).await.unwrap().unwrap();
    assert_eq!(thread.message_count, 3);
    let page = app.store.messages(thread_id, 10, PageStart::NewestBefore(None)).await.unwrap();
    let texts: Vec<&str> = page.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["and again", "again", "hello"]);
}

#[tokio::test]
async fn the_highest_priority_identifier_decides_without_fallback() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Operator).await;
    let (first, second) = (testing::client(app).await, testing::client(app).await);
    let both = json!({"text": "x", "threadsClientId": second.client_id, "clientId": first.external_id});
    let (status, reply) = send(app, &token, both).await;
    assert_eq!((status, reply["clientId"].clone()), (200, json!(second.client_id)));

    // A named but unknown higher identifier is a 404 even when a lower one would match.
    let unknown_first = json!({"text": "x", "threadsClientId": 9_000_000_000_000u64, "clientId": first.external_id});
    let (status, reply) = send(app, &token, unknown_first).await;
    assert_eq!(status, 404, "{reply}");
    assert_eq!(reply["code"], json!("NOT_FOUND"));
    assert_eq!(reply["field"], json!("threadsClientId"));
    assert!(refreshed(app, &first).await.open_thread_id.is_none(), "a failed send wrote nothing");

    for (body, field) in [
        (json!({"text": "x", "clientId": testing::unique("nobody")}), "clientId"),
        (json!({"text": "x", "threadId": 9_000_000_000_000u64}), "threadId"),
    ] {
        let (status, reply) = send(app, &token, body).await;
        assert_eq!((status, reply["field"].clone()), (404, json!(field)), "{reply}");
    }
}

#[tokio::test]
async fn a_closed_thread_is_followed_by_a_new_one() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Supervisor).await;
    let client = testing::client(app).await;
    let (_, first) = send(app, &token, json!({"text": "one", "threadsClientId": client.client_id})).await;
    let old_thread = first["threadId"].as_u64().unwrap();
    let thread = app.store.thread(old_thread).await.unwrap().unwrap();
    assert_eq!(app.store.close_thread(&thread).await.unwrap(), shared::store::Write::Done);

    // By threadId the closed thread still names the client; the message opens a new thread.
    let (status, second) = send(app, &token, json!({"text": "two", "threadId": old_thread})).await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["threadId"], json!(old_thread));
    assert_eq!(second["clientId"], json!(client.client_id));
    assert_eq!(refreshed(app, &client).await.open_thread_id, second["threadId"].as_u64());
}

#[tokio::test]
async fn credentials_and_roles_are_checked_in_both_payload_formats() {
    let app = testing::app().await;
    let client = testing::client(app).await;
    let body = json!({"text": "x", "threadsClientId": client.client_id});
    let (_, admin) = testing::agent(app, Role::Administrator).await;
    let (_, bot) = testing::agent(app, Role::Bot).await;
    let (expired_agent, _) = testing::agent(app, Role::Integrator).await;
    let (expired, expired_hash) = auth::new_secret(expired_agent.agent_id);
    let past = Timestamp::now() - jiff::SignedDuration::from_secs(1);
    app.store
        .put_sessions(&[Session {
            agent_id: expired_agent.agent_id,
            kind: SessionKind::Token,
            secret_hash: expired_hash,
            expires_at: past,
        }])
        .await
        .unwrap();
    for format in FORMATS {
        for (token, status, code) in [
            (admin.as_str(), 403, "FORBIDDEN"),
            (bot.as_str(), 403, "FORBIDDEN"),
            (&format!("Bearer {expired}"), 401, "UNAUTHORIZED"),
            ("Bearer 1.forged", 401, "UNAUTHORIZED"),
            ("Basic dXNlcjpwYXNz", 401, "UNAUTHORIZED"),
        ] {
            let (got, reply) = send_as(app, format, token, body.clone(), None).await;
            assert_eq!((got, reply["code"].as_str()), (status, Some(code)), "{format:?} {token}: {reply}");
        }
        let event = Event::new(format, routes::SEND_OUTGOING, &[]).json(&body);
        let (status, reply, response) = testing::call(app, routes::SEND_OUTGOING, handle::<SendOutgoing>, event).await;
        assert_eq!((status, reply["code"].as_str()), (401, Some("UNAUTHORIZED")));
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }
    assert!(refreshed(app, &client).await.open_thread_id.is_none(), "refused sends wrote nothing");
}

#[tokio::test]
async fn bad_input_gets_400_naming_the_field_and_writes_nothing() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let id = client.client_id;
    let file = json!({"url": "https://example.com/a.jpg", "name": "a.jpg", "type": "image/jpeg", "size": 1});
    let cases = [
        (json!({"text": "x"}), "threadsClientId"),
        (json!({"text": "x", "threadsClientId": "1"}), "threadsClientId"),
        (json!({"text": "x", "threadsClientId": -1}), "threadsClientId"),
        (json!({"text": "x", "threadsClientId": 1.5}), "threadsClientId"),
        (json!({"text": "x", "threadsClientId": 9_007_199_254_740_992u64}), "threadsClientId"),
        (json!({"text": 5, "threadsClientId": id}), "text"),
        (json!({"text": "é".repeat(2001), "threadsClientId": id}), "text"),
        (json!({"text": "", "attachments": [], "threadsClientId": id}), "text"),
        (json!({"text": "x", "attachments": vec![file.clone(); 11], "threadsClientId": id}), "attachments"),
        (
            json!({"text": "x", "attachments": [{"url": "ftp://x/a.jpg", "name": "a.jpg"}], "threadsClientId": id}),
            "attachments[0].url",
        ),
        (json!({"text": "x", "attachments": [{"name": "a.jpg"}], "threadsClientId": id}), "attachments[0].url"),
        (
            json!({"text": "x", "attachments": [file, {"url": "https://x.org/f", "name": "f"}], "threadsClientId": id}),
            "attachments[1].name",
        ),
        (
            json!({"text": "x", "attachments": [{"url": "https://x.org/f", "type": "image/png", "size": -3}], "threadsClientId": id}),
            "attachments[0].size",
        ),
        (json!({"text": "x", "clientId": "x".repeat(256)}), "clientId"),
    ];
    for (body, field) in cases {
        let (status, reply) = send(app, &token, body.clone()).await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert_eq!(reply["field"], json!(field), "{body}: {reply}");
        assert!(reply["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let malformed = Event::new(Format::RestApiV1, routes::SEND_OUTGOING, &[]).bearer(&token).body("{\"text\": ");
    let (status, reply, _) = testing::call(app, routes::SEND_OUTGOING, handle::<SendOutgoing>, malformed).await;
    assert_eq!((status, reply["code"].as_str()), (400, Some("INVALID_JSON")));
    assert!(refreshed(app, &client).await.open_thread_id.is_none(), "no thread was opened");
}

#[tokio::test]
async fn an_attachment_only_message_is_accepted_and_stored_whole() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let file = json!({"url": "http://cdn.example.com/test.jpg", "name": "test.jpg", "type": "image/jpeg", "size": 256});
    let (status, reply) =
        send(app, &token, json!({"text": "", "attachments": [file], "threadsClientId": client.client_id})).await;
    assert_eq!(status, 200, "{reply}");
    let page = app.store.messages(reply["threadId"].as_u64().unwrap(), 1, PageStart::NewestBefore(None)).await.unwrap();
    let stored: Vec<AttachmentRecord> = page.messages[0].attachments.iter().map(AttachmentRecord::from).collect();
    assert_eq!(serde_json::to_value(&stored).unwrap(), json!([file]));
}

#[tokio::test]
async fn integers_written_as_json_numbers_with_a_zero_fraction_are_integers() {
    // JSON Schema (and so the OpenAPI document) counts 82825.0 as an integer: so does the body.
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let file = json!({"url": "https://example.com/a.pdf", "name": "a.pdf", "size": 82825.0});
    let body = json!({"text": "x", "attachments": [file], "threadsClientId": client.client_id as f64});
    let (status, reply) = send(app, &token, body).await;
    assert_eq!(status, 200, "{reply}");
    let thread_id = reply["threadId"].as_u64().unwrap();
    let (status, again) = send(app, &token, json!({"text": "y", "threadId": thread_id as f64})).await;
    assert_eq!((status, again["threadId"].as_u64()), (200, Some(thread_id)), "{again}");
    let page = app.store.messages(thread_id, 2, PageStart::NewestBefore(None)).await.unwrap();
    assert_eq!(page.messages[1].attachments[0].size, Some(82825));
    let stored = AttachmentRecord::from(&page.messages[1].attachments[0]);
    assert_eq!(serde_json::to_value(&stored).unwrap()["size"], json!(82825));

    // A fraction, or a number beyond 2^53 - 1, is still refused, naming the field.
    for (size, field) in
        [(json!(82825.5), "attachments[0].size"), (json!(9.007_199_254_740_992e15), "attachments[0].size")]
    {
        let file = json!({"url": "https://example.com/a.pdf", "name": "a.pdf", "size": size});
        let (status, reply) =
            send(app, &token, json!({"text": "x", "attachments": [file], "threadsClientId": client.client_id})).await;
        assert_eq!((status, reply["field"].clone()), (400, json!(field)), "{size}: {reply}");
    }
    let (status, reply) = send(app, &token, json!({"text": "x", "threadId": 2.5})).await;
    assert_eq!((status, reply["field"].clone()), (400, json!("threadId")), "{reply}");
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_creates_nothing_new() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let body = json!({"text": "once", "threadsClientId": client.client_id});
    let key = testing::unique("key");
    let (status, first) = send_as(app, Format::HttpApiV2, &token, body.clone(), Some(&key)).await;
    assert_eq!(status, 200, "{first}");
    let (status, retry) = send_as(app, Format::RestApiV1, &token, body.clone(), Some(&key)).await;
    assert_eq!((status, &retry), (200, &first));
    let thread = app.store.thread(first["threadId"].as_u64().unwrap()).await.unwrap().unwrap();
    assert_eq!(thread.message_count, 1);

    let other_body = json!({"text": "different", "threadsClientId": client.client_id});
    let (status, reply) = send_as(app, Format::HttpApiV2, &token, other_body, Some(&key)).await;
    assert_eq!((status, reply["code"].as_str()), (422, Some("IDEMPOTENCY_KEY_REUSED")));

    // Keys belong to the agent that used them.
    let (_, other_agent) = testing::agent(app, Role::Integrator).await;
    let (status, reply) = send_as(app, Format::HttpApiV2, &other_agent, body.clone(), Some(&key)).await;
    assert_eq!(status, 200);
    assert_ne!(reply["id"], first["id"]);

    let (status, reply) = send_as(app, Format::HttpApiV2, &token, body, Some("bad\tkey")).await;
    assert_eq!((status, reply["field"].as_str()), (400, Some("Idempotency-Key")));
}

#[tokio::test]
async fn a_failed_request_leaves_its_idempotency_key_free() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let key = testing::unique("key");
    let missing = json!({"text": "x", "clientId": testing::unique("later")});
    assert_eq!(send_as(app, Format::HttpApiV2, &token, missing, Some(&key)).await.0, 404);
    let body = json!({"text": "x", "threadsClientId": client.client_id});
    let (status, reply) = send_as(app, Format::HttpApiV2, &token, body, Some(&key)).await;
    assert_eq!(status, 200, "{reply}");
}

#[tokio::test]
async fn concurrent_first_sends_to_one_client_share_one_thread() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let sends =
        (0..20).map(|n| {
            let token = token.clone();
            async move {
                send(app, &token, json!({"text": format!("message {n}"), "threadsClientId": client.client_id})).await
            }
        });
    let replies = futures::future::join_all(sends).await;
    let threads: std::collections::BTreeSet<u64> = replies
        .iter()
        .map(|(status, reply)| {
            assert_eq!(*status, 200, "{reply}");
            reply["threadId"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(threads.len(), 1, "{threads:?}");
    let thread_id = *threads.first().unwrap();
    assert_eq!(app.store.thread(thread_id).await.unwrap().unwrap().message_count, 20);
    assert_eq!(app.store.messages(thread_id, 100, PageStart::NewestBefore(None)).await.unwrap().messages.len(), 20);
}

#[tokio::test]
async fn a_warm_send_costs_two_round_trips_three_requests_and_at_most_four_write_units() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let body = json!({"text": "x", "threadsClientId": client.client_id});
    assert_eq!(send(app, &token, body.clone()).await.0, 200);
    let meter = testing::Meter::start(app);
    assert_eq!(send(app, &token, body).await.0, 200);
    // Agent + session (one batch read) alongside the client, then one transaction; the message
    // id comes from the container's block.
    meter.assert_cost(2, 3, "(round trips, requests)");
    // A short message and the thread's counters, both written transactionally (2 units per KB).
    let (read_units, write_units) = meter.units();
    assert!(write_units > 0.0 && write_units <= 4.0, "write units of a typical send: {write_units}");
    // Agent, session and client, each read strongly consistent (1 unit per 4 KB).
    assert!(read_units > 0.0 && read_units <= 3.0, "read units: {read_units}");
    let meter = testing::Meter::start(app);
    assert_eq!(send(app, &token, json!({"text": "x", "clientId": client.external_id})).await.0, 200);
    meter.assert_cost(3, 4, "by external id: the id's pointer, then the client");
    let thread_id = app.store.client(client.client_id).await.unwrap().unwrap().open_thread_id.unwrap();
    let meter = testing::Meter::start(app);
    assert_eq!(send(app, &token, json!({"text": "x", "threadId": thread_id})).await.0, 200);
    meter.assert_cost(3, 4, "by thread: the thread, then its client");
}

#[tokio::test]
async fn a_stalled_database_gets_our_503_before_the_invocation_deadline() {
    // A "database" that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let config = shared::config::Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some("stalled".into()),
        "DYNAMODB_ENDPOINT" => Some(format!("http://{address}")),
        _ => None,
    })
    .unwrap();
    let app: &'static App = Box::leak(Box::new(App::new(config).await.expect("the app")));
    let event = Event::new(Format::HttpApiV2, routes::SEND_OUTGOING, &[])
        .bearer("Bearer 1.token")
        .json(&json!({"text": "x", "threadsClientId": 1}))
        .deadline_in(2_000);
    let started = std::time::Instant::now();
    let (status, body, response) = testing::call(app, routes::SEND_OUTGOING, handle::<SendOutgoing>, event).await;
    let took = started.elapsed();
    assert_eq!((status, body["code"].as_str()), (503, Some("STORAGE_UNAVAILABLE")), "{body}");
    assert_eq!(response.headers()["retry-after"], "1");
    // The budget is the 2 s left less the margin for answering.
    assert!(took < std::time::Duration::from_millis(1_900), "answered after {took:?}");
}

/// A LosingProxy in front of the test's DynamoDB Local that loses `lose` transaction answers, and an
/// app that reaches the database through it.
async fn behind_a_losing_proxy(lose: u32) -> (testing::LosingProxy, &'static App) {
    let upstream = std::env::var("DYNAMODB_ENDPOINT").unwrap().trim_start_matches("http://").to_owned();
    let proxy = testing::LosingProxy::start(upstream, lose).await;
    let config = shared::config::Config::from_lookup(|name| match name {
        "DYNAMODB_ENDPOINT" => Some(proxy.endpoint.clone()),
        other => std::env::var(other).ok(),
    })
    .unwrap();
    let through_proxy: &'static App = Box::leak(Box::new(App::new(config).await.expect("the app")));
    (proxy, through_proxy)
}

#[tokio::test]
async fn a_send_whose_answer_was_lost_is_stored_once_and_answered_200() {
    let app = testing::app().await;
    let (agent, token) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let (proxy, through_proxy) = behind_a_losing_proxy(1).await;
    let (status, reply) =
        send(through_proxy, &token, json!({"text": "once", "threadsClientId": client.client_id})).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(proxy.lost.load(std::sync::atomic::Ordering::SeqCst), 2, "one answer lost, then the retry");
    let thread_id = reply["threadId"].as_u64().unwrap();
    let page = app.store.messages(thread_id, 10, PageStart::NewestBefore(None)).await.unwrap();
    let stored: Vec<u64> = page.messages.iter().map(|m| m.message_id).collect();
    assert_eq!(stored, [reply["id"].as_u64().unwrap()], "stored exactly once");
    assert_eq!(page.messages[0].sender.agent_id(), Some(agent.agent_id));
}

#[tokio::test]
async fn an_unreachable_database_is_a_retryable_503() {
    let config = shared::config::Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some("unreachable".into()),
        // Nothing listens on port 9 (discard) here: connections are refused at once.
        "DYNAMODB_ENDPOINT" => Some("http://127.0.0.1:9".into()),
        _ => None,
    })
    .unwrap();
    let app: &'static App = Box::leak(Box::new(App::new(config).await.expect("the app")));
    let event = Event::new(Format::HttpApiV2, routes::SEND_OUTGOING, &[])
        .bearer("Bearer 1.token")
        .json(&json!({"text": "x", "threadsClientId": 1}));
    let (status, body, response) = testing::call(app, routes::SEND_OUTGOING, handle::<SendOutgoing>, event).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("STORAGE_UNAVAILABLE")), "{body}");
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(!body["message"].as_str().unwrap().contains("127.0.0.1"), "no internals in the message");
}

/// The database takes the transaction and every answer is lost until the deadline: the outcome
/// cannot be known in time, so the answer says so (503 `OUTCOME_UNKNOWN`, never the plain
/// "nothing was stored" 503), and a retry with the same key finds the stored message.
#[tokio::test]
async fn a_send_whose_every_answer_is_lost_is_answered_outcome_unknown_and_its_key_finds_it() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let (proxy, through_proxy) = behind_a_losing_proxy(u32::MAX).await;
    let key = testing::unique("lost-answers");
    let body = json!({"text": "maybe", "threadsClientId": client.client_id});
    let event = || {
        Event::new(Format::HttpApiV2, routes::SEND_OUTGOING, &[])
            .bearer(&token)
            .header("idempotency-key", &key)
            .json(&body)
    };
    let (status, reply, response) =
        testing::call(through_proxy, routes::SEND_OUTGOING, handle::<SendOutgoing>, event().deadline_in(2_000)).await;
    assert_eq!((status, reply["code"].as_str()), (503, Some("OUTCOME_UNKNOWN")), "{reply}");
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(proxy.lost.load(std::sync::atomic::Ordering::SeqCst) >= 2, "every try's answer was lost");

    let (status, replayed, response) = testing::call(app, routes::SEND_OUTGOING, handle::<SendOutgoing>, event()).await;
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(response.headers()["idempotent-replayed"], "true");
    let thread_id = replayed["threadId"].as_u64().unwrap();
    let page = app.store.messages(thread_id, 10, PageStart::NewestBefore(None)).await.unwrap();
    let stored: Vec<u64> = page.messages.iter().map(|m| m.message_id).collect();
    assert_eq!(stored, [replayed["id"].as_u64().unwrap()], "stored exactly once");
}

/// What the log line says a warm send by `threadsClientId` cost: 2 round trips (auth ∥ client,
/// then the transaction) and 3 requests, every time — also in a container where a transaction
/// try was given up on (its answer held back longer than a try may take, then the try sent again
/// with its token), which the round trip count once lost for good.
// Multi-threaded, as a function's `#[tokio::main]`: there a call could be sent and answered
// before the next call of a `join!` was made, running them one after the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_warm_send_by_threads_client_id_logs_two_round_trips() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let body = json!({"text": "x", "threadsClientId": client.client_id});
    let upstream = std::env::var("DYNAMODB_ENDPOINT").unwrap().trim_start_matches("http://").to_owned();
    let proxy = testing::SlowProxy::start(upstream, 1, std::time::Duration::from_millis(2_500)).await;
    let config = shared::config::Config::from_lookup(|name| match name {
        "DYNAMODB_ENDPOINT" => Some(proxy.endpoint.clone()),
        other => std::env::var(other).ok(),
    })
    .unwrap();
    let through_proxy: &'static App = Box::leak(Box::new(App::new(config).await.expect("the app")));
    let log = testing::CapturedLog::start();
    for (app, what) in [(app, "warm"), (through_proxy, "after a try given up on")] {
        // The first send of `through_proxy` is its container's first (and its transaction the
        // slow one); the first on `app` reserves the message ids.
        assert_eq!(send(app, &token, body.clone()).await.0, 200);
        for _ in 0..20 {
            assert_eq!(send(app, &token, body.clone()).await.0, 200);
            let line = log.last_request();
            let cost = (&line["dynamodb_round_trips"], &line["dynamodb_requests"]);
            assert_eq!(cost, (&json!(2), &json!(3)), "{what}: {line}");
        }
    }
    assert_eq!(proxy.transactions.load(std::sync::atomic::Ordering::SeqCst), 22, "the slow try, its retry, 20 sends");
}
