//! Threads and their messages.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::{DynamoStore, Item, decode, entity, n, s, storage_error};
use crate::Result;
use crate::core::model::{ChannelType, Message, Thread};
use crate::core::sending::Received;
use crate::store::attributes::{self as attr, spelling};
use crate::store::records::{DeviceRecord, MessageRecord, ProviderMessageRecord, StoredStatus, ThreadRecord};
use crate::store::{Alongside, MessagePage, MessagePosition, PageStart, ThreadStore, Write, keys};

impl DynamoStore {
    /// The transaction items of the writes that ride along with a send.
    fn alongside_items(&self, alongside: &Alongside<'_>) -> Result<Vec<TransactWriteItem>> {
        let mut items = Vec::new();
        if let Some(client) = alongside.new_client {
            items.extend(self.client_items(client)?);
        }
        if let Some(binding) = alongside.device {
            let device = binding.device;
            let key = keys::device(device.channel_type, device.app_marker.as_deref(), &device.device_address);
            let client_id = attr::CLIENT_ID;
            items.push(match binding.previous_client {
                None => self.put_new(entity(key, "DEVICE", &DeviceRecord::from(device))?)?,
                Some(previous) => self.update(
                    key,
                    format!("SET {} = :client", client_id.placeholder()),
                    format!("{} = :previous", client_id.placeholder()),
                    &[client_id],
                    HashMap::from([(":client".into(), n(device.client_id)), (":previous".into(), n(previous))]),
                )?,
            });
        }
        if let Some(key) = alongside.key {
            items.push(self.completed_key_item(key)?);
        }
        if let Some(provider) = alongside.provider_message {
            let key = keys::provider_message(provider.channel, provider.provider_message_id);
            let record = ProviderMessageRecord::from(provider.received);
            items.push(self.put_new(entity(key, "PROVIDERMSG", &record)?)?);
        }
        Ok(items)
    }
}

impl ThreadStore for DynamoStore {
    async fn thread(&self, thread_id: u64) -> Result<Option<Thread>> {
        Ok(self.get_as::<ThreadRecord>(keys::thread(thread_id)).await?.map(Thread::from))
    }

    async fn append_message(&self, message: &Message, alongside: &Alongside<'_>) -> Result<Write> {
        let (status, last, count) = (attr::STATUS, attr::LAST_MESSAGE_TIME, attr::MESSAGE_COUNT);
        let mut items = vec![
            self.put_new(entity(keys::message(message), "MESSAGE", &MessageRecord::from(message))?)?,
            self.update(
                keys::thread(message.thread_id),
                format!("SET {} = :at ADD {} :one", last.placeholder(), count.placeholder()),
                format!("{} = :open", status.placeholder()),
                &[status, last, count],
                HashMap::from([
                    (":at".into(), s(&message.created_at.to_string())),
                    (":one".into(), n(1)),
                    (":open".into(), spelling(StoredStatus::Open)),
                ]),
            )?,
        ];
        items.extend(self.alongside_items(alongside)?);
        self.transact(items).await
    }

