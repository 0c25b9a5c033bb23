use std::collections::BTreeSet;

use serde_json::{Value, json};
use shared::App;
use shared::core::model::{ChannelType, Role};
use shared::routes;
use shared::store::{ClientStore, ThreadStore};
use shared::testing::{self, Event, FORMATS, Format};

use shared::routes::{handle, send_outgoing_to_device::SendOutgoingToDevice};

async fn send(app: &'static App, format: Format, token: &str, body: &Value) -> (u16, Value) {
    let event = Event::new(format, routes::SEND_OUTGOING_TO_DEVICE, &[]).bearer(token).json(body);
    let (status, body, _) =
        testing::call(app, routes::SEND_OUTGOING_TO_DEVICE, handle::<SendOutgoingToDevice>, event).await;
    (status, body)
}

fn phone() -> String {
    format!("8{:010}", rand_digits())
}

fn rand_digits() -> u64 {
    u64::from_str_radix(&uuid::Uuid::new_v4().simple().to_string()[..12], 16).unwrap() % 10_000_000_000
}

fn to_device(descriptor: Value) -> Value {
    json!({"text": "message", "attachments": [], "clientApplicationDescriptor": descriptor})
}

#[tokio::test]
async fn a_first_send_creates_an_anonymous_client_and_later_sends_find_it() {
    let app = testing::app().await;
    let (agent, token) = testing::agent(app, Role::Integrator).await;
    let address = phone();
    let body = to_device(json!({"channelType": "WHATSAPP", "deviceAddress": address}));
    let (status, first) = send(app, Format::HttpApiV2, &token, &body).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["clientExternalId"], Value::Null);
    assert_eq!(first["agentId"], json!(agent.agent_id));
    let (status, second) = send(app, Format::RestApiV1, &token, &body).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!((&second["clientId"], &second["threadId"]), (&first["clientId"], &first["threadId"]));
    let device = app.store.device(ChannelType::Whatsapp, None, &address).await.unwrap().unwrap();
    assert_eq!(json!(device.client_id), first["clientId"]);
}

#[tokio::test]
async fn an_authorized_client_is_created_and_reachable_by_outgoing_identifiers() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Operator).await;
    let external_id = testing::unique("ext");
    let body = json!({"text": "message", "applicationDescriptor": {"channelType": "MOBILE", "clientId": external_id,
        "appMarker": "myApp", "deviceAddress": testing::unique("push")}});
    let (status, sent) = send(app, Format::HttpApiV2, &token, &body).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["clientExternalId"], json!(external_id));
    let client = app.store.client_by_external_id(&external_id).await.unwrap().unwrap();
    assert_eq!(json!(client.client_id), sent["clientId"]);
    assert_eq!(json!(client.open_thread_id), sent["threadId"]);
}

#[tokio::test]
async fn devices_move_up_to_authorized_clients_but_not_between_them() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let address = format!("{}@Example.org", testing::unique("ada"));
    let anonymous = json!({"channelType": "EMAIL", "deviceAddress": address});
    let (_, first) = send(app, Format::HttpApiV2, &token, &to_device(anonymous.clone())).await;

    let unauthorized_id = testing::unique("visitor");
    let as_visitor = json!({"channelType": "EMAIL", "deviceAddress": address, "unauthorizedClientId": unauthorized_id});
    let (status, visitor) = send(app, Format::HttpApiV2, &token, &to_device(as_visitor.clone())).await;
    assert_eq!(status, 200, "{visitor}");
    assert_ne!(visitor["clientId"], first["clientId"], "anonymous → unauthorized moves the device");
    assert_eq!(visitor["clientExternalId"], Value::Null);
    let (_, again) = send(app, Format::HttpApiV2, &token, &to_device(as_visitor)).await;
    assert_eq!(again["clientId"], visitor["clientId"]);

    let owner = testing::unique("owner");
    let as_owner = json!({"channelType": "EMAIL", "deviceAddress": address, "clientId": owner});
    let (status, owned) = send(app, Format::RestApiV1, &token, &to_device(as_owner)).await;
    assert_eq!(status, 200, "{owned}");
    assert_eq!(owned["clientExternalId"], json!(owner));
    let (_, later) = send(app, Format::HttpApiV2, &token, &to_device(anonymous)).await;
    assert_eq!(later["clientId"], owned["clientId"], "an anonymous send follows the device to its owner");

    let thief = testing::unique("thief");
    let as_thief = json!({"channelType": "EMAIL", "deviceAddress": address, "clientId": thief});
    for format in FORMATS {
        let (status, reply) = send(app, format, &token, &to_device(as_thief.clone())).await;
        assert_eq!((status, reply["code"].as_str()), (409, Some("DEVICE_BELONGS_TO_ANOTHER_CLIENT")), "{reply}");
    }
    assert!(app.store.client_by_external_id(&thief).await.unwrap().is_none(), "the refused client was not created");
    // Stored under the address with its domain in lower case.
    let normalised = address.replace("@Example.org", "@example.org");
    let device = app.store.device(ChannelType::Email, None, &normalised).await.unwrap().unwrap();
    assert_eq!(json!(device.client_id), owned["clientId"]);
}

