use serde_json::{Value, json};
use shared::core::model::Role;
use shared::core::sending::Recipient;
use shared::core::validation::RawContent;
use shared::routes;
use shared::superoffice::SuperOffice;
use shared::testing::{self, Event, FORMATS};

use shared::routes::{handle, list_chat_messages::ListChatMessages};

#[tokio::test]
async fn messages_after_one_come_oldest_first_in_pages() {
    let app = testing::app().await;
    let (agent, token) = testing::agent(app, Role::Operator).await;
    let client = testing::client(app).await;
    let (mut thread_id, mut first_id) = (0, 0);
    for n in 0..5 {
        let content = RawContent { text: Some(format!("m{n}")), attachments: None }.validate().unwrap();
        let sent = testing::send(app, &agent, &Recipient::ThreadsClientId(client.client_id), content).await;
        thread_id = sent.thread_id;
        if n == 0 {
            first_id = sent.id;
        }
    }
    for format in FORMATS {
        let mut after = 0;
        let mut texts = Vec::new();
        loop {
            let event = Event::new(format, routes::LIST_CHAT_MESSAGES, &[&thread_id.to_string()])
                .bearer(&token)
                .query("after", &after.to_string())
                .query("limit", "2")
                .header("SO-TimeZone", "Europe/Oslo, includeTZOffset");
            let response = testing::call_in::<SuperOffice, _, _, _>(
                app,
                routes::LIST_CHAT_MESSAGES,
                handle::<ListChatMessages>,
                event,
            )
            .await;
            assert_eq!(response.status(), 200);
            let page: Vec<Value> = serde_json::from_slice(response.body().as_ref()).unwrap();
            if page.is_empty() {
                break;
            }
            for message in &page {
                assert_eq!(message["Type"], json!("ToCustomer"));
                assert_eq!(message["Author"], json!(agent.login));
                let when = message["WhenPosted"].as_str().unwrap();
                assert!(when.ends_with("+01:00") || when.ends_with("+02:00"), "{when}");
                texts.push(message["Message"].as_str().unwrap().to_owned());
            }
            after = page.last().unwrap()["ChatMessageId"].as_u64().unwrap();
        }
        assert_eq!(texts, ["m0", "m1", "m2", "m3", "m4"], "{format:?}");
    }
    for (after, cost) in [("0", (1, 3)), (&*first_id.to_string(), (2, 3))] {
        let meter = testing::Meter::start(app);
        let event = Event::new(FORMATS[0], routes::LIST_CHAT_MESSAGES, &[&thread_id.to_string()])
            .bearer(&token)
            .query("after", after);
        let response = testing::call_in::<SuperOffice, _, _, _>(
            app,
            routes::LIST_CHAT_MESSAGES,
            handle::<ListChatMessages>,
            event,
        )
        .await;
        assert_eq!(response.status(), 200);
        // Auth alongside the session (and, after a message, the message's place), then the page.
        meter.assert_cost(cost.0, cost.1, &format!("after={after}"));
    }
    let bad = Event::new(FORMATS[0], routes::LIST_CHAT_MESSAGES, &[&thread_id.to_string()])
        .bearer(&token)
        .query("after", "-1");
    let response =
        testing::call_in::<SuperOffice, _, _, _>(app, routes::LIST_CHAT_MESSAGES, handle::<ListChatMessages>, bad)
            .await;
    let error: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!((response.status().as_u16(), error["ErrorSource"].clone()), (400, json!("after")));

    // A well-formed `after` that names no message of the session is not found, like an unknown
    // session: the request is valid, the message is not there (schemathesis sent one as valid).
    let unknown = Event::new(FORMATS[0], routes::LIST_CHAT_MESSAGES, &[&thread_id.to_string()])
        .bearer(&token)
        .query("after", "2147483646");
    let response =
        testing::call_in::<SuperOffice, _, _, _>(app, routes::LIST_CHAT_MESSAGES, handle::<ListChatMessages>, unknown)
            .await;
    let error: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!((response.status().as_u16(), error["ErrorType"].clone()), (404, json!("NotFound")), "{error}");
    assert_eq!(error["ErrorSource"], json!("after"));
}
