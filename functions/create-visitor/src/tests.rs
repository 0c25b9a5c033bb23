//! `POST /api/v1/webchat/visitors` fed real API Gateway events.

use serde_json::{Value, json};
use shared::App;
use shared::core::credentials::token_hash;
use shared::core::model::{ChannelType, Role};
use shared::routes::{self, handle};
use shared::store::{ClientStore, VisitorStore};
use shared::testing::{self, CapturedLog, Event, FORMATS, Format};

async fn create(app: &'static App, format: Format, token: &str, body: Option<&Value>) -> (u16, Value) {
    let mut event = Event::new(format, routes::CREATE_VISITOR, &[]).bearer(token);
    if let Some(body) = body {
        event = event.json(body);
    }
    let (status, body, _) =
        testing::call(app, routes::CREATE_VISITOR, handle::<routes::create_visitor::CreateVisitor>, event).await;
    (status, body)
}

#[tokio::test]
async fn a_visitor_of_a_named_client_gets_a_token_for_its_one_web_device() {
    let app = testing::app().await;
    let log = CapturedLog::start();
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let external_id = testing::unique("visitor");
    let mut tokens = Vec::new();
    for format in FORMATS {
        let body = json!({"clientId": external_id, "name": "Ada"});
        let (status, created) = create(app, format, &token, Some(&body)).await;
        assert_eq!(status, 201, "{created}");
        let visitor_token = created["visitorToken"].as_str().unwrap().to_owned();
        // "vt_" and 256 bits in unpadded base64url.
        assert!(visitor_token.starts_with("vt_") && visitor_token.len() == 46, "{visitor_token}");
        assert_eq!(created["clientExternalId"], json!(external_id));
        let client_id = created["clientId"].as_u64().unwrap();
        assert_eq!(created["deviceAddress"], json!(format!("visitor-{client_id}")));
        let expires: jiff::Timestamp = created["expiresAt"].as_str().unwrap().parse().unwrap();
        let left = expires.duration_since(jiff::Timestamp::now()).as_secs();
        assert!((23 * 3600..=24 * 3600).contains(&left), "a day to connect, got {left} s");

        // Stored hashed: the token finds its visitor only through its hash.
        let stored = app.store.visitor(&token_hash(&visitor_token)).await.unwrap().expect("the token's item");
        assert_eq!(stored.client_id, client_id);
        let device = app.store.device(ChannelType::Web, None, &format!("visitor-{client_id}")).await.unwrap();
        assert_eq!(device.map(|device| device.client_id), Some(client_id));
        let client = app.store.client(client_id).await.unwrap().unwrap();
        assert_eq!(client.display_name.as_deref(), Some("Ada"));
        tokens.push((client_id, visitor_token));
    }
    assert_eq!(tokens[0].0, tokens[1].0, "the same client both times");
    assert_ne!(tokens[0].1, tokens[1].1, "a new token each time");
    for (_, visitor_token) in &tokens {
        assert!(!log.text().contains(&visitor_token[3..]), "a visitor token reached the log");
    }
}

#[tokio::test]
async fn an_empty_body_makes_a_new_anonymous_client_each_time_at_a_known_cost() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Operator).await;
    let meter = testing::Meter::start(app);
    let (status, first) = create(app, Format::HttpApiV2, &token, None).await;
    assert_eq!(status, 201, "{first}");
    // Authentication, the new client's (absent) device, the transaction; the id block is
    // reserved once per container, so it may or may not be among them.
    let (round_trips, requests) = meter.cost();
    assert!((3..=4).contains(&requests) && round_trips <= requests, "{round_trips} round trips, {requests} requests");
    let (_, second) = create(app, Format::HttpApiV2, &token, Some(&json!({}))).await;
    assert_ne!(first["clientId"], second["clientId"]);
    assert_eq!(first["clientExternalId"], Value::Null);
}

#[tokio::test]
async fn bad_bodies_are_refused_by_field_and_other_roles_are_forbidden() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Supervisor).await;
    let cases = [
        (json!({"clientId": "a", "unauthorizedClientId": "b"}), "unauthorizedClientId"),
        (json!({"name": "x".repeat(256)}), "name"),
        (json!({"clientId": ""}), "clientId"),
        (json!({"clientId": 7}), "clientId"),
    ];
    for (body, field) in cases {
        let (status, refused) = create(app, Format::RestApiV1, &token, Some(&body)).await;
        assert_eq!((status, refused["field"].as_str()), (400, Some(field)), "{body} -> {refused}");
    }
    for role in [Role::Gateway, Role::Administrator] {
        let (_, token) = testing::agent(app, role).await;
        let (status, _) = create(app, Format::HttpApiV2, &token, Some(&json!({}))).await;
        assert_eq!(status, 403, "{role:?}");
    }
    let (status, _) = create(app, Format::HttpApiV2, "Bearer 1.nope", None).await;
    assert_eq!(status, 401);
}
