//! The edna dialect's bodies of webhook subscriptions, their deliveries and the event feed, and
//! the opaque cursors of their pages.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::core::error::Input;
use crate::core::webhooks::{Dispatch, DispatchKey, DispatchStatus, NewSubscription, Subscription};
use crate::store::{DispatchPage, EventPage, FeedPosition, RecordedEvent};
use crate::{Error, Result};

/// Body of `POST /api/v1/webhooks`.
#[derive(Debug, Deserialize)]
pub struct WebhookRequest {
    pub url: String,
    #[serde(default)]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

impl WebhookRequest {
    pub fn validate(self) -> Result<NewSubscription> {
        NewSubscription::check(self.url, self.events, self.format, self.description)
    }
}

/// A subscription as read: never its secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    pub id: String,
    pub url: String,
    pub events: Vec<&'static str>,
    pub format: &'static str,
    pub status: &'static str,
    pub description: Option<String>,
    pub created_at: Timestamp,
}

impl From<&Subscription> for SubscriptionView {
    fn from(subscription: &Subscription) -> Self {
        SubscriptionView {
            id: subscription.id.clone(),
            url: subscription.url.clone(),
            events: subscription.events.iter().map(|kind| kind.as_str()).collect(),
            format: subscription.format.as_str(),
            status: subscription.status.as_str(),
            description: subscription.description.clone(),
            created_at: subscription.created_at,
        }
    }
}

/// A subscription with its current secret: the answers of its creation and of a rotation only.
#[derive(Debug, Serialize)]
pub struct SubscriptionWithSecret {
    #[serde(flatten)]
    pub subscription: SubscriptionView,
    pub secret: String,
}

impl From<&Subscription> for SubscriptionWithSecret {
    fn from(subscription: &Subscription) -> Self {
        let secret = subscription.secrets.first().map(|current| current.secret.reveal()).unwrap_or_default();
        SubscriptionWithSecret { subscription: SubscriptionView::from(subscription), secret }
    }
}

