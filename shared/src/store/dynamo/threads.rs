//! Threads and their messages.

use std::collections::HashMap;

use super::{DynamoStore, decode, entity, n, s, storage_error};
use crate::Result;
use crate::core::model::{Client, Message, Thread, ThreadStatus};
use crate::store::attributes::{self as attr, spelling};
use crate::store::{CompletedKey, MessagePage, PageStart, ThreadStore, Write, keys};

impl ThreadStore for DynamoStore {
    async fn thread(&self, thread_id: u64) -> Result<Option<Thread>> {
        self.get_as(keys::thread(thread_id)).await
    }

    async fn append_message(&self, message: &Message, key: Option<&CompletedKey>) -> Result<Write> {
        let (status, last, count) = (attr::STATUS, attr::LAST_MESSAGE_TIME, attr::MESSAGE_COUNT);
        let mut items = vec![
            self.put_new(entity(keys::message(message.thread_id, message.message_id), "MESSAGE", message)?)?,
            self.update(
                keys::thread(message.thread_id),
                format!("SET {} = :at ADD {} :one", last.placeholder(), count.placeholder()),
                format!("{} = :open", status.placeholder()),
                &[status, last, count],
                HashMap::from([
                    (":at".into(), s(&message.created_at.to_string())),
                    (":one".into(), n(1)),
                    (":open".into(), spelling(ThreadStatus::Open)),
                ]),
            )?,
        ];
        if let Some(key) = key {
            items.push(self.completed_key_item(key)?);
        }
        self.transact(items).await
    }

    async fn open_thread(
        &self,
        thread: &Thread,
        new_client: Option<&Client>,
        message: Option<&Message>,
        key: Option<&CompletedKey>,
    ) -> Result<Write> {
        let mut items = vec![self.put_new(entity(keys::thread(thread.thread_id), "THREAD", thread)?)?];
        match new_client {
            // A new client is written with its open thread already named.
            Some(client) => items.extend(self.client_items(client)?),
            None => {
                let (pk, open) = (attr::PK, attr::OPEN_THREAD_ID);
                items.push(self.update(
                    keys::client(thread.client_id),
                    format!("SET {} = :thread", open.placeholder()),
                    format!("attribute_exists({}) AND attribute_not_exists({})", pk.placeholder(), open.placeholder()),
                    &[pk, open],
                    HashMap::from([(":thread".into(), n(thread.thread_id))]),
                )?);
            }
        }
        if let Some(message) = message {
            items.push(self.put_new(entity(
                keys::message(message.thread_id, message.message_id),
                "MESSAGE",
                message,
            )?)?);
        }
        if let Some(key) = key {
            items.push(self.completed_key_item(key)?);
        }
        self.transact(items).await
    }

    async fn close_thread(&self, thread: &Thread) -> Result<Write> {
        let (status, open) = (attr::STATUS, attr::OPEN_THREAD_ID);
        self.transact(vec![
            self.update(
                keys::thread(thread.thread_id),
                format!("SET {} = :closed", status.placeholder()),
                format!("{} = :open", status.placeholder()),
                &[status],
                HashMap::from([
                    (":closed".into(), spelling(ThreadStatus::Closed)),
                    (":open".into(), spelling(ThreadStatus::Open)),
                ]),
            )?,
            self.update(
                keys::client(thread.client_id),
                format!("REMOVE {}", open.placeholder()),
                format!("{} = :thread", open.placeholder()),
                &[open],
                HashMap::from([(":thread".into(), n(thread.thread_id))]),
            )?,
        ])
        .await
    }

    async fn messages(&self, thread_id: u64, limit: usize, start: PageStart) -> Result<MessagePage> {
        let (pk, _) = keys::thread(thread_id);
        // Sort keys are zero-padded ids, so an id range is a sort key range.
        let (newest_first, low, high) = match start {
            PageStart::NewestBefore(None) => (true, 0, crate::core::model::MAX_SAFE_ID),
            PageStart::NewestBefore(Some(0 | 1)) => return Ok(MessagePage { messages: vec![], next: None }),
            PageStart::NewestBefore(Some(before)) => (true, 0, before - 1),
            PageStart::OldestAfter(after) if after >= crate::core::model::MAX_SAFE_ID => {
                return Ok(MessagePage { messages: vec![], next: None });
            }
            PageStart::OldestAfter(after) => (false, after + 1, crate::core::model::MAX_SAFE_ID),
        };
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(format!(
                "{} = :pk AND {} BETWEEN :low AND :high",
                attr::PK.placeholder(),
                attr::SK.placeholder()
            ))
            .expression_attribute_names(attr::PK.placeholder(), attr::PK.name())
            .expression_attribute_names(attr::SK.placeholder(), attr::SK.name())
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":low", s(&keys::message_sort_key(low)))
            .expression_attribute_values(":high", s(&keys::message_sort_key(high)))
            .scan_index_forward(!newest_first)
            .consistent_read(true)
            // One more than asked tells whether another page follows.
            .limit(limit as i32 + 1)
            .send()
            .await
            .map_err(storage_error)?;
        let mut messages =
            output.items.unwrap_or_default().into_iter().map(decode).collect::<Result<Vec<Message>>>()?;
        let next = if messages.len() > limit {
            messages.truncate(limit);
            messages.last().map(|message| message.message_id)
        } else {
            None
        };
        Ok(MessagePage { messages, next })
    }
}