#[tokio::test]
async fn rejections_name_the_field_and_write_nothing() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Supervisor).await;
    let address = phone();
    let cases = [
        (
            to_device(json!({"channelType": "PIGEON", "deviceAddress": address})),
            400,
            "clientApplicationDescriptor.channelType",
        ),
        (
            to_device(json!({"channelType": "WHATSAPP", "deviceAddress": "call me"})),
            400,
            "clientApplicationDescriptor.deviceAddress",
        ),
        (
            to_device(json!({"channelType": "EMAIL", "deviceAddress": address})),
            400,
            "clientApplicationDescriptor.deviceAddress",
        ),
        (
            to_device(json!({"channelType": "TELEGRAM", "deviceAddress": ""})),
            400,
            "clientApplicationDescriptor.deviceAddress",
        ),
        (to_device(json!({"channelType": "SMS"})), 400, "clientApplicationDescriptor.deviceAddress"),
        (
            json!({"text": "x", "clientApplicationDescriptor": {"channelType": "SMS", "deviceAddress": address},
                "applicationDescriptor": {"channelType": "VIBER", "deviceAddress": address}}),
            400,
            "applicationDescriptor",
        ),
        (json!({"text": "x"}), 400, "clientApplicationDescriptor"),
        (json!({"text": "", "applicationDescriptor": {"channelType": "SMS", "deviceAddress": address}}), 400, "text"),
        (
            json!({"text": "x", "applicationDescriptor": {"channelType": 7, "deviceAddress": address}}),
            400,
            "applicationDescriptor.channelType",
        ),
    ];
    for (body, status, field) in cases {
        let (got, reply) = send(app, Format::RestApiV1, &token, &body).await;
        assert_eq!((got, reply["field"].as_str()), (status, Some(field)), "{body}: {reply}");
    }
    for channel in [ChannelType::Sms, ChannelType::Whatsapp, ChannelType::Viber] {
        assert!(app.store.device(channel, None, &address).await.unwrap().is_none(), "no device was written");
    }
    let (_, bot) = testing::agent(app, Role::Bot).await;
    let (status, _) =
        send(app, Format::HttpApiV2, &bot, &to_device(json!({"channelType": "SMS", "deviceAddress": address}))).await;
    assert_eq!(status, 403);
    assert!(app.store.device(ChannelType::Sms, None, &address).await.unwrap().is_none());
}

#[tokio::test]
async fn fifty_concurrent_first_sends_to_one_new_device_make_one_client_and_one_thread() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let address = phone();
    let sends = (0..50).map(|n| {
        let token = token.clone();
        let body = json!({"text": format!("message {n}"),
            "clientApplicationDescriptor": {"channelType": "VIBER", "deviceAddress": address}});
        async move { send(app, Format::HttpApiV2, &token, &body).await }
    });
    let replies = futures::future::join_all(sends).await;
    let mut clients = BTreeSet::new();
    let mut threads = BTreeSet::new();
    let mut messages = BTreeSet::new();
    for (status, reply) in &replies {
        assert_eq!(*status, 200, "{reply}");
        clients.insert(reply["clientId"].as_u64().unwrap());
        threads.insert(reply["threadId"].as_u64().unwrap());
        messages.insert(reply["id"].as_u64().unwrap());
    }
    assert_eq!((clients.len(), threads.len(), messages.len()), (1, 1, 50));
    let device = app.store.device(ChannelType::Viber, None, &address).await.unwrap().unwrap();
    assert_eq!(Some(&device.client_id), clients.first());
    let thread = app.store.thread(*threads.first().unwrap()).await.unwrap().unwrap();
    assert_eq!(thread.message_count, 50);
    let stored: BTreeSet<u64> = app
        .store
        .messages(thread.thread_id, 100, shared::store::PageStart::NewestBefore(None))
        .await
        .unwrap()
        .messages
        .iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(stored, messages);
    let client = app.store.client(device.client_id).await.unwrap().unwrap();
    assert_eq!(client.open_thread_id, Some(thread.thread_id));
}

#[tokio::test]
async fn dynamodb_requests_per_send_for_a_new_and_a_known_device() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let body = to_device(json!({"channelType": "SMS", "deviceAddress": phone()}));
    // A first send reserves the container's blocks of ids.
    let warm_up = to_device(json!({"channelType": "SMS", "deviceAddress": phone()}));
    assert_eq!(send(app, Format::HttpApiV2, &token, &warm_up).await.0, 200);
    let meter = testing::Meter::start(app);
    assert_eq!(send(app, Format::HttpApiV2, &token, &body).await.0, 200);
    // Auth alongside the device; then the new client, the device, the thread and the message
    // in one transaction.
    meter.assert_cost(2, 3, "new device: (round trips, requests)");
    let meter = testing::Meter::start(app);
    assert_eq!(send(app, Format::HttpApiV2, &token, &body).await.0, 200);
    // Auth alongside the device, its client, the message transaction.
    meter.assert_cost(3, 4, "known device: (round trips, requests)");
}

/// What the log line says a known-device send cost: at most 3 round trips (auth ∥ device, its
/// client, the transaction) and never 0 — also in a container where a transaction try was given
/// up on (its answer held back longer than a try may take), which the count once lost for good.
// Multi-threaded, as a function's `#[tokio::main]`: there a call could be sent and answered
// before the next call of a `join!` was made, running them one after the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_known_device_send_logs_at_most_three_round_trips_never_zero() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let body = to_device(json!({"channelType": "SMS", "deviceAddress": phone()}));
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
        assert_eq!(send(app, Format::HttpApiV2, &token, &body).await.0, 200);
        for _ in 0..20 {
            assert_eq!(send(app, Format::HttpApiV2, &token, &body).await.0, 200);
            let line = log.last_request();
            let round_trips = line["dynamodb_round_trips"].as_u64().unwrap();
            assert!((1..=3).contains(&round_trips), "{what}: {line}");
            assert_eq!(line["dynamodb_requests"], json!(4), "{what}: {line}");
        }
    }
}
