use std::collections::BTreeSet;

use serde_json::{Value, json};
use shared::App;

/// The tests that meter DynamoDB requests run alone: the counters are the container's.
static ALONE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());
use shared::core::model::{ChannelType, Role};
use shared::routes;
use shared::store::{ClientStore, PageStart, ThreadStore};
use shared::testing::{self, Event, FORMATS, Format};

use shared::routes::{handle, receive_incoming::ReceiveIncoming};

async fn receive(app: &'static App, format: Format, token: &str, body: &Value) -> (u16, Value) {
    let event = Event::new(format, routes::RECEIVE_INCOMING, &[]).bearer(token).json(body);
    let (status, body, _) = testing::call(app, routes::RECEIVE_INCOMING, handle::<ReceiveIncoming>, event).await;
    (status, body)
}

fn phone() -> String {
    let digits = u64::from_str_radix(&uuid::Uuid::new_v4().simple().to_string()[..12], 16).unwrap() % 10_000_000_000;
    format!("+7{digits:010}")
}

fn whatsapp(address: &str, text: &str) -> Value {
    json!({"text": text, "clientApplicationDescriptor": {"channelType": "WHATSAPP", "deviceAddress": address}})
}

#[tokio::test]
async fn a_first_message_from_a_new_number_creates_a_client_and_a_thread_and_reads_as_incoming() {
    let _shared = ALONE.read().await;
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Gateway).await;
    for format in FORMATS {
        let address = phone();
        let (status, first) = receive(app, format, &token, &whatsapp(&address, "hello")).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!(first["clientExternalId"], Value::Null);
        assert!(first.get("agentId").is_none(), "{first}");
        let device = app.store.device(ChannelType::Whatsapp, None, &address).await.unwrap().unwrap();
        assert_eq!(json!(device.client_id), first["clientId"]);
        let client = app.store.client(device.client_id).await.unwrap().unwrap();
        assert_eq!(json!(client.open_thread_id), first["threadId"]);
        let (status, second) = receive(app, format, &token, &whatsapp(&address, "again")).await;
        assert_eq!(status, 200, "{second}");
        assert_eq!((&second["clientId"], &second["threadId"]), (&first["clientId"], &first["threadId"]));
        let thread_id = first["threadId"].as_u64().unwrap();
        let page = app.store.messages(thread_id, 10, PageStart::NewestBefore(None)).await.unwrap();
        assert_eq!(page.messages.len(), 2);
        let message = &page.messages[1];
        assert_eq!(message.text, "hello");
        assert_eq!(message.sender, shared::core::model::Sender::Customer);
        assert_eq!(message.message_type, shared::core::model::MessageType::ToUser);
    }
}

#[tokio::test]
async fn the_same_provider_message_id_again_returns_the_first_message_and_stores_nothing() {
    let _alone = ALONE.write().await;
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Gateway).await;
    let address = phone();
    let mut body = whatsapp(&address, "once");
    body["providerMessageId"] = json!(testing::unique("wamid."));
    let (status, first) = receive(app, Format::HttpApiV2, &token, &body).await;
    assert_eq!(status, 200, "{first}");
    let meter = testing::Meter::start(app);
    let (status, again) = receive(app, Format::RestApiV1, &token, &body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, first);
    meter.assert_cost(1, 3, "a provider's retry: auth ∥ device ∥ provider id, nothing written");
    assert_eq!(meter.units().1, 0.0, "a provider's retry writes nothing");
    let thread_id = first["threadId"].as_u64().unwrap();
    let page = app.store.messages(thread_id, 10, PageStart::NewestBefore(None)).await.unwrap();
    assert_eq!(page.messages.len(), 1);
    // The same id on another channel is another message.
    let mut sms =
        json!({"text": "once", "clientApplicationDescriptor": {"channelType": "SMS", "deviceAddress": address}});
    sms["providerMessageId"] = body["providerMessageId"].clone();
    let (status, other) = receive(app, Format::HttpApiV2, &token, &sms).await;
    assert_eq!(status, 200, "{other}");
    assert_ne!(other["id"], first["id"]);
}

