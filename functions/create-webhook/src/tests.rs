//! `POST /api/v1/webhooks` fed real API Gateway events, and the routes that read what it made.

use serde_json::{Value, json};
use shared::App;
use shared::core::model::Role;
use shared::routes::{self, handle};
use shared::testing::{self, CapturedLog, Event, FORMATS, Format};

async fn create(app: &'static App, format: Format, token: &str, body: &Value, key: Option<&str>) -> (u16, Value) {
    let mut event = Event::new(format, routes::CREATE_WEBHOOK, &[]).bearer(token).json(body);
    if let Some(key) = key {
        event = event.header("idempotency-key", key);
    }
    let (status, body, _) =
        testing::call(app, routes::CREATE_WEBHOOK, handle::<routes::create_webhook::CreateWebhook>, event).await;
    (status, body)
}

async fn get(app: &'static App, token: &str, id: &str) -> (u16, Value) {
    let event = Event::new(Format::HttpApiV2, routes::GET_WEBHOOK, &[id]).bearer(token);
    let (status, body, _) =
        testing::call(app, routes::GET_WEBHOOK, handle::<routes::get_webhook::GetWebhook>, event).await;
    (status, body)
}

/// A public address, so that no name has to resolve where the tests run.
const URL: &str = "https://93.184.215.14/hooks/chat";

#[tokio::test]
async fn a_subscription_shows_its_secret_once_and_never_logs_it() {
    let app = testing::app().await;
    let log = CapturedLog::start();
    let (_, token) = testing::agent(app, Role::Integrator).await;
    for format in FORMATS {
        let meter = testing::Meter::start(app);
        let body = json!({"url": URL, "events": ["message.created"], "description": "CRM"});
        let (status, created) = create(app, format, &token, &body, None).await;
        assert_eq!(status, 201, "{created}");
        // Authentication, then one write.
        meter.assert_cost(2, 2, "create a subscription");
        let secret = created["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_") && secret.len() == 50, "{secret}");
        let id = created["id"].as_str().unwrap();
        assert!(id.starts_with("wh_") && id.len() == 35, "{id}");
        assert_eq!(created["events"], json!(["message.created"]));
        assert_eq!((created["format"].as_str(), created["status"].as_str()), (Some("standard"), Some("ENABLED")));

        let (status, read) = get(app, &token, id).await;
        assert_eq!(status, 200, "{read}");
        assert!(read.get("secret").is_none(), "a read never shows the secret: {read}");
        assert_eq!(read["description"], "CRM");
        assert!(!log.text().contains(&secret[6..]), "the secret reached the log");
    }
}

#[tokio::test]
async fn refused_urls_and_fields_are_named() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Supervisor).await;
    for url in [
        "http://93.184.215.14/h",
        "https://127.0.0.1/h",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/h",
        "https://10.0.0.1/h",
        "https://localhost/h",
        "ftp://93.184.215.14/h",
        "not a url",
    ] {
        let (status, body) = create(app, Format::RestApiV1, &token, &json!({"url": url}), None).await;
        assert_eq!((status, body["field"].as_str()), (400, Some("url")), "{url}: {body}");
    }
    for (body, field) in [
        (json!({"url": URL, "events": ["message.deleted"]}), "events"),
        (json!({"url": URL, "events": []}), "events"),
        (json!({"url": URL, "format": "xml"}), "format"),
        (json!({"url": URL, "description": "x".repeat(501)}), "description"),
        (json!({"events": ["thread.opened"]}), "url"),
    ] {
        let (status, answer) = create(app, Format::HttpApiV2, &token, &body, None).await;
        assert_eq!((status, answer["field"].as_str()), (400, Some(field)), "{body}: {answer}");
    }
}

#[tokio::test]
async fn only_integrators_supervisors_and_administrators_subscribe() {
    let app = testing::app().await;
    for (role, expected) in [
        (Role::Integrator, 201),
        (Role::Supervisor, 201),
        (Role::Administrator, 201),
        (Role::Operator, 403),
        (Role::Gateway, 403),
        (Role::Bot, 403),
    ] {
        let (_, token) = testing::agent(app, role).await;
        let (status, body) = create(app, Format::HttpApiV2, &token, &json!({"url": URL}), None).await;
        assert_eq!(status, expected, "{role:?}: {body}");
    }
    let (status, _) = create(app, Format::HttpApiV2, "Bearer 1.nonsense", &json!({"url": "bad"}), None).await;
    assert_eq!(status, 401, "bad credentials are told before a bad request");
}

#[tokio::test]
async fn a_retry_with_the_same_key_gets_the_same_subscription() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let key = testing::unique("hook");
    let body = json!({"url": URL});
    let (first_status, first) = create(app, Format::HttpApiV2, &token, &body, Some(&key)).await;
    let (again_status, again) = create(app, Format::RestApiV1, &token, &body, Some(&key)).await;
    assert_eq!((first_status, again_status), (201, 201));
    assert_eq!(first, again, "same id, same secret");
    let other = json!({"url": URL, "format": "superoffice"});
    let (status, refused) = create(app, Format::HttpApiV2, &token, &other, Some(&key)).await;
    assert_eq!((status, refused["code"].as_str()), (422, Some("IDEMPOTENCY_KEY_REUSED")));
    let (status, _) = get(app, &token, "wh_00000000000000000000000000000000").await;
    assert_eq!(status, 404);
}
