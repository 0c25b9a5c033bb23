//! The items of events and webhooks, as records of their own (see [`super::records`] for why):
//! `EVENT#` items (the feed and the sequence of each message), `WEBHOOK#` subscriptions and
//! `DELIVERY#` items. [`super::attributes`] names the attributes expressions use.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::records::stored_enum;
use crate::core::events::EventType;
use crate::core::webhooks::{
    Dispatch, DispatchStatus, Format, Secret, SigningSecret, Subscription, SubscriptionStatus,
};
use crate::store::RecordedEvent;
use crate::{Error, Result};

stored_enum!(StoredEventType for EventType {
    ThreadOpened = "thread.opened",
    MessageCreated = "message.created",
    MessageStatusUpdated = "message.status.updated",
    ThreadClosed = "thread.closed",
});

stored_enum!(StoredFormat for Format {
    Standard = "standard",
    SuperOffice = "superoffice",
});

stored_enum!(StoredSubscriptionStatus for SubscriptionStatus {
    Enabled = "ENABLED",
    Disabled = "DISABLED",
});

stored_enum!(StoredDispatchStatus for DispatchStatus {
    Pending = "PENDING",
    Delivered = "DELIVERED",
    Failed = "FAILED",
});

/// A secret as stored: base64 of its bytes, and when a rotated-out one stops signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRecord {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
}

/// A `WEBHOOK#` item of the `WEBHOOKS` partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionRecord {
    pub webhook_id: String,
    pub url: String,
    pub events: Vec<StoredEventType>,
    pub format: StoredFormat,
    pub status: StoredSubscriptionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub secrets: Vec<SecretRecord>,
    pub created_at: Timestamp,
}

impl From<&SigningSecret> for SecretRecord {
    fn from(secret: &SigningSecret) -> Self {
        SecretRecord { key: BASE64.encode(secret.secret.key()), until: secret.until }
    }
}

impl TryFrom<SecretRecord> for SigningSecret {
    type Error = Error;

    fn try_from(record: SecretRecord) -> Result<Self> {
        let secret = Secret::parse(&format!("{}{}", crate::core::webhooks::SECRET_PREFIX, record.key))
            .ok_or_else(|| Error::internal("a stored webhook secret does not decode"))?;
        Ok(SigningSecret { secret, until: record.until })
    }
}

impl From<&Subscription> for SubscriptionRecord {
    fn from(subscription: &Subscription) -> Self {
        SubscriptionRecord {
            webhook_id: subscription.id.clone(),
            url: subscription.url.clone(),
            events: subscription.events.iter().map(|kind| (*kind).into()).collect(),
            format: subscription.format.into(),
            status: subscription.status.into(),
            description: subscription.description.clone(),
            secrets: subscription.secrets.iter().map(SecretRecord::from).collect(),
            created_at: subscription.created_at,
        }
    }
}

impl TryFrom<SubscriptionRecord> for Subscription {
    type Error = Error;

    fn try_from(record: SubscriptionRecord) -> Result<Self> {
        Ok(Subscription {
            id: record.webhook_id,
            url: record.url,
            events: record.events.into_iter().map(EventType::from).collect(),
            format: record.format.into(),
            status: record.status.into(),
            description: record.description,
            secrets: record.secrets.into_iter().map(SigningSecret::try_from).collect::<Result<_>>()?,
            created_at: record.created_at,
        })
    }
}

/// A subscription's creation keeps the subscription for a retry with the same `Idempotency-Key`
/// (secret included: the retry gets the same answer, which is the one that shows it).
impl crate::core::idempotency::Replayable for Subscription {
    fn to_replay(&self) -> Result<String> {
        super::records::to_json(&SubscriptionRecord::from(self))
    }

    fn from_replay(stored: &str) -> Result<Self> {
        super::records::from_json::<SubscriptionRecord>(stored).and_then(Subscription::try_from)
    }
}

/// An `EVENT#` item: the event as its standard body, and what finds it (the feed's keys, the
/// message it is about and the message's sequence).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: StoredEventType,
    pub at: Timestamp,
    pub thread_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// The event's JSON as the standard format sends it.
    pub body: String,
    pub recorded_at: Timestamp,
    pub feed_day: String,
    pub feed_key: String,
    /// TTL (epoch seconds).
    pub expires_at: i64,
}

impl From<EventRecord> for RecordedEvent {
    fn from(record: EventRecord) -> Self {
        RecordedEvent {
            event_id: record.event_id,
            event_type: record.event_type.into(),
            at: record.at,
            thread_id: record.thread_id,
            message_id: record.message_id,
            sequence: record.sequence,
            body: record.body,
            recorded_at: record.recorded_at,
        }
    }
}

/// How long events are kept for the feed, replays and sequences.
pub const EVENT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// How long a delivery is kept (listed, replayable).
pub const DISPATCH_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// The feed's partition of a time: its UTC day.
pub fn feed_day(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d").to_string()
}

impl From<&RecordedEvent> for EventRecord {
    fn from(event: &RecordedEvent) -> Self {
        EventRecord {
            event_id: event.event_id.clone(),
            event_type: event.event_type.into(),
            at: event.at,
            thread_id: event.thread_id,
            message_id: event.message_id,
            sequence: event.sequence,
            body: event.body.clone(),
            recorded_at: event.recorded_at,
            feed_day: feed_day(event.recorded_at),
            feed_key: format!("{}#{}", sortable(event.recorded_at), event.event_id),
            expires_at: (event.recorded_at + EVENT_RETENTION).as_second(),
        }
    }
}

