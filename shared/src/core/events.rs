//! Events: what happened in a conversation, derived from what the requests already wrote (the
//! table's stream), never written by the requests themselves.

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::core::model::Message;
use crate::core::threads::ThreadSummary;

/// The kinds of event a subscription can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    ThreadOpened,
    MessageCreated,
    MessageStatusUpdated,
    ThreadClosed,
}

impl EventType {
    pub const ALL: [EventType; 4] =
        [EventType::ThreadOpened, EventType::MessageCreated, EventType::MessageStatusUpdated, EventType::ThreadClosed];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ThreadOpened => "thread.opened",
            EventType::MessageCreated => "message.created",
            EventType::MessageStatusUpdated => "message.status.updated",
            EventType::ThreadClosed => "thread.closed",
        }
    }

    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// What an event is about: a thread, or a message and its place in its thread.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    Thread(ThreadSummary),
    /// `sequence`: the message's position in its thread (1, 2, 3, ...) in the order the thread
    /// took its messages; `None` for a message stored before events were published.
    Message {
        message: Box<Message>,
        sequence: Option<u64>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `evt_...`: the same for the same change however often the stream delivers it.
    pub id: String,
    pub kind: EventType,
    /// When the change happened (the message's acceptance, the status's time, the close).
    pub at: Timestamp,
    pub subject: Subject,
}

impl Event {
    pub fn thread_opened(thread: ThreadSummary) -> Event {
        let (id, at) = (event_id(&format!("thread:{}:opened", thread.thread.thread_id)), thread.thread.start_time);
        Event { id, kind: EventType::ThreadOpened, at, subject: Subject::Thread(thread) }
    }

    pub fn thread_closed(thread: ThreadSummary, at: Timestamp) -> Event {
        let id = event_id(&format!("thread:{}:closed", thread.thread.thread_id));
        Event { id, kind: EventType::ThreadClosed, at, subject: Subject::Thread(thread) }
    }

    pub fn message_created(message: Message, sequence: Option<u64>) -> Event {
        Event {
            id: message_created_id(message.message_id),
            kind: EventType::MessageCreated,
            at: message.created_at,
            subject: Subject::Message { message: Box::new(message), sequence },
        }
    }

    /// A status reached once: statuses only move forward, so (message, status) names the change.
    pub fn status_updated(message: Message, sequence: Option<u64>) -> Event {
        let status = message.delivery.status;
        let at = message.delivery.status_at.unwrap_or(message.created_at);
        Event {
            id: event_id(&format!("message:{}:status:{}", message.message_id, status.as_str())),
            kind: EventType::MessageStatusUpdated,
            at,
            subject: Subject::Message { message: Box::new(message), sequence },
        }
    }

    pub fn thread_id(&self) -> u64 {
        match &self.subject {
            Subject::Thread(summary) => summary.thread.thread_id,
            Subject::Message { message, .. } => message.thread_id,
        }
    }
}

/// The id of a message's `message.created` event, which also keeps the message's sequence.
pub fn message_created_id(message_id: u64) -> String {
    event_id(&format!("message:{message_id}:created"))
}

/// `evt_` and 24 hex digits of a hash of what changed: deterministic, so that a batch the stream
/// delivers again yields the same events, which are then recorded once.
fn event_id(change: &str) -> String {
    let digest = Sha256::digest(change.as_bytes());
    format!("evt_{}", &hex::encode(digest)[..24])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip_their_names() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventType::parse("message.deleted"), None);
    }

    #[test]
    fn the_same_change_has_the_same_id_and_others_differ() {
        let message = Message { message_id: 7, ..Default::default() };
        assert_eq!(Event::message_created(message.clone(), Some(1)).id, message_created_id(7));
        let created = Event::message_created(message.clone(), None).id;
        let status = Event::status_updated(message, None).id;
        assert_ne!(created, status);
        assert!(created.starts_with("evt_") && created.len() == 28, "{created}");
    }
}
