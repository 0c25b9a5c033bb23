//! Webhook subscriptions and their deliveries: who gets which events, signed with what, and
//! when a failed delivery is tried again. Sending them is `crate::webhooks`'.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use jiff::Timestamp;

use crate::core::error::Input;
use crate::core::events::EventType;
use crate::{Error, Result};

/// The prefix of a subscription's id.
pub const WEBHOOK_ID_PREFIX: &str = "wh_";
/// The prefix of a signing secret (Standard Webhooks).
pub const SECRET_PREFIX: &str = "whsec_";
/// The longest URL a subscription takes.
pub const MAX_URL_LENGTH: usize = 2_000;
pub const MAX_DESCRIPTION_LENGTH: usize = 500;
/// How long a rotated-out secret keeps signing beside the new one.
pub const PREVIOUS_SECRET_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// How long an attempt may take, answer included, to count as delivered.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// A new (or replayed) delivery's first attempt is made as the stream brings it, in order with
/// its subscription's others; the retry sweep takes it over only if that has not happened
/// within this time (the stream's consumer was down, say), so the two do not race.
pub const FIRST_ATTEMPT_GRACE: Duration = Duration::from_secs(60);

/// The body and headers a subscription is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
    #[default]
    Standard,
    /// SuperOffice's webhook body and `X-SuperOffice-*` headers.
    SuperOffice,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Standard => "standard",
            Format::SuperOffice => "superoffice",
        }
    }

    pub fn parse(name: &str) -> Option<Format> {
        [Format::Standard, Format::SuperOffice].into_iter().find(|format| format.as_str() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionStatus {
    Enabled,
    /// No more deliveries: the receiver answered 410 Gone.
    Disabled,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Enabled => "ENABLED",
            SubscriptionStatus::Disabled => "DISABLED",
        }
    }
}

/// A signing secret: 32 random bytes. Its `Debug` shows nothing of it, so no log line or error
/// can carry it; [`Secret::reveal`] is for the one answer that shows it and the signer.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn generate() -> Secret {
        Secret(rand::random::<[u8; 32]>().to_vec())
    }

    /// From its `whsec_...` form.
    pub fn parse(text: &str) -> Option<Secret> {
        let bytes = BASE64.decode(text.strip_prefix(SECRET_PREFIX)?).ok()?;
        (!bytes.is_empty()).then_some(Secret(bytes))
    }

    /// `whsec_` + base64 of the bytes.
    pub fn reveal(&self) -> String {
        format!("{SECRET_PREFIX}{}", BASE64.encode(&self.0))
    }

    /// The HMAC key: the bytes after `whsec_`, decoded.
    pub fn key(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A secret and, for one rotated out, when it stops signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningSecret {
    pub secret: Secret,
    pub until: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: String,
    pub url: String,
    /// The event types it gets; all of them when created without a list.
    pub events: Vec<EventType>,
    pub format: Format,
    pub status: SubscriptionStatus,
    pub description: Option<String>,
    /// Newest first: the current secret, then one rotated out within the last 24 h.
    pub secrets: Vec<SigningSecret>,
    pub created_at: Timestamp,
}

impl Subscription {
    pub fn wants(&self, kind: EventType) -> bool {
        self.status == SubscriptionStatus::Enabled && self.events.contains(&kind)
    }

    /// The secrets that sign at `now`: the current one and one rotated out less than 24 h ago.
    pub fn signing_secrets(&self, now: Timestamp) -> Vec<&Secret> {
        self.secrets
            .iter()
            .filter(|secret| secret.until.is_none_or(|until| until > now))
            .map(|secret| &secret.secret)
            .collect()
    }

    /// The subscription after a rotation to `secret` at `now`: the current secret keeps signing
    /// for 24 h; one rotated out before is dropped.
    pub fn rotated(mut self, secret: Secret, now: Timestamp) -> Subscription {
        let until = now + PREVIOUS_SECRET_LIFETIME;
        let previous = self.secrets.into_iter().find(|secret| secret.until.is_none());
        self.secrets = std::iter::once(SigningSecret { secret, until: None })
            .chain(previous.map(|previous| SigningSecret { until: Some(until), ..previous }))
            .collect();
        self
    }
}

/// What a subscriber asks for, checked (the URL's address is checked by the sender's guard).
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubscription {
    pub url: String,
    pub events: Vec<EventType>,
    pub format: Format,
    pub description: Option<String>,
}

impl NewSubscription {
    pub fn check(
        url: String,
        events: Option<Vec<String>>,
        format: Option<String>,
        description: Option<String>,
    ) -> Result<Self> {
        if url.is_empty() || url.len() > MAX_URL_LENGTH {
            return Err(Error::invalid(Input::WebhookUrl, format!("must be 1 to {MAX_URL_LENGTH} characters")));
        }
        let events = match events {
            None => EventType::ALL.to_vec(),
            Some(names) if names.is_empty() => {
                return Err(Error::invalid(Input::WebhookEvents, "must name at least one event type"));
            }
            Some(names) => {
                let mut kinds = Vec::new();
                for name in names {
                    let kind = EventType::parse(&name).ok_or_else(|| {
                        Error::invalid(Input::WebhookEvents, format!("{name:?} is not one of {}", event_type_names()))
                    })?;
                    if !kinds.contains(&kind) {
                        kinds.push(kind);
                    }
                }
                kinds.sort();
                kinds
            }
        };
        let format = match format {
            None => Format::Standard,
            Some(name) => Format::parse(&name)
                .ok_or_else(|| Error::invalid(Input::WebhookFormat, "must be \"standard\" or \"superoffice\""))?,
        };
        if description.as_ref().is_some_and(|text| text.chars().count() > MAX_DESCRIPTION_LENGTH) {
            return Err(Error::invalid(
                Input::WebhookDescription,
                format!("must be at most {MAX_DESCRIPTION_LENGTH} characters"),
            ));
        }
        Ok(NewSubscription { url, events, format, description })
    }

    pub fn into_subscription(self, id: String, now: Timestamp) -> Subscription {
        Subscription {
            id,
            url: self.url,
            events: self.events,
            format: self.format,
            status: SubscriptionStatus::Enabled,
            description: self.description,
            secrets: vec![SigningSecret { secret: Secret::generate(), until: None }],
            created_at: now,
        }
    }
}

fn event_type_names() -> String {
    EventType::ALL.map(EventType::as_str).join(", ")
}

/// A new subscription's id: `wh_` and 128 random bits in hex.
pub fn new_webhook_id() -> String {
    format!("{WEBHOOK_ID_PREFIX}{}", hex::encode(rand::random::<[u8; 16]>()))
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchStatus {
    Pending,
    Delivered,
    /// Every try of the schedule failed (or the subscription was disabled); replay sends it again.
    Failed,
}

impl DispatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DispatchStatus::Pending => "PENDING",
            DispatchStatus::Delivered => "DELIVERED",
            DispatchStatus::Failed => "FAILED",
        }
    }

    pub fn parse(name: &str) -> Option<DispatchStatus> {
        [DispatchStatus::Pending, DispatchStatus::Delivered, DispatchStatus::Failed]
            .into_iter()
            .find(|status| status.as_str() == name)
    }
}

