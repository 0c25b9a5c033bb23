//! One attempt of one delivery, from the claim to its recorded outcome, and the sweep of due
//! retries. Used by `deliver-webhooks` (each new delivery's first attempt, from the stream) and
//! `retry-webhooks` (whatever is due, on a schedule).

use std::time::Duration;

use jiff::Timestamp;

use super::Settings;
use super::guard;
use super::signing;
use crate::core::webhooks::{
    ATTEMPT_TIMEOUT, AttemptResult, Dispatch, DispatchKey, DispatchStatus, Format, Subscription, SubscriptionStatus,
    next_retry,
};
use crate::store::WebhookStore;
use crate::{Error, Result};

/// How long a claimed attempt keeps others off: the attempt's time and the writes around it.
/// A sender that dies mid-attempt leaves the delivery due again after it.
const LEASE: Duration = Duration::from_secs(ATTEMPT_TIMEOUT.as_secs() + 15);
/// Due deliveries a subscription's lane takes per query.
const DUE_PAGE: usize = 25;

/// A request ready to send: where, which headers, which bytes.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub target: guard::Target,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// What sends a delivery's request (`super::sender` over HTTPS).
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Sends `request`, waiting at most `timeout` for the answer.
    async fn post(&self, request: Outgoing, timeout: Duration) -> AttemptResult;
}

/// Least time an attempt is made with: less than this left of the invocation, and the delivery
/// is left for a later run.
const MIN_ATTEMPT: Duration = Duration::from_secs(2);

/// How long the next attempt may wait for its answer: 15 s, or what the invocation has left
/// (less a second to record the outcome) when that is less; `None` when that is too little.
fn time_for_attempt() -> Option<Duration> {
    let time = crate::budget::remaining().saturating_sub(Duration::from_secs(1)).min(ATTEMPT_TIMEOUT);
    (time >= MIN_ATTEMPT).then_some(time)
}

/// The headers of a delivery in its subscription's format, signed with every secret that signs
/// at `now`.
pub fn headers(subscription: &Subscription, dispatch: &Dispatch, now: Timestamp) -> Vec<(&'static str, String)> {
    let secrets = subscription.signing_secrets(now);
    let mut headers = vec![("content-type", "application/json".to_owned())];
    match subscription.format {
        Format::Standard => {
            let timestamp = now.as_second();
            headers.push(("webhook-id", dispatch.event_id.clone()));
            headers.push(("webhook-timestamp", timestamp.to_string()));
            headers.push((
                "webhook-signature",
                signing::standard(&secrets, &dispatch.event_id, timestamp, &dispatch.body),
            ));
        }
        Format::SuperOffice => {
            let event = serde_json::from_str::<serde_json::Value>(&dispatch.body).ok();
            let field = |name: &str| event.as_ref().and_then(|event| event[name].as_str().map(str::to_owned));
            headers.push(("x-superoffice-event", field("Event").unwrap_or_default()));
            headers.push(("x-superoffice-eventid", field("EventId").unwrap_or_default()));
            headers.push(("x-superoffice-signature", signing::superoffice(&secrets, &dispatch.body)));
        }
    }
    headers
}

/// Makes the next attempt of the delivery `key` if it is due and nobody else is making it, and
/// records what came of it. `Ok(false)` when there was nothing to do.
pub async fn attempt<S: WebhookStore, T: Transport>(
    store: &S,
    transport: &T,
    settings: &Settings,
    key: &DispatchKey,
) -> Result<bool> {
    let Some(time) = time_for_attempt() else { return Ok(false) };
    let now = Timestamp::now();
    let Some(mut dispatch) = store.claim_dispatch(key, now, now + LEASE).await? else { return Ok(false) };
    let subscription = store.webhook(&key.webhook_id).await?;
    let active = subscription.as_ref().is_some_and(|subscription| subscription.status == SubscriptionStatus::Enabled);
    let result = match &subscription {
        Some(subscription) if active => send(transport, settings, subscription, &dispatch, now, time).await,
        Some(_) => AttemptResult::Unreachable { reason: "the subscription is disabled".into() },
        None => AttemptResult::Unreachable { reason: "the subscription was deleted".into() },
    };
    let finished = Timestamp::now();
    dispatch.last_attempt_at = Some(now);
    dispatch.last_error = None;
    dispatch.last_response_status = None;
    match result {
        AttemptResult::Delivered { status } => {
            dispatch.status = DispatchStatus::Delivered;
            dispatch.last_response_status = Some(status);
            dispatch.next_attempt_at = None;
        }
        AttemptResult::Gone => {
            store.disable_webhook(&key.webhook_id).await?;
            dispatch.status = DispatchStatus::Failed;
            dispatch.last_response_status = Some(410);
            dispatch.last_error = Some("the receiver answered 410 Gone: the subscription is disabled".into());
            dispatch.next_attempt_at = None;
        }
        AttemptResult::Refused { status, retry_after } => {
            dispatch.last_response_status = Some(status);
            schedule(&mut dispatch, active, retry_after, settings, finished);
        }
        AttemptResult::Unreachable { reason } => {
            dispatch.last_error = Some(reason);
            schedule(&mut dispatch, active, None, settings, finished);
        }
    }
    store.finish_attempt(&dispatch).await?;
    if dispatch.status == DispatchStatus::Failed {
        crate::invocation::webhook_delivery_failed(&key.webhook_id, &dispatch.event_id, dispatch.attempts);
    }
    Ok(true)
}

