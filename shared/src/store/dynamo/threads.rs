//! Threads and their messages.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::{DynamoStore, Item, decode, entity, n, placeholders as names_map, s, storage_error};
use crate::core::model::{ChannelType, DeliveryStatus, Message, Thread};
use crate::core::sending::Received;
use crate::store::attributes::{self as attr, Attr, spelling};
use crate::store::records::{
    DeviceRecord, MessageRecord, ProviderMessageRecord, StoredDeliveryStatus, StoredStatus, ThreadRecord,
};
use crate::store::{
    Alongside, MessagePage, MessagePosition, PageStart, StatusChange, StatusUpdate, ThreadStore, Write, keys,
};
use crate::{Error, Result};

/// A `MESSAGE#<id>` item: where the message's item is.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessagePointer {
    thread_id: u64,
    /// When the message was accepted (µs): with its id, the message item's sort key.
    at_micros: i64,
}

/// The attribute that keeps the time of `status`.
fn time_attribute(status: DeliveryStatus) -> Option<Attr> {
    match status {
        DeliveryStatus::Accepted => None,
        DeliveryStatus::Sent => Some(attr::SENT_AT),
        DeliveryStatus::Delivered => Some(attr::DELIVERED_AT),
        DeliveryStatus::Read => Some(attr::READ_AT),
        DeliveryStatus::Failed | DeliveryStatus::Undelivered | DeliveryStatus::Expired => Some(attr::FAILED_AT),
    }
}

