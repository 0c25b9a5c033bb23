//! Web chat (the `WEB` channel the product delivers itself): a visitor of the business's site
//! gets a token for one client's `WEB` device; each WebSocket connection opened with it is that
//! client's, and reaches only that client's thread. What the page may do over a connection
//! (read the thread, send as the customer, mark messages read) is here; the frames it speaks
//! are `crate::webchat`'s.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use rand::RngCore;

use crate::core::clients::new_client;
use crate::core::credentials::token_hash;
use crate::core::devices::DeviceTarget;
use crate::core::error::{Input, Problem};
use crate::core::incoming::{self, Incoming};
use crate::core::model::{ChannelType, Client, DeliveryStatus, Device, Message, Thread};
use crate::core::sending::{self, Received};
use crate::core::validation::{self, MessageContent};
use crate::store::{
    ClientStore, IdStore, MessagePage, MessagePosition, PageStart, StatusChange, StatusUpdate, ThreadStore,
    VisitorStore, Write,
};
use crate::{Error, Result};

/// How long a visitor token lets a page connect: a day of visits to the business's site.
pub const TOKEN_LIFETIME: SignedDuration = SignedDuration::from_hours(24);
/// API Gateway closes a WebSocket after 2 hours; its item goes with it.
pub const CONNECTION_LIFETIME: SignedDuration = SignedDuration::from_hours(2);
/// The most messages a page is given when it (re)connects.
pub const HISTORY_LIMIT: usize = 100;
/// API Gateway's limit of one WebSocket frame; a larger message is refused as a whole.
pub const MAX_FRAME_BYTES: usize = 32 * 1024;
/// What tells a visitor token from the other secrets (agents' tokens start with their id).
const TOKEN_PREFIX: &str = "vt_";
/// Attempts to create a visitor when a concurrent request creates the same named client.
const MAX_ATTEMPTS: u32 = 6;

/// A visitor token as stored: only its hash, the client and device it stands for, and its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    pub token_hash: String,
    pub client_id: u64,
    pub device_address: String,
    pub expires_at: Timestamp,
}

/// Who a new visitor is, as the business's server names them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VisitorRequest {
    /// The client's authorized external id.
    pub external_id: Option<String>,
    pub unauthorized_id: Option<String>,
    /// The display name of a client created for the visitor.
    pub name: Option<String>,
}

/// Longest display name accepted for a visitor's new client.
pub const MAX_NAME_CHARS: usize = 255;

impl VisitorRequest {
    pub fn check(self) -> Result<VisitorRequest> {
        if self.external_id.is_some() && self.unauthorized_id.is_some() {
            let why = "a visitor's client is named by one external id, authorized or not, not both";
            return Err(Error::invalid(Input::UnauthorizedClientId, why));
        }
        if let Some(id) = &self.external_id {
            validation::check_external_id(id, Input::ExternalClientId)?;
        }
        if let Some(id) = &self.unauthorized_id {
            validation::check_external_id(id, Input::UnauthorizedClientId)?;
        }
        if let Some(name) = &self.name {
            validation::check_length(name, MAX_NAME_CHARS, Input::DisplayName)?;
        }
        Ok(self)
    }
}

/// A visitor just created: the token (shown once, to the business's server), its stored form,
/// and the client it stands for.
#[derive(Debug, Clone)]
pub struct NewVisitor {
    pub token: String,
    pub visitor: Visitor,
    pub client: Client,
}

/// The address of a client's one `WEB` device: every token of the client shares it.
pub fn device_address(client_id: u64) -> String {
    format!("visitor-{client_id}")
}

/// 256 random bits; only their hash is stored.
fn new_token() -> String {
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret))
}

