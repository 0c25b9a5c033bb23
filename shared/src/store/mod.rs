//! The store: what the domain needs from the database, as one small trait per aggregate, and
//! their DynamoDB adapter. Keys and the access patterns behind each method are in
//! `docs/design.md`; attribute names used in expressions are in [`attributes`].

pub mod attributes;
pub mod changes;
mod dynamo;
mod keys;
mod metrics;
pub mod records;
pub mod webchat_records;
pub mod webhook_records;

pub use dynamo::DynamoStore;
pub use metrics::RequestCounter;

use std::time::Duration;

use crate::Result;
use crate::core::events::EventType;
use crate::core::model::{
    Agent, ChannelType, Client, DeliveryError, DeliveryState, DeliveryStatus, Device, Message, Thread,
};
use crate::core::sending::Received;
use crate::core::webchat::{Connection, Visitor};
use crate::core::webhooks::{Dispatch, DispatchKey, DispatchStatus, Secret, Subscription};

/// Which sequence a new identifier comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    Agent,
    Client,
    Thread,
    Message,
}

/// What a stored secret grants: a bearer token (also the session cookie) or a SuperOffice ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Token,
    Ticket,
}

/// A login session: the agent it belongs to and when it ends. The secret itself is never stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub agent_id: u64,
    pub kind: SessionKind,
    pub secret_hash: String,
    pub expires_at: jiff::Timestamp,
}

/// An application registered to call the SuperOffice endpoints with a ticket (`SO-AppToken`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub name: String,
    pub token_hash: String,
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

/// The finished record for an idempotency key, written in the same transaction as the work: the
/// work's *result* (JSON of a domain value), so a retry renders it in its own format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedKey {
    pub record_key: String,
    pub request_hash: String,
    /// The claim's owner token: only the request that holds the claim may complete it.
    pub owner: String,
    pub result: String,
}

/// A device to bind to the send's client in the send's own transaction: a new device record
/// when `previous_client` is `None`, else a move that holds only while the device still belongs
/// to `previous_client`.
#[derive(Debug, Clone, Copy)]
pub struct DeviceBinding<'a> {
    pub device: &'a Device,
    pub previous_client: Option<u64>,
}

/// Writes that ride in a send's transaction, so that a failed send leaves none of them behind.
#[derive(Debug, Clone, Copy, Default)]
pub struct Alongside<'a> {
    /// A client created by this send (written with its ids' uniqueness items).
    pub new_client: Option<&'a Client>,
    pub device: Option<DeviceBinding<'a>>,
    /// The completed idempotency record.
    pub key: Option<&'a CompletedKey>,
    /// A customer's message's provider id, made unique (`attribute_not_exists`) with where the
    /// message went.
    pub provider_message: Option<ProviderMessage<'a>>,
}

/// The item that makes a provider's message id unique on its channel, for as long as the
/// message exists: a retry of the provider finds the first message in it.
#[derive(Debug, Clone, Copy)]
pub struct ProviderMessage<'a> {
    pub channel: ChannelType,
    pub provider_message_id: &'a str,
    pub received: &'a Received,
}

/// A status a gateway reports for a message.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    pub status: DeliveryStatus,
    pub at: jiff::Timestamp,
    pub error: Option<DeliveryError>,
}

/// What a status update found: the message's delivery after it, and whether its status moved.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub message_id: u64,
    pub delivery: DeliveryState,
    pub moved: bool,
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClaim {
    /// The key is ours; do the work.
    Claimed,
    /// The same request already completed with this result.
    Completed(String),
    /// The same request is being processed by someone else right now.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

/// Where a message stands in its thread: accepted at this time (µs since the epoch), ties
/// broken by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MessagePosition {
    pub at_micros: i64,
    pub message_id: u64,
}

impl MessagePosition {
    pub fn of(message: &Message) -> Self {
        MessagePosition { at_micros: message.created_at.as_microsecond(), message_id: message.message_id }
    }
}

/// One page of a thread's messages.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// Where the next page continues (exclusive); `None` on the last page.
    pub next: Option<MessagePosition>,
}

/// Where a page of messages starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageStart {
    /// Newest first; only messages before this position when given.
    NewestBefore(Option<MessagePosition>),
    /// Oldest first; only messages after this position when given.
    OldestAfter(Option<MessagePosition>),
}

/// Unique identifiers.
#[allow(async_fn_in_trait)] // used with concrete types only; the futures are Send there
pub trait IdStore {
    /// A new identifier, unique per kind forever; increasing within a container, not across
    /// containers (each reserves its own block).
    async fn next_id(&self, kind: IdKind) -> Result<u64>;
}

