use serde_json::json;
use shared::core::model::Role;
use shared::routes;
use shared::testing::{self, Event, FORMATS};

use shared::routes::{get_thread::GetThread, handle};

/// An operator's token, a client, and the thread one message to that client opened.
async fn an_operator_and_a_thread(
    app: &'static shared::App,
) -> (String, shared::core::model::Client, shared::edna::wire::SentMessage) {
    let (agent, token) = testing::agent(app, Role::Operator).await;
    let client = testing::client(app).await;
    let recipient = shared::core::sending::Recipient::ThreadsClientId(client.client_id);
    let content =
        shared::core::validation::RawContent { text: Some("hi".into()), attachments: None }.validate().unwrap();
    let sent = testing::send(app, &agent, &recipient, content).await;
    (token, client, sent)
}

#[tokio::test]
async fn a_thread_reads_back_with_its_client_and_counts() {
    let app = testing::app().await;
    let (token, client, sent) = an_operator_and_a_thread(app).await;
    for format in FORMATS {
        let event = Event::new(format, routes::GET_THREAD, &[&sent.thread_id.to_string()]).bearer(&token);
        let (status, body, _) = testing::call(app, routes::GET_THREAD, handle::<GetThread>, event).await;
        assert_eq!(status, 200, "{format:?}: {body}");
        assert_eq!(body["id"], json!(sent.thread_id));
        assert_eq!(body["status"], json!("OPEN"));
        assert_eq!(body["clientId"], json!(client.client_id));
        assert_eq!(body["clientExternalId"], json!(client.external_id));
        assert_eq!(body["messageCount"], json!(1));
        assert!(body["startTime"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok());
        assert_eq!(body["startTime"], body["lastMessageTime"]);
    }
    let meter = testing::Meter::start(app);
    let event = Event::new(FORMATS[0], routes::GET_THREAD, &[&sent.thread_id.to_string()]).bearer(&token);
    assert_eq!(testing::call(app, routes::GET_THREAD, handle::<GetThread>, event).await.0, 200);
    // Auth alongside the thread, then its client.
    meter.assert_cost(2, 3, "(round trips, requests)");
}

/// A new container has no connection yet: reading alongside authentication would open a second
/// one (a second TLS handshake), so its first request reads after authentication, and the next
/// one alongside it.
#[tokio::test]
async fn a_new_container_authenticates_first_then_reads_alongside() {
    let (token, _, sent) = an_operator_and_a_thread(testing::app().await).await;

    let container = testing::app().await;
    let event = || Event::new(FORMATS[0], routes::GET_THREAD, &[&sent.thread_id.to_string()]).bearer(&token);
    let meter = testing::Meter::start(container);
    assert_eq!(testing::call(container, routes::GET_THREAD, handle::<GetThread>, event()).await.0, 200);
    assert_eq!(meter.cost(), (3, 3), "(round trips, requests): auth, thread, client, one after the other");
    let meter = testing::Meter::start(container);
    assert_eq!(testing::call(container, routes::GET_THREAD, handle::<GetThread>, event()).await.0, 200);
    meter.assert_cost(2, 3, "(round trips, requests)");
}

#[tokio::test]
async fn unknown_and_malformed_thread_ids_and_roles_are_refused() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    let (_, bot) = testing::agent(app, Role::Bot).await;
    for format in FORMATS {
        let call = |id: &str, token: &str| {
            let event = Event::new(format, routes::GET_THREAD, &[id]).bearer(token);
            testing::call(app, routes::GET_THREAD, handle::<GetThread>, event)
        };
        let (status, body, _) = call("9000000000000", &token).await;
        assert_eq!((status, body["code"].as_str(), body["field"].as_str()), (404, Some("NOT_FOUND"), Some("threadId")));
        for bad in ["abc", "0", "-4", "9007199254740992"] {
            let (status, body, _) = call(bad, &token).await;
            assert_eq!((status, body["field"].as_str()), (400, Some("threadId")), "{bad}: {body}");
        }
        assert_eq!(call("1", &bot).await.0, 403);
        assert_eq!(call("1", "Bearer nothing").await.0, 401);
    }
}
