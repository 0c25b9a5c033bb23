//! Webhook subscriptions (the `WEBHOOKS` partition) and their deliveries (`DELIVERY#` items in
//! each subscription's partition; pending ones also in the sparse `due` index).

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;

use super::{DynamoStore, Item, decode, entity, n, placeholders, s, storage_error};
use crate::core::webhooks::{Dispatch, DispatchKey, DispatchStatus, FIRST_ATTEMPT_GRACE, Secret, Subscription};
use crate::store::attributes::{self as attr, spelling};
use crate::store::webhook_records::{
    DispatchRecord, StoredDispatchStatus, StoredSubscriptionStatus, SubscriptionRecord, sortable,
};
use crate::store::{CompletedKey, DispatchPage, WebhookStore, Write, keys};
use crate::{Error, Result};

pub const DUE_INDEX: &str = "due";
/// Replayed deliveries updated at once.
const REPLAY_CONCURRENCY: usize = 16;

/// The key of a delivery from its item's sort key (`DELIVERY#<µs>#<event id>`).
fn key_of(webhook_id: &str, sort_key: &str) -> Option<DispatchKey> {
    let (micros, event_id) = sort_key.strip_prefix(keys::DISPATCH_PREFIX)?.split_once('#')?;
    let event_at = Timestamp::from_microsecond(micros.parse().ok()?).ok()?;
    Some(DispatchKey { webhook_id: webhook_id.to_owned(), event_at, event_id: event_id.to_owned() })
}

fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(err: &E) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

impl WebhookStore for DynamoStore {
    async fn create_webhook(&self, subscription: &Subscription, key: Option<&CompletedKey>) -> Result<()> {
        let item = entity(keys::webhook(&subscription.id), "WEBHOOK", &SubscriptionRecord::from(subscription))?;
        let mut items = vec![self.put_new(item)?];
        if let Some(key) = key {
            items.push(self.completed_key_item(key)?);
        }
        match self.transact(items).await? {
            Write::Done => Ok(()),
            // Ids are 128 random bits, and the key's record is the claim's own.
            Write::Refused => Err(Error::internal("a new subscription's write was refused")),
        }
    }

    async fn webhooks(&self) -> Result<Vec<Subscription>> {
        let items = self.items_with_prefix(keys::WEBHOOKS_PARTITION, keys::WEBHOOK_PREFIX).await?;
        items.into_iter().map(|item| Subscription::try_from(decode::<SubscriptionRecord>(item)?)).collect()
    }

    async fn webhook(&self, webhook_id: &str) -> Result<Option<Subscription>> {
        self.get_as::<SubscriptionRecord>(keys::webhook(webhook_id)).await?.map(Subscription::try_from).transpose()
    }

    async fn delete_webhook(&self, webhook_id: &str) -> Result<Option<Subscription>> {
        let (pk, sk) = keys::webhook(webhook_id);
        let sent = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(attr::PK.name(), AttributeValue::S(pk))
            .key(attr::SK.name(), AttributeValue::S(sk))
            .condition_expression(format!("attribute_exists({})", attr::PK.placeholder()))
            .expression_attribute_names(attr::PK.placeholder(), attr::PK.name())
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match sent {
            Ok(output) => {
                let item = output.attributes.ok_or_else(|| Error::internal("the delete returned no subscription"))?;
                Ok(Some(Subscription::try_from(decode::<SubscriptionRecord>(item)?)?))
            }
            Err(err) if matches!(err.as_service_error(), Some(DeleteItemError::ConditionalCheckFailedException(_))) => {
                Ok(None)
            }
            Err(err) => Err(storage_error(err)),
        }
    }

