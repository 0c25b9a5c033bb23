//! The bodies a delivery sends: the event in the `standard` format (what `GET /api/v1/events`
//! lists, the entities as the edna read API renders them) and SuperOffice's webhook body.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::core::events::{Event, EventType, Subject};
use crate::core::model::DeliveryStatus;
use crate::edna::wire::{MessageView, ThreadView};
use crate::{Error, Result};

#[derive(Serialize)]
struct StandardEvent<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: jiff::Timestamp,
    data: Data,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum Data {
    Thread(ThreadView),
    Message(Box<SequencedMessage>),
}

#[derive(Serialize)]
struct SequencedMessage {
    #[serde(flatten)]
    message: MessageView,
    /// Its position in its thread: 1, 2, 3, ...
    sequence: Option<u64>,
}

/// `{id, type, timestamp, data: {thread | message}}`.
pub fn standard(event: &Event) -> Result<String> {
    let data = match &event.subject {
        Subject::Thread(summary) => Data::Thread(ThreadView::from(summary.clone())),
        Subject::Message { message, sequence } => Data::Message(Box::new(SequencedMessage {
            message: MessageView::from((**message).clone()),
            sequence: *sequence,
        })),
    };
    let body = StandardEvent { id: &event.id, kind: event.kind.as_str(), timestamp: event.at, data };
    serde_json::to_string(&body).map_err(Error::internal)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SuperOfficeEvent<'a> {
    event_id: String,
    timestamp: jiff::Timestamp,
    changes: Vec<&'static str>,
    event: &'static str,
    primary_key: u64,
    entity: &'static str,
    context_identifier: &'a str,
    changed_by_associate_id: u64,
    webhook_name: &'a str,
}

/// SuperOffice's webhook body: which entity changed and how, not the entity itself (a receiver
/// reads it through the SuperOffice API). `EventId` is a GUID made from the event's id, so it is
/// the same on every retry and replay.
pub fn superoffice(event: &Event, context: &str, webhook_name: &str) -> Result<String> {
    let (name, entity, primary_key, changes, by) = match (&event.subject, event.kind) {
        (Subject::Thread(summary), EventType::ThreadOpened) => {
            ("chatsession.created", "chatsession", summary.thread.thread_id, vec!["ChatSessionId", "Status"], 0)
        }
        (Subject::Thread(summary), _) => {
            ("chatsession.changed", "chatsession", summary.thread.thread_id, vec!["Status"], 0)
        }
        (Subject::Message { message, .. }, EventType::MessageCreated) => (
            "chatmessage.created",
            "chatmessage",
            message.message_id,
            vec!["ChatMessageId", "ChatSessionId", "Message"],
            message.sender.agent_id().unwrap_or(0),
        ),
        (Subject::Message { message, .. }, _) => {
            let changes = if message.delivery.status == DeliveryStatus::Read {
                vec!["Status", "ReadByCustomer"]
            } else {
                vec!["Status"]
            };
            ("chatmessage.changed", "chatmessage", message.message_id, changes, 0)
        }
    };
    let body = SuperOfficeEvent {
        event_id: guid_of(&event.id),
        timestamp: event.at,
        changes,
        event: name,
        primary_key,
        entity,
        context_identifier: context,
        changed_by_associate_id: by,
        webhook_name,
    };
    serde_json::to_string(&body).map_err(Error::internal)
}

/// A GUID (RFC 9562 version 8: custom) from the first bytes of a hash of the event's id.
fn guid_of(event_id: &str) -> String {
    let digest = Sha256::digest(event_id.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Message, Sender, Thread, ThreadStatus};
    use crate::core::threads::ThreadSummary;
    use serde_json::Value;

    fn message() -> Message {
        Message {
            message_id: 301,
            thread_id: 41,
            client_id: 7,
            sender: Sender::Agent(3),
            text: "hello".into(),
            created_at: "2026-12-02T17:00:45.123456Z".parse().unwrap(),
            ..Default::default()
        }
    }

    #[test]
    fn a_message_event_is_the_edna_message_with_its_sequence() {
        let event = Event::message_created(message(), Some(2));
        let body: Value = serde_json::from_str(&standard(&event).unwrap()).unwrap();
        assert_eq!(body["id"], event.id.as_str());
        assert_eq!(body["type"], "message.created");
        assert_eq!(body["timestamp"], "2026-12-02T17:00:45.123456Z");
        let data = &body["data"]["message"];
        assert_eq!(
            (data["id"].as_u64(), data["threadId"].as_u64(), data["sequence"].as_u64()),
            (Some(301), Some(41), Some(2))
        );
        assert_eq!((data["direction"].as_str(), data["agentId"].as_u64()), (Some("OUTGOING"), Some(3)));
        assert_eq!(data["status"], "ACCEPTED");
    }

    #[test]
    fn a_thread_event_is_the_edna_thread() {
        let at: jiff::Timestamp = "2026-12-02T17:00:45.123456Z".parse().unwrap();
        let (start_time, last_message_time, status) = (at, at, ThreadStatus::Open);
        let thread = Thread { thread_id: 41, client_id: 7, status, start_time, last_message_time, message_count: 1 };
        let summary =
            ThreadSummary { thread, client_external_id: Some("customer-42".into()), client_display_name: None };
        let body: Value = serde_json::from_str(&standard(&Event::thread_opened(summary)).unwrap()).unwrap();
        assert_eq!(body["type"], "thread.opened");
        assert_eq!(body["data"]["thread"]["id"], 41);
        assert_eq!(body["data"]["thread"]["clientExternalId"], "customer-42");
        assert_eq!(body["data"]["thread"]["status"], "OPEN");
    }

    #[test]
    fn the_superoffice_body_names_the_entity_and_keeps_its_event_id() {
        let event = Event::message_created(message(), Some(1));
        let first: Value = serde_json::from_str(&superoffice(&event, "cust1", "crm").unwrap()).unwrap();
        let again: Value = serde_json::from_str(&superoffice(&event, "cust1", "crm").unwrap()).unwrap();
        assert_eq!(first["EventId"], again["EventId"]);
        assert_eq!(first["EventId"].as_str().unwrap().len(), 36);
        assert_eq!(
            (first["Event"].as_str(), first["Entity"].as_str()),
            (Some("chatmessage.created"), Some("chatmessage"))
        );
        assert_eq!((first["PrimaryKey"].as_u64(), first["ChangedByAssociateId"].as_u64()), (Some(301), Some(3)));
        assert_eq!((first["ContextIdentifier"].as_str(), first["WebhookName"].as_str()), (Some("cust1"), Some("crm")));
        let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "EventId",
                "Timestamp",
                "Changes",
                "Event",
                "PrimaryKey",
                "Entity",
                "ContextIdentifier",
                "ChangedByAssociateId",
                "WebhookName"
            ]
        );
    }
}