/// Finds or creates the named client (a new anonymous one when none is named), its `WEB`
/// device, and a token for them, written in one transaction.
pub async fn create_visitor(
    store: &(impl VisitorStore + ClientStore + IdStore),
    request: &VisitorRequest,
) -> Result<NewVisitor> {
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            sending::back_off(attempt).await;
        }
        let named = match (&request.external_id, &request.unauthorized_id) {
            (Some(id), _) => store.client_by_external_id(id).await?,
            (None, Some(id)) => store.client_by_unauthorized_id(id).await?,
            (None, None) => None,
        };
        let (client, is_new) = match named {
            Some(client) => (client, false),
            None => {
                let client = new_client(
                    store,
                    request.external_id.clone(),
                    request.unauthorized_id.clone(),
                    request.name.clone(),
                )
                .await?;
                (client, true)
            }
        };
        let address = device_address(client.client_id);
        let device = match store.device(ChannelType::Web, None, &address).await? {
            Some(device) if device.client_id == client.client_id => None,
            Some(_) => {
                return Err(Error::conflict(
                    "DEVICE_BELONGS_TO_ANOTHER_CLIENT",
                    "this client's WEB device was bound to another client",
                ));
            }
            None => Some(Device {
                channel_type: ChannelType::Web,
                device_address: address.clone(),
                app_marker: None,
                client_id: client.client_id,
                created_at: Timestamp::now(),
            }),
        };
        let token = new_token();
        let expires_at = Timestamp::now().checked_add(TOKEN_LIFETIME).map_err(Error::internal)?;
        let visitor = Visitor {
            token_hash: token_hash(&token),
            client_id: client.client_id,
            device_address: address,
            expires_at,
        };
        let new_client = is_new.then_some(&client);
        if store.create_visitor(&visitor, device.as_ref(), new_client).await? == Write::Done {
            return Ok(NewVisitor { token, visitor, client });
        }
    }
    Err(Error::StorageUnavailable("the visitor's client kept changing while being created".into()))
}

/// A live WebSocket of a visitor's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub connection_id: String,
    pub client_id: u64,
    pub device_address: String,
    pub connected_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Admits a page that connects with `token`: a 401 for a token that is missing, unknown or
/// past its end (the table's TTL deletes expired items only eventually).
pub async fn connect(store: &impl VisitorStore, token: Option<&str>, connection_id: &str) -> Result<Connection> {
    let refused = || Error::Unauthorized(crate::core::error::Refusal::BadVisitorToken);
    let token = token.filter(|token| token.starts_with(TOKEN_PREFIX)).ok_or_else(refused)?;
    let now = Timestamp::now();
    let visitor =
        store.visitor(&token_hash(token)).await?.filter(|visitor| visitor.expires_at > now).ok_or_else(refused)?;
    let connection = Connection {
        connection_id: connection_id.to_owned(),
        client_id: visitor.client_id,
        device_address: visitor.device_address,
        connected_at: now,
        expires_at: now.checked_add(CONNECTION_LIFETIME).map_err(Error::internal)?,
    };
    store.add_connection(&connection).await?;
    Ok(connection)
}

/// The connection a frame came on; a 401 when it is not (or no longer) known, such as a frame
/// racing its connection's `$disconnect`.
pub async fn connection(store: &impl VisitorStore, connection_id: &str) -> Result<Connection> {
    store.connection(connection_id).await?.ok_or(Error::Unauthorized(crate::core::error::Refusal::BadVisitorToken))
}

/// What a page asks over its connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// The open thread's messages after this one (the newest [`HISTORY_LIMIT`] when `None`).
    Sync {
        after: Option<u64>,
    },
    /// A message of the visitor's, deduplicated by the page's own id for it.
    Send {
        content: MessageContent,
        page_message_id: String,
    },
    /// The visitor saw this message.
    Read {
        message_id: u64,
    },
    Ping,
}

/// What a request found or did.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    History { thread_id: Option<u64>, messages: Vec<Message> },
    Sent { page_message_id: String, message: Box<Message> },
    Read { message_id: u64, status: DeliveryStatus },
    Pong,
}

/// Runs what the page asked. `thread_id`, when the page names one, must be its client's open
/// thread (a 403 otherwise: a token reaches only its own client's thread).
pub async fn answer(
    store: &(impl ThreadStore + ClientStore + IdStore),
    connection: &Connection,
    thread_id: Option<u64>,
    request: Request,
) -> Result<Answer> {
    // The client's open thread, read once, when the page names a thread or asks for it.
    let open_thread = if thread_id.is_some() || matches!(request, Request::Sync { .. }) {
        let client = store
            .client(connection.client_id)
            .await?
            .ok_or_else(|| Error::internal(format!("connection of missing client {}", connection.client_id)))?;
        client.open_thread_id
    } else {
        None
    };
    if thread_id.is_some() && thread_id != open_thread {
        return Err(not_yours("thread"));
    }
    match request {
        Request::Ping => Ok(Answer::Pong),
        Request::Sync { after } => {
            let Some(thread_id) = open_thread else {
                return Ok(Answer::History { thread_id: None, messages: Vec::new() });
            };
            Ok(Answer::History { thread_id: Some(thread_id), messages: history(store, thread_id, after).await? })
        }
        Request::Send { content, page_message_id } => {
            let message = send(store, connection, content, &page_message_id).await?;
            Ok(Answer::Sent { page_message_id, message: Box::new(message) })
        }
        Request::Read { message_id } => {
            let change = mark_read(store, connection, message_id).await?;
            Ok(Answer::Read { message_id, status: change.delivery.status })
        }
    }
}

