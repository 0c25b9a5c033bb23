//! `publish-events`: the table's stream (threads and messages only, by the event source
//! mapping's filter) → events and one delivery per subscription. No HTTP. A thread's records
//! (its own and its messages', one partition key) keep their order; different threads' are
//! published side by side.

use aws_lambda_events::event::dynamodb::EventRecord;

use crate::webhooks::{publish, settings};
use crate::{App, Result};

pub const NAME: &str = "publish-events";

pub async fn handle(app: &'static App, record: EventRecord) -> Result<()> {
    // Boxed: the publishing future is deep, and the runtime's future around it deeper still.
    Box::pin(publish::publish(&app.store, &record, &settings().context)).await
}

pub async fn serve() -> Result<(), lambda_http::Error> {
    crate::budget::set_function_timeout(crate::budget::PUBLISH_EVENTS_TIMEOUT);
    let app = App::from_env().await?;
    crate::stream::serve_side_by_side(app, NAME, handle).await
}
