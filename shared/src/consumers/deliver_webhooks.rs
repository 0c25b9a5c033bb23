//! `deliver-webhooks`: each new (or replayed) delivery's first attempt, as the stream brings it
//! (the event source mapping passes only deliveries with no attempt made). Deliveries of
//! different subscriptions are attempted side by side.

use aws_lambda_events::event::dynamodb::EventRecord;

use crate::store::changes;
use crate::webhooks::sender::{self, HttpSender};
use crate::webhooks::{Settings, deliver, settings};
use crate::{App, Result};

pub const NAME: &str = "deliver-webhooks";

pub async fn handle(app: &'static App, record: EventRecord) -> Result<()> {
    handle_with(app, sender::shared()?, settings(), record).await
}

/// [`handle`] with a given client and settings (tests: a receiver on loopback).
pub async fn handle_with(
    app: &'static App,
    sender: &HttpSender,
    settings: &Settings,
    record: EventRecord,
) -> Result<()> {
    if let Some(key) = changes::new_delivery(&record)? {
        deliver::attempt(&app.store, sender, settings, &key).await?;
    }
    Ok(())
}

pub async fn serve() -> Result<(), lambda_http::Error> {
    crate::budget::set_function_timeout(crate::budget::DELIVER_WEBHOOKS_TIMEOUT);
    let app = App::from_env().await?;
    sender::shared()?;
    crate::stream::serve_side_by_side(app, NAME, handle).await
}
