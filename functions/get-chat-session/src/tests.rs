use serde_json::{Value, json};
use shared::core::model::Role;
use shared::routes;
use shared::superoffice::SuperOffice;
use shared::testing::{self, Event, FORMATS};

use shared::routes::{get_chat_session::GetChatSession, handle};

#[tokio::test]
async fn a_session_reads_as_its_thread_in_both_payload_formats() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Supervisor).await;
    let client = testing::client(app).await;
    let customer = shared::core::threads::SessionCustomer::ClientId(client.client_id);
    let summary = shared::core::threads::open_session(&app.store, customer, None).await.unwrap();
    let id = summary.thread.thread_id.to_string();
    for format in FORMATS {
        let event = Event::new(format, routes::GET_CHAT_SESSION, &[&id]).bearer(&token).header("Accept", "text/json");
        let response =
            testing::call_in::<SuperOffice, _, _, _>(app, routes::GET_CHAT_SESSION, handle::<GetChatSession>, event)
                .await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/json; charset=utf-8");
        let session: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(session["ChatSessionId"], json!(summary.thread.thread_id));
        assert_eq!(session["Status"], json!("Chatting"));
        assert_eq!(
            (session["CustomerId"].clone(), session["CustomerExternalId"].clone()),
            (json!(client.client_id), json!(client.external_id))
        );
        assert_eq!(session["MessageCount"], json!(0));
    }
    let event = Event::new(FORMATS[0], routes::GET_CHAT_SESSION, &["0"]).bearer(&token);
    let response =
        testing::call_in::<SuperOffice, _, _, _>(app, routes::GET_CHAT_SESSION, handle::<GetChatSession>, event).await;
    assert_eq!(response.status(), 400);
}
