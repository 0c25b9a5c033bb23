//! The store: what the domain needs from the database, as a small trait, and its DynamoDB
//! adapter. Keys and the access patterns behind each method are in `docs/design.md`.

mod dynamo;
mod keys;
mod metrics;

pub use dynamo::DynamoStore;
pub use metrics::RequestCounter;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Result;
use crate::model::{Agent, ChannelType, Client, Device, Message, Thread};

/// Which sequence a new identifier comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Agent,
    Client,
    Thread,
    Message,
}

/// A login session: the agent it belongs to and when it ends. The token itself is never stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub agent_id: u64,
    pub token_hash: String,
    pub expires_at: jiff::Timestamp,
}

/// Failed logins since the last success, and the lock they caused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailedLogins {
    pub count: u32,
    pub locked_until: Option<jiff::Timestamp>,
}

/// The result of a conditional write the domain may have to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Write {
    Done,
    /// A condition did not hold (a name taken, a thread no longer open, a concurrent writer won).
    Refused,
}

/// A response kept for an `Idempotency-Key`, replayed to retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// The finished record for an idempotency key, written in the same transaction as the work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedKey {
    pub record_key: String,
    pub request_hash: String,
    pub response: StoredResponse,
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClaim {
    /// The key is ours; do the work.
    Claimed,
    /// The same request already completed: answer with this.
    Completed(StoredResponse),
    /// The same request is being processed by someone else right now.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

/// One page of a thread's messages, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// Pass as `before` to get the next page; `None` on the last page.
    pub next_before: Option<u64>,
}

/// What the domain needs from the database.
#[allow(async_fn_in_trait)] // used with concrete types only; the futures are Send there
pub trait Store {
    /// A new unique identifier, 1, 2, 3, ... per kind.
    async fn next_id(&self, kind: IdKind) -> Result<u64>;

    /// Creates the agent; `Refused` when its login is taken.
    async fn create_agent(&self, agent: &Agent) -> Result<Write>;
    /// Replaces an existing agent's profile (role, enabled flag, password hash).
    async fn update_agent(&self, agent: &Agent) -> Result<()>;
    async fn agent_by_login(&self, login: &str) -> Result<Option<Agent>> {
        Ok(self.agent_for_login(login).await?.map(|(agent, _)| agent))
    }
    /// The agent with this login and its recent failed logins.
    async fn agent_for_login(&self, login: &str) -> Result<Option<(Agent, FailedLogins)>>;
    /// Counts a failed login; after `limit` of them the login is locked until `lock_until`.
    async fn record_failed_login(&self, login: &str, limit: u32, lock_until: jiff::Timestamp) -> Result<()>;
    /// Forgets failed logins and any lock.
    async fn clear_failed_logins(&self, login: &str) -> Result<()>;
    async fn list_agents(&self) -> Result<Vec<Agent>>;

    async fn put_session(&self, session: &Session) -> Result<()>;
    /// The agent and its session for this token hash, in one round trip.
    async fn agent_and_session(&self, agent_id: u64, token_hash: &str) -> Result<Option<(Agent, Session)>>;

    /// Creates the client; `Refused` when its external id is taken.
    async fn create_client(&self, client: &Client) -> Result<Write>;
    async fn client(&self, client_id: u64) -> Result<Option<Client>>;
    async fn client_by_external_id(&self, external_id: &str) -> Result<Option<Client>>;
    async fn client_by_unauthorized_id(&self, unauthorized_id: &str) -> Result<Option<Client>>;

    async fn device(&self, channel: ChannelType, app_marker: Option<&str>, address: &str) -> Result<Option<Device>>;
    /// In one transaction: creates `new_client` when given, and binds `device` to
    /// `device.client_id` — a new device record when `previous_client` is `None`, else a move
    /// that holds only while the device still belongs to `previous_client`. `Refused` when a
    /// concurrent writer got there first (or a name of the new client is taken).
    async fn bind_device(
        &self,
        new_client: Option<&Client>,
        device: &Device,
        previous_client: Option<u64>,
    ) -> Result<Write>;

    async fn thread(&self, thread_id: u64) -> Result<Option<Thread>>;
    /// Adds the message to its thread; `Refused` unless that thread is open.
    async fn append_message(&self, message: &Message, key: Option<&CompletedKey>) -> Result<Write>;
    /// Opens `thread` for its client with `message` as the first message; `Refused` when the
    /// client already has an open thread.
    async fn open_thread(&self, thread: &Thread, message: &Message, key: Option<&CompletedKey>) -> Result<Write>;
    /// Closes an open thread and frees its client for a new one; `Refused` unless it was open.
    async fn close_thread(&self, thread: &Thread) -> Result<Write>;
    /// Messages of a thread, newest first, with ids below `before` when given.
    async fn messages(&self, thread_id: u64, limit: usize, before: Option<u64>) -> Result<MessagePage>;

    /// Claims an idempotency key for a request with this hash, for at most `lease`.
    async fn claim_key(&self, record_key: &str, request_hash: &str, lease: Duration) -> Result<KeyClaim>;
    /// Gives a claimed key back after the request failed, so a retry runs afresh.
    async fn release_key(&self, record_key: &str) -> Result<()>;
}
