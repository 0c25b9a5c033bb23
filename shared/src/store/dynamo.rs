//! The DynamoDB adapter of [`Store`].

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client as DynamoClient;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_item};

use super::keys::{self, EXPIRES_AT, PK, SK};
use super::{
    CompletedKey, FailedLogins, IdKind, KeyClaim, MessagePage, RequestCounter, Session, Store, StoredResponse, Write,
};
use crate::model::{Agent, ChannelType, Client, Device, Message, Thread};
use crate::{Error, Result};

type Item = HashMap<String, AttributeValue>;

/// How long a stored idempotent response is kept.
const KEY_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: DynamoClient,
    table: String,
    requests: RequestCounter,
}

impl DynamoStore {
    /// A store on `table`, counting every request the client built from `sdk_config` sends.
    pub fn new(sdk_config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        let requests = RequestCounter::default();
        let config = aws_sdk_dynamodb::config::Builder::from(sdk_config).interceptor(requests.clone()).build();
        DynamoStore { client: DynamoClient::from_conf(config), table: table.into(), requests }
    }

    /// DynamoDB requests sent so far by this store.
    pub fn requests_sent(&self) -> u64 {
        self.requests.total()
    }

    /// An UpdateItem on this table's item `key`.
    fn update_item(&self, (pk, sk): (String, String)) -> UpdateItemFluentBuilder {
        self.client.update_item().table_name(&self.table).key(PK, AttributeValue::S(pk)).key(SK, AttributeValue::S(sk))
    }

    async fn get(&self, (pk, sk): (String, String)) -> Result<Option<Item>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(storage_error)?;
        Ok(output.item)
    }

    async fn get_as<T: for<'de> Deserialize<'de>>(&self, key: (String, String)) -> Result<Option<T>> {
        self.get(key).await?.map(decode).transpose()
    }

    /// Writes all items or none; `Refused` when a condition failed or a concurrent
    /// transaction touched the same items.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Write> {
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(Write::Done),
            Err(err) => match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled))
                    if cancelled.cancellation_reasons().iter().any(|reason| {
                        matches!(reason.code(), Some("ConditionalCheckFailed" | "TransactionConflict"))
                    }) =>
                {
                    Ok(Write::Refused)
                }
                _ => Err(storage_error(err)),
            },
        }
    }

    fn put(&self, item: Item, condition: Option<&str>, values: Item) -> Result<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names(attribute_names(condition.unwrap_or_default()))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn put_new(&self, item: Item) -> Result<TransactWriteItem> {
        self.put(item, Some("attribute_not_exists(pk)"), Item::new())
    }

    fn update(
        &self,
        (pk, sk): (String, String),
        expression: &str,
        condition: &str,
        values: Item,
    ) -> Result<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(attribute_names(&format!("{expression} {condition}")))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The client and the items that make its external ids unique.
    fn client_items(&self, client: &Client) -> Result<Vec<TransactWriteItem>> {
        let pointer = NamePointer { client_id: Some(client.client_id), ..NamePointer::default() };
        let mut items = vec![self.put_new(entity(keys::client(client.client_id), "CLIENT", client)?)?];
        if let Some(external_id) = &client.external_id {
            items.push(self.put_new(keyed(keys::external_id(external_id), &pointer)?)?);
        }
        if let Some(unauthorized_id) = &client.unauthorized_id {
            items.push(self.put_new(keyed(keys::unauthorized_id(unauthorized_id), &pointer)?)?);
        }
        Ok(items)
    }

    async fn client_by_pointer(&self, key: (String, String)) -> Result<Option<Client>> {
        let Some(pointer) = self.get_as::<NamePointer>(key).await? else { return Ok(None) };
        let Some(client_id) = pointer.client_id else { return Ok(None) };
        self.get_as(keys::client(client_id)).await
    }

    fn completed_key_item(&self, key: &CompletedKey) -> Result<TransactWriteItem> {
        let record = KeyRecord {
            state: KeyState::Done,
            request_hash: key.request_hash.clone(),
            lease_until: 0,
            response: Some(key.response.clone()),
            expires_at: epoch_after(KEY_RETENTION),
        };
        // Only the holder of the claim may complete the key.
        self.put(
            keyed(keys::idempotency(&key.record_key), &record)?,
            Some("#state = :in_progress AND requestHash = :hash"),
            HashMap::from([(":in_progress".into(), s("IN_PROGRESS")), (":hash".into(), s(&key.request_hash))]),
        )
    }
}

