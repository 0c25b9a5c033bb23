//! `Idempotency-Key` records: a claim with a lease, completed in the work's own transaction.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{DynamoStore, decode, keyed, n, s, storage_error};
use crate::Result;
use crate::store::attributes::{self as attr, spelling};
use crate::store::{CompletedKey, IdempotencyStore, KeyClaim, keys};

/// How long a completed request's result is kept.
const KEY_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

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
    /// The token of the request holding the claim (absent on records older than the field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    /// The domain result of the completed request (JSON), rendered afresh for each retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<String>,
    expires_at: i64,
}

fn epoch_after(duration: Duration) -> i64 {
    Timestamp::now().as_second() + duration.as_secs() as i64
}

impl DynamoStore {
    /// The `DONE` record, to be written in the work's own transaction; only the holder of the
    /// claim (still in progress, same request hash, same owner) may write it: a request that
    /// outlived its lease finds the key taken over, and its transaction is refused.
    pub(super) fn completed_key_item(&self, key: &CompletedKey) -> Result<TransactWriteItem> {
        let record = KeyRecord {
            state: KeyState::Done,
            request_hash: key.request_hash.clone(),
            lease_until: 0,
            owner: Some(key.owner.clone()),
            result: Some(key.result.clone()),
            expires_at: epoch_after(KEY_RETENTION),
        };
        let (state, hash, owner) = (attr::STATE, attr::REQUEST_HASH, attr::OWNER);
        self.put(
            keyed(keys::idempotency(&key.record_key), &record)?,
            Some(format!(
                "{} = :in_progress AND {} = :hash AND {} = :owner",
                state.placeholder(),
                hash.placeholder(),
                owner.placeholder()
            )),
            &[state, hash, owner],
            HashMap::from([
                (":in_progress".into(), spelling(KeyState::InProgress)),
                (":hash".into(), s(&key.request_hash)),
                (":owner".into(), s(&key.owner)),
            ]),
        )
    }
}

impl IdempotencyStore for DynamoStore {
    async fn claim_key(&self, record_key: &str, request_hash: &str, owner: &str, lease: Duration) -> Result<KeyClaim> {
        let now = Timestamp::now().as_second();
        let record = KeyRecord {
            state: KeyState::InProgress,
            request_hash: request_hash.to_owned(),
            lease_until: now + lease.as_secs() as i64,
            owner: Some(owner.to_owned()),
            result: None,
            expires_at: epoch_after(KEY_RETENTION),
        };
        let (pk, expires, state, lease_until) = (attr::PK, attr::EXPIRES_AT, attr::STATE, attr::LEASE_UNTIL);
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(keyed(keys::idempotency(record_key), &record)?))
            // Free, expired (TTL deletion lags), or abandoned by a request that died mid-way.
            .condition_expression(format!(
                "attribute_not_exists({}) OR {} < :now OR ({} = :in_progress AND {} < :now)",
                pk.placeholder(),
                expires.placeholder(),
                state.placeholder(),
                lease_until.placeholder()
            ))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":in_progress", spelling(KeyState::InProgress))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        for name in [pk, expires, state, lease_until] {
            request = request.expression_attribute_names(name.placeholder(), name.name());
        }
        let existing = match request.send().await {
            Ok(_) => return Ok(KeyClaim::Claimed),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => match failed.item.clone() {
                    Some(item) => Some(item),
                    None => self.get(keys::idempotency(record_key)).await?,
                },
                _ => return Err(storage_error(err)),
            },
        };
        let Some(existing) = existing else {
            // Released between our put and our read: tell the caller to retry.
            return Ok(KeyClaim::InProgress);
        };
        let existing: KeyRecord = decode(existing)?;
        Ok(match (existing.request_hash == request_hash, existing.state, existing.result) {
            (false, _, _) => KeyClaim::Mismatch,
            (true, KeyState::Done, Some(result)) => KeyClaim::Completed(result),
            (true, _, _) => KeyClaim::InProgress,
        })
    }

    async fn release_key(&self, record_key: &str, owner: &str) -> Result<()> {
        let (pk, sk) = keys::idempotency(record_key);
        let (state, owner_attr) = (attr::STATE, attr::OWNER);
        // Only our own unfinished claim: not a retry's that took it over after our lease ran out.
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(attr::PK.name(), AttributeValue::S(pk))
            .key(attr::SK.name(), AttributeValue::S(sk))
            .condition_expression(format!(
                "{} = :in_progress AND {} = :owner",
                state.placeholder(),
                owner_attr.placeholder()
            ))
            .expression_attribute_names(state.placeholder(), state.name())
            .expression_attribute_names(owner_attr.placeholder(), owner_attr.name())
            .expression_attribute_values(":in_progress", spelling(KeyState::InProgress))
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(err) => Err(storage_error(err)),
        }
    }
}