    async fn rotate_secret(&self, webhook_id: &str, secret: Secret, now: Timestamp) -> Result<Option<Subscription>> {
        // The secrets list is replaced as read, under the condition that it is still what was
        // read: two rotations at once cannot both keep "their" previous secret.
        for _ in 0..5 {
            let Some(current) = self.webhook(webhook_id).await? else { return Ok(None) };
            let before = SubscriptionRecord::from(&current).secrets;
            let rotated = current.rotated(secret.clone(), now);
            let after = SubscriptionRecord::from(&rotated).secrets;
            let to_value = |value| serde_dynamo::to_attribute_value(value).map_err(Error::internal);
            let secrets = attr::SECRETS.placeholder();
            let sent = self
                .update_item(keys::webhook(webhook_id))
                .update_expression(format!("SET {secrets} = :after"))
                .condition_expression(format!("{secrets} = :before"))
                .expression_attribute_names(&secrets, attr::SECRETS.name())
                .expression_attribute_values(":after", to_value(&after)?)
                .expression_attribute_values(":before", to_value(&before)?)
                .send()
                .await;
            match sent {
                Ok(_) => return Ok(Some(rotated)),
                Err(err)
                    if matches!(err.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {}
                Err(err) => return Err(storage_error(err)),
            }
        }
        Err(Error::StorageUnavailable("the secret kept being rotated by another request".into()))
    }

    async fn disable_webhook(&self, webhook_id: &str) -> Result<()> {
        let status = attr::STATUS.placeholder();
        let sent = self
            .update_item(keys::webhook(webhook_id))
            .update_expression(format!("SET {status} = :disabled"))
            .condition_expression(format!("attribute_exists({})", attr::PK.placeholder()))
            .set_expression_attribute_names(placeholders(&[attr::STATUS, attr::PK]))
            .expression_attribute_values(":disabled", spelling(StoredSubscriptionStatus::Disabled))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            // Deleted meanwhile: nothing to disable.
            Err(err) if matches!(err.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {
                Ok(())
            }
            Err(err) => Err(storage_error(err)),
        }
    }

    async fn add_dispatch(&self, dispatch: &Dispatch) -> Result<Write> {
        let item = entity(keys::dispatch(&dispatch.key()), "DELIVERY", &DispatchRecord::from(dispatch))?;
        Ok(match self.put_if_absent(item).await? {
            None => Write::Done,
            Some(_) => Write::Refused,
        })
    }

    async fn claim_dispatch(
        &self,
        key: &DispatchKey,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Dispatch>> {
        let names = [attr::STATUS, attr::ATTEMPTS, attr::LAST_ATTEMPT_AT, attr::NEXT_ATTEMPT_AT, attr::DUE_AT];
        let [status, tries, last, next, due] = names.map(|name| name.placeholder());
        // Pending, and due or never attempted (a first attempt comes from the stream before it
        // is due for the sweep): of two senders, the first moves `dueAt` past `now` and counts
        // the attempt, and the second's condition fails.
        let sent = self
            .update_item(keys::dispatch(key))
            .update_expression(format!("SET {last} = :now, {next} = :lease, {due} = :lease_key ADD {tries} :one"))
            .condition_expression(format!("{status} = :pending AND ({due} <= :now_key OR {tries} = :zero)"))
            .set_expression_attribute_names(placeholders(&names))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":now", s(&now.to_string()))
            .expression_attribute_values(":now_key", s(&sortable(now)))
            .expression_attribute_values(":lease", s(&lease_until.to_string()))
            .expression_attribute_values(":lease_key", s(&sortable(lease_until)))
            .expression_attribute_values(":pending", spelling(StoredDispatchStatus::Pending))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match sent {
            Ok(output) => {
                let item = output.attributes.ok_or_else(|| Error::internal("the claim returned no delivery"))?;
                Ok(Some(decode::<DispatchRecord>(item)?.into()))
            }
            Err(err) if err.as_service_error().is_some_and(is_condition_failure) => Ok(None),
            Err(err) => Err(storage_error(err)),
        }
    }

    async fn finish_attempt(&self, dispatch: &Dispatch) -> Result<()> {
        let record = DispatchRecord::from(dispatch);
        let mut names = vec![attr::STATUS, attr::ATTEMPTS, attr::NEXT_ATTEMPT_AT, attr::DUE_WEBHOOK, attr::DUE_AT];
        let mut sets = vec![format!("{} = :status", attr::STATUS.placeholder())];
        let mut removes = Vec::new();
        let mut values: Item =
            HashMap::from([(":status".into(), spelling(record.status)), (":tries".into(), n(record.attempts))]);
        let mut set_or_remove = |name: attr::Attr, key: &str, value: Option<AttributeValue>| match value {
            Some(value) => {
                sets.push(format!("{} = {key}", name.placeholder()));
                values.insert(key.into(), value);
            }
            None => removes.push(name.placeholder()),
        };
        set_or_remove(attr::NEXT_ATTEMPT_AT, ":next", record.next_attempt_at.map(|at| s(&at.to_string())));
        set_or_remove(attr::DUE_WEBHOOK, ":due_webhook", record.due_webhook.as_deref().map(s));
        set_or_remove(attr::DUE_AT, ":due_at", record.due_at.as_deref().map(s));
        set_or_remove(attr::LAST_RESPONSE_STATUS, ":response", record.last_response_status.map(n));
        set_or_remove(attr::LAST_ERROR, ":error", record.last_error.as_deref().map(s));
        names.extend([attr::LAST_RESPONSE_STATUS, attr::LAST_ERROR]);
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let sent = self
            .update_item(keys::dispatch(&dispatch.key()))
            .update_expression(expression)
            // Only the latest attempt records its outcome (a replay may have started afresh).
            .condition_expression(format!("{} = :tries", attr::ATTEMPTS.placeholder()))
            .set_expression_attribute_names(placeholders(&names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(is_condition_failure) => Ok(()),
            Err(err) => Err(storage_error(err)),
        }
    }

    async fn due_dispatches(&self, webhook_id: &str, now: Timestamp, limit: usize) -> Result<Vec<DispatchKey>> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(DUE_INDEX)
            .key_condition_expression("#webhook = :webhook AND #due <= :now")
            .expression_attribute_names("#webhook", attr::DUE_WEBHOOK.name())
            .expression_attribute_names("#due", attr::DUE_AT.name())
            .expression_attribute_values(":webhook", s(webhook_id))
            .expression_attribute_values(":now", s(&sortable(now)))
            .limit(limit as i32)
            .send()
            .await
            .map_err(storage_error)?;
        Ok(output
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| key_of(webhook_id, item.get(attr::SK.name())?.as_s().ok()?))
            .collect())
    }