/// The next try on the schedule, or `FAILED` when it is spent (or the subscription is gone).
fn schedule(dispatch: &mut Dispatch, active: bool, retry_after: Option<Duration>, settings: &Settings, now: Timestamp) {
    let pause = if active {
        next_retry(dispatch.attempts, retry_after, rand::random::<f64>(), settings.retry_scale)
    } else {
        None
    };
    match pause.and_then(|pause| jiff::SignedDuration::try_from(pause).ok()) {
        Some(pause) => {
            dispatch.status = DispatchStatus::Pending;
            dispatch.next_attempt_at = Some(now + pause);
        }
        None => {
            dispatch.status = DispatchStatus::Failed;
            dispatch.next_attempt_at = None;
        }
    }
}

async fn send<T: Transport>(
    transport: &T,
    settings: &Settings,
    subscription: &Subscription,
    dispatch: &Dispatch,
    now: Timestamp,
    time: Duration,
) -> AttemptResult {
    // Checked again at every attempt: the name may resolve elsewhere now (the transport checks
    // the addresses it connects to once more).
    let target = match guard::check_url(&subscription.url, settings.allow_loopback_http).await {
        Ok(target) => target,
        Err(_) => return AttemptResult::Unreachable { reason: "blocked address".into() },
    };
    let request = Outgoing { target, headers: headers(subscription, dispatch, now), body: dispatch.body.clone() };
    transport.post(request, time).await
}

/// Works through every enabled subscription's due deliveries, the subscriptions side by side
/// (a slow receiver holds up only its own), each one's in the order they fell due, until none
/// is due or `until` comes. How many attempts were made.
pub async fn sweep<S: WebhookStore, T: Transport>(
    store: &S,
    transport: &T,
    settings: &Settings,
    until: std::time::Instant,
) -> Result<u64> {
    let subscriptions = store.webhooks().await?;
    let lanes = subscriptions
        .iter()
        .filter(|subscription| subscription.status == SubscriptionStatus::Enabled)
        .map(|subscription| sweep_subscription(store, transport, settings, &subscription.id, until));
    let attempts = futures::future::join_all(lanes).await;
    let mut total = 0;
    let mut first_error: Option<Error> = None;
    for result in attempts {
        match result {
            Ok(count) => total += count,
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    match first_error {
        Some(err) if total == 0 => Err(err),
        _ => Ok(total),
    }
}

/// One subscription's lane of the sweep: its due deliveries, in the order they fell due, until
/// none is due or `until` comes; how many attempts were made.
pub async fn sweep_subscription<S: WebhookStore, T: Transport>(
    store: &S,
    transport: &T,
    settings: &Settings,
    webhook_id: &str,
    until: std::time::Instant,
) -> Result<u64> {
    let mut made = 0;
    loop {
        // Leave an attempt's time before the end: an attempt is not cut short.
        // No attempt starts after `until`; one that starts gets its time (`time_for_attempt`).
        if std::time::Instant::now() >= until {
            return Ok(made);
        }
        let due = store.due_dispatches(webhook_id, Timestamp::now(), DUE_PAGE).await?;
        if due.is_empty() {
            return Ok(made);
        }
        let mut progressed = false;
        for key in &due {
            if std::time::Instant::now() >= until {
                return Ok(made);
            }
            if attempt(store, transport, settings, key).await? {
                made += 1;
                progressed = true;
            }
        }
        if !progressed {
            // Everything due is being attempted elsewhere.
            return Ok(made);
        }
    }
}