/// Agents, their logins, sessions and the applications allowed to use tickets.
#[allow(async_fn_in_trait)]
pub trait AgentStore {
    /// Creates the agent; `Refused` when its login is taken.
    async fn create_agent(&self, agent: &Agent) -> Result<Write>;
    /// Replaces an existing agent's profile (role, enabled flag, password hash).
    async fn update_agent(&self, agent: &Agent) -> Result<()>;
    async fn agent(&self, agent_id: u64) -> Result<Option<Agent>>;
    async fn agent_by_login(&self, login: &str) -> Result<Option<Agent>> {
        Ok(self.agent_for_login(login).await?.map(|(agent, _)| agent))
    }
    /// The agent with this login and its recent failed logins.
    async fn agent_for_login(&self, login: &str) -> Result<Option<(Agent, FailedLogins)>>;
    /// Counts a failed login, of an unknown login too; after `limit` of them the login is locked
    /// until `lock_until`. `Err(RateLimited)` while the login is locked.
    async fn record_failed_login(&self, login: &str, limit: u32, lock_until: jiff::Timestamp) -> Result<()>;
    /// Forgets failed logins and any lock.
    async fn clear_failed_logins(&self, login: &str) -> Result<()>;
    async fn list_agents(&self) -> Result<Vec<Agent>>;

    async fn put_sessions(&self, sessions: &[Session]) -> Result<()>;
    /// The agent, its session of this kind and hash, and (for tickets) the application with this
    /// token hash, in one round trip.
    async fn agent_and_session(
        &self,
        agent_id: u64,
        kind: SessionKind,
        secret_hash: &str,
        app_token_hash: Option<&str>,
    ) -> Result<Option<(Agent, Session, Option<Application>)>>;

    /// Registers an application; `Refused` when the token hash exists (never in practice).
    async fn register_application(&self, application: &Application) -> Result<Write>;
}

/// Clients and their devices.
#[allow(async_fn_in_trait)]
pub trait ClientStore {
    /// Creates the client; `Refused` when its external id is taken.
    async fn create_client(&self, client: &Client) -> Result<Write>;
    async fn client(&self, client_id: u64) -> Result<Option<Client>>;
    async fn client_by_external_id(&self, external_id: &str) -> Result<Option<Client>>;
    async fn client_by_unauthorized_id(&self, unauthorized_id: &str) -> Result<Option<Client>>;

    async fn device(&self, channel: ChannelType, app_marker: Option<&str>, address: &str) -> Result<Option<Device>>;
}

/// Threads and their messages.
#[allow(async_fn_in_trait)]
pub trait ThreadStore {
    async fn thread(&self, thread_id: u64) -> Result<Option<Thread>>;
    /// Adds the message to its thread, with the writes `alongside`; `Refused` unless that thread
    /// is open (and the device binding still holds).
    async fn append_message(&self, message: &Message, alongside: &Alongside<'_>) -> Result<Write>;
    /// Opens `thread` for its client, with `message` as its first message when given; `Refused`
    /// when the client already has an open thread (a new client is written with `openThreadId`
    /// set), a name of a new client is taken, or the device binding no longer holds.
    async fn open_thread(&self, thread: &Thread, message: Option<&Message>, alongside: &Alongside<'_>)
    -> Result<Write>;
    /// Closes an open thread and frees its client for a new one; `Refused` unless it was open.
    async fn close_thread(&self, thread: &Thread) -> Result<Write>;
    /// One page of a thread's messages.
    async fn messages(&self, thread_id: u64, limit: usize, start: PageStart) -> Result<MessagePage>;
    /// The thread and, when it holds one with this id, the message: one query of the thread's
    /// partition (it reads the whole thread, which is what SuperOffice's `after=<id>` costs).
    async fn thread_with_message(&self, thread_id: u64, message_id: u64) -> Result<Option<(Thread, Option<Message>)>>;
    /// Moves the message's status forward (the condition holds the rank: never a read-then-write);
    /// an update that would move it back changes nothing but a missing time of its own status.
    /// `None` when there is no such message.
    async fn update_status(
        &self,
        thread_id: u64,
        position: MessagePosition,
        update: &StatusUpdate,
    ) -> Result<Option<StatusChange>>;
    /// The message at this place of the thread: one GetItem.
    async fn message_at(&self, thread_id: u64, position: MessagePosition) -> Result<Option<Message>>;
    /// Where a message is (its thread and place), from its id: one GetItem of its pointer.
    async fn message_location(&self, message_id: u64) -> Result<Option<(u64, MessagePosition)>>;
    /// Where the message this provider id was first stored under went, if it was.
    async fn provider_message(&self, channel: ChannelType, provider_message_id: &str) -> Result<Option<Received>>;
}

/// `Idempotency-Key` records.
#[allow(async_fn_in_trait)]
pub trait IdempotencyStore {
    /// Claims an idempotency key for a request with this hash, for at most `lease`, as `owner`
    /// (random per claim): a request whose lease ran out and was taken over cannot finish the
    /// new holder's claim.
    async fn claim_key(&self, record_key: &str, request_hash: &str, owner: &str, lease: Duration) -> Result<KeyClaim>;
    /// Gives a claimed key back after the request failed, so a retry runs afresh; a no-op unless
    /// `owner` still holds it.
    async fn release_key(&self, record_key: &str, owner: &str) -> Result<()>;
}

/// An event as recorded by the stream's consumer: its standard body and what finds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub event_id: String,
    pub event_type: EventType,
    pub at: jiff::Timestamp,
    pub thread_id: u64,
    pub message_id: Option<u64>,
    /// The message's position in its thread (message events).
    pub sequence: Option<u64>,
    /// The event's JSON in the standard format.
    pub body: String,
    /// When the consumer recorded it: the feed's order.
    pub recorded_at: jiff::Timestamp,
}

/// Where the feed continues: after this event of this day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPosition {
    pub day: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    pub events: Vec<RecordedEvent>,
    /// Where the next call continues; also given on the last page (new events come later).
    pub next: Option<FeedPosition>,
}

