//! Agents, logins, sessions and applications.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{DynamoStore, Key, NamePointer, decode, entity, keyed, n, number_attribute, s, storage_error};
use crate::core::model::Agent;
use crate::store::attributes as attr;
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

impl AgentStore for DynamoStore {
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
            .condition_expression(format!("attribute_exists({})", attr::PK.placeholder()))
            .expression_attribute_names(attr::PK.placeholder(), attr::PK.name())
            .send()
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn agent(&self, agent_id: u64) -> Result<Option<Agent>> {
        self.get_as(keys::agent(agent_id)).await
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

    async fn record_failed_login(&self, login: &str, limit: u32, lock_until: Timestamp) -> Result<()> {
        let (pk, failed, locked) = (attr::PK, attr::FAILED_LOGINS, attr::LOCKED_UNTIL);
        let counted = self
            .update_item(keys::login(login))
            .update_expression(format!("ADD {} :one", failed.placeholder()))
            .condition_expression(format!("attribute_exists({})", pk.placeholder()))
            .expression_attribute_names(failed.placeholder(), failed.name())
            .expression_attribute_names(pk.placeholder(), pk.name())
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(storage_error)?;
        let count = number_attribute(counted.attributes.as_ref(), failed).unwrap_or(0);
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
            agents.push(decode(item.map_err(storage_error)?)?);
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
                agent = Some(decode::<Agent>(item)?);
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
