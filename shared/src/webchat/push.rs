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
