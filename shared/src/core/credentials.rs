//! Agents' credentials: Argon2id passwords, random bearer tokens stored only as hashes, and the
//! role check every endpoint makes.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::core::error::{Input, Problem, Refusal};
use crate::core::model::{Agent, Role};
use crate::store::{AgentStore, Application, IdKind, IdStore, Session, SessionKind, Write};
use crate::{Error, Result};

mod basic;

/// The same refusal for every failed login, so it tells nobody which part was wrong.
const BAD_CREDENTIALS: Refusal = Refusal::BadCredentials;
pub(crate) const BAD_TOKEN: Refusal = Refusal::BadToken;
const BAD_XSRF: Refusal = Refusal::BadXsrf;
const BAD_APP_TOKEN: Refusal = Refusal::BadAppToken;
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

/// A new secret (token or ticket) `<agentId>.<256 random bits>` and the hash under which it is
/// stored. The agent id in clear lets one read fetch both the agent and the session.
pub fn new_secret(agent_id: u64) -> (String, String) {
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
            Input::Password,
            Problem::CharacterCount { min: MIN_PASSWORD_CHARS, max: MAX_PASSWORD_CHARS, no_spaces: false },
        ));
    }
    Ok(())
}

/// Provisions a new enabled agent (the operator's command and tests).
pub async fn register_agent(
    store: &(impl AgentStore + IdStore),
    login: &str,
    role: Role,
    password: &str,
) -> Result<Agent> {
    let login = login.trim();
    if login.is_empty() || login.chars().count() > MAX_LOGIN_CHARS || login.chars().any(char::is_whitespace) {
        return Err(Error::invalid(
            Input::Login,
            Problem::CharacterCount { min: 1, max: MAX_LOGIN_CHARS, no_spaces: true },
        ));
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

async fn existing_agent(store: &impl AgentStore, login: &str) -> Result<Agent> {
    store.agent_by_login(login).await?.ok_or_else(|| Error::none_with(Input::Login, format!("{login:?}")))
}

pub async fn set_enabled(store: &impl AgentStore, login: &str, enabled: bool) -> Result<Agent> {
    let mut agent = existing_agent(store, login).await?;
    agent.enabled = enabled;
    store.update_agent(&agent).await?;
    if enabled {
        store.clear_failed_logins(login).await?;
    }
    Ok(agent)
}

pub async fn reset_password(store: &impl AgentStore, login: &str, password: &str) -> Result<Agent> {
    check_new_password(password)?;
    let mut agent = existing_agent(store, login).await?;
    agent.password_hash = hash_password(password)?;
    store.update_agent(&agent).await?;
    store.clear_failed_logins(login).await?;
    Ok(agent)
}

/// What a successful login hands out: the bearer token (also the session cookie), a SuperOffice
/// ticket, and the XSRF value that goes with the cookie.
#[derive(Debug, Clone)]
pub struct LoginGrant {
    pub agent: Agent,
    pub token: String,
    pub ticket: String,
    pub xsrf: String,
}

/// Checks a login and password, counting failures towards the lockout; the same failure for a
/// wrong password, an unknown login and a disabled agent.
pub async fn verify_login(store: &impl AgentStore, login: &str, password: &str) -> Result<Agent> {
    if login.trim().is_empty() || login.chars().count() > MAX_LOGIN_CHARS {
        return Err(Error::invalid(
            Input::Login,
            Problem::CharacterCount { min: 1, max: MAX_LOGIN_CHARS, no_spaces: false },
        ));
    }
    if password.is_empty() || password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(Error::invalid(
            Input::Password,
            Problem::CharacterCount { min: 1, max: MAX_PASSWORD_CHARS, no_spaces: false },
        ));
    }
    let login = login.trim();
    let found = store.agent_for_login(login).await?;
    let now = Timestamp::now();
    let lock_until = now.checked_add(LOCKOUT).map_err(Error::internal)?;
    let Some((agent, failed)) = found else {
        // A login nobody has counts its failures and locks like a real one (the store answers
        // `RateLimited` while it is locked), so that the lockout does not tell which logins
        // exist; the decoy hash makes it as slow.
        store.record_failed_login(login, MAX_FAILED_LOGINS, lock_until).await?;
        verify_password(decoy_hash(), password);
        return Err(Error::Unauthorized(BAD_CREDENTIALS));
    };
    if let Some(until) = failed.locked_until.filter(|until| *until > now) {
        let retry_after_secs = until.duration_since(now).as_secs().max(1) as u64;
        return Err(Error::RateLimited { retry_after_secs });
    }
    if verify_password(&agent.password_hash, password) && agent.enabled {
        if failed.count > 0 || failed.locked_until.is_some() {
            store.clear_failed_logins(login).await?;
        }
        return Ok(agent);
    }
    store.record_failed_login(login, MAX_FAILED_LOGINS, lock_until).await?;
    Err(Error::Unauthorized(BAD_CREDENTIALS))
}

pub async fn log_in(
    store: &impl AgentStore,
    login: &str,
    password: &str,
    ttl: std::time::Duration,
) -> Result<LoginGrant> {
    let agent = verify_login(store, login, password).await?;
    let (token, token_hash) = new_secret(agent.agent_id);
    let (ticket, ticket_hash) = new_secret(agent.agent_id);
    let expires_at = Timestamp::now()
        .checked_add(jiff::SignedDuration::try_from(ttl).map_err(Error::internal)?)
        .map_err(Error::internal)?;
    let session = |kind, secret_hash| Session { agent_id: agent.agent_id, kind, secret_hash, expires_at };
    store.put_sessions(&[session(SessionKind::Token, token_hash), session(SessionKind::Ticket, ticket_hash)]).await?;
    let xsrf = xsrf_for(&token);
    Ok(LoginGrant { agent, token, ticket, xsrf })
}

/// The XSRF value that goes with a session cookie: bound to the token, so that a page on another
/// site can neither read nor forge it.
pub fn xsrf_for(token: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"xsrf\0");
    digest.update(token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.finalize())
}

