//! Agents' credentials: Argon2id passwords, random bearer tokens stored only as hashes, and the
//! role check every endpoint makes.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{Agent, Role};
use crate::store::{IdKind, Session, Store, Write};
use crate::{Error, Result};

/// Same text for every failed login, so it tells nobody which part was wrong.
const BAD_CREDENTIALS: &str = "login or password is incorrect";
const BAD_TOKEN: &str = "missing, invalid or expired credentials; log in with POST /api/auth/login";
pub const MAX_LOGIN_CHARS: usize = 128;
/// Failed logins in a row that lock a login, and for how long: enough for typos, too few and
/// too slow for guessing.
pub const MAX_FAILED_LOGINS: u32 = 5;
pub const LOCKOUT: jiff::SignedDuration = jiff::SignedDuration::from_mins(15);
pub const MAX_PASSWORD_CHARS: usize = 1_024;

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string()).map_err(Error::internal)
}

pub fn verify_password(phc_hash: &str, password: &str) -> bool {
    PasswordHash::new(phc_hash).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A hash to check against when the login is unknown, so that both failures take as long.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that matches nothing").unwrap_or_default())
}

/// A new bearer token `<agentId>.<256 random bits>` and the hash under which it is stored.
/// The agent id in clear lets one read fetch both the agent and the session.
pub fn new_token(agent_id: u64) -> (String, String) {
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let token = format!("{agent_id}.{}", URL_SAFE_NO_PAD.encode(secret));
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub const MIN_PASSWORD_CHARS: usize = 8;

fn check_new_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(Error::invalid(
            "password",
            format!("password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Provisions a new enabled agent (the operator's command and tests).
pub async fn register_agent(store: &impl Store, login: &str, role: Role, password: &str) -> Result<Agent> {
    let login = login.trim();
    if login.is_empty() || login.chars().count() > MAX_LOGIN_CHARS || login.chars().any(char::is_whitespace) {
        return Err(Error::invalid("login", format!("login must be 1 to {MAX_LOGIN_CHARS} characters without spaces")));
    }
    check_new_password(password)?;
    let agent = Agent {
        agent_id: store.next_id(IdKind::Agent).await?,
        login: login.to_owned(),
        role,
        enabled: true,
        password_hash: hash_password(password)?,
        created_at: Timestamp::now(),
    };
    match store.create_agent(&agent).await? {
        Write::Done => Ok(agent),
        Write::Refused => Err(Error::conflict("LOGIN_TAKEN", format!("login {login:?} is already taken"))),
    }
}

async fn existing_agent(store: &impl Store, login: &str) -> Result<Agent> {
    store
        .agent_by_login(login)
        .await?
        .ok_or_else(|| Error::not_found(Some("login"), format!("no agent with login {login:?}")))
}

pub async fn set_enabled(store: &impl Store, login: &str, enabled: bool) -> Result<Agent> {
    let mut agent = existing_agent(store, login).await?;
    agent.enabled = enabled;
    store.update_agent(&agent).await?;
    if enabled {
        store.clear_failed_logins(login).await?;
    }
    Ok(agent)
}

pub async fn reset_password(store: &impl Store, login: &str, password: &str) -> Result<Agent> {
    check_new_password(password)?;
    let mut agent = existing_agent(store, login).await?;
    agent.password_hash = hash_password(password)?;
    store.update_agent(&agent).await?;
    store.clear_failed_logins(login).await?;
    Ok(agent)
}

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

/// edna's login answer: `token` is ready to be sent as the `Authorization` header.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    pub user_id: u64,
    pub login: String,
    pub token: String,
    pub role: Role,
}

pub async fn log_in(
    store: &impl Store,
    request: LoginRequest,
    token_ttl: std::time::Duration,
) -> Result<LoginResponse> {
    if request.login.trim().is_empty() || request.login.chars().count() > MAX_LOGIN_CHARS {
        return Err(Error::invalid("login", format!("login must be 1 to {MAX_LOGIN_CHARS} characters")));
    }
    if request.password.is_empty() || request.password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(Error::invalid("password", format!("password must be 1 to {MAX_PASSWORD_CHARS} characters")));
    }
    let login = request.login.trim();
    let found = store.agent_for_login(login).await?;
    let now = Timestamp::now();
    if let Some(until) = found.as_ref().and_then(|(_, failed)| failed.locked_until).filter(|until| *until > now) {
        let retry_after_secs = until.duration_since(now).as_secs().max(1) as u64;
        return Err(Error::RateLimited { retry_after_secs });
    }
    let password_ok = verify_password(
        found.as_ref().map_or(decoy_hash(), |(agent, _)| agent.password_hash.as_str()),
        &request.password,
    );
    let agent = match found {
        Some((agent, failed)) if password_ok && agent.enabled => {
            if failed.count > 0 || failed.locked_until.is_some() {
                store.clear_failed_logins(login).await?;
            }
            agent
        }
        Some(_) => {
            let lock_until = now.checked_add(LOCKOUT).map_err(Error::internal)?;
            store.record_failed_login(login, MAX_FAILED_LOGINS, lock_until).await?;
            return Err(Error::Unauthorized(BAD_CREDENTIALS));
        }
        None => return Err(Error::Unauthorized(BAD_CREDENTIALS)),
    };
    let (token, token_hash) = new_token(agent.agent_id);
    let expires_at = Timestamp::now()
        .checked_add(jiff::SignedDuration::try_from(token_ttl).map_err(Error::internal)?)
        .map_err(Error::internal)?;
    store.put_session(&Session { agent_id: agent.agent_id, token_hash, expires_at }).await?;
    Ok(LoginResponse {
        user_id: agent.agent_id,
        login: agent.login,
        token: format!("Bearer {token}"),
        role: agent.role,
    })
}

/// The agent behind an `Authorization: Bearer <token>` header, if it may act in one of `roles`.
pub async fn authenticate(store: &impl Store, authorization: Option<&str>, roles: &[Role]) -> Result<Agent> {
    let token = authorization
        .and_then(|value| value.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(Error::Unauthorized(BAD_TOKEN))?;
    let agent_id: u64 =
        token.split_once('.').and_then(|(id, _)| id.parse().ok()).ok_or(Error::Unauthorized(BAD_TOKEN))?;
    let (agent, session) =
        store.agent_and_session(agent_id, &token_hash(token)).await?.ok_or(Error::Unauthorized(BAD_TOKEN))?;
    if !agent.enabled || session.expires_at <= Timestamp::now() {
        return Err(Error::Unauthorized(BAD_TOKEN));
    }
    if !roles.contains(&agent.role) {
        let allowed: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
        return Err(Error::Forbidden(format!(
            "role {} may not do this; allowed roles: {}",
            agent.role.as_str(),
            allowed.join(", ")
        )));
    }
    Ok(agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("correct horse"));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "correct horsE"));
        assert!(!verify_password("not a phc string", "correct horse"));
    }

    #[test]
    fn tokens_are_random_and_carry_the_agent_id() {
        let (first, first_hash) = new_token(42);
        let (second, _) = new_token(42);
        assert_ne!(first, second);
        let (agent, secret) = first.split_once('.').unwrap();
        assert_eq!(agent, "42");
        assert!(URL_SAFE_NO_PAD.decode(secret).unwrap().len() * 8 >= 128);
        assert_eq!(first_hash, token_hash(&first));
        assert_eq!(first_hash.len(), 64);
        assert!(!first_hash.contains(secret));
    }
}