#[derive(Debug, Serialize)]
pub struct SubscriptionList {
    pub items: Vec<SubscriptionView>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DispatchView {
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub status: &'static str,
    pub attempts: u32,
    pub last_response_status: Option<u16>,
    pub last_attempt_at: Option<Timestamp>,
    pub next_attempt_at: Option<Timestamp>,
}

impl From<&Dispatch> for DispatchView {
    fn from(dispatch: &Dispatch) -> Self {
        DispatchView {
            event_id: dispatch.event_id.clone(),
            kind: dispatch.event_type.as_str(),
            status: dispatch.status.as_str(),
            attempts: dispatch.attempts,
            last_response_status: dispatch.last_response_status,
            last_attempt_at: dispatch.last_attempt_at,
            next_attempt_at: dispatch.next_attempt_at.filter(|_| dispatch.status == DispatchStatus::Pending),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DispatchList {
    pub items: Vec<DispatchView>,
    pub next_cursor: Option<String>,
}

impl From<&DispatchPage> for DispatchList {
    fn from(page: &DispatchPage) -> Self {
        DispatchList {
            items: page.dispatches.iter().map(DispatchView::from).collect(),
            next_cursor: page.next.as_ref().map(encode_dispatch_cursor),
        }
    }
}

/// Body of `POST /api/v1/webhooks/{id}/replay`.
#[derive(Debug, Deserialize)]
pub struct ReplayRequest {
    pub since: String,
    pub until: String,
}

impl ReplayRequest {
    pub fn validate(self) -> Result<(Timestamp, Timestamp)> {
        let time = |text: &str, input: Input| {
            text.parse::<Timestamp>()
                .map_err(|_| Error::invalid(input, "must be an ISO 8601 date and time with its offset"))
        };
        let (since, until) = (time(&self.since, Input::Since)?, time(&self.until, Input::Until)?);
        if until < since {
            return Err(Error::invalid(Input::Until, "must not be before since"));
        }
        Ok((since, until))
    }
}

#[derive(Debug, Serialize)]
pub struct ReplayAnswer {
    pub replayed: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventList {
    pub items: Vec<serde_json::Value>,
    pub next_cursor: Option<String>,
}

impl TryFrom<&EventPage> for EventList {
    type Error = Error;

    fn try_from(page: &EventPage) -> Result<Self> {
        let items = page
            .events
            .iter()
            .map(|event: &RecordedEvent| serde_json::from_str(&event.body).map_err(Error::internal))
            .collect::<Result<_>>()?;
        Ok(EventList { items, next_cursor: page.next.as_ref().map(encode_feed_cursor) })
    }
}

/// The `{id}` of a webhook path: `wh_` and letters or digits (anything else names nothing).
pub fn webhook_id(request: &crate::http::ApiRequest) -> Result<String> {
    let id = request
        .path_text("id")
        .ok_or_else(|| Error::invalid(Input::WebhookId, "the subscription's id is missing from the path"))?;
    let well_formed = id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !well_formed {
        return Err(Error::invalid(Input::WebhookId, "is not a subscription id (wh_...)"));
    }
    Ok(id)
}

fn bad_cursor(input: Input) -> Error {
    Error::invalid(input, "cursor is not one this API returned; use nextCursor as given")
}

/// The feed's position: its day and key, in unpadded base64url.
pub fn encode_feed_cursor(position: &FeedPosition) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", position.day, position.key))
}

pub fn decode_feed_cursor(cursor: &str) -> Result<FeedPosition> {
    let text = URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|bytes| String::from_utf8(bytes).ok());
    let (day, key) = text.as_deref().and_then(|text| text.split_once('|')).ok_or_else(|| bad_cursor(Input::After))?;
    day.parse::<jiff::civil::Date>().map_err(|_| bad_cursor(Input::After))?;
    if key.len() > 200 || key.chars().any(char::is_control) {
        return Err(bad_cursor(Input::After));
    }
    Ok(FeedPosition { day: day.to_owned(), key: key.to_owned() })
}

/// A delivery's place in its subscription's list: its event's time (µs) and id.
pub fn encode_dispatch_cursor(key: &DispatchKey) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", key.event_at.as_microsecond(), key.event_id))
}

pub fn decode_dispatch_cursor(webhook_id: &str, cursor: &str) -> Result<DispatchKey> {
    let text = URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|bytes| String::from_utf8(bytes).ok());
    let (micros, event_id) =
        text.as_deref().and_then(|text| text.split_once('|')).ok_or_else(|| bad_cursor(Input::Cursor))?;
    let event_at = micros
        .parse::<i64>()
        .ok()
        .and_then(|micros| Timestamp::from_microsecond(micros).ok())
        .ok_or_else(|| bad_cursor(Input::Cursor))?;
    let valid_id = event_id.len() <= 64 && event_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_id {
        return Err(bad_cursor(Input::Cursor));
    }
    Ok(DispatchKey { webhook_id: webhook_id.to_owned(), event_at, event_id: event_id.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_what_they_did_not_make() {
        let position = FeedPosition { day: "2026-12-04".into(), key: "0001796230845123456#evt_abc".into() };
        assert_eq!(decode_feed_cursor(&encode_feed_cursor(&position)).unwrap(), position);
        let key = DispatchKey {
            webhook_id: "wh_1".into(),
            event_at: "2026-12-04T10:00:00.5Z".parse().unwrap(),
            event_id: "evt_1".into(),
        };
        assert_eq!(decode_dispatch_cursor("wh_1", &encode_dispatch_cursor(&key)).unwrap(), key);
        for cursor in ["", "!!", "bm9waXBl", &URL_SAFE_NO_PAD.encode("2026-13-40|x")] {
            assert!(decode_feed_cursor(cursor).is_err(), "{cursor}");
            assert!(decode_dispatch_cursor("wh_1", cursor).is_err(), "{cursor}");
        }
    }

    #[test]
    fn replay_windows_need_two_times_in_order() {
        let window = |since: &str, until: &str| ReplayRequest { since: since.into(), until: until.into() }.validate();
        assert!(window("2026-12-04T10:00:00Z", "2026-12-04T11:00:00+01:00").is_ok());
        assert!(format!("{:?}", window("yesterday", "2026-12-04T10:00:00Z").unwrap_err()).contains("Since"));
        assert!(format!("{:?}", window("2026-12-04T10:00:00Z", "2026-12-04T09:00:00Z").unwrap_err()).contains("Until"));
    }
}
