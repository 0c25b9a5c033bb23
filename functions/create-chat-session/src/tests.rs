use serde_json::{Value, json};
use shared::core::model::Role;
use shared::routes;
use shared::superoffice::SuperOffice;
use shared::testing::{self, Event, FORMATS, Format};

use shared::routes::{create_chat_session::CreateChatSession, handle};

async fn create(app: &'static shared::App, event: Event) -> (u16, Value, lambda_http::Response<lambda_http::Body>) {
    let response =
        testing::call_in::<SuperOffice, _, _, _>(app, routes::CREATE_CHAT_SESSION, handle::<CreateChatSession>, event)
            .await;
    let body = serde_json::from_slice(response.body().as_ref()).unwrap();
    (response.status().as_u16(), body, response)
}

#[tokio::test]
async fn sessions_open_for_new_and_named_customers_once() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    for format in FORMATS {
        let event =
            Event::new(format, routes::CREATE_CHAT_SESSION, &[]).bearer(&token).json(&json!({"CustomerAlias": "Ada"}));
        let (status, session, response) = create(app, event).await;
        assert_eq!(status, 201, "{session}");
        assert_eq!((session["Status"].clone(), session["CustomerAlias"].clone()), (json!("Chatting"), json!("Ada")));
        let id = session["ChatSessionId"].as_u64().unwrap();
        assert_eq!(response.headers()["location"], format!("/api/v1/ChatSession/{id}").as_str());
    }
    let client = testing::client(app).await;
    let by_external_id = || {
        Event::new(Format::HttpApiV2, routes::CREATE_CHAT_SESSION, &[])
            .bearer(&token)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(&format!("CustomerExternalId={}", client.external_id.clone().unwrap()))
    };
    let (status, session, _) = create(app, by_external_id()).await;
    assert_eq!((status, session["CustomerId"].clone()), (201, json!(client.client_id)));
    let (status, error, _) = create(app, by_external_id()).await;
    assert_eq!((status, error["ErrorType"].clone()), (409, json!("Conflict")), "{error}");
    assert!(error["ErrorMessage"].as_str().unwrap().contains(&session["ChatSessionId"].to_string()));

    let unknown = Event::new(Format::HttpApiV2, routes::CREATE_CHAT_SESSION, &[])
        .bearer(&token)
        .json(&json!({"CustomerId": 9_000_000_000u64}));
    let (status, error, _) = create(app, unknown).await;
    assert_eq!((status, error["ErrorSource"].clone()), (404, json!("CustomerId")));
}
