use base64::Engine;
use futures::future::join_all;
use serde_json::{Value, json};
use shared::App;
use shared::core::model::Role;
use shared::core::sending::Recipient;
use shared::core::validation::RawContent;
use shared::routes;
use shared::superoffice::SuperOffice;
use shared::testing::{self, Event, FORMATS, Format, PASSWORD};

use shared::routes::{handle, post_chat_message::PostChatMessage};

const SEED_SAMPLE: &str = r#"{
  "ChatMessageId": 664,
  "ChatSessionId": 103,
  "Type": "Invalid",
  "Message": "officia",
  "Author": "voluptatem",
  "ReadByCustomer": 973,
  "SpecialType": "Block",
  "SpecialParam": "quo",
  "WhenPosted": "2007-12-18T17:54:08.0543344+01:00"
}"#;

/// An open session (a thread with one edna message) and a token that may post to it.
async fn session(app: &'static App) -> (u64, String, shared::core::model::Agent) {
    let (agent, token) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let content = RawContent { text: Some("hello".into()), attachments: None }.validate().unwrap();
    let sent = testing::send(app, &agent, &Recipient::ThreadsClientId(client.client_id), content).await;
    (sent.thread_id, token, agent)
}

async fn post(app: &'static App, event: Event) -> (u16, String, lambda_http::Response<lambda_http::Body>) {
    let response =
        testing::call_in::<SuperOffice, _, _, _>(app, routes::POST_CHAT_MESSAGE, handle::<PostChatMessage>, event)
            .await;
    let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
    (response.status().as_u16(), body, response)
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON, got {body}"))
}

#[tokio::test]
async fn the_seed_sample_is_stored_with_a_new_id_in_both_payload_formats() {
    let app = testing::app().await;
    let (session_id, token, _) = session(app).await;
    for format in FORMATS {
        let sample = SEED_SAMPLE.replace("103", &session_id.to_string());
        let event = Event::new(format, routes::POST_CHAT_MESSAGE, &[&session_id.to_string()])
            .bearer(&token)
            .header("Accept", "application/json; charset=utf-8")
            .header("Accept-Language", "en")
            .header("Content-Type", "application/json; charset=utf-8")
            .body(&sample);
        let (status, body, response) = post(app, event).await;
        assert_eq!(status, 200, "{format:?}: {body}");
        assert_eq!(response.headers()["content-type"], "application/json; charset=utf-8");
        let message = json_of(&body);
        assert_ne!(message["ChatMessageId"], json!(664));
        assert!(message["ChatMessageId"].as_i64().unwrap() > 0);
        assert_eq!(message["ChatSessionId"], json!(session_id));
        for (field, value) in [
            ("Type", json!("Invalid")),
            ("Message", json!("officia")),
            ("Author", json!("voluptatem")),
            ("ReadByCustomer", json!(973)),
            ("SpecialType", json!("Block")),
            ("SpecialParam", json!("quo")),
            ("WhenPosted", json!("2007-12-18T16:54:08.0543344Z")),
        ] {
            assert_eq!(message[field], value, "{field}");
        }
    }
}

