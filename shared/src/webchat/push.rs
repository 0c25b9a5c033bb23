//! Pushes each new message of a thread to every live page of the thread's client, driven by the
//! table's stream (`publish-events`), so a send's own latency and writes do not change. A page
//! that is gone (410) is forgotten; any other failure is logged and left to the page, which
//! syncs what it missed when it reconnects: a push must never hold up the stream's events.

use crate::core::model::Message;
use crate::store::VisitorStore;
use crate::webchat::wire;
use crate::{Error, Result};

/// What became of one push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Sent,
    /// The connection is closed (API Gateway's 410 `GoneException`).
    Gone,
}

/// Posts frames to connections: API Gateway's `@connections` management API.
#[allow(async_fn_in_trait)]
pub trait Pusher {
    async fn push(&self, connection_id: &str, frame: &str) -> Result<Pushed>;
}

/// What one message's push did, for the log line's figures and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushReport {
    pub sent: usize,
    pub gone: usize,
    pub failed: usize,
}

/// Pushes `message` to every connection of its client: one query when it has none.
pub async fn push_message(store: &impl VisitorStore, pusher: &impl Pusher, message: &Message) -> Result<PushReport> {
    let connections = store.connections_of(message.client_id).await?;
    let mut report = PushReport::default();
    if connections.is_empty() {
        return Ok(report);
    }
    let frame = wire::message_frame(message)?;
    let outcomes = futures::future::join_all(connections.iter().map(|connection| async {
        match pusher.push(&connection.connection_id, &frame).await {
            Ok(Pushed::Gone) => {
                store.remove_connection(&connection.connection_id, connection.client_id).await.map(|()| Pushed::Gone)
            }
            other => other,
        }
    }))
    .await;
    for outcome in outcomes {
        match outcome {
            Ok(Pushed::Sent) => report.sent += 1,
            Ok(Pushed::Gone) => report.gone += 1,
            Err(err) => {
                report.failed += 1;
                tracing::warn!(message_id = message.message_id, error = %describe(&err), "a web chat push failed");
            }
        }
    }
    Ok(report)
}

fn describe(err: &Error) -> String {
    err.server_detail().map_or_else(|| format!("{err:?}"), str::to_owned)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::core::model::Role;
    use crate::core::sending::Recipient;
    use crate::core::validation::RawContent;
    use crate::core::webchat::{self, VisitorRequest};
    use crate::store::ThreadStore;
    use crate::testing::{self, Answer, Receiver};
    use crate::webchat::management::ManagementApi;

    #[tokio::test]
    async fn a_new_message_reaches_every_page_of_its_client_through_the_management_api() {
        let app = testing::app().await;
        let visitor = webchat::create_visitor(&app.store, &VisitorRequest::default()).await.unwrap();
        let pages = [testing::unique("page"), testing::unique("page")];
        for page in &pages {
            webchat::connect(&app.store, Some(&visitor.token), page).await.unwrap();
        }
        let stranger = webchat::create_visitor(&app.store, &VisitorRequest::default()).await.unwrap();
        webchat::connect(&app.store, Some(&stranger.token), &testing::unique("page")).await.unwrap();
        let (agent, _) = testing::agent(app, Role::Operator).await;
        let content = RawContent { text: Some("Your table is booked".into()), attachments: None }.validate().unwrap();
        let sent = testing::send(app, &agent, &Recipient::ThreadsClientId(visitor.client.client_id), content).await;
        let (_, position) = app.store.message_location(sent.id).await.unwrap().unwrap();
        let message = app.store.message_at(sent.thread_id, position).await.unwrap().unwrap();

        // The first page is live, the second closed without API Gateway telling us.
        let receiver = Receiver::start(vec![Answer::status(200), Answer::status(410)]).await;
        let api = ManagementApi::new(&receiver.url).unwrap();
        let report = push_message(&app.store, &api, &message).await.unwrap();
        assert_eq!(report, PushReport { sent: 1, gone: 1, failed: 0 });

        let received = receiver.received();
        let mut paths: Vec<String> = received.iter().map(|request| request.request_line.clone()).collect();
        paths.sort();
        let mut expected: Vec<String> = pages.iter().map(|page| format!("POST /hook/@connections/{page}")).collect();
        expected.sort();
        assert_eq!(paths, expected, "one POST per page of the client, none to the stranger's");
        for request in &received {
            assert!(request.headers.get("authorization").is_some_and(|value| value.starts_with("AWS4-HMAC-SHA256")));
            let frame: Value = serde_json::from_str(&request.body).unwrap();
            assert_eq!(frame["type"], json!("message"));
            assert_eq!(frame["message"]["id"], json!(sent.id));
            assert_eq!(frame["message"]["direction"], json!("OUTGOING"));
            assert_eq!(frame["message"]["text"], json!("Your table is booked"));
        }
        let left = app.store.connections_of(visitor.client.client_id).await.unwrap();
        assert_eq!(left.len(), 1, "the page that was gone is forgotten");

        // A client with no page open costs one query and no push.
        let quiet = webchat::create_visitor(&app.store, &VisitorRequest::default()).await.unwrap();
        let mut alone = message.clone();
        alone.client_id = quiet.client.client_id;
        let before = receiver.received().len();
        assert_eq!(push_message(&app.store, &api, &alone).await.unwrap(), PushReport::default());
        assert_eq!(receiver.received().len(), before);
    }
}