/// One page of a subscription's deliveries, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchPage {
    pub dispatches: Vec<Dispatch>,
    pub next: Option<DispatchKey>,
}

/// Events as the stream's consumer records them, and the feed that pages through them.
#[allow(async_fn_in_trait)]
pub trait EventStore {
    /// Records the event unless an event with its id is recorded; either way the recorded one
    /// (the first recording wins, so its sequence and feed position never change).
    async fn record_event(&self, event: &RecordedEvent) -> Result<RecordedEvent>;
    async fn event(&self, event_id: &str) -> Result<Option<RecordedEvent>>;
    /// Events recorded after `after` (from the oldest kept when `None`) and before `before`,
    /// oldest first, at most `limit`.
    async fn events_after(
        &self,
        after: Option<&FeedPosition>,
        before: jiff::Timestamp,
        limit: usize,
    ) -> Result<EventPage>;
}

/// Webhook subscriptions and their deliveries.
#[allow(async_fn_in_trait)]
pub trait WebhookStore {
    /// Writes a new subscription, and the completed idempotency record when a key was claimed
    /// (in the same transaction).
    async fn create_webhook(&self, subscription: &Subscription, key: Option<&CompletedKey>) -> Result<()>;
    /// Every subscription (one partition: there are few).
    async fn webhooks(&self) -> Result<Vec<Subscription>>;
    async fn webhook(&self, webhook_id: &str) -> Result<Option<Subscription>>;
    /// The deleted subscription, `None` when there was none. Its deliveries stay until they
    /// expire.
    async fn delete_webhook(&self, webhook_id: &str) -> Result<Option<Subscription>>;
    /// Makes `secret` the current one, the current one signing beside it for 24 h; `None` when
    /// there is no such subscription.
    async fn rotate_secret(
        &self,
        webhook_id: &str,
        secret: Secret,
        now: jiff::Timestamp,
    ) -> Result<Option<Subscription>>;
    /// Stops deliveries to the subscription (its receiver answered 410).
    async fn disable_webhook(&self, webhook_id: &str) -> Result<()>;

    /// Adds the delivery unless it exists (a batch the stream delivers again adds nothing).
    async fn add_dispatch(&self, dispatch: &Dispatch) -> Result<Write>;
    /// Takes the next attempt of a pending delivery that is due at `now`, counting it: one
    /// sender wins, the others get `None`. The delivery is due again at `lease_until`, so an
    /// attempt whose sender died is taken up again.
    async fn claim_dispatch(
        &self,
        key: &DispatchKey,
        now: jiff::Timestamp,
        lease_until: jiff::Timestamp,
    ) -> Result<Option<Dispatch>>;
    /// Records the outcome of the attempt `dispatch.attempts` (still the latest).
    async fn finish_attempt(&self, dispatch: &Dispatch) -> Result<()>;
    /// Pending deliveries of the subscription due by `now`, oldest due first.
    async fn due_dispatches(&self, webhook_id: &str, now: jiff::Timestamp, limit: usize) -> Result<Vec<DispatchKey>>;
    /// A page of the subscription's deliveries, newest first, of one status when given.
    async fn dispatches(
        &self,
        webhook_id: &str,
        status: Option<DispatchStatus>,
        limit: usize,
        before: Option<&DispatchKey>,
    ) -> Result<DispatchPage>;
    /// Makes every delivery of events in `[since, until]` pending again, with no attempt made;
    /// how many.
    async fn replay_dispatches(
        &self,
        webhook_id: &str,
        since: jiff::Timestamp,
        until: jiff::Timestamp,
        now: jiff::Timestamp,
    ) -> Result<u64>;
}

/// Web chat's visitor tokens and the live connections of visitors' pages.
#[allow(async_fn_in_trait)]
pub trait VisitorStore {
    /// Writes the token, with the client's new `WEB` device and the client itself when they are
    /// new, in one transaction; `Refused` when the client's external id or the device was taken
    /// meanwhile.
    async fn create_visitor(
        &self,
        visitor: &Visitor,
        device: Option<&Device>,
        new_client: Option<&Client>,
    ) -> Result<Write>;
    /// The token with this hash, expired or not.
    async fn visitor(&self, token_hash: &str) -> Result<Option<Visitor>>;
    /// Records the connection under its id and under its client (a push finds it there).
    async fn add_connection(&self, connection: &Connection) -> Result<()>;
    async fn connection(&self, connection_id: &str) -> Result<Option<Connection>>;
    /// The live connections of a client (one query).
    async fn connections_of(&self, client_id: u64) -> Result<Vec<Connection>>;
    /// Forgets the connection (closed by the page, or gone when a push was tried).
    async fn remove_connection(&self, connection_id: &str, client_id: u64) -> Result<()>;
}
