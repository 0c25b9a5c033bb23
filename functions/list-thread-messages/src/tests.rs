use serde_json::{Value, json};
use shared::App;
use shared::core::model::Role;
use shared::core::sending::Recipient;
use shared::core::validation::RawContent;
use shared::routes;
use shared::testing::{self, Event, FORMATS, Format};

use shared::routes::{handle, list_thread_messages::ListThreadMessages};

async fn thread_with_messages(app: &'static App, count: usize) -> (u64, String) {
    let (agent, token) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let mut thread_id = 0;
    for n in 0..count {
        let content = RawContent { text: Some(format!("message {n}")), attachments: None }.validate().unwrap();
        let sent = testing::send(app, &agent, &Recipient::ThreadsClientId(client.client_id), content).await;
        thread_id = sent.thread_id;
    }
    (thread_id, token)
}

async fn page(app: &'static App, format: Format, token: &str, thread_id: u64, query: &[(&str, &str)]) -> (u16, Value) {
    let mut event = Event::new(format, routes::LIST_THREAD_MESSAGES, &[&thread_id.to_string()]).bearer(token);
    for (name, value) in query {
        event = event.query(name, value);
    }
    let (status, body, _) = testing::call(app, routes::LIST_THREAD_MESSAGES, handle::<ListThreadMessages>, event).await;
    (status, body)
}

#[tokio::test]
async fn pages_walk_the_thread_newest_first() {
    let app = testing::app().await;
    let (thread_id, token) = thread_with_messages(app, 5).await;
    for format in FORMATS {
        let mut texts = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut query = vec![("limit", "2")];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let (status, body) = page(app, format, &token, thread_id, &query).await;
            assert_eq!(status, 200, "{body}");
            pages += 1;
            for item in body["items"].as_array().unwrap() {
                assert_eq!(item["threadId"], json!(thread_id));
                texts.push(item["text"].as_str().unwrap().to_owned());
            }
            match body["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
            assert!(pages < 10, "pagination must end");
        }
        assert_eq!(pages, 3);
        assert_eq!(texts, ["message 4", "message 3", "message 2", "message 1", "message 0"]);
    }
    let (_, body) = page(app, Format::HttpApiV2, &token, thread_id, &[]).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 5);
    assert_eq!(body["nextCursor"], Value::Null);
}

#[tokio::test]
async fn bad_limits_cursors_and_unknown_threads_are_refused() {
    let app = testing::app().await;
    let (thread_id, token) = thread_with_messages(app, 1).await;
    for (query, field) in [
        (vec![("limit", "0")], "limit"),
        (vec![("limit", "101")], "limit"),
        (vec![("limit", "ten")], "limit"),
        (vec![("cursor", "not-ours")], "cursor"),
    ] {
        let (status, body) = page(app, Format::RestApiV1, &token, thread_id, &query).await;
        assert_eq!((status, body["field"].as_str()), (400, Some(field)), "{query:?}: {body}");
    }
    let (status, body) = page(app, Format::HttpApiV2, &token, 9_000_000_000_000, &[]).await;
    assert_eq!((status, body["field"].as_str()), (404, Some("threadId")));
    let (_, admin) = testing::agent(app, Role::Administrator).await;
    assert_eq!(page(app, Format::HttpApiV2, &admin, thread_id, &[]).await.0, 403);
}
