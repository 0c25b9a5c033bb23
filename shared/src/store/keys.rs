//! Partition and sort keys of the single table (see `docs/design.md`).

use super::{IdKind, MessagePosition, SessionKind};
use crate::core::model::{ChannelType, Message};

pub const PROFILE: &str = "PROFILE";
pub const MESSAGE_PREFIX: &str = "MSG#";

pub fn counter(kind: IdKind) -> (String, String) {
    let name = match kind {
        IdKind::Agent => "AGENT",
        IdKind::Client => "CLIENT",
        IdKind::Thread => "THREAD",
        IdKind::Message => "MESSAGE",
    };
    (format!("COUNTER#{name}"), "COUNTER".into())
}

pub fn agent(agent_id: u64) -> (String, String) {
    (format!("AGENT#{agent_id}"), PROFILE.into())
}

/// Logins are unique regardless of case.
pub fn login(login: &str) -> (String, String) {
    (format!("LOGIN#{}", login.to_lowercase()), "LOGIN".into())
}

pub fn session(agent_id: u64, kind: SessionKind, secret_hash: &str) -> (String, String) {
    let prefix = match kind {
        SessionKind::Token => "TOKEN",
        SessionKind::Ticket => "TICKET",
    };
    (format!("AGENT#{agent_id}"), format!("{prefix}#{secret_hash}"))
}

/// An application allowed to call with tickets, under the hash of its `SO-AppToken`.
pub fn application(token_hash: &str) -> (String, String) {
    (format!("APP#{token_hash}"), "APP".into())
}

pub fn client(client_id: u64) -> (String, String) {
    (format!("CLIENT#{client_id}"), PROFILE.into())
}

pub fn external_id(external_id: &str) -> (String, String) {
    (format!("CLIENTEXT#{external_id}"), "CLIENTEXT".into())
}

pub fn unauthorized_id(unauthorized_id: &str) -> (String, String) {
    (format!("CLIENTUNAUTH#{unauthorized_id}"), "CLIENTUNAUTH".into())
}

/// The marker's length keeps `#` inside markers or addresses from making two devices collide.
pub fn device(channel: ChannelType, app_marker: Option<&str>, address: &str) -> (String, String) {
    let marker = app_marker.unwrap_or_default();
    (format!("DEVICE#{}#{}:{marker}#{address}", channel.as_str(), marker.len()), "DEVICE".into())
}

/// A visitor token, under the hash of the token.
pub fn visitor(token_hash: &str) -> (String, String) {
    (format!("VISITOR#{token_hash}"), "VISITOR".into())
}

pub const CONNECTION_PREFIX: &str = "CONNECTION#";

/// A web chat connection, under its id (a frame names only its connection).
pub fn connection(connection_id: &str) -> (String, String) {
    (format!("{CONNECTION_PREFIX}{connection_id}"), "CONNECTION".into())
}

/// The same connection under its client, beside the client's profile (a push queries these).
pub fn client_connection(client_id: u64, connection_id: &str) -> (String, String) {
    (client(client_id).0, format!("{CONNECTION_PREFIX}{connection_id}"))
}

pub fn thread(thread_id: u64) -> (String, String) {
    (format!("THREAD#{thread_id}"), "THREAD".into())
}

/// Messages sort by the time they were accepted, then by id: ids come from blocks that each
/// container reserves, so they do not follow the order of acceptance across containers.
/// Zero-padded so that the text order is the numeric order.
pub fn message_sort_key(position: MessagePosition) -> String {
    format!("{MESSAGE_PREFIX}{:016}#{:016}", position.at_micros.max(0), position.message_id)
}

pub fn message(message: &Message) -> (String, String) {
    (thread(message.thread_id).0, message_sort_key(MessagePosition::of(message)))
}

/// The pointer from a message's id to its item (a status names the message by id only).
pub fn message_pointer(message_id: u64) -> (String, String) {
    (format!("MESSAGE#{message_id}"), "MESSAGE".into())
}

/// A provider's message id on its channel (ids of different channels' providers may collide).
pub fn provider_message(channel: ChannelType, provider_message_id: &str) -> (String, String) {
    (format!("PROVIDERMSG#{}#{provider_message_id}", channel.as_str()), "PROVIDERMSG".into())
}

/// Every subscription lives in one partition: the stream's consumer reads them all per batch.
pub fn webhook(webhook_id: &str) -> (String, String) {
    ("WEBHOOKS".into(), format!("WEBHOOK#{webhook_id}"))
}

pub const WEBHOOKS_PARTITION: &str = "WEBHOOKS";
pub const WEBHOOK_PREFIX: &str = "WEBHOOK#";
pub const DISPATCH_PREFIX: &str = "DELIVERY#";

/// A subscription's deliveries share its partition (one lane of the sender per subscription),
/// sorted by their event's time.
pub fn dispatch(key: &crate::core::webhooks::DispatchKey) -> (String, String) {
    (dispatches_partition(&key.webhook_id), dispatch_sort_key(key.event_at, &key.event_id))
}

pub fn dispatches_partition(webhook_id: &str) -> String {
    format!("{WEBHOOK_PREFIX}{webhook_id}")
}

pub fn dispatch_sort_key(event_at: jiff::Timestamp, event_id: &str) -> String {
    format!("{DISPATCH_PREFIX}{}#{event_id}", super::webhook_records::sortable(event_at))
}

pub fn event(event_id: &str) -> (String, String) {
    (format!("EVENT#{event_id}"), "EVENT".into())
}

pub fn idempotency(record_key: &str) -> (String, String) {
    (format!("IDEMPOTENCY#{record_key}"), "IDEMPOTENCY".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_keys_sort_by_time_then_id() {
        let key = |at_micros, message_id| message_sort_key(MessagePosition { at_micros, message_id });
        assert!(key(9, 500) < key(10, 1));
        assert!(key(1_700_000_000_000_000, 9) < key(1_700_000_000_000_000, 10));
        assert!(key(i64::from(i32::MAX), crate::core::model::MAX_SAFE_ID).starts_with(MESSAGE_PREFIX));
    }

    #[test]
    fn devices_with_hashes_in_marker_or_address_stay_apart() {
        let a = device(ChannelType::Mobile, Some("a#b"), "c");
        let b = device(ChannelType::Mobile, Some("a"), "b#c");
        assert_ne!(a, b);
        assert_ne!(device(ChannelType::Sms, None, "1"), device(ChannelType::Viber, None, "1"));
    }

    #[test]
    fn logins_collide_regardless_of_case() {
        assert_eq!(login("Integrator"), login("integrator"));
    }
}
