//! The DynamoDB adapter of the store traits: the shared plumbing here, one file per aggregate.

mod agents;
mod clients;
mod events;
mod idempotency;
mod threads;
mod visitors;
mod webhooks;

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::Client as DynamoClient;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_item};

use super::attributes::{self as attr, Attr};
use super::{IdKind, IdStore, RequestCounter, Write, keys};
use crate::budget::{self, MIN_TRY, TRY_TIMEOUT};
use crate::{Error, Result};

type Item = HashMap<String, AttributeValue>;

type Key = (String, String);

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: DynamoClient,
    table: String,
    requests: RequestCounter,
    ids: Arc<IdBlocks>,
}

/// Identifiers reserved by this container, a block per kind: one conditional-free `ADD` on the
/// kind's counter per block instead of one per id, so no counter is written by every send.
#[derive(Debug)]
struct IdBlocks {
    /// Ids per message block; threads and clients take a fifth, agents one at a time.
    block: u64,
    reserved: Mutex<HashMap<IdKind, RangeInclusive<u64>>>,
}

impl IdBlocks {
    fn size(&self, kind: IdKind) -> u64 {
        match kind {
            IdKind::Message => self.block,
            IdKind::Thread | IdKind::Client => (self.block / 5).max(1),
            // Agents are created by the operator's one-shot command: a block would be wasted.
            IdKind::Agent => 1,
        }
    }

    fn take(&self, kind: IdKind) -> Option<u64> {
        self.reserved.lock().ok()?.get_mut(&kind)?.next()
    }

    fn keep(&self, kind: IdKind, rest: RangeInclusive<u64>) {
        if let Ok(mut reserved) = self.reserved.lock() {
            reserved.insert(kind, rest);
        }
    }
}

impl DynamoStore {
    /// A store on `table`, counting every request the client configured by `config` sends,
    /// reserving message ids `id_block` at a time.
    pub fn new(config: aws_sdk_dynamodb::config::Builder, table: impl Into<String>, id_block: u64) -> Self {
        let requests = RequestCounter::default();
        let config = config.interceptor(requests.clone()).interceptor(crate::xray::SdkCalls).build();
        let ids = Arc::new(IdBlocks { block: id_block.max(1), reserved: Mutex::new(HashMap::new()) });
        DynamoStore { client: DynamoClient::from_conf(config), table: table.into(), requests, ids }
    }

    /// DynamoDB requests sent so far by this store.
    pub fn requests_sent(&self) -> u64 {
        self.requests.total()
    }

    /// Round trips so far: periods in which at least one call was in flight, so calls made
    /// together count once, and each retry the SDK sent (`RequestCounter`).
    pub fn round_trips(&self) -> u64 {
        self.requests.round_trips()
    }

    /// Whether DynamoDB has answered this store before: its client then has a connection open.
    pub fn has_connection(&self) -> bool {
        self.requests.answered()
    }

    /// Read and write capacity units DynamoDB reported so far.
    pub fn capacity_units(&self) -> (f64, f64) {
        self.requests.capacity_units()
    }

