//! What the webhook routes and `chat-admin webhook` do: subscriptions made (their URL checked by
//! the guard), read, deleted and rotated; deliveries listed and replayed; the event feed paged.

use jiff::Timestamp;

use super::guard;
use crate::core::error::Input;
use crate::core::idempotency::KeyClaimed;
use crate::core::webhooks::{DispatchKey, DispatchStatus, NewSubscription, Secret, Subscription, new_webhook_id};
use crate::store::{DispatchPage, EventPage, EventStore, FeedPosition, WebhookStore};
use crate::{Error, Result};

/// How far behind now the feed stops: an event recorded with an earlier time than one already
/// listed may still be on its way (consumers run side by side; the index catches up within
/// seconds), and a reader that has passed its place would never see it.
pub const FEED_SETTLING: std::time::Duration = std::time::Duration::from_secs(5);

/// A subscription made: its URL checked (form, scheme, every address it resolves to), its secret
/// new. The answer is the only one that shows the secret.
pub async fn create(
    store: &impl WebhookStore,
    new: NewSubscription,
    allow_loopback_http: bool,
    claim: Option<KeyClaimed>,
) -> Result<Subscription> {
    guard::check_url(&new.url, allow_loopback_http).await?;
    let subscription = new.into_subscription(new_webhook_id(), Timestamp::now());
    let completed = claim.map(|claim| claim.complete(&subscription)).transpose()?;
    store.create_webhook(&subscription, completed.as_ref()).await?;
    Ok(subscription)
}

pub fn not_found(webhook_id: &str) -> Error {
    Error::none_with(Input::WebhookId, webhook_id)
}

pub async fn get(store: &impl WebhookStore, webhook_id: &str) -> Result<Subscription> {
    store.webhook(webhook_id).await?.ok_or_else(|| not_found(webhook_id))
}

pub async fn list(store: &impl WebhookStore) -> Result<Vec<Subscription>> {
    let mut subscriptions = store.webhooks().await?;
    subscriptions.sort_by_key(|subscription| subscription.created_at);
    Ok(subscriptions)
}

/// The subscription as it was when deleted. Its deliveries stay listed until they expire.
pub async fn delete(store: &impl WebhookStore, webhook_id: &str) -> Result<Subscription> {
    store.delete_webhook(webhook_id).await?.ok_or_else(|| not_found(webhook_id))
}

/// A new current secret; the one it replaces keeps signing beside it for 24 h.
pub async fn rotate(store: &impl WebhookStore, webhook_id: &str) -> Result<Subscription> {
    store.rotate_secret(webhook_id, Secret::generate(), Timestamp::now()).await?.ok_or_else(|| not_found(webhook_id))
}

/// A page of the subscription's deliveries, newest first; 404 for an unknown subscription.
pub async fn deliveries(
    store: &impl WebhookStore,
    webhook_id: &str,
    status: Option<DispatchStatus>,
    limit: usize,
    before: Option<&DispatchKey>,
) -> Result<DispatchPage> {
    let (subscription, page) =
        futures::try_join!(store.webhook(webhook_id), store.dispatches(webhook_id, status, limit, before))?;
    subscription.ok_or_else(|| not_found(webhook_id))?;
    Ok(page)
}

/// Sends the subscription's deliveries of events in `[since, until]` again, with their ids.
pub async fn replay(store: &impl WebhookStore, webhook_id: &str, since: Timestamp, until: Timestamp) -> Result<u64> {
    if until < since {
        return Err(Error::invalid(Input::Until, "must not be before since"));
    }
    get(store, webhook_id).await?;
    store.replay_dispatches(webhook_id, since, until, Timestamp::now()).await
}

/// Every event, oldest first, after `after`.
pub async fn events(store: &impl EventStore, after: Option<&FeedPosition>, limit: usize) -> Result<EventPage> {
    store.events_after(after, Timestamp::now() - FEED_SETTLING, limit).await
}
