//! `publish-events`: the table's stream (threads and messages only, by the event source
//! mapping's filter) → events and one delivery per subscription, and each new message pushed to
//! the web chat pages of its client. No call to a customer's host. A thread's records (its own
//! and its messages', one partition key) keep their order; different threads' are published
//! side by side.

use aws_lambda_events::event::dynamodb::EventRecord;

use crate::core::events::{Event, Subject};
use crate::webchat::{management, push};
use crate::webhooks::{publish, settings};
use crate::{App, Result};

pub const NAME: &str = "publish-events";

pub async fn handle(app: &'static App, record: EventRecord) -> Result<()> {
    // Boxed: the publishing future is deep, and the runtime's future around it deeper still.
    let events = Box::pin(publish::derive(&app.store, &record)).await?;
    // The page gets its message while the events are recorded: neither waits for the other.
    let (pushed, published) =
        tokio::join!(push_new_messages(app, &events), publish::record_all(&app.store, &events, &settings().context));
    pushed.and(published)
}

/// Pushes each new message among `events` to its client's pages. A failed push is logged, not
/// retried: the stream's events must not wait on a page, which syncs when it reconnects.
async fn push_new_messages(app: &'static App, events: &[Event]) -> Result<()> {
    let Some(api) = management::shared()? else { return Ok(()) };
    for event in events {
        if let (crate::core::events::EventType::MessageCreated, Subject::Message { message, .. }) =
            (event.kind, &event.subject)
        {
            push::push_message(&app.store, api, message).await?;
        }
    }
    Ok(())
}

pub async fn serve() -> Result<(), lambda_http::Error> {
    crate::budget::set_function_timeout(crate::budget::PUBLISH_EVENTS_TIMEOUT);
    let app = App::from_env().await?;
    crate::stream::serve_side_by_side(app, NAME, handle).await
}