/// One event's delivery to one subscription, with the exact body it is sent (rendered once, in
/// the subscription's format, so that every retry and replay sends the same bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatch {
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: EventType,
    pub event_at: Timestamp,
    pub body: String,
    pub status: DispatchStatus,
    pub attempts: u32,
    pub last_response_status: Option<u16>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<Timestamp>,
    pub next_attempt_at: Option<Timestamp>,
}

impl Dispatch {
    pub fn new(
        webhook_id: &str,
        event_id: &str,
        event_type: EventType,
        event_at: Timestamp,
        body: String,
        now: Timestamp,
    ) -> Dispatch {
        Dispatch {
            webhook_id: webhook_id.to_owned(),
            event_id: event_id.to_owned(),
            event_type,
            event_at,
            body,
            status: DispatchStatus::Pending,
            attempts: 0,
            last_response_status: None,
            last_error: None,
            last_attempt_at: None,
            next_attempt_at: Some(now + FIRST_ATTEMPT_GRACE),
        }
    }

    pub fn key(&self) -> DispatchKey {
        DispatchKey { webhook_id: self.webhook_id.clone(), event_at: self.event_at, event_id: self.event_id.clone() }
    }
}

/// Names one delivery: its subscription, and its event's time and id (deliveries list by time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchKey {
    pub webhook_id: String,
    pub event_at: Timestamp,
    pub event_id: String,
}

/// What one attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// A 2xx within the time allowed.
    Delivered { status: u16 },
    /// 410 Gone: the receiver wants no more; the subscription is disabled.
    Gone,
    /// Any other answer, with the receiver's `Retry-After` when it gave one.
    Refused { status: u16, retry_after: Option<Duration> },
    /// No answer: timeout, connection refused, TLS, a blocked address. The reason is ours (it
    /// names no secret and no part of the body).
    Unreachable { reason: String },
}

/// The Standard Webhooks schedule: the pause before each retry, after the first attempt.
pub const RETRY_SCHEDULE: [Duration; 9] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(14 * 3600),
    Duration::from_secs(20 * 3600),
    Duration::from_secs(24 * 3600),
];