/// How a request proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A bearer token.
    Bearer(String),
    /// A login and password sent with each request.
    Basic { login: String, password: String },
    /// A SuperOffice ticket, with the token of the application that sends it.
    Ticket { ticket: String, app_token: Option<String> },
    /// The session cookie and the XSRF value that goes with it (double submit).
    Cookie { token: String, xsrf: Option<String> },
}

/// The agent behind `credentials`, if it may act in one of `roles`.
pub async fn authenticate(store: &impl AgentStore, credentials: &Credentials, roles: &[Role]) -> Result<Agent> {
    let agent = match credentials {
        Credentials::Bearer(token) => agent_for_secret(store, SessionKind::Token, token, None).await?,
        Credentials::Cookie { token, xsrf } => {
            let expected = xsrf_for(token);
            if !xsrf.as_deref().is_some_and(|xsrf| constant_time_eq(xsrf.as_bytes(), expected.as_bytes())) {
                return Err(Error::Unauthorized(BAD_XSRF));
            }
            agent_for_secret(store, SessionKind::Token, token, None).await?
        }
        Credentials::Ticket { ticket, app_token } => {
            let app_token = app_token.as_deref().ok_or(Error::Unauthorized(BAD_APP_TOKEN))?;
            agent_for_secret(store, SessionKind::Ticket, ticket, Some(app_token)).await?
        }
        Credentials::Basic { login, password } => basic::verify(store, login, password).await?,
    };
    check_role(&agent, roles)?;
    Ok(agent)
}

async fn agent_for_secret(
    store: &impl AgentStore,
    kind: SessionKind,
    secret: &str,
    app_token: Option<&str>,
) -> Result<Agent> {
    let agent_id: u64 =
        secret.split_once('.').and_then(|(id, _)| id.parse().ok()).ok_or(Error::Unauthorized(BAD_TOKEN))?;
    let app_hash = app_token.map(token_hash);
    let (agent, session, application) = store
        .agent_and_session(agent_id, kind, &token_hash(secret), app_hash.as_deref())
        .await?
        .ok_or(Error::Unauthorized(BAD_TOKEN))?;
    if !agent.enabled || session.expires_at <= Timestamp::now() {
        return Err(Error::Unauthorized(BAD_TOKEN));
    }
    if app_token.is_some() && application.is_none() {
        return Err(Error::Unauthorized(BAD_APP_TOKEN));
    }
    Ok(agent)
}

fn check_role(agent: &Agent, roles: &[Role]) -> Result<()> {
    if roles.contains(&agent.role) {
        return Ok(());
    }
    let allowed: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
    Err(Error::Forbidden(format!(
        "role {} may not do this; allowed roles: {}",
        agent.role.as_str(),
        allowed.join(", ")
    )))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Registers an application that may call with tickets; returns its application token (shown
/// once).
pub async fn register_application(store: &impl AgentStore, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_LOGIN_CHARS {
        return Err(Error::invalid(
            Input::ApplicationName,
            Problem::CharacterCount { min: 1, max: MAX_LOGIN_CHARS, no_spaces: false },
        ));
    }
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let token = format!("app.{}", URL_SAFE_NO_PAD.encode(secret));
    let application = Application { name: name.to_owned(), token_hash: token_hash(&token) };
    match store.register_application(&application).await? {
        Write::Done => Ok(token),
        Write::Refused => Err(Error::internal("a new application token collided")),
    }
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
        let (first, first_hash) = new_secret(42);
        let (second, _) = new_secret(42);
        assert_ne!(first, second);
        let (agent, secret) = first.split_once('.').unwrap();
        assert_eq!(agent, "42");
        assert!(URL_SAFE_NO_PAD.decode(secret).unwrap().len() * 8 >= 128);
        assert_eq!(first_hash, token_hash(&first));
        assert_eq!(first_hash.len(), 64);
        assert!(!first_hash.contains(secret));
    }
}
