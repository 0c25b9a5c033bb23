use serde_json::json;
use shared::core::model::Role;
use shared::core::sending::Recipient;
use shared::core::validation::RawContent;
use shared::routes;
use shared::store::ThreadStore;
use shared::testing::{self, Event, FORMATS};

use shared::routes::{close_thread::CloseThread, handle};

fn hello() -> shared::core::validation::MessageContent {
    RawContent { text: Some("hello".into()), attachments: None }.validate().unwrap()
}

#[tokio::test]
async fn closing_frees_the_client_for_a_new_thread() {
    let app = testing::app().await;
    for format in FORMATS {
        let (agent, token) = testing::agent(app, Role::Supervisor).await;
        let client = testing::client(app).await;
        let recipient = Recipient::ThreadsClientId(client.client_id);
        let first = testing::send(app, &agent, &recipient, hello()).await;

        let event = Event::new(format, routes::CLOSE_THREAD, &[&first.thread_id.to_string()]).bearer(&token);
        let (status, body, _) = testing::call(app, routes::CLOSE_THREAD, handle::<CloseThread>, event.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!((body["id"].clone(), body["status"].clone()), (json!(first.thread_id), json!("CLOSED")));

        // Closing again changes nothing.
        let (status, again, _) = testing::call(app, routes::CLOSE_THREAD, handle::<CloseThread>, event).await;
        assert_eq!((status, again), (200, body));

        let second = testing::send(app, &agent, &recipient, hello()).await;
        assert_ne!(second.thread_id, first.thread_id);
        let old = app.store.thread(first.thread_id).await.unwrap().unwrap();
        assert_eq!(old.message_count, 1, "no message joined the closed thread");
    }
}

#[tokio::test]
async fn only_integrators_and_supervisors_may_close() {
    let app = testing::app().await;
    let (agent, _) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let sent = testing::send(app, &agent, &Recipient::ThreadsClientId(client.client_id), hello()).await;
    for role in [Role::Operator, Role::Administrator, Role::Bot] {
        let (_, token) = testing::agent(app, role).await;
        let event =
            Event::new(testing::Format::RestApiV1, routes::CLOSE_THREAD, &[&sent.thread_id.to_string()]).bearer(&token);
        let (status, body, _) = testing::call(app, routes::CLOSE_THREAD, handle::<CloseThread>, event).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")), "{role:?}");
    }
    let thread = app.store.thread(sent.thread_id).await.unwrap().unwrap();
    assert_eq!(thread.status, shared::core::model::ThreadStatus::Open);
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let event = Event::new(testing::Format::HttpApiV2, routes::CLOSE_THREAD, &["9000000000000"]).bearer(&token);
    assert_eq!(testing::call(app, routes::CLOSE_THREAD, handle::<CloseThread>, event).await.0, 404);
}
