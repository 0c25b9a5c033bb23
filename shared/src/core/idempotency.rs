//! Idempotency keys: the first request's result is kept for 24 h and given to retries, which
//! render it in their own negotiated format.

use std::future::Future;
use std::time::Duration;

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::core::error::{Input, Problem};
use crate::store::{CompletedKey, IdempotencyStore, KeyClaim};
use crate::{Error, Result};

/// Longest a request may hold a key before a retry may take it over (well above the function
/// timeout).
const LEASE: Duration = Duration::from_secs(30);

/// A key claimed for one request; the work hands it back as a [`CompletedKey`] to write in its
/// own transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyClaimed {
    record_key: String,
    request_hash: String,
    owner: String,
}

impl KeyClaimed {
    pub fn complete(&self, result: &impl Replayable) -> Result<CompletedKey> {
        Ok(CompletedKey {
            record_key: self.record_key.clone(),
            request_hash: self.request_hash.clone(),
            owner: self.owner.clone(),
            result: result.to_replay()?,
        })
    }
}

/// A result a key keeps for its retries: how it is written into the key's record and read back
/// (the stored form is the store's, `crate::store::records`, not a dialect's body).
pub trait Replayable: Sized {
    fn to_replay(&self) -> Result<String>;
    fn from_replay(stored: &str) -> Result<Self>;
}

/// A token no other claim has: a request that outlived its lease cannot complete or release the
/// claim of the retry that took the key over.
fn new_owner() -> String {
    let mut token = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut token);
    hex::encode(token)
}

/// The request's key, scoped to the calling agent, and a hash of what the request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    record_key: String,
    request_hash: String,
}

impl RequestKey {
    /// Reads the header value; `None` when the caller sent no key.
    pub fn from_header(
        header: Option<&str>,
        agent_id: u64,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Option<Self>> {
        let Some(key) = header else { return Ok(None) };
        let printable = key.bytes().all(|byte| (0x20..=0x7e).contains(&byte));
        if key.is_empty() || key.len() > 255 || !printable {
            return Err(Error::invalid(Input::IdempotencyKey, Problem::PrintableCount { min: 1, max: 255 }));
        }
        let key_hash = hex::encode(Sha256::digest(key.as_bytes()));
        let mut request = Sha256::new();
        for part in [method.as_bytes(), b"\n", path.as_bytes(), b"\n", body] {
            request.update(part);
        }
        Ok(Some(RequestKey {
            record_key: format!("{agent_id}#{key_hash}"),
            request_hash: hex::encode(request.finalize()),
        }))
    }
}

/// What an idempotent request produced, and whether it is the first request's result.
#[derive(Debug)]
pub struct Outcome<T> {
    pub value: T,
    pub replayed: bool,
}

/// Runs `work` at most once per key. Without a key it simply runs.
pub async fn once<S, T, F, Fut>(store: &S, key: Option<RequestKey>, work: F) -> Result<Outcome<T>>
where
    S: IdempotencyStore,
    T: Replayable,
    F: FnOnce(Option<KeyClaimed>) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let fresh = |value| Outcome { value, replayed: false };
    let Some(key) = key else { return work(None).await.map(fresh) };
    let owner = new_owner();
    match store.claim_key(&key.record_key, &key.request_hash, &owner, LEASE).await? {
        KeyClaim::Claimed => {}
        KeyClaim::Completed(result) => {
            let value = T::from_replay(&result)?;
            return Ok(Outcome { value, replayed: true });
        }
        KeyClaim::InProgress => {
            return Err(Error::conflict("IDEMPOTENCY_KEY_IN_PROGRESS", Problem::InProgress));
        }
        KeyClaim::Mismatch => return Err(Error::IdempotencyKeyReused),
    }
    let claim = KeyClaimed { record_key: key.record_key.clone(), request_hash: key.request_hash, owner: owner.clone() };
    match work(Some(claim)).await {
        Ok(value) => Ok(fresh(value)),
        // A write that may still be applied completes the claim if it is: the claim stays, and
        // a retry finds the stored result, or the claim free once its lease is over.
        Err(err @ Error::OutcomeUnknown(_)) => Err(err),
        Err(err) => {
            // A failed request writes nothing, its key included: a retry runs afresh.
            if let Err(release) = store.release_key(&key.record_key, &owner).await {
                tracing::warn!(error = %release, "could not release idempotency key");
            }
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_scoped_to_the_agent_and_hashed() {
        let a = RequestKey::from_header(Some("order-1"), 1, "POST", "/p", b"{}").unwrap().unwrap();
        let b = RequestKey::from_header(Some("order-1"), 2, "POST", "/p", b"{}").unwrap().unwrap();
        assert_ne!(a.record_key, b.record_key);
        assert!(!a.record_key.contains("order-1"));
        assert_eq!(a.request_hash, b.request_hash);
        let other_body = RequestKey::from_header(Some("order-1"), 1, "POST", "/p", b"{ }").unwrap().unwrap();
        assert_ne!(a.request_hash, other_body.request_hash);
    }

    #[test]
    fn bad_keys_are_refused_naming_the_header() {
        for bad in ["", "tab\there", "é", &"k".repeat(256)] {
            match RequestKey::from_header(Some(bad), 1, "POST", "/p", b"") {
                Err(Error::InvalidInput { field: Some(field), .. }) => {
                    assert_eq!(field, crate::core::error::Field::Input(Input::IdempotencyKey))
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(RequestKey::from_header(Some(&"k".repeat(255)), 1, "POST", "/p", b"").unwrap().is_some());
        assert!(RequestKey::from_header(None, 1, "POST", "/p", b"").unwrap().is_none());
    }

    impl Replayable for u8 {
        fn to_replay(&self) -> Result<String> {
            Ok(self.to_string())
        }
        fn from_replay(stored: &str) -> Result<Self> {
            stored.parse().map_err(Error::internal)
        }
    }

    /// Remembers the owners it was given.
    #[derive(Default)]
    struct Owners {
        claimed: std::sync::Mutex<Vec<String>>,
        released: std::sync::Mutex<Vec<String>>,
    }

    impl IdempotencyStore for Owners {
        async fn claim_key(&self, _: &str, _: &str, owner: &str, _: Duration) -> Result<KeyClaim> {
            self.claimed.lock().unwrap().push(owner.to_owned());
            Ok(KeyClaim::Claimed)
        }
        async fn release_key(&self, _: &str, owner: &str) -> Result<()> {
            self.released.lock().unwrap().push(owner.to_owned());
            Ok(())
        }
    }

    #[tokio::test]
    async fn each_claim_is_completed_and_released_by_its_own_owner() {
        let store = Owners::default();
        let key = || RequestKey::from_header(Some("k"), 1, "POST", "/p", b"{}").unwrap();
        let completed = std::sync::Mutex::new(None);
        let done = once(&store, key(), |claim| async {
            *completed.lock().unwrap() = Some(claim.unwrap().complete(&1)?);
            Ok(1u8)
        });
        assert_eq!(done.await.unwrap().value, 1);
        let completed = completed.into_inner().unwrap().unwrap();
        let failed = once(&store, key(), |_| async { Err::<u8, _>(Error::internal("boom")) }).await;
        assert!(failed.is_err());
        let claimed = store.claimed.lock().unwrap().clone();
        assert_eq!(claimed.len(), 2);
        assert_ne!(claimed[0], claimed[1], "every claim has its own owner");
        assert!(claimed[0].len() >= 32, "{claimed:?}");
        assert_eq!(completed.owner, claimed[0]);
        assert_eq!(*store.released.lock().unwrap(), vec![claimed[1].clone()]);
    }
}
