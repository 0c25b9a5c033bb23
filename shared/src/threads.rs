//! Reading threads back and closing them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde::Serialize;

use crate::model::{Attachment, Message, Thread, ThreadStatus};
use crate::store::{Store, Write};
use crate::{Error, Result};

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadView {
    pub id: u64,
    pub status: ThreadStatus,
    pub client_id: u64,
    pub client_external_id: Option<String>,
    pub start_time: Timestamp,
    pub last_message_time: Timestamp,
    pub message_count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: u64,
    pub thread_id: u64,
    pub client_id: u64,
    pub agent_id: u64,
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub created_at: Timestamp,
}

impl From<Message> for MessageView {
    fn from(message: Message) -> Self {
        MessageView {
            id: message.message_id,
            thread_id: message.thread_id,
            client_id: message.client_id,
            agent_id: message.agent_id,
            text: message.text,
            attachments: message.attachments,
            created_at: message.created_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageList {
    pub items: Vec<MessageView>,
    pub next_cursor: Option<String>,
}

async fn existing_thread(store: &impl Store, thread_id: u64) -> Result<Thread> {
    store
        .thread(thread_id)
        .await?
        .ok_or_else(|| Error::not_found(Some("threadId"), format!("no thread with threadId {thread_id}")))
}

async fn view(store: &impl Store, thread: Thread) -> Result<ThreadView> {
    let client = store.client(thread.client_id).await?;
    Ok(ThreadView {
        id: thread.thread_id,
        status: thread.status,
        client_id: thread.client_id,
        client_external_id: client.and_then(|client| client.external_id),
        start_time: thread.start_time,
        last_message_time: thread.last_message_time,
        message_count: thread.message_count,
    })
}

pub async fn get_thread(store: &impl Store, thread_id: u64) -> Result<ThreadView> {
    let thread = existing_thread(store, thread_id).await?;
    view(store, thread).await
}

/// Messages newest first. `limit` and `cursor` are the raw query parameters.
pub async fn list_messages(
    store: &impl Store,
    thread_id: u64,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> Result<MessageList> {
    let limit = match limit {
        None => DEFAULT_PAGE_SIZE,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=MAX_PAGE_SIZE).contains(limit))
            .ok_or_else(|| Error::invalid("limit", format!("limit must be an integer from 1 to {MAX_PAGE_SIZE}")))?,
    };
    let before = cursor.map(decode_cursor).transpose()?;
    existing_thread(store, thread_id).await?;
    let page = store.messages(thread_id, limit, before).await?;
    Ok(MessageList {
        items: page.messages.into_iter().map(MessageView::from).collect(),
        next_cursor: page.next_before.map(encode_cursor),
    })
}

/// Closes the thread; closing a closed thread changes nothing and answers the same.
pub async fn close_thread(store: &impl Store, thread_id: u64) -> Result<ThreadView> {
    let mut thread = existing_thread(store, thread_id).await?;
    if thread.status == ThreadStatus::Open {
        if store.close_thread(&thread).await? == Write::Done {
            thread.status = ThreadStatus::Closed;
        } else {
            // Someone else changed it first: answer with what is stored, if it is now closed.
            thread = existing_thread(store, thread_id).await?;
            if thread.status != ThreadStatus::Closed {
                return Err(Error::conflict("THREAD_CHANGED", "the thread changed while it was being closed; retry"));
            }
        }
    }
    view(store, thread).await
}

const CURSOR_PREFIX: &str = "before:";

fn encode_cursor(before: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{before}"))
}

fn decode_cursor(cursor: &str) -> Result<u64> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(CURSOR_PREFIX)?.parse().ok())
        .ok_or_else(|| Error::invalid("cursor", "cursor is not one this API returned; use nextCursor as given"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_look_opaque() {
        let cursor = encode_cursor(1234);
        assert!(!cursor.contains("1234"));
        assert_eq!(decode_cursor(&cursor).unwrap(), 1234);
    }

    #[test]
    fn foreign_cursors_are_refused_naming_the_parameter() {
        for bad in ["", "1234", "!!!", &URL_SAFE_NO_PAD.encode("after:5")] {
            match decode_cursor(bad) {
                Err(Error::InvalidInput { field: Some(field), .. }) => assert_eq!(field, "cursor"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
