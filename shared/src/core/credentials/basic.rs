//! Basic credentials (a login and password with every request): the password is checked against its Argon2id hash once, then the
//! container remembers for a short while that this login and password were right — under a keyed
//! hash, never the password — so that a warm container does not hash on every call.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{BAD_TOKEN, verify_login};
use crate::core::model::Agent;
use crate::store::AgentStore;
use crate::{Error, Result};

/// How long a verified login and password are trusted without hashing again.
const TRUST: Duration = Duration::from_secs(60);
/// Entries kept at most; the cache is emptied when full (a container serves few agents).
const CAPACITY: usize = 1_024;

struct Verified {
    agent_id: u64,
    /// The hash the password was verified against: a new password invalidates the entry.
    password_hash: String,
    at: Instant,
}

/// Random per container, so that the cache keys say nothing outside it.
static KEY: LazyLock<[u8; 32]> = LazyLock::new(|| {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    key
});
static CACHE: LazyLock<Mutex<HashMap<[u8; 32], Verified>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn cache_key(login: &str, password: &str) -> [u8; 32] {
    let mut digest = Sha256::new();
    for part in [&KEY[..], login.as_bytes(), b"\0", password.as_bytes()] {
        digest.update(part);
    }
    digest.finalize().into()
}

/// The agent with this login and password. A remembered pair costs one read of the agent (so a
/// disabled agent or a changed password takes effect at once); anything else the full check.
pub(super) async fn verify(store: &impl AgentStore, login: &str, password: &str) -> Result<Agent> {
    let key = cache_key(login, password);
    let remembered = CACHE.lock().ok().and_then(|cache| {
        cache.get(&key).filter(|entry| entry.at.elapsed() < TRUST).map(|e| (e.agent_id, e.password_hash.clone()))
    });
    if let Some((agent_id, password_hash)) = remembered {
        match store.agent(agent_id).await? {
            Some(agent) if agent.enabled && agent.password_hash == password_hash => return Ok(agent),
            Some(agent) if !agent.enabled => return Err(Error::Unauthorized(BAD_TOKEN)),
            _ => {}
        }
    }
    let agent = verify_login(store, login, password).await?;
    if let Ok(mut cache) = CACHE.lock() {
        if cache.len() >= CAPACITY {
            cache.clear();
        }
        cache.insert(
            key,
            Verified { agent_id: agent.agent_id, password_hash: agent.password_hash.clone(), at: Instant::now() },
        );
    }
    Ok(agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keys_depend_on_both_parts_and_hide_them() {
        let key = cache_key("ada", "secret password");
        assert_ne!(key, cache_key("ada", "secret passworD"));
        assert_ne!(key, cache_key("ad", "asecret password"));
        assert_eq!(key, cache_key("ada", "secret password"));
        assert!(!hex::encode(key).contains("secret"));
    }
}
