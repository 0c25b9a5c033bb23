//! `deliver-webhooks`: each new (or replayed) delivery's first attempt, as the stream brings it
//! (the event source mapping passes only deliveries with no attempt made). Deliveries of
//! different subscriptions are attempted side by side.

use aws_lambda_events::event::dynamodb::EventRecord;
use serde::Deserialize;

use crate::core::error::Input;
use crate::core::webhooks::DispatchKey;
use crate::webhooks::deliver;
use crate::webhooks::sender::HttpSender;
use crate::webhooks::{Settings, settings};
use crate::{App, Error, Result};

pub const NAME: &str = "deliver-webhooks";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryImage {
    webhook_id: String,
    event_id: String,
    event_at: jiff::Timestamp,
}

fn sender() -> &'static HttpSender {
    static SENDER: std::sync::OnceLock<HttpSender> = std::sync::OnceLock::new();
    SENDER.get_or_init(|| HttpSender::new(settings().allow_loopback_http).expect("the webhook client builds"))
}

pub async fn handle(app: &'static App, record: EventRecord) -> Result<()> {
    handle_with(app, sender(), settings(), record).await
}

/// [`handle`] with a given client and settings (tests: a receiver on loopback).
pub async fn handle_with(
    app: &'static App,
    sender: &HttpSender,
    settings: &Settings,
    record: EventRecord,
) -> Result<()> {
    if record.change.new_image.is_empty() {
        return Ok(());
    }
    let image: DeliveryImage = serde_dynamo::from_item(record.change.new_image)
        .map_err(|_| Error::invalid(Input::StreamRecord, "an image that is not a delivery"))?;
    let key = DispatchKey { webhook_id: image.webhook_id, event_at: image.event_at, event_id: image.event_id };
    deliver::attempt(&app.store, sender, settings, &key).await?;
    Ok(())
}

pub async fn serve() -> Result<(), lambda_http::Error> {
    crate::budget::set_function_timeout(crate::budget::DELIVER_WEBHOOKS_TIMEOUT);
    let app = App::from_env().await?;
    sender();
    crate::stream::serve_side_by_side(app, NAME, handle).await
}