#[tokio::test]
async fn concurrent_retries_of_one_provider_message_store_it_once() {
    let _shared = ALONE.read().await;
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Gateway).await;
    let mut body = whatsapp(&phone(), "retried");
    body["providerMessageId"] = json!(testing::unique("wamid."));
    let answers = futures::future::join_all((0..10).map(|_| receive(app, Format::HttpApiV2, &token, &body))).await;
    let ids: BTreeSet<String> = answers
        .iter()
        .map(|(status, answer)| {
            assert_eq!(*status, 200, "{answer}");
            answer["id"].to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    let thread_id = answers[0].1["threadId"].as_u64().unwrap();
    let page = app.store.messages(thread_id, 50, PageStart::NewestBefore(None)).await.unwrap();
    assert_eq!(page.messages.len(), 1);
}

#[tokio::test]
async fn forty_concurrent_first_messages_from_one_new_device_make_one_client_and_one_thread() {
    let _shared = ALONE.read().await;
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Gateway).await;
    let address = phone();
    let body = whatsapp(&address, "hi");
    let answers = futures::future::join_all((0..40).map(|_| receive(app, Format::HttpApiV2, &token, &body))).await;
    let mut threads = BTreeSet::new();
    let mut clients = BTreeSet::new();
    for (status, answer) in &answers {
        assert_eq!(*status, 200, "{answer}");
        threads.insert(answer["threadId"].to_string());
        clients.insert(answer["clientId"].to_string());
    }
    assert_eq!((threads.len(), clients.len()), (1, 1), "{answers:?}");
    let thread_id = answers[0].1["threadId"].as_u64().unwrap();
    let page = app.store.messages(thread_id, 100, PageStart::NewestBefore(None)).await.unwrap();
    assert_eq!(page.messages.len(), 40);
    assert_eq!(app.store.thread(thread_id).await.unwrap().unwrap().message_count, 40);
}

#[tokio::test]
async fn only_gateways_post_incoming_messages() {
    let _shared = ALONE.read().await;
    let app = testing::app().await;
    for role in [Role::Integrator, Role::Operator, Role::Supervisor, Role::Administrator, Role::Bot] {
        let (_, token) = testing::agent(app, role).await;
        let (status, body) = receive(app, Format::HttpApiV2, &token, &whatsapp(&phone(), "x")).await;
        assert_eq!(status, 403, "{role:?}: {body}");
    }
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_writes_nothing() {
    let _shared = ALONE.read().await;
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Gateway).await;
    let address = phone();
    let cases = [
        (
            json!({"text": "x", "clientApplicationDescriptor": {"channelType": "WHATSAPP", "deviceAddress": "nope"}}),
            "clientApplicationDescriptor.deviceAddress",
        ),
        (
            json!({"text": "x", "clientApplicationDescriptor": {"channelType": "PIGEON", "deviceAddress": address}}),
            "clientApplicationDescriptor.channelType",
        ),
        (json!({"text": "x"}), "clientApplicationDescriptor"),
        (
            {
                let mut b = whatsapp(&address, "x");
                b["receivedAt"] = json!("yesterday");
                b
            },
            "receivedAt",
        ),
        (
            {
                let mut b = whatsapp(&address, "x");
                b["providerMessageId"] = json!("has space");
                b
            },
            "providerMessageId",
        ),
        (whatsapp(&address, ""), "text"),
    ];
    for (body, field) in cases {
        let (status, answer) = receive(app, Format::HttpApiV2, &token, &body).await;
        assert_eq!((status, answer["field"].as_str()), (400, Some(field)), "{body}: {answer}");
    }
    assert!(app.store.device(ChannelType::Whatsapp, None, &address).await.unwrap().is_none());
}

#[tokio::test]
async fn costs_of_an_incoming_message() {
    let _alone = ALONE.write().await;
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Gateway).await;
    let address = phone();
    // Warm the container (connection, id blocks).
    let _ = receive(app, Format::HttpApiV2, &token, &whatsapp(&phone(), "warm")).await;
    let meter = testing::Meter::start(app);
    let (status, _) = receive(app, Format::HttpApiV2, &token, &whatsapp(&address, "new device")).await;
    assert_eq!(status, 200);
    meter.assert_cost(2, 3, "new device: auth ∥ device; one transaction");
    let meter = testing::Meter::start(app);
    let mut body = whatsapp(&address, "known device");
    body["providerMessageId"] = json!(testing::unique("wamid."));
    let (status, _) = receive(app, Format::HttpApiV2, &token, &body).await;
    assert_eq!(status, 200);
    meter.assert_cost(3, 5, "known device with a provider id: auth ∥ device ∥ provider id; client; transaction");
    println!(
        "incoming, known device: {:?} (round trips, requests), {:?} (read, write units)",
        meter.cost(),
        meter.units()
    );
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer() {
    let _shared = ALONE.read().await;
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Gateway).await;
    let body = whatsapp(&phone(), "keyed");
    let key = testing::unique("key");
    let call = || {
        let event = Event::new(Format::HttpApiV2, routes::RECEIVE_INCOMING, &[])
            .bearer(&token)
            .header("Idempotency-Key", &key)
            .json(&body);
        testing::call(app, routes::RECEIVE_INCOMING, handle::<ReceiveIncoming>, event)
    };
    let (status, first, _) = call().await;
    assert_eq!(status, 200, "{first}");
    let (status, again, _) = call().await;
    assert_eq!((status, &again), (200, &first));
}