/// Placeholders for attribute names that are reserved words in DynamoDB expressions; DynamoDB
/// refuses placeholders an expression does not use, so only those present are sent.
fn attribute_names(expression: &str) -> Option<HashMap<String, String>> {
    let names: HashMap<String, String> =
        [("#status", "status"), ("#state", "state"), ("#value", "value"), ("#expires", EXPIRES_AT)]
            .into_iter()
            .filter(|(placeholder, _)| expression.contains(placeholder))
            .map(|(placeholder, name)| (placeholder.to_owned(), name.to_owned()))
            .collect();
    (!names.is_empty()).then_some(names)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum KeyState {
    InProgress,
    Done,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyRecord {
    state: KeyState,
    request_hash: String,
    /// Epoch seconds after which an unfinished claim may be taken over.
    lease_until: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response: Option<StoredResponse>,
    expires_at: i64,
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

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionRecord {
    agent_id: u64,
    expires_at: i64,
}

/// A number attribute of an UpdateItem's returned attributes.
fn number_attribute(attributes: Option<&Item>, name: &str) -> Option<u64> {
    attributes?.get(name)?.as_n().ok()?.parse().ok()
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn epoch_after(duration: Duration) -> i64 {
    Timestamp::now().as_second() + duration.as_secs() as i64
}

/// Serializes `value` and adds the item's keys and entity name.
fn keyed<T: Serialize>((pk, sk): (String, String), value: &T) -> Result<Item> {
    let mut item: Item = to_item(value).map_err(Error::internal)?;
    item.insert(PK.into(), AttributeValue::S(pk));
    item.insert(SK.into(), AttributeValue::S(sk));
    Ok(item)
}

fn entity<T: Serialize>(key: (String, String), name: &str, value: &T) -> Result<Item> {
    let mut item = keyed(key, value)?;
    item.insert("entity".into(), s(name));
    Ok(item)
}

fn decode<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T> {
    from_item(item).map_err(|err| Error::internal(format!("stored item does not decode: {err}")))
}

/// Maps SDK failures: throttling and transport problems are retryable (503), the rest are ours.
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
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Error::StorageUnavailable(format!("{err:?}"))
        }
        SdkError::ServiceError(service) if retryable_code(service.err().code()) => {
            Error::StorageUnavailable(format!("{}", service.err()))
        }
        _ => Error::internal(format!("dynamodb: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&err))),
    }
}

impl Store for DynamoStore {
    async fn next_id(&self, kind: IdKind) -> Result<u64> {
        let output = self
            .update_item(keys::counter(kind))
            .update_expression("ADD #value :one")
            .expression_attribute_names("#value", "value")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(storage_error)?;
        number_attribute(output.attributes.as_ref(), "value")
            .ok_or_else(|| Error::internal("counter update returned no value"))
    }

    async fn create_agent(&self, agent: &Agent) -> Result<Write> {
        let pointer = NamePointer { agent_id: Some(agent.agent_id), ..NamePointer::default() };
        self.transact(vec![
            self.put_new(entity(keys::agent(agent.agent_id), "AGENT", agent)?)?,
            self.put_new(keyed(keys::login(&agent.login), &pointer)?)?,
        ])
        .await
    }

    async fn update_agent(&self, agent: &Agent) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(entity(keys::agent(agent.agent_id), "AGENT", agent)?))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn agent_for_login(&self, login: &str) -> Result<Option<(Agent, FailedLogins)>> {
        let Some(pointer) = self.get_as::<NamePointer>(keys::login(login)).await? else {
            return Ok(None);
        };
        let Some(agent_id) = pointer.agent_id else { return Ok(None) };
        let failed = FailedLogins {
            count: pointer.failed_logins.unwrap_or(0),
            locked_until: pointer.locked_until.and_then(|at| Timestamp::from_second(at).ok()),
        };
        Ok(self.get_as(keys::agent(agent_id)).await?.map(|agent| (agent, failed)))
    }

    async fn record_failed_login(&self, login: &str, limit: u32, lock_until: Timestamp) -> Result<()> {
        let counted = self
            .update_item(keys::login(login))
            .update_expression("ADD failedLogins :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(storage_error)?;
        let count = number_attribute(counted.attributes.as_ref(), "failedLogins").unwrap_or(0);
        if count >= u64::from(limit) {
            self.update_item(keys::login(login))
                .update_expression("SET lockedUntil = :until, failedLogins = :zero")
                .expression_attribute_values(":until", n(lock_until.as_second()))
                .expression_attribute_values(":zero", n(0))
                .send()
                .await
                .map_err(storage_error)?;
        }
        Ok(())
    }

    async fn clear_failed_logins(&self, login: &str) -> Result<()> {
        self.update_item(keys::login(login))
            .update_expression("REMOVE failedLogins, lockedUntil")
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn list_agents(&self) -> Result<Vec<Agent>> {
        let mut agents = Vec::new();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("entity = :agent")
            .expression_attribute_values(":agent", s("AGENT"))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            agents.push(decode(item.map_err(storage_error)?)?);
        }
        agents.sort_by_key(|agent: &Agent| agent.agent_id);
        Ok(agents)
    }

    async fn put_session(&self, session: &Session) -> Result<()> {
        let record = SessionRecord { agent_id: session.agent_id, expires_at: session.expires_at.as_second() };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(entity(keys::session(session.agent_id, &session.token_hash), "SESSION", &record)?))
            .send()
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn agent_and_session(&self, agent_id: u64, token_hash: &str) -> Result<Option<(Agent, Session)>> {
        let key = |(pk, sk): (String, String)| HashMap::from([(PK.to_owned(), s(&pk)), (SK.to_owned(), s(&sk))]);
        let wanted = KeysAndAttributes::builder()
            .keys(key(keys::agent(agent_id)))
            .keys(key(keys::session(agent_id, token_hash)))
            .consistent_read(true)
            .build()
            .map_err(Error::internal)?;
        let output =
            self.client.batch_get_item().request_items(&self.table, wanted).send().await.map_err(storage_error)?;
        if output.unprocessed_keys.as_ref().is_some_and(|keys| !keys.is_empty()) {
            return Err(Error::StorageUnavailable("batch read was throttled".into()));
        }
        let items = output.responses.and_then(|mut tables| tables.remove(&self.table)).unwrap_or_default();
        let (mut agent, mut session) = (None, None);
        for item in items {
            match item.get(SK).and_then(|sk| sk.as_s().ok()).map(String::as_str) {
                Some(keys::PROFILE) => agent = Some(decode::<Agent>(item)?),
                Some(_) => session = Some(decode::<SessionRecord>(item)?),
                None => {}
            }
        }
        Ok(agent.zip(session).map(|(agent, record)| {
            let expires_at = Timestamp::from_second(record.expires_at).unwrap_or(Timestamp::UNIX_EPOCH);
            (agent, Session { agent_id, token_hash: token_hash.to_owned(), expires_at })
        }))
    }

    async fn create_client(&self, client: &Client) -> Result<Write> {
        self.transact(self.client_items(client)?).await
    }

    async fn client(&self, client_id: u64) -> Result<Option<Client>> {
        self.get_as(keys::client(client_id)).await
    }

    async fn client_by_external_id(&self, external_id: &str) -> Result<Option<Client>> {
        self.client_by_pointer(keys::external_id(external_id)).await
    }

    async fn client_by_unauthorized_id(&self, unauthorized_id: &str) -> Result<Option<Client>> {
        self.client_by_pointer(keys::unauthorized_id(unauthorized_id)).await
    }

    async fn device(&self, channel: ChannelType, app_marker: Option<&str>, address: &str) -> Result<Option<Device>> {
        self.get_as(keys::device(channel, app_marker, address)).await
    }

    async fn bind_device(
        &self,
        new_client: Option<&Client>,
        device: &Device,
        previous_client: Option<u64>,
    ) -> Result<Write> {
        let mut items = match new_client {
            Some(client) => self.client_items(client)?,
            None => Vec::new(),
        };
        let key = keys::device(device.channel_type, device.app_marker.as_deref(), &device.device_address);
        items.push(match previous_client {
            None => self.put_new(entity(key, "DEVICE", device)?)?,
            Some(previous) => self.update(
                key,
                "SET clientId = :client",
                "clientId = :previous",
                HashMap::from([(":client".into(), n(device.client_id)), (":previous".into(), n(previous))]),
            )?,
        });
        self.transact(items).await
    }

    async fn thread(&self, thread_id: u64) -> Result<Option<Thread>> {
        self.get_as(keys::thread(thread_id)).await
    }

    async fn append_message(&self, message: &Message, key: Option<&CompletedKey>) -> Result<Write> {
        let mut items = vec![
            self.put_new(entity(keys::message(message.thread_id, message.message_id), "MESSAGE", message)?)?,
            self.update(
                keys::thread(message.thread_id),
                "SET lastMessageTime = :at ADD messageCount :one",
                "#status = :open",
                HashMap::from([
                    (":at".into(), s(&message.created_at.to_string())),
                    (":one".into(), n(1)),
                    (":open".into(), s("OPEN")),
                ]),
            )?,
        ];
        if let Some(key) = key {
            items.push(self.completed_key_item(key)?);
        }
        self.transact(items).await
    }

    async fn open_thread(&self, thread: &Thread, message: &Message, key: Option<&CompletedKey>) -> Result<Write> {
        let mut items = vec![
            self.put_new(entity(keys::thread(thread.thread_id), "THREAD", thread)?)?,
            self.update(
                keys::client(thread.client_id),
                "SET openThreadId = :thread",
                "attribute_exists(pk) AND attribute_not_exists(openThreadId)",
                HashMap::from([(":thread".into(), n(thread.thread_id))]),
            )?,
            self.put_new(entity(keys::message(message.thread_id, message.message_id), "MESSAGE", message)?)?,
        ];
        if let Some(key) = key {
            items.push(self.completed_key_item(key)?);
        }
        self.transact(items).await
    }

    async fn close_thread(&self, thread: &Thread) -> Result<Write> {
        self.transact(vec![
            self.update(
                keys::thread(thread.thread_id),
                "SET #status = :closed",
                "#status = :open",
                HashMap::from([(":closed".into(), s("CLOSED")), (":open".into(), s("OPEN"))]),
            )?,
            self.update(
                keys::client(thread.client_id),
                "REMOVE openThreadId",
                "openThreadId = :thread",
                HashMap::from([(":thread".into(), n(thread.thread_id))]),
            )?,
        ])
        .await
    }

    async fn messages(&self, thread_id: u64, limit: usize, before: Option<u64>) -> Result<MessagePage> {
        let (pk, _) = keys::thread(thread_id);
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(&pk))
            .scan_index_forward(false)
            .consistent_read(true)
            // One more than asked tells whether another page follows.
            .limit(limit as i32 + 1);
        let query = match before {
            None => query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(keys::MESSAGE_PREFIX)),
            Some(0 | 1) => return Ok(MessagePage { messages: vec![], next_before: None }),
            Some(before) => query
                .key_condition_expression("pk = :pk AND sk BETWEEN :low AND :high")
                .expression_attribute_values(":low", s(&keys::message_sort_key(0)))
                .expression_attribute_values(":high", s(&keys::message_sort_key(before - 1))),
        };
        let output = query.send().await.map_err(storage_error)?;
        let mut messages =
            output.items.unwrap_or_default().into_iter().map(decode).collect::<Result<Vec<Message>>>()?;
        let next_before = if messages.len() > limit {
            messages.truncate(limit);
            messages.last().map(|message| message.message_id)
        } else {
            None
        };
        Ok(MessagePage { messages, next_before })
    }

    async fn claim_key(&self, record_key: &str, request_hash: &str, lease: Duration) -> Result<KeyClaim> {
        let now = Timestamp::now().as_second();
        let record = KeyRecord {
            state: KeyState::InProgress,
            request_hash: request_hash.to_owned(),
            lease_until: now + lease.as_secs() as i64,
            response: None,
            expires_at: epoch_after(KEY_RETENTION),
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(keyed(keys::idempotency(record_key), &record)?))
            // Free, expired (TTL deletion lags), or abandoned by a request that died mid-way.
            .condition_expression(
                "attribute_not_exists(pk) OR #expires < :now OR (#state = :in_progress AND leaseUntil < :now)",
            )
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":in_progress", s("IN_PROGRESS"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let existing = match result {
            Ok(_) => return Ok(KeyClaim::Claimed),
            Err(err) => match err.as_service_error() {
                Some(service) if service.is_conditional_check_failed_exception() => {
                    let returned = match service {
                        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(
                            failed,
                        ) => failed.item.clone(),
                        _ => None,
                    };
                    match returned {
                        Some(item) => Some(item),
                        None => self.get(keys::idempotency(record_key)).await?,
                    }
                }
                _ => return Err(storage_error(err)),
            },
        };
        let Some(existing) = existing else {
            // Released between our put and our read: tell the caller to retry.
            return Ok(KeyClaim::InProgress);
        };
        let existing: KeyRecord = decode(existing)?;
        Ok(match (existing.request_hash == request_hash, existing.state, existing.response) {
            (false, _, _) => KeyClaim::Mismatch,
            (true, KeyState::Done, Some(response)) => KeyClaim::Completed(response),
            (true, _, _) => KeyClaim::InProgress,
        })
    }

    async fn release_key(&self, record_key: &str) -> Result<()> {
        let (pk, sk) = keys::idempotency(record_key);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .condition_expression("#state = :in_progress")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":in_progress", s("IN_PROGRESS"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(err) => Err(storage_error(err)),
        }
    }
}