impl DynamoStore {
    /// A new message's item and its pointer (both new).
    fn message_items(&self, message: &Message) -> Result<Vec<TransactWriteItem>> {
        let (thread_pk, sort_key) = keys::message(message);
        let at_micros = MessagePosition::of(message).at_micros;
        let pointer = MessagePointer { thread_id: message.thread_id, at_micros };
        Ok(vec![
            self.put_new(entity((thread_pk, sort_key), "MESSAGE", &MessageRecord::from(message))?)?,
            self.put_new(entity(keys::message_pointer(message.message_id), "MESSAGEPTR", &pointer)?)?,
        ])
    }

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
        let last_id = attr::LAST_MESSAGE_ID;
        let mut items = self.message_items(message)?;
        // The message that makes the count: the stream's consumer publishes it with the count
        // as its sequence, so events need no write of their own here.
        items.push(self.update(
            keys::thread(message.thread_id),
            format!(
                "SET {} = :at, {} = :id ADD {} :one",
                last.placeholder(),
                last_id.placeholder(),
                count.placeholder()
            ),
            format!("{} = :open", status.placeholder()),
            &[status, last, last_id, count],
            HashMap::from([
                (":at".into(), s(&message.created_at.to_string())),
                (":id".into(), n(message.message_id)),
                (":one".into(), n(1)),
                (":open".into(), spelling(StoredStatus::Open)),
            ]),
        )?);
        items.extend(self.alongside_items(alongside)?);
        self.transact(items).await
    }

    async fn open_thread(
        &self,
        thread: &Thread,
        message: Option<&Message>,
        alongside: &Alongside<'_>,
    ) -> Result<Write> {
        let mut record = ThreadRecord::from(thread);
        record.last_message_id = message.map(|message| message.message_id);
        let mut items = vec![self.put_new(entity(keys::thread(thread.thread_id), "THREAD", &record)?)?];
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
            items.extend(self.message_items(message)?);
        }
        items.extend(self.alongside_items(alongside)?);
        self.transact(items).await
    }

    async fn close_thread(&self, thread: &Thread) -> Result<Write> {
        let (status, open, closed_at) = (attr::STATUS, attr::OPEN_THREAD_ID, attr::CLOSED_AT);
        self.transact(vec![
            self.update(
                keys::thread(thread.thread_id),
                format!("SET {} = :closed, {} = :now", status.placeholder(), closed_at.placeholder()),
                format!("{} = :open", status.placeholder()),
                &[status, closed_at],
                HashMap::from([
                    (":closed".into(), spelling(StoredStatus::Closed)),
                    (":now".into(), s(&jiff::Timestamp::now().to_string())),
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

    async fn message_at(&self, thread_id: u64, position: MessagePosition) -> Result<Option<Message>> {
        let key = (keys::thread(thread_id).0, keys::message_sort_key(position));
        Ok(self.get_as::<MessageRecord>(key).await?.map(Message::from))
    }

    async fn message_location(&self, message_id: u64) -> Result<Option<(u64, MessagePosition)>> {
        let pointer = self.get_as::<MessagePointer>(keys::message_pointer(message_id)).await?;
        Ok(pointer.map(|pointer| (pointer.thread_id, MessagePosition { at_micros: pointer.at_micros, message_id })))
    }

    async fn update_status(
        &self,
        thread_id: u64,
        position: MessagePosition,
        update: &StatusUpdate,
    ) -> Result<Option<StatusChange>> {
        let message_id = position.message_id;
        let key = (keys::thread(thread_id).0, keys::message_sort_key(position));
        let status = update.status;
        let at = s(&update.at.to_string());
        let mut names = vec![attr::PK, attr::STATUS, attr::STATUS_RANK, attr::STATUS_AT];
        let mut sets = vec![
            format!("{} = :status", attr::STATUS.placeholder()),
            format!("{} = :rank", attr::STATUS_RANK.placeholder()),
            format!("{} = :at", attr::STATUS_AT.placeholder()),
        ];
        let mut values = HashMap::from([
            (":status".to_owned(), spelling(StoredDeliveryStatus::from(status))),
            (":rank".to_owned(), n(status.rank())),
            (":below".to_owned(), n(status.applies_below())),
            (":at".to_owned(), at.clone()),
        ]);
        // READ implies DELIVERED: it fills DELIVERED's time when that has none.
        let times: Vec<Attr> = match status {
            DeliveryStatus::Read => vec![attr::READ_AT, attr::DELIVERED_AT],
            other => time_attribute(other).into_iter().collect(),
        };
        for time in &times {
            sets.push(format!("{0} = if_not_exists({0}, :at)", time.placeholder()));
            names.push(*time);
        }
        if let Some(error) = update.error.as_ref().filter(|_| status.is_failure()) {
            sets.push(format!(
                "{} = :code, {} = :message",
                attr::ERROR_CODE.placeholder(),
                attr::ERROR_MESSAGE.placeholder()
            ));
            names.extend([attr::ERROR_CODE, attr::ERROR_MESSAGE]);
            values.insert(":code".into(), s(&error.code));
            values.insert(":message".into(), s(&error.message));
        }
        let rank = attr::STATUS_RANK.placeholder();
        let output = self
            .update_item(key.clone())
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(format!(
                "attribute_exists({}) AND (attribute_not_exists({rank}) OR {rank} < :below)",
                attr::PK.placeholder()
            ))
            .set_expression_attribute_names(names_map(&names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let old = match output {
            Ok(output) => {
                let item = output.attributes.ok_or_else(|| Error::internal("status update returned no item"))?;
                let message = Message::from(decode::<MessageRecord>(item)?);
                return Ok(Some(StatusChange { message_id, delivery: message.delivery, moved: true }));
            }
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => failed.item().cloned(),
                _ => return Err(storage_error(err)),
            },
        };
        let Some(old) = old else { return Ok(None) };
        let current = Message::from(decode::<MessageRecord>(old)?).delivery;
        // Too late to move the status, but a status with no time yet gets this one's time
        // (a failure after READ changes nothing).
        let missing = match status {
            DeliveryStatus::Sent => current.sent_at.is_none(),
            DeliveryStatus::Delivered => current.delivered_at.is_none(),
            _ => false,
        };
        let Some(time) = time_attribute(status).filter(|_| missing) else {
            return Ok(Some(StatusChange { message_id, delivery: current, moved: false }));
        };
        let filled = self
            .update_item(key)
            .update_expression(format!("SET {} = :at", time.placeholder()))
            .condition_expression(format!(
                "attribute_exists({}) AND attribute_not_exists({})",
                attr::PK.placeholder(),
                time.placeholder()
            ))
            .set_expression_attribute_names(names_map(&[attr::PK, time]))
            .expression_attribute_values(":at", at)
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let delivery = match filled {
            Ok(output) => match output.attributes {
                Some(item) => Message::from(decode::<MessageRecord>(item)?).delivery,
                None => current,
            },
            Err(err) if matches!(err.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {
                current
            }
            Err(err) => return Err(storage_error(err)),
        };
        Ok(Some(StatusChange { message_id, delivery, moved: false }))
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