    async fn open_thread(
        &self,
        thread: &Thread,
        message: Option<&Message>,
        alongside: &Alongside<'_>,
    ) -> Result<Write> {
        let mut items =
            vec![self.put_new(entity(keys::thread(thread.thread_id), "THREAD", &ThreadRecord::from(thread))?)?];
        // A new client is written with its open thread already named (by `alongside_items`).
        if alongside.new_client.is_none() {
            let (pk, open) = (attr::PK, attr::OPEN_THREAD_ID);
            items.push(self.update(
                keys::client(thread.client_id),
                format!("SET {} = :thread", open.placeholder()),
                format!("attribute_exists({}) AND attribute_not_exists({})", pk.placeholder(), open.placeholder()),
                &[pk, open],
                HashMap::from([(":thread".into(), n(thread.thread_id))]),
            )?);
        }
        if let Some(message) = message {
            items.push(self.put_new(entity(keys::message(message), "MESSAGE", &MessageRecord::from(message))?)?);
        }
        items.extend(self.alongside_items(alongside)?);
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
                    (":closed".into(), spelling(StoredStatus::Closed)),
                    (":open".into(), spelling(StoredStatus::Open)),
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
        // Message sort keys lie between "MSG#" and "MSG$" ('$' follows '#').
        let first = keys::MESSAGE_PREFIX.to_owned();
        let last = format!("{}$", keys::MESSAGE_PREFIX.trim_end_matches('#'));
        let (newest_first, condition, bound) = match start {
            PageStart::NewestBefore(None) => (true, "BETWEEN :first AND :last", None),
            PageStart::NewestBefore(Some(position)) => (true, "BETWEEN :first AND :bound", Some(position)),
            PageStart::OldestAfter(None) => (false, "BETWEEN :first AND :last", None),
            PageStart::OldestAfter(Some(position)) => (false, "BETWEEN :bound AND :last", Some(position)),
        };
        let mut values: Item = HashMap::from([(":pk".into(), s(&pk))]);
        if condition.contains(":first") {
            values.insert(":first".into(), s(&first));
        }
        if condition.contains(":last") {
            values.insert(":last".into(), s(&last));
        }
        if let Some(position) = bound {
            values.insert(":bound".into(), s(&keys::message_sort_key(position)));
        }
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(format!(
                "{} = :pk AND {} {condition}",
                attr::PK.placeholder(),
                attr::SK.placeholder()
            ))
            .expression_attribute_names(attr::PK.placeholder(), attr::PK.name())
            .expression_attribute_names(attr::SK.placeholder(), attr::SK.name())
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!newest_first)
            .consistent_read(true)
            // One more than asked tells whether another page follows; BETWEEN includes the
            // bound, which may be one more still.
            .limit(limit as i32 + 2)
            .send()
            .await
            .map_err(storage_error)?;
        let mut messages = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| decode::<MessageRecord>(item).map(Message::from))
            .collect::<Result<Vec<Message>>>()?;
        if let Some(bound) = bound {
            messages.retain(|message| MessagePosition::of(message) != bound);
        }
        let next = if messages.len() > limit {
            messages.truncate(limit);
            messages.last().map(MessagePosition::of)
        } else {
            None
        };
        Ok(MessagePage { messages, next })
    }

    async fn provider_message(&self, channel: ChannelType, provider_message_id: &str) -> Result<Option<Received>> {
        let key = keys::provider_message(channel, provider_message_id);
        Ok(self.get_as::<ProviderMessageRecord>(key).await?.map(Received::from))
    }

    async fn thread_with_message(&self, thread_id: u64, message_id: u64) -> Result<Option<(Thread, Option<Message>)>> {
        let (pk, thread_sort_key) = keys::thread(thread_id);
        let message_key = attr::MESSAGE_ID;
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(format!("{} = :pk", attr::PK.placeholder()))
            // A filter may not name key attributes; the partition holds one thread item.
            .filter_expression(format!(
                "{} = :id OR {} = :thread",
                message_key.placeholder(),
                attr::ENTITY.placeholder()
            ))
            .expression_attribute_names(attr::PK.placeholder(), attr::PK.name())
            .expression_attribute_names(attr::ENTITY.placeholder(), attr::ENTITY.name())
            .expression_attribute_names(message_key.placeholder(), message_key.name())
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":id", n(message_id))
            .expression_attribute_values(":thread", s("THREAD"))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let (mut thread, mut message) = (None, None);
        while let Some(item) = pages.next().await {
            let item = item.map_err(storage_error)?;
            let is_thread = item.get(attr::SK.name()).and_then(|sk| sk.as_s().ok()) == Some(&thread_sort_key);
            if is_thread {
                thread = Some(Thread::from(decode::<ThreadRecord>(item)?));
            } else {
                message = Some(Message::from(decode::<MessageRecord>(item)?));
            }
        }
        Ok(thread.map(|thread| (thread, message)))
    }
}
