use serde_json::{Value, json};
use shared::App;

/// The tests that meter DynamoDB requests run alone: the counters are the container's.
static ALONE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());
use shared::core::model::Role;
use shared::core::sending::Recipient;
use shared::core::validation::RawContent;
use shared::routes;
use shared::testing::{self, Event, FORMATS, Format};

use shared::routes::{handle, update_message_status::UpdateMessageStatus};

async fn report(app: &'static App, format: Format, token: &str, message_id: u64, body: &Value) -> (u16, Value) {
    let id = message_id.to_string();
    let event = Event::new(format, routes::UPDATE_MESSAGE_STATUS, &[&id]).bearer(token).json(body);
    let (status, body, _) =
        testing::call(app, routes::UPDATE_MESSAGE_STATUS, handle::<UpdateMessageStatus>, event).await;
    (status, body)
}

/// An outgoing message to a new client; its id.
async fn outgoing(app: &'static App) -> u64 {
    let (agent, _) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let content = RawContent { text: Some("hello".into()), attachments: None }.validate().unwrap();
    testing::send(app, &agent, &Recipient::ThreadsClientId(client.client_id), content).await.id
}

const ORDERS: [[&str; 3]; 6] = [
    ["SENT", "DELIVERED", "READ"],
    ["SENT", "READ", "DELIVERED"],
    ["DELIVERED", "SENT", "READ"],
    ["DELIVERED", "READ", "SENT"],
    ["READ", "SENT", "DELIVERED"],
    ["READ", "DELIVERED", "SENT"],
];

#[tokio::test]
async fn statuses_in_every_order_end_read_with_all_three_times() {
    let _shared = ALONE.read().await;
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Gateway).await;
    for (index, order) in ORDERS.iter().enumerate() {
        let message_id = outgoing(app).await;
        let format = FORMATS[index % 2];
        let mut last = Value::Null;
        // Each status twice: the repeats change nothing.
        for (second, status) in order.iter().chain(order.iter()).enumerate() {
            let at = format!("2026-12-02T10:00:0{}Z", second % 3 + (*status == "READ") as usize * 3);
            let (code, answer) =
                report(app, format, &token, message_id, &json!({"status": status, "statusAt": at})).await;
            assert_eq!(code, 200, "{order:?} {status}: {answer}");
            last = answer;
        }
        assert_eq!(last["status"], "READ", "{order:?}: {last}");
        for time in ["sentAt", "deliveredAt", "readAt"] {
            assert!(last[time].is_string(), "{order:?}: no {time} in {last}");
        }
        assert_eq!(last["statusAt"], last["readAt"]);
    }
}

#[tokio::test]
async fn failed_after_read_changes_nothing_and_a_failure_is_final() {
    let _alone = ALONE.write().await;
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Gateway).await;
    let message_id = outgoing(app).await;
    let (_, read) = report(app, Format::HttpApiV2, &token, message_id, &json!({"status": "READ"})).await;
    let meter = testing::Meter::start(app);
    let (code, after) = report(
        app,
        Format::HttpApiV2,
        &token,
        message_id,
        &json!({"status": "FAILED", "error": {"code": "131026", "message": "undeliverable"}}),
    )
    .await;
    assert_eq!((code, &after), (200, &read));
    meter.assert_cost(2, 3, "a late status: auth ∥ pointer; the refused update");
    assert_eq!(meter.units().1, 0.0, "a late status writes nothing");

    let failing = outgoing(app).await;
    let (code, failed) = report(
        app,
        Format::RestApiV1,
        &token,
        failing,
        &json!({"status": "UNDELIVERED", "error": {"code": "30003", "message": "unreachable"}}),
    )
    .await;
    assert_eq!(code, 200, "{failed}");
    assert_eq!((failed["status"].as_str(), failed["error"]["code"].as_str()), (Some("UNDELIVERED"), Some("30003")));
    assert!(failed["failedAt"].is_string(), "{failed}");
    let (_, later) = report(app, Format::RestApiV1, &token, failing, &json!({"status": "READ"})).await;
    assert_eq!(later["status"], "UNDELIVERED", "{later}");
}

#[tokio::test]
async fn a_status_update_costs_one_update_after_the_pointer() {
    let _alone = ALONE.write().await;
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Gateway).await;
    let message_id = outgoing(app).await;
    let meter = testing::Meter::start(app);
    let (code, answer) = report(app, Format::HttpApiV2, &token, message_id, &json!({"status": "DELIVERED"})).await;
    assert_eq!(code, 200, "{answer}");
    meter.assert_cost(2, 3, "status: auth ∥ pointer; one conditional update");
    println!("status update: {:?} (round trips, requests), {:?} (read, write units)", meter.cost(), meter.units());
    assert_eq!(answer["deliveredAt"], answer["statusAt"]);
    assert_eq!(answer["sentAt"], Value::Null);
}

#[tokio::test]
async fn unknown_messages_bad_input_and_other_roles_are_refused() {
    let _shared = ALONE.read().await;
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Gateway).await;
    let (code, answer) =
        report(app, Format::HttpApiV2, &token, 9_007_199_254_740_000, &json!({"status": "READ"})).await;
    assert_eq!(code, 404, "{answer}");
    let message_id = outgoing(app).await;
    for (body, field) in [
        (json!({"status": "SEEN"}), "status"),
        (json!({}), "status"),
        (json!({"status": "ACCEPTED"}), "status"),
        (json!({"status": "READ", "statusAt": "noon"}), "statusAt"),
        (json!({"status": "FAILED", "error": {"message": "x"}}), "error.code"),
    ] {
        let (code, answer) = report(app, Format::HttpApiV2, &token, message_id, &body).await;
        assert_eq!((code, answer["field"].as_str()), (400, Some(field)), "{body}: {answer}");
    }
    let (_, integrator) = testing::agent(app, Role::Integrator).await;
    let (code, _) = report(app, Format::HttpApiV2, &integrator, message_id, &json!({"status": "READ"})).await;
    assert_eq!(code, 403);
    // Nothing of the above moved the status.
    let (_, current) = report(app, Format::HttpApiV2, &token, message_id, &json!({"status": "SENT"})).await;
    assert_eq!(current["status"], "SENT", "{current}");
    assert_eq!(current["deliveredAt"], Value::Null);
}
