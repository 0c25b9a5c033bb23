//! What a record of the table's stream says happened, read from the item images the requests
//! wrote (the shapes of `records.rs`): a thread opened, a message added to it, a thread closed,
//! a message's status moved. Events are derived from these, so a send writes nothing for them.

use aws_lambda_events::event::dynamodb::EventRecord as StreamRecord;
use jiff::Timestamp;

use super::MessagePosition;
use super::records::{MessageRecord, ThreadRecord};
use super::webhook_records::DispatchRecord;
use crate::core::error::Input;
use crate::core::model::{Message, Thread, ThreadStatus};
use crate::core::webhooks::{Dispatch, DispatchKey};
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A new thread; `first_message` when it was opened by a message (its sequence is 1).
    ThreadOpened {
        thread: Thread,
        first_message: Option<MessagePosition>,
    },
    /// A message joined the thread as its `sequence`-th.
    MessageAdded {
        thread_id: u64,
        position: MessagePosition,
        sequence: u64,
    },
    ThreadClosed {
        thread: Thread,
        at: Timestamp,
    },
    /// The message's delivery status moved (the image after the move).
    StatusMoved {
        message: Box<Message>,
    },
}

/// The changes one stream record holds (none for items that publish nothing). A record whose
/// image does not decode is the record's fault (a 4xx): it is logged and passed over.
pub fn changes_of(record: &StreamRecord) -> Result<Vec<Change>> {
    let image = &record.change.new_image;
    let entity = match image.get("entity") {
        Some(serde_dynamo::AttributeValue::S(name)) => name.as_str(),
        _ => return Ok(Vec::new()),
    };
    let old = &record.change.old_image;
    let inserted = record.event_name == "INSERT";
    match (entity, record.event_name.as_str()) {
        ("THREAD", "INSERT" | "MODIFY") => {
            let new: ThreadRecord = decode(image)?;
            let before: Option<ThreadRecord> = if inserted || old.is_empty() { None } else { Some(decode(old)?) };
            Ok(thread_changes(before, new))
        }
        ("MESSAGE", "MODIFY") => {
            let new: MessageRecord = decode(image)?;
            let before: MessageRecord = decode(old)?;
            if new.status == before.status {
                return Ok(Vec::new());
            }
            Ok(vec![Change::StatusMoved { message: Box::new(Message::from(new)) }])
        }
        _ => Ok(Vec::new()),
    }
}

fn thread_changes(before: Option<ThreadRecord>, new: ThreadRecord) -> Vec<Change> {
    let position = |record: &ThreadRecord| {
        record
            .last_message_id
            .map(|message_id| MessagePosition { at_micros: record.last_message_time.as_microsecond(), message_id })
    };
    let mut changes = Vec::new();
    match before {
        None => {
            let first_message = position(&new).filter(|_| new.message_count >= 1);
            changes.push(Change::ThreadOpened { thread: Thread::from(new), first_message });
        }
        Some(before) => {
            if new.message_count > before.message_count
                && let Some(position) = position(&new)
            {
                changes.push(Change::MessageAdded { thread_id: new.thread_id, position, sequence: new.message_count });
            }
            let closed = new.closed_at.unwrap_or(new.last_message_time);
            let thread = Thread::from(new);
            if Thread::from(before).status == ThreadStatus::Open && thread.status == ThreadStatus::Closed {
                changes.push(Change::ThreadClosed { thread, at: closed });
            }
        }
    }
    changes
}

/// The delivery a `deliver-webhooks` record names (the mapping passes only deliveries with no
/// attempt made); `None` for a record without a new image (a delivery that expired).
pub fn new_delivery(record: &StreamRecord) -> Result<Option<DispatchKey>> {
    if record.change.new_image.is_empty() {
        return Ok(None);
    }
    let dispatch = Dispatch::from(decode::<DispatchRecord>(&record.change.new_image)?);
    Ok(Some(dispatch.key()))
}

fn decode<T: for<'de> serde::Deserialize<'de>>(image: &serde_dynamo::Item) -> Result<T> {
    serde_dynamo::from_item(image.clone())
        .map_err(|_| Error::invalid(Input::StreamRecord, format!("an image that is not a {}", short_type_name::<T>())))
}

fn short_type_name<T>() -> &'static str {
    std::any::type_name::<T>().rsplit("::").next().unwrap_or("record")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recorded batch of `events/`: a thread opened with its first message, then a second.
    const BATCH: &str = include_str!("../../../events/dynamodb-stream-batch.json");

    #[test]
    fn a_recorded_batch_yields_its_changes() {
        let batch: aws_lambda_events::event::dynamodb::Event = serde_json::from_str(BATCH).unwrap();
        let changes: Vec<Change> = batch.records.iter().flat_map(|record| changes_of(record).unwrap()).collect();
        assert!(matches!(changes.first(), Some(Change::ThreadOpened { .. })), "{changes:?}");
    }
}