#[tokio::test]
async fn xml_in_xml_out_with_basic_credentials() {
    let app = testing::app().await;
    let (session_id, _, agent) = session(app).await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{PASSWORD}", agent.login));
    let xml = r#"<ChatMessage xmlns="urn:superoffice"><Type>ToUser</Type><Message>a &lt; b</Message></ChatMessage>"#;
    let event = Event::new(Format::RestApiV1, routes::POST_CHAT_MESSAGE, &[&session_id.to_string()])
        .header("Authorization", &format!("Basic {basic}"))
        .header("Content-Type", "text/xml")
        .header("Accept", "application/xml")
        .body(xml);
    let (status, body, response) = post(app, event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(response.headers()["content-type"], "application/xml; charset=utf-8");
    assert!(body.contains("<Type>ToUser</Type>") && body.contains("<Message>a &lt; b</Message>"), "{body}");
    assert!(body.contains(&format!("<Author>{}</Author>", agent.login)), "{body}");
}

#[tokio::test]
async fn errors_use_the_superoffice_body_in_the_callers_language() {
    let app = testing::app().await;
    let (session_id, token, _) = session(app).await;
    let path = session_id.to_string();
    let bad_type = Event::new(Format::HttpApiV2, routes::POST_CHAT_MESSAGE, &[&path])
        .bearer(&token)
        .header("SO-Language", "nb")
        .json(&json!({"Message": "x", "Type": "Sideways"}));
    let (status, body, response) = post(app, bad_type).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(response.headers()["content-language"], "nb");
    let error = json_of(&body);
    assert_eq!((error["Error"].clone(), error["ErrorType"].clone()), (json!(true), json!("InvalidInput")));
    assert_eq!(error["ErrorSource"], "Type");
    assert!(error["ErrorMessage"].as_str().unwrap().starts_with("Ugyldig"), "{body}");

    let other_session = Event::new(Format::HttpApiV2, routes::POST_CHAT_MESSAGE, &[&path])
        .bearer(&token)
        .json(&json!({"Message": "x", "ChatSessionId": session_id + 1}));
    let (status, body, _) = post(app, other_session).await;
    assert_eq!((status, json_of(&body)["ErrorSource"].clone()), (400, json!("ChatSessionId")));

    let unknown = Event::new(Format::HttpApiV2, routes::POST_CHAT_MESSAGE, &["2000000000"])
        .bearer(&token)
        .json(&json!({"Message": "x"}));
    let (status, body, _) = post(app, unknown).await;
    assert_eq!((status, json_of(&body)["ErrorType"].clone()), (404, json!("NotFound")));

    let no_credentials =
        Event::new(Format::HttpApiV2, routes::POST_CHAT_MESSAGE, &[&path]).json(&json!({"Message": "x"}));
    let (status, body, response) = post(app, no_credentials).await;
    assert_eq!((status, json_of(&body)["ErrorType"].clone()), (401, json!("Unauthorized")));
    assert!(response.headers()["www-authenticate"].to_str().unwrap().contains("SOTicket"));

    let xxe = r#"<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><ChatMessage><Message>&x;</Message></ChatMessage>"#;
    let event = Event::new(Format::HttpApiV2, routes::POST_CHAT_MESSAGE, &[&path])
        .bearer(&token)
        .header("Content-Type", "application/xml")
        .header("Accept", "text/xml")
        .body(xxe);
    let (status, body, _) = post(app, event).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.starts_with("<?xml") && body.contains("<ErrorType>InvalidInput</ErrorType>"), "{body}");
    assert!(!body.contains("root:"));
}

#[tokio::test]
async fn concurrent_posts_get_distinct_int32_ids() {
    let app = testing::app().await;
    let (session_id, token, _) = session(app).await;
    let posts = (0..40).map(|n| {
        let event = Event::new(Format::HttpApiV2, routes::POST_CHAT_MESSAGE, &[&session_id.to_string()])
            .bearer(&token)
            .json(&json!({"Message": format!("message {n}")}));
        post(app, event)
    });
    let mut ids: Vec<i64> = join_all(posts)
        .await
        .into_iter()
        .map(|(status, body, _)| {
            assert_eq!(status, 200, "{body}");
            json_of(&body)["ChatMessageId"].as_i64().unwrap()
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40);
    assert!(ids.iter().all(|id| (1..=i64::from(i32::MAX)).contains(id)));
}

#[tokio::test]
async fn a_warm_post_costs_two_round_trips_and_three_requests() {
    let app = testing::app().await;
    let (session_id, token, _) = session(app).await;
    let event = || {
        Event::new(Format::HttpApiV2, routes::POST_CHAT_MESSAGE, &[&session_id.to_string()])
            .bearer(&token)
            .json(&json!({"Message": "x"}))
    };
    assert_eq!(post(app, event()).await.0, 200);
    let meter = testing::Meter::start(app);
    assert_eq!(post(app, event()).await.0, 200);
    // Agent + session (one batch read) alongside the session's thread, then one transaction;
    // the message id comes from the container's block.
    meter.assert_cost(2, 3, "(round trips, requests)");
}