/// When to try again after `attempts` attempts have failed, `None` when the schedule is spent.
/// `jitter` in [0, 1) spreads retries by ±10 % so that a receiver back from an outage is not
/// hit by every delivery at once; `scale` shrinks the schedule (tests); a receiver's
/// `Retry-After` moves the retry later, never earlier, and at most a day.
pub fn next_retry(attempts: u32, retry_after: Option<Duration>, jitter: f64, scale: f64) -> Option<Duration> {
    let scheduled = *RETRY_SCHEDULE.get((attempts as usize).checked_sub(1)?)?;
    let jittered = scheduled.mul_f64((0.9 + 0.2 * jitter.clamp(0.0, 1.0)) * scale);
    let asked = retry_after.unwrap_or_default().min(Duration::from_secs(24 * 3600));
    Some(jittered.max(asked))
}

/// The total tries of the schedule: the first and one per pause.
pub const MAX_ATTEMPTS: u32 = RETRY_SCHEDULE.len() as u32 + 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_standard_webhooks_with_jitter_and_retry_after() {
        assert_eq!(next_retry(1, None, 0.5, 1.0), Some(Duration::from_secs(5)));
        assert_eq!(next_retry(2, None, 0.5, 1.0), Some(Duration::from_secs(300)));
        let early = next_retry(3, None, 0.0, 1.0).unwrap();
        let late = next_retry(3, None, 0.999, 1.0).unwrap();
        assert!(early >= Duration::from_secs(1620) && late <= Duration::from_secs(1980) && early < late);
        assert_eq!(next_retry(MAX_ATTEMPTS - 1, None, 0.5, 1.0), Some(Duration::from_secs(24 * 3600)));
        assert_eq!(next_retry(MAX_ATTEMPTS, None, 0.5, 1.0), None, "ten tries, then FAILED");
        assert_eq!(next_retry(0, None, 0.5, 1.0), None);
        // Retry-After only ever makes the pause longer.
        assert_eq!(next_retry(1, Some(Duration::from_secs(60)), 0.5, 1.0), Some(Duration::from_secs(60)));
        assert_eq!(next_retry(2, Some(Duration::from_secs(1)), 0.5, 1.0), Some(Duration::from_secs(300)));
        assert_eq!(next_retry(1, None, 0.5, 0.01), Some(Duration::from_millis(50)));
    }

    #[test]
    fn secrets_never_show_in_debug_and_round_trip_their_text() {
        let secret = Secret::generate();
        let text = secret.reveal();
        assert!(text.starts_with("whsec_") && text.len() == 6 + 44, "{text}");
        assert_eq!(Secret::parse(&text), Some(secret.clone()));
        assert_eq!(format!("{secret:?}"), "Secret(..)");
        let signing = SigningSecret { secret, until: None };
        assert!(!format!("{signing:?}").contains(&text[6..]));
    }

    #[test]
    fn a_rotation_keeps_the_old_secret_signing_for_a_day_then_drops_it() {
        let now: Timestamp = "2026-12-02T10:00:00Z".parse().unwrap();
        let first = NewSubscription::check("https://example.com/hook".into(), None, None, None)
            .unwrap()
            .into_subscription(new_webhook_id(), now);
        let old = first.secrets[0].secret.clone();
        let new = Secret::generate();
        let rotated = first.rotated(new.clone(), now);
        assert_eq!(rotated.signing_secrets(now), vec![&new, &old]);
        let tomorrow = now + Duration::from_secs(24 * 3600 + 1);
        assert_eq!(rotated.signing_secrets(tomorrow), vec![&new]);
        let again = rotated.rotated(Secret::generate(), now);
        assert_eq!(again.secrets.len(), 2, "only the current secret is kept beside the newest");
        assert_eq!(again.secrets[1].secret, new);
    }

    #[test]
    fn a_new_subscription_names_the_field_at_fault() {
        let events = |names: &[&str]| Some(names.iter().map(|name| name.to_string()).collect());
        let all = NewSubscription::check("https://a.example".into(), None, None, None).unwrap();
        assert_eq!(all.events, EventType::ALL);
        let some = NewSubscription::check(
            "https://a.example".into(),
            events(&["thread.closed", "thread.opened", "thread.closed"]),
            Some("superoffice".into()),
            None,
        )
        .unwrap();
        assert_eq!(
            (some.events, some.format),
            (vec![EventType::ThreadOpened, EventType::ThreadClosed], Format::SuperOffice)
        );
        for (url, events, format, field) in [
            ("", None, None, "url"),
            ("https://a.example", events(&["message.deleted"]), None, "events"),
            ("https://a.example", events(&[]), None, "events"),
            ("https://a.example", None, Some("xml".to_string()), "format"),
        ] {
            let err = NewSubscription::check(url.into(), events, format, None).unwrap_err();
            assert!(format!("{err:?}").to_lowercase().contains(field), "{field}: {err:?}");
        }
        let long = "x".repeat(MAX_URL_LENGTH + 1);
        assert!(NewSubscription::check(long, None, None, None).is_err());
    }
}
