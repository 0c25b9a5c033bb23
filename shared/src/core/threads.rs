//! Threads (SuperOffice: chat sessions): opening one without a message, reading them back with
//! their messages, and closing them.

use jiff::Timestamp;

use crate::core::clients::{MAX_DISPLAY_NAME_CHARS, new_client};
use crate::core::error::{Input, Problem};
use crate::core::idempotency::KeyClaimed;
use crate::core::model::{Client, Thread, ThreadStatus};
use crate::store::{
    Alongside, ClientStore, IdKind, IdStore, MessagePage, MessagePosition, PageStart, ThreadStore, Write,
};
use crate::{Error, Result};

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 100;

/// A thread with what its readers want to know of its client.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadSummary {
    pub thread: Thread,
    pub client_external_id: Option<String>,
    pub client_display_name: Option<String>,
}

impl ThreadSummary {
    fn new(thread: Thread, client: Option<Client>) -> Self {
        let (client_external_id, client_display_name) =
            client.map(|client| (client.external_id, client.display_name)).unwrap_or_default();
        ThreadSummary { thread, client_external_id, client_display_name }
    }
}

/// Whose session a new one is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCustomer {
    /// An existing client by internal id.
    ClientId(u64),
    /// An existing client by authorized external id.
    ExternalId(String),
    /// A new anonymous client, with this display name when given.
    New { display_name: Option<String> },
}

pub async fn existing_thread(store: &impl ThreadStore, thread_id: u64) -> Result<Thread> {
    store.thread(thread_id).await?.ok_or_else(|| Error::none_with(Input::ThreadId, thread_id.to_string()))
}

pub async fn summary(store: &impl ClientStore, thread: Thread) -> Result<ThreadSummary> {
    let client = store.client(thread.client_id).await?;
    Ok(ThreadSummary::new(thread, client))
}

pub async fn get_thread(store: &(impl ThreadStore + ClientStore), thread_id: u64) -> Result<ThreadSummary> {
    let thread = existing_thread(store, thread_id).await?;
    summary(store, thread).await
}

/// A page size from the raw text of the query parameter that gives it.
pub fn page_size(raw: Option<&str>) -> Result<usize> {
    match raw {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(raw) => crate::json::count_text(raw)
            .map(|limit| limit as usize)
            .filter(|limit| (1..=MAX_PAGE_SIZE).contains(limit))
            .ok_or_else(|| {
                Error::invalid(Input::Limit, Problem::IntegerOutOfRange { min: 1, max: MAX_PAGE_SIZE as u64 })
            }),
    }
}

/// One page of the thread's messages; the thread's existence is checked alongside.
pub async fn list_messages(
    store: &impl ThreadStore,
    thread_id: u64,
    limit: usize,
    start: PageStart,
) -> Result<MessagePage> {
    let (thread, page) = tokio::join!(existing_thread(store, thread_id), store.messages(thread_id, limit, start));
    thread?;
    page
}

/// Messages accepted after the one with id `after` (0: from the first), oldest first.
pub async fn list_messages_after(
    store: &impl ThreadStore,
    thread_id: u64,
    after: u64,
    limit: usize,
) -> Result<MessagePage> {
    if after == 0 {
        return list_messages(store, thread_id, limit, PageStart::OldestAfter(None)).await;
    }
    let (_, message) = store
        .thread_with_message(thread_id, after)
        .await?
        .ok_or_else(|| Error::none_with(Input::ThreadId, thread_id.to_string()))?;
    let message = message.ok_or_else(|| Error::NotFound {
        message: format!("session {thread_id} has no message {after}").into(),
        field: Some(Input::After.into()),
    })?;
    store.messages(thread_id, limit, PageStart::OldestAfter(Some(MessagePosition::of(&message)))).await
}

/// Closes the thread; closing a closed thread changes nothing and answers the same.
pub async fn close_thread(store: &(impl ThreadStore + ClientStore), thread_id: u64) -> Result<ThreadSummary> {
    let mut thread = existing_thread(store, thread_id).await?;
    if thread.status == ThreadStatus::Open {
        if store.close_thread(&thread).await? == Write::Done {
            thread.status = ThreadStatus::Closed;
        } else {
            // Someone else changed it first: answer with what is stored, if it is now closed.
            thread = existing_thread(store, thread_id).await?;
            if thread.status != ThreadStatus::Closed {
                return Err(Error::conflict("THREAD_CHANGED", "the thread changed while it was being closed; retry"));
            }
        }
    }
    summary(store, thread).await
}

/// Opens a new, empty thread for the customer (SuperOffice's new chat session). A client keeps
/// one open thread: one that has it already gets 409 `SESSION_ALREADY_OPEN` naming it.
pub async fn open_session(
    store: &(impl ThreadStore + ClientStore + IdStore),
    customer: SessionCustomer,
    claim: Option<KeyClaimed>,
) -> Result<ThreadSummary> {
    let (existing, new) = match customer {
        SessionCustomer::ClientId(client_id) => {
            let client = store
                .client(client_id)
                .await?
                .ok_or_else(|| Error::none_with(Input::ClientId, client_id.to_string()))?;
            (Some(client), None)
        }
        SessionCustomer::ExternalId(external_id) => {
            let client = store
                .client_by_external_id(&external_id)
                .await?
                .ok_or_else(|| Error::none_with(Input::ExternalClientId, format!("{external_id:?}")))?;
            (Some(client), None)
        }
        SessionCustomer::New { display_name } => {
            if display_name.as_ref().is_some_and(|name| name.chars().count() > MAX_DISPLAY_NAME_CHARS) {
                return Err(Error::invalid(Input::DisplayName, Problem::LongerThan { max: MAX_DISPLAY_NAME_CHARS }));
            }
            (None, Some(new_client(store, None, None, display_name).await?))
        }
    };
    if let Some(open) = existing.as_ref().and_then(|client| client.open_thread_id) {
        return Err(already_open(open));
    }
    let now = Timestamp::now();
    let thread = Thread {
        thread_id: store.next_id(IdKind::Thread).await?,
        client_id: existing.as_ref().or(new.as_ref()).map_or(0, |client| client.client_id),
        status: ThreadStatus::Open,
        start_time: now,
        last_message_time: now,
        message_count: 0,
    };
    let new = new.map(|client| Client { open_thread_id: Some(thread.thread_id), ..client });
    let summary = ThreadSummary::new(thread, existing.or(new.clone()));
    let completed = claim.as_ref().map(|claim| claim.complete(&summary)).transpose()?;
    let alongside =
        Alongside { new_client: new.as_ref(), device: None, key: completed.as_ref(), provider_message: None };
    match store.open_thread(&summary.thread, None, &alongside).await? {
        Write::Done => Ok(summary),
        Write::Refused => {
            // The client opened a thread meanwhile.
            let client = store.client(summary.thread.client_id).await?;
            Err(client.and_then(|client| client.open_thread_id).map_or_else(
                || Error::conflict("THREAD_CHANGED", "the client changed while the session was being opened; retry"),
                already_open,
            ))
        }
    }
}

fn already_open(thread_id: u64) -> Error {
    Error::conflict("SESSION_ALREADY_OPEN", format!("the customer already has open session {thread_id}; post to it"))
}