    async fn dispatches(
        &self,
        webhook_id: &str,
        status: Option<DispatchStatus>,
        limit: usize,
        before: Option<&DispatchKey>,
    ) -> Result<DispatchPage> {
        let upper = match before {
            Some(key) => keys::dispatch(key).1,
            None => format!("{}~", keys::DISPATCH_PREFIX),
        };
        let mut dispatches = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(format!(
                    "{} = :pk AND {} BETWEEN :first AND :upper",
                    attr::PK.placeholder(),
                    attr::SK.placeholder()
                ))
                .expression_attribute_names(attr::PK.placeholder(), attr::PK.name())
                .expression_attribute_names(attr::SK.placeholder(), attr::SK.name())
                .expression_attribute_values(":pk", s(&keys::dispatches_partition(webhook_id)))
                .expression_attribute_values(":first", s(keys::DISPATCH_PREFIX))
                .expression_attribute_values(":upper", s(&upper))
                .scan_index_forward(false)
                .consistent_read(true)
                .limit((limit + 1) as i32)
                .set_exclusive_start_key(start.take());
            if let Some(status) = status {
                query = query
                    .filter_expression(format!("{} = :status", attr::STATUS.placeholder()))
                    .expression_attribute_names(attr::STATUS.placeholder(), attr::STATUS.name())
                    .expression_attribute_values(":status", spelling(StoredDispatchStatus::from(status)));
            }
            let output = query.send().await.map_err(storage_error)?;
            for item in output.items.unwrap_or_default() {
                let dispatch: Dispatch = decode::<DispatchRecord>(item)?.into();
                // BETWEEN includes the bound itself.
                if before.is_some_and(|key| *key == dispatch.key()) {
                    continue;
                }
                dispatches.push(dispatch);
            }
            if dispatches.len() > limit {
                dispatches.truncate(limit);
                let next = dispatches.last().map(Dispatch::key);
                return Ok(DispatchPage { dispatches, next });
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(DispatchPage { dispatches, next: None }),
            }
        }
    }

    async fn replay_dispatches(
        &self,
        webhook_id: &str,
        since: Timestamp,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<u64> {
        let pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(format!(
                "{} = :pk AND {} BETWEEN :since AND :until",
                attr::PK.placeholder(),
                attr::SK.placeholder()
            ))
            .expression_attribute_names(attr::PK.placeholder(), attr::PK.name())
            .expression_attribute_names(attr::SK.placeholder(), attr::SK.name())
            .expression_attribute_values(":pk", s(&keys::dispatches_partition(webhook_id)))
            .expression_attribute_values(":since", s(&keys::dispatch_sort_key(since, "")))
            .expression_attribute_values(":until", s(&keys::dispatch_sort_key(until, "~")))
            .projection_expression(attr::SK.placeholder())
            .into_paginator()
            .items()
            .send();
        let items: Vec<Item> = pages.try_collect().await.map_err(storage_error)?;
        let keys: Vec<DispatchKey> =
            items.iter().filter_map(|item| key_of(webhook_id, item.get(attr::SK.name())?.as_s().ok()?)).collect();
        let count = keys.len() as u64;
        futures::stream::iter(keys.into_iter().map(|key| self.reset_dispatch(key, now)))
            .buffer_unordered(REPLAY_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(count)
    }
}

impl DynamoStore {
    /// A delivery made pending again with no attempt made (the sender's stream filter takes it
    /// up at once); the attempts and answer of its last round are forgotten.
    async fn reset_dispatch(&self, key: DispatchKey, now: Timestamp) -> Result<()> {
        let names = [
            attr::STATUS,
            attr::ATTEMPTS,
            attr::NEXT_ATTEMPT_AT,
            attr::DUE_WEBHOOK,
            attr::DUE_AT,
            attr::LAST_ERROR,
            attr::PK,
        ];
        let [status, tries, next, due_webhook, due_at, error, pk] = names.map(|name| name.placeholder());
        // The stream brings it to the sender at once; the sweep takes it over only if not.
        let first_due = now + FIRST_ATTEMPT_GRACE;
        self.update_item(keys::dispatch(&key))
            .update_expression(format!(
                "SET {status} = :pending, {tries} = :zero, {next} = :next, {due_webhook} = :webhook, {due_at} = :due REMOVE {error}"
            ))
            .condition_expression(format!("attribute_exists({pk})"))
            .set_expression_attribute_names(placeholders(&names))
            .expression_attribute_values(":pending", spelling(StoredDispatchStatus::Pending))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":next", s(&first_due.to_string()))
            .expression_attribute_values(":webhook", s(&key.webhook_id))
            .expression_attribute_values(":due", s(&sortable(first_due)))
            .send()
            .await
            .map_err(storage_error)?;
        Ok(())
    }
}
