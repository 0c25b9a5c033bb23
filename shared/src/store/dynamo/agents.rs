//! Agents, logins, sessions and applications.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue, ReturnValuesOnConditionCheckFailure};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{DynamoStore, Key, NamePointer, decode, entity, keyed, n, number_attribute, s, storage_error};
use crate::core::model::Agent;
use crate::store::attributes as attr;
use crate::store::records::AgentRecord;
use crate::store::{AgentStore, Application, FailedLogins, Session, SessionKind, Write, keys};
use crate::{Error, Result};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionRecord {
    agent_id: u64,
    expires_at: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationRecord {
    name: String,
    created_at: Timestamp,
}

fn key_map((pk, sk): Key) -> HashMap<String, AttributeValue> {
    HashMap::from([(attr::PK.name().to_owned(), s(&pk)), (attr::SK.name().to_owned(), s(&sk))])
}

/// How long the failures of a login nobody has are kept after the last one: long enough that it
/// locks as a real login does, short enough that guessed names do not pile up in the table.
const UNKNOWN_LOGIN_RETENTION: SignedDuration = SignedDuration::from_hours(24);

/// What counting a failed login on one kind of `LOGIN#` item found.
enum Counted {
    /// Failures in a row, this one included.
    Failures(u64),
    /// Locked until then; nothing was counted.
    Locked(Timestamp),
    /// The item is of the other kind (an agent's login, or a name nobody has).
    OtherKind,
}

impl DynamoStore {
    /// Counts a failed login on the `LOGIN#` item of an agent (`known`), or else on an item that
    /// carries only the count, the lock and an `expiresAt` (TTL), so that a login nobody has
    /// locks like a real one and still disappears. Neither kind turns into the other here: a
    /// real login's item never gets a TTL.
    async fn count_failed_login(
        &self,
        login: &str,
        known: bool,
        now: Timestamp,
        lock_until: Timestamp,
    ) -> Result<Counted> {
        let (agent_id, failed, locked, expires) =
            (attr::AGENT_ID, attr::FAILED_LOGINS, attr::LOCKED_UNTIL, attr::EXPIRES_AT);
        let not_locked = format!("(attribute_not_exists({0}) OR {0} <= :now)", locked.placeholder());
        let mut request = self
            .update_item(keys::login(login))
            .expression_attribute_names(agent_id.placeholder(), agent_id.name())
            .expression_attribute_names(failed.placeholder(), failed.name())
            .expression_attribute_names(locked.placeholder(), locked.name())
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now.as_second()))
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        request = if known {
            request
                .update_expression(format!("ADD {} :one", failed.placeholder()))
                .condition_expression(format!("attribute_exists({}) AND {not_locked}", agent_id.placeholder()))
        } else {
            let expires_at = now.checked_add(UNKNOWN_LOGIN_RETENTION).map_err(Error::internal)?.max(lock_until);
            request
                .update_expression(format!(
                    "ADD {} :one SET {} = :expires",
                    failed.placeholder(),
                    expires.placeholder()
                ))
                .condition_expression(format!("attribute_not_exists({}) AND {not_locked}", agent_id.placeholder()))
                .expression_attribute_names(expires.placeholder(), expires.name())
                .expression_attribute_values(":expires", n(expires_at.as_second()))
        };
        match request.send().await {
            Ok(output) => Ok(Counted::Failures(number_attribute(output.attributes.as_ref(), failed).unwrap_or(0))),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(refused)) => {
                    let old = refused.item.as_ref();
                    let is_agent = old.is_some_and(|item| item.contains_key(agent_id.name()));
                    let until = number_attribute(old, locked).and_then(|at| Timestamp::from_second(at as i64).ok());
                    Ok(match until {
                        Some(until) if is_agent == known && until > now => Counted::Locked(until),
                        _ => Counted::OtherKind,
                    })
                }
                _ => Err(storage_error(err)),
            },
        }
    }
}

impl AgentStore for DynamoStore {
    async fn create_agent(&self, agent: &Agent) -> Result<Write> {
        let pointer = NamePointer { agent_id: Some(agent.agent_id), ..NamePointer::default() };
        // The login is free when its item is absent or only counts failures of somebody guessing
        // it (no agentId); the put replaces such an item, its count and TTL included.
        let (pk, agent_id) = (attr::PK, attr::AGENT_ID);
        let free_login =
            format!("attribute_not_exists({}) OR attribute_not_exists({})", pk.placeholder(), agent_id.placeholder());
        self.transact(vec![
            self.put_new(entity(keys::agent(agent.agent_id), "AGENT", &AgentRecord::from(agent))?)?,
            self.put(keyed(keys::login(&agent.login), &pointer)?, Some(free_login), &[pk, agent_id], HashMap::new())?,
        ])
        .await
    }