    /// An UpdateItem on this table's item `key`.
    fn update_item(&self, (pk, sk): Key) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(attr::PK.name(), AttributeValue::S(pk))
            .key(attr::SK.name(), AttributeValue::S(sk))
    }

    async fn get(&self, (pk, sk): Key) -> Result<Option<Item>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(attr::PK.name(), AttributeValue::S(pk))
            .key(attr::SK.name(), AttributeValue::S(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(storage_error)?;
        Ok(output.item)
    }

    /// Puts `item` unless an item with its key exists: `None` when it was written, else the
    /// existing item (returned by the failed condition, so no read is needed).
    async fn put_if_absent(&self, item: Item) -> Result<Option<Item>> {
        let sent = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(format!("attribute_not_exists({})", attr::PK.placeholder()))
            .expression_attribute_names(attr::PK.placeholder(), attr::PK.name())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(None),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    Ok(Some(failed.item().cloned().ok_or_else(|| Error::internal("no existing item returned"))?))
                }
                _ => Err(storage_error(err)),
            },
        }
    }

    /// Every item of partition `pk` whose sort key starts with `prefix`, all pages, read
    /// consistently (what was just written is there).
    async fn items_with_prefix(&self, pk: &str, prefix: &str) -> Result<Vec<Item>> {
        let pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(format!(
                "{} = :pk AND begins_with({}, :prefix)",
                attr::PK.placeholder(),
                attr::SK.placeholder()
            ))
            .expression_attribute_names(attr::PK.placeholder(), attr::PK.name())
            .expression_attribute_names(attr::SK.placeholder(), attr::SK.name())
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        pages.try_collect().await.map_err(storage_error)
    }

    async fn get_as<T: for<'de> Deserialize<'de>>(&self, key: Key) -> Result<Option<T>> {
        self.get(key).await?.map(decode).transpose()
    }

    /// Writes all items or none; `Refused` when a condition failed or a concurrent
    /// transaction touched the same items. A try without a verdict (a timeout, a lost
    /// connection, a 5xx, throttling) is tried again with the same `ClientRequestToken` while
    /// the request's budget lasts (`crate::budget`: the only retry of a transaction, each try
    /// one SDK attempt): DynamoDB applies a token's transaction once, so the retry either finds
    /// it committed or commits it — a 503 never hides a stored write unless the database
    /// stayed unreachable until the deadline.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Write> {
        let token = uuid::Uuid::new_v4().to_string();
        let mut tries = 0u32;
        // Whether a try was sent and got no answer that says it was not applied.
        let mut in_doubt = false;
        loop {
            tries += 1;
            let left = budget::time_for_tries();
            if left < MIN_TRY {
                let detail = format!("transaction not confirmed after {} tries", tries - 1);
                return Err(if in_doubt { Error::OutcomeUnknown(detail) } else { Error::StorageUnavailable(detail) });
            }
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .customize()
                .config_override(budget::transaction_try(left.min(TRY_TIMEOUT)))
                .send()
                .await;
            let unknown = match sent {
                Ok(_) => return Ok(Write::Done),
                Err(err) => match err.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(cancelled))
                        if cancelled.cancellation_reasons().iter().any(|reason| {
                            matches!(reason.code(), Some("ConditionalCheckFailed" | "TransactionConflict"))
                        }) =>
                    {
                        return Ok(Write::Refused);
                    }
                    _ => {
                        // A 4xx (throttling among them) says the try was refused, not applied; a
                        // try with no answer (the SDK's timeout, a lost connection) may have been.
                        in_doubt |= !err.raw_response().is_some_and(|raw| raw.status().is_client_error());
                        match storage_error(err) {
                            Error::StorageUnavailable(detail) => detail,
                            other => return Err(other),
                        }
                    }
                },
            };
            tracing::warn!(tries, detail = %unknown, "transaction outcome unknown; trying again with its token");
            // A pause that would leave no time for another try ends the loop now instead.
            let pause = budget::pause_after(tries);
            if budget::time_for_tries() >= pause + MIN_TRY {
                tokio::time::sleep(pause).await;
            }
        }
    }

    /// A put in a transaction, under `condition` (which names its attributes in `names`).
    fn put(&self, item: Item, condition: Option<String>, names: &[Attr], values: Item) -> Result<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition)
            .set_expression_attribute_names(placeholders(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A put that requires the item to be new.
    fn put_new(&self, item: Item) -> Result<TransactWriteItem> {
        self.put(item, Some(format!("attribute_not_exists({})", attr::PK.placeholder())), &[attr::PK], Item::new())
    }

    /// An update in a transaction; `names` are the attributes the expressions use.
    fn update(
        &self,
        (pk, sk): Key,
        expression: String,
        condition: String,
        names: &[Attr],
        values: Item,
    ) -> Result<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .key(attr::PK.name(), AttributeValue::S(pk))
            .key(attr::SK.name(), AttributeValue::S(sk))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(placeholders(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

/// `#name` → name for every attribute an expression uses (DynamoDB refuses unused ones).
fn placeholders(names: &[Attr]) -> Option<HashMap<String, String>> {
    (!names.is_empty()).then(|| names.iter().map(|name| (name.placeholder(), name.name().to_owned())).collect())
}

/// A number attribute of an UpdateItem's returned attributes.
fn number_attribute(attributes: Option<&Item>, name: Attr) -> Option<u64> {
    attributes?.get(name.name())?.as_n().ok()?.parse().ok()
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Serializes `value` and adds the item's keys.
fn keyed<T: Serialize>((pk, sk): Key, value: &T) -> Result<Item> {
    let mut item: Item = to_item(value).map_err(Error::internal)?;
    item.insert(attr::PK.name().into(), AttributeValue::S(pk));
    item.insert(attr::SK.name().into(), AttributeValue::S(sk));
    Ok(item)
}

/// Serializes `value` with its keys and its entity name.
fn entity<T: Serialize>(key: Key, name: &str, value: &T) -> Result<Item> {
    let mut item = keyed(key, value)?;
    item.insert(attr::ENTITY.name().into(), s(name));
    Ok(item)
}

fn decode<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T> {
    // serde's message may quote the stored value: name the type only.
    from_item(item)
        .map_err(|_| Error::internal(format!("stored item does not decode as {}", std::any::type_name::<T>())))
}

/// Maps SDK failures: throttling and transport problems are retryable (503), the rest are ours.
/// The detail names the kind of failure and the service's code, never the request (whose items
/// hold addresses, text and hashes).
fn storage_error<E, R>(err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let retryable_code = |code: Option<&str>| {
        matches!(
            code,
            Some(
                "ThrottlingException"
                    | "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "TransactionInProgressException"
            )
        )
    };
    match &err {
        SdkError::TimeoutError(_) => Error::StorageUnavailable("dynamodb: timeout".into()),
        SdkError::DispatchFailure(failure) => Error::StorageUnavailable(format!(
            "dynamodb: dispatch failure (timeout: {}, io: {})",
            failure.is_timeout(),
            failure.is_io()
        )),
        SdkError::ResponseError(_) => Error::StorageUnavailable("dynamodb: unreadable response".into()),
        SdkError::ServiceError(service) if retryable_code(service.err().code()) => {
            Error::StorageUnavailable(format!("dynamodb: {}", service.err().code().unwrap_or("retryable error")))
        }
        SdkError::ServiceError(service) => Error::internal(format!(
            "dynamodb: {}: {}",
            service.err().code().unwrap_or("unknown"),
            service.err().message().unwrap_or_default()
        )),
        _ => Error::internal("dynamodb: the request could not be built"),
    }
}

impl IdStore for DynamoStore {
    async fn next_id(&self, kind: IdKind) -> Result<u64> {
        if let Some(id) = self.ids.take(kind) {
            return Ok(id);
        }
        let (value, size) = (attr::COUNTER_VALUE, self.ids.size(kind));
        let output = self
            .update_item(keys::counter(kind))
            .update_expression(format!("ADD {} :block", value.placeholder()))
            .expression_attribute_names(value.placeholder(), value.name())
            .expression_attribute_values(":block", n(size))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(storage_error)?;
        let end = number_attribute(output.attributes.as_ref(), value)
            .ok_or_else(|| Error::internal("counter update returned no value"))?;
        let first = end + 1 - size;
        self.ids.keep(kind, first + 1..=end);
        Ok(first)
    }
}

/// Item pointing a unique name (login, external id) at its entity.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NamePointer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<u64>,
    /// Logins only: failed attempts since the last success, and the lock (epoch seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failed_logins: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locked_until: Option<i64>,
}

/// Items as the table holds them: the images a stream record of them carries, from which tests
/// build the records Lambda would deliver.
#[cfg(any(test, feature = "testing"))]
impl DynamoStore {
    pub async fn thread_image(&self, thread_id: u64) -> Result<Option<serde_dynamo::Item>> {
        Ok(self.get(keys::thread(thread_id)).await?.map(Into::into))
    }

    pub async fn message_image(&self, message_id: u64) -> Result<Option<serde_dynamo::Item>> {
        use crate::store::ThreadStore;
        let Some((thread_id, position)) = self.message_location(message_id).await? else { return Ok(None) };
        Ok(self.get((keys::thread(thread_id).0, keys::message_sort_key(position))).await?.map(Into::into))
    }

    pub async fn dispatch_image(&self, key: &crate::core::webhooks::DispatchKey) -> Result<Option<serde_dynamo::Item>> {
        Ok(self.get(keys::dispatch(key)).await?.map(Into::into))
    }
}