fn not_yours(what: &str) -> Error {
    Error::Forbidden(format!("this {what} is not the visitor's"))
}

/// The thread's messages after `after` (when it is one of the thread's), oldest first; else
/// the newest [`HISTORY_LIMIT`].
async fn history(store: &impl ThreadStore, thread_id: u64, after: Option<u64>) -> Result<Vec<Message>> {
    let start = match after {
        Some(message_id) => match store.message_location(message_id).await? {
            Some((thread, position)) if thread == thread_id => Some(position),
            _ => None,
        },
        None => None,
    };
    let page: MessagePage = match start {
        Some(position) => store.messages(thread_id, HISTORY_LIMIT, PageStart::OldestAfter(Some(position))).await?,
        None => {
            let mut page = store.messages(thread_id, HISTORY_LIMIT, PageStart::NewestBefore(None)).await?;
            page.messages.reverse();
            page
        }
    };
    Ok(page.messages)
}

/// The visitor's message, as a gateway's incoming message on the client's `WEB` device: the
/// page's id for it deduplicates a resend after a reconnect.
async fn send(
    store: &(impl ThreadStore + ClientStore + IdStore),
    connection: &Connection,
    content: MessageContent,
    page_message_id: &str,
) -> Result<Message> {
    let target = DeviceTarget {
        channel: ChannelType::Web,
        address: connection.device_address.clone(),
        app_marker: None,
        client_id: None,
        unauthorized_client_id: None,
    };
    let incoming = Incoming {
        target,
        content,
        provider_message_id: Some(page_message_id_of(connection, page_message_id)),
        received_at: None,
    };
    let lookup = incoming::look_up(store, &incoming).await?;
    let received: Received = incoming::receive(store, &incoming, lookup, None).await?;
    if received.client_id != connection.client_id {
        return Err(not_yours("device"));
    }
    let (_, position) = store
        .message_location(received.message_id)
        .await?
        .ok_or_else(|| Error::internal(format!("message {} just stored was not found", received.message_id)))?;
    store
        .message_at(received.thread_id, position)
        .await?
        .ok_or_else(|| Error::internal(format!("message {} just stored was not found", received.message_id)))
}

/// Pages' ids are unique per client only: two visitors' pages may pick the same one.
fn page_message_id_of(connection: &Connection, page_message_id: &str) -> String {
    format!("{}:{page_message_id}", connection.client_id)
}

/// Checks the page's own id for a message it sends (1 to 100 characters, no spaces).
pub fn check_page_message_id(id: &str, field: impl Into<crate::core::error::Field>) -> Result<()> {
    const MAX: usize = 100;
    let chars = id.chars().count();
    if chars == 0 || chars > MAX || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(field, Problem::NotToken { max: MAX }));
    }
    Ok(())
}

/// Marks a message of the visitor's own client `READ`.
async fn mark_read(store: &impl ThreadStore, connection: &Connection, message_id: u64) -> Result<StatusChange> {
    let not_found = || Error::none_with(Input::MessageId, message_id.to_string());
    let (thread_id, position): (u64, MessagePosition) =
        store.message_location(message_id).await?.ok_or_else(not_found)?;
    let thread: Thread = store.thread(thread_id).await?.ok_or_else(not_found)?;
    if thread.client_id != connection.client_id {
        return Err(not_yours("message"));
    }
    let update = StatusUpdate { status: DeliveryStatus::Read, at: Timestamp::now(), error: None };
    store.update_status(thread_id, position, &update).await?.ok_or_else(not_found)
}