    async fn update_agent(&self, agent: &Agent) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(entity(keys::agent(agent.agent_id), "AGENT", &AgentRecord::from(agent))?))
            .condition_expression(format!("attribute_exists({})", attr::PK.placeholder()))
            .expression_attribute_names(attr::PK.placeholder(), attr::PK.name())
            .send()
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn agent(&self, agent_id: u64) -> Result<Option<Agent>> {
        Ok(self.get_as::<AgentRecord>(keys::agent(agent_id)).await?.map(Agent::from))
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
        Ok(self.agent(agent_id).await?.map(|agent| (agent, failed)))
    }

    /// A locked login counts nothing more and answers `RateLimited`: this is how a login nobody
    /// has gets locked, as [`Self::agent_for_login`] does not see it.
    async fn record_failed_login(&self, login: &str, limit: u32, lock_until: Timestamp) -> Result<()> {
        let (failed, locked) = (attr::FAILED_LOGINS, attr::LOCKED_UNTIL);
        let now = Timestamp::now();
        // Most failures are typos of real logins: their item first.
        let mut counted = self.count_failed_login(login, true, now, lock_until).await?;
        if let Counted::OtherKind = counted {
            counted = self.count_failed_login(login, false, now, lock_until).await?;
        }
        let count = match counted {
            Counted::Failures(count) => count,
            Counted::Locked(until) => {
                let retry_after_secs = until.duration_since(now).as_secs().max(1) as u64;
                return Err(Error::RateLimited { retry_after_secs });
            }
            // The login was created (or removed) between the two updates: nothing to count on.
            Counted::OtherKind => return Ok(()),
        };
        if count >= u64::from(limit) {
            self.update_item(keys::login(login))
                .update_expression(format!("SET {} = :until, {} = :zero", locked.placeholder(), failed.placeholder()))
                .expression_attribute_names(failed.placeholder(), failed.name())
                .expression_attribute_names(locked.placeholder(), locked.name())
                .expression_attribute_values(":until", n(lock_until.as_second()))
                .expression_attribute_values(":zero", n(0))
                .send()
                .await
                .map_err(storage_error)?;
        }
        Ok(())
    }

    async fn clear_failed_logins(&self, login: &str) -> Result<()> {
        let (pk, failed, locked) = (attr::PK, attr::FAILED_LOGINS, attr::LOCKED_UNTIL);
        self.update_item(keys::login(login))
            .update_expression(format!("REMOVE {}, {}", failed.placeholder(), locked.placeholder()))
            .condition_expression(format!("attribute_exists({})", pk.placeholder()))
            .expression_attribute_names(failed.placeholder(), failed.name())
            .expression_attribute_names(locked.placeholder(), locked.name())
            .expression_attribute_names(pk.placeholder(), pk.name())
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
            .filter_expression(format!("{} = :agent", attr::ENTITY.placeholder()))
            .expression_attribute_names(attr::ENTITY.placeholder(), attr::ENTITY.name())
            .expression_attribute_values(":agent", s("AGENT"))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            agents.push(Agent::from(decode::<AgentRecord>(item.map_err(storage_error)?)?));
        }
        agents.sort_by_key(|agent: &Agent| agent.agent_id);
        Ok(agents)
    }

    async fn put_sessions(&self, sessions: &[Session]) -> Result<()> {
        let items = sessions
            .iter()
            .map(|session| {
                let record = SessionRecord { agent_id: session.agent_id, expires_at: session.expires_at.as_second() };
                entity(keys::session(session.agent_id, session.kind, &session.secret_hash), "SESSION", &record)
            })
            .collect::<Result<Vec<_>>>()?;
        // Several sessions (a login's token and ticket) land together or not at all.
        let writes = items.into_iter().map(|item| self.put(item, None, &[], HashMap::new())).collect::<Result<_>>()?;
        match self.transact(writes).await? {
            Write::Done => Ok(()),
            Write::Refused => Err(Error::StorageUnavailable("session write was cancelled".into())),
        }
    }

    async fn agent_and_session(
        &self,
        agent_id: u64,
        kind: SessionKind,
        secret_hash: &str,
        app_token_hash: Option<&str>,
    ) -> Result<Option<(Agent, Session, Option<Application>)>> {
        let session_key = keys::session(agent_id, kind, secret_hash);
        let mut wanted = KeysAndAttributes::builder()
            .keys(key_map(keys::agent(agent_id)))
            .keys(key_map(session_key.clone()))
            .consistent_read(true);
        if let Some(hash) = app_token_hash {
            wanted = wanted.keys(key_map(keys::application(hash)));
        }
        let wanted = wanted.build().map_err(Error::internal)?;
        let output =
            self.client.batch_get_item().request_items(&self.table, wanted).send().await.map_err(storage_error)?;
        if output.unprocessed_keys.as_ref().is_some_and(|keys| !keys.is_empty()) {
            return Err(Error::StorageUnavailable("batch read was throttled".into()));
        }
        let items = output.responses.and_then(|mut tables| tables.remove(&self.table)).unwrap_or_default();
        let (mut agent, mut session, mut application) = (None, None, None);
        for item in items {
            let pk = item.get(attr::PK.name()).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let sk = item.get(attr::SK.name()).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            if (pk.as_str(), sk.as_str()) == (session_key.0.as_str(), session_key.1.as_str()) {
                session = Some(decode::<SessionRecord>(item)?);
            } else if sk == keys::PROFILE {
                agent = Some(Agent::from(decode::<AgentRecord>(item)?));
            } else if let Some(hash) = app_token_hash {
                let record = decode::<ApplicationRecord>(item)?;
                application = Some(Application { name: record.name, token_hash: hash.to_owned() });
            }
        }
        Ok(agent.zip(session).map(|(agent, record)| {
            let expires_at = Timestamp::from_second(record.expires_at).unwrap_or(Timestamp::UNIX_EPOCH);
            (agent, Session { agent_id, kind, secret_hash: secret_hash.to_owned(), expires_at }, application)
        }))
    }

    async fn register_application(&self, application: &Application) -> Result<Write> {
        let record = ApplicationRecord { name: application.name.clone(), created_at: Timestamp::now() };
        self.transact(vec![self.put_new(entity(keys::application(&application.token_hash), "APP", &record)?)?]).await
    }
}