/// A `DELIVERY#` item under its subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DispatchRecord {
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: StoredEventType,
    pub event_at: Timestamp,
    pub body: String,
    pub status: StoredDispatchStatus,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_response_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Timestamp>,
    /// Keys of the sparse `due` index, present while the delivery is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_webhook: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    /// TTL (epoch seconds).
    pub expires_at: i64,
}

/// A delivery's item: while it is pending it carries the `due` index's keys.
impl From<&Dispatch> for DispatchRecord {
    fn from(dispatch: &Dispatch) -> Self {
        let pending = dispatch.status == DispatchStatus::Pending;
        DispatchRecord {
            webhook_id: dispatch.webhook_id.clone(),
            event_id: dispatch.event_id.clone(),
            event_type: dispatch.event_type.into(),
            event_at: dispatch.event_at,
            body: dispatch.body.clone(),
            status: dispatch.status.into(),
            attempts: dispatch.attempts,
            last_response_status: dispatch.last_response_status,
            last_error: dispatch.last_error.clone(),
            last_attempt_at: dispatch.last_attempt_at,
            next_attempt_at: dispatch.next_attempt_at,
            due_webhook: pending.then(|| dispatch.webhook_id.clone()),
            due_at: dispatch.next_attempt_at.filter(|_| pending).map(sortable),
            expires_at: (dispatch.event_at + DISPATCH_RETENTION).as_second(),
        }
    }
}

impl From<DispatchRecord> for Dispatch {
    fn from(record: DispatchRecord) -> Self {
        Dispatch {
            webhook_id: record.webhook_id,
            event_id: record.event_id,
            event_type: record.event_type.into(),
            event_at: record.event_at,
            body: record.body,
            status: record.status.into(),
            attempts: record.attempts,
            last_response_status: record.last_response_status,
            last_error: record.last_error,
            last_attempt_at: record.last_attempt_at,
            next_attempt_at: record.next_attempt_at,
        }
    }
}

/// A time as the `due` and `feed` indexes and the deliveries' sort keys order it: microseconds,
/// zero-padded to 18 digits (the last instant `Timestamp` holds, in 9999, has 18), so that the
/// text order is the time order for every time a caller can name (a replay's window, a cursor).
pub fn sortable(at: Timestamp) -> String {
    format!("{:018}", at.as_microsecond().max(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::webhooks::{NewSubscription, new_webhook_id};
    use crate::store::attributes as attr;
    use serde_dynamo::aws_sdk_dynamodb_1::to_item;

    #[test]
    fn a_subscription_round_trips_its_item_secrets_included() {
        let now = Timestamp::now();
        let subscription =
            NewSubscription::check("https://a.example/h".into(), None, Some("superoffice".into()), Some("crm".into()))
                .unwrap()
                .into_subscription(new_webhook_id(), now)
                .rotated(Secret::generate(), now);
        let record = SubscriptionRecord::from(&subscription);
        let item = to_item(&record).unwrap();
        assert!(item.contains_key(attr::STATUS.name()) && item.contains_key(attr::SECRETS.name()));
        assert_eq!(Subscription::try_from(record).unwrap(), subscription);
    }

    #[test]
    fn expression_attributes_are_fields_of_the_dispatch_record() {
        let dispatch =
            Dispatch::new("wh_1", "evt_1", EventType::ThreadOpened, Timestamp::now(), "{}".into(), Timestamp::now());
        let record = DispatchRecord {
            attempts: 1,
            last_response_status: Some(500),
            last_error: Some("x".into()),
            last_attempt_at: Some(Timestamp::now()),
            ..DispatchRecord::from(&dispatch)
        };
        let item = to_item(&record).unwrap();
        for name in [
            attr::STATUS,
            attr::ATTEMPTS,
            attr::LAST_RESPONSE_STATUS,
            attr::LAST_ERROR,
            attr::LAST_ATTEMPT_AT,
            attr::NEXT_ATTEMPT_AT,
            attr::DUE_WEBHOOK,
            attr::DUE_AT,
            attr::EXPIRES_AT,
        ] {
            assert!(item.contains_key(name.name()), "no {name:?}");
        }
        assert_eq!(
            attr::spelling(StoredDispatchStatus::from(DispatchStatus::Pending)),
            aws_sdk_dynamodb::types::AttributeValue::S("PENDING".into())
        );
    }

    #[test]
    fn sortable_times_sort_as_text() {
        let early: Timestamp = "2026-12-02T10:00:00Z".parse().unwrap();
        let later: Timestamp = "2026-12-02T10:00:00.5Z".parse().unwrap();
        assert!(sortable(early) < sortable(later));
        // Across a change in the number of digits (2286-11-20) and to the ends of time.
        let times =
            ["1970-01-01T00:00:00Z", "2200-01-01T00:00:00Z", "2300-01-01T00:00:00Z", "9999-12-30T21:59:59.999999Z"];
        let keys: Vec<String> = times.iter().map(|time| sortable(time.parse().unwrap())).collect();
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]), "{keys:?}");
        assert!(keys.iter().all(|key| key.len() == 18), "{keys:?}");
    }
}
