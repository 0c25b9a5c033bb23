//! Sending a message: who the recipient is (identifier priority), which thread the message joins
//! (the client's open thread, else a new one), and posting into one named thread.

use std::time::Duration;

use jiff::Timestamp;

use crate::core::error::{Input, Problem};
use crate::core::idempotency::KeyClaimed;
use crate::core::model::{
    Agent, Attachment, ChannelType, Client, Device, Message, MessageType, Sender, SpecialType, Thread, ThreadStatus,
};
use crate::core::validation::{self, MessageContent};
use crate::store::{Alongside, ClientStore, DeviceBinding, IdKind, IdStore, ProviderMessage, ThreadStore, Write};
use crate::{Error, Result};

/// How often a send is retried when a concurrent writer changed the thread under it.
const MAX_ATTEMPTS: u32 = 12;

/// How the caller named the client, after the priority rule picked one identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    ThreadsClientId(u64),
    ClientId(String),
    ThreadId(u64),
}

impl Recipient {
    /// The highest-priority identifier present (internal client id > external client id >
    /// thread id), checked;
    /// lower-priority identifiers are ignored, not checked.
    pub fn choose(threads_client_id: Option<u64>, client_id: Option<String>, thread_id: Option<u64>) -> Result<Self> {
        if let Some(id) = threads_client_id {
            Ok(Recipient::ThreadsClientId(validation::check_id(id, Input::ClientId)?))
        } else if let Some(external_id) = client_id {
            validation::check_external_id(&external_id, Input::ExternalClientId)?;
            Ok(Recipient::ClientId(external_id))
        } else if let Some(id) = thread_id {
            Ok(Recipient::ThreadId(validation::check_id(id, Input::ThreadId)?))
        } else {
            Err(Error::invalid(Input::ClientId, Problem::NoRecipient))
        }
    }
}

/// A message as the caller wrote it, before it has an id and a thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub message_type: MessageType,
    pub special_type: SpecialType,
    pub special_param: Option<String>,
    pub author: Option<String>,
    pub read_by_customer: i32,
    pub when_posted: Option<Timestamp>,
}

impl Draft {
    /// An ordinary message from an agent to the customer.
    pub fn to_customer(content: MessageContent, agent: &Agent) -> Self {
        Draft {
            text: content.text,
            attachments: content.attachments,
            message_type: MessageType::ToCustomer,
            special_type: SpecialType::None,
            special_param: None,
            author: Some(agent.login.clone()),
            read_by_customer: 0,
            when_posted: None,
        }
    }

    /// A message the customer wrote, come in through a channel gateway.
    pub fn from_customer(content: MessageContent) -> Self {
        Draft {
            text: content.text,
            attachments: content.attachments,
            message_type: MessageType::ToUser,
            special_type: SpecialType::None,
            special_param: None,
            author: None,
            read_by_customer: 0,
            when_posted: None,
        }
    }

    fn into_message(self, message_id: u64, thread_id: u64, client_id: u64, sender: Sender, now: Timestamp) -> Message {
        Message {
            message_id,
            thread_id,
            client_id,
            sender,
            text: self.text,
            attachments: self.attachments,
            created_at: now,
            message_type: self.message_type,
            special_type: self.special_type,
            special_param: self.special_param,
            author: self.author,
            read_by_customer: self.read_by_customer,
            when_posted: self.when_posted,
            delivery: Default::default(),
        }
    }
}

/// What a send produced: the stored message and how its client is known. This is what an
/// idempotency key keeps, and every dialect renders its own answer from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub message: Message,
    pub client_external_id: Option<String>,
}

/// What the store keeps of a customer's message to answer its provider's retries, and what
/// the incoming route answers: where the message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub message_id: u64,
    pub thread_id: u64,
    pub client_id: u64,
    pub client_external_id: Option<String>,
}

impl From<&Delivery> for Received {
    fn from(delivery: &Delivery) -> Self {
        Received {
            message_id: delivery.message.message_id,
            thread_id: delivery.message.thread_id,
            client_id: delivery.message.client_id,
            client_external_id: delivery.client_external_id.clone(),
        }
    }
}

pub async fn find_client(store: &(impl ClientStore + ThreadStore), recipient: &Recipient) -> Result<Client> {
    let found = match recipient {
        Recipient::ThreadsClientId(id) => store.client(*id).await?,
        Recipient::ClientId(external_id) => store.client_by_external_id(external_id).await?,
        Recipient::ThreadId(thread_id) => match store.thread(*thread_id).await? {
            Some(thread) => Some(
                store
                    .client(thread.client_id)
                    .await?
                    .ok_or_else(|| Error::internal(format!("thread {thread_id} names a missing client")))?,
            ),
            None => None,
        },
    };
    found.ok_or_else(|| match recipient {
        Recipient::ThreadsClientId(id) => Error::none_with(Input::ClientId, id.to_string()),
        Recipient::ClientId(external_id) => Error::none_with(Input::ExternalClientId, format!("{external_id:?}")),
        Recipient::ThreadId(id) => Error::none_with(Input::ThreadId, id.to_string()),
    })
}

pub async fn send_outgoing(
    store: &(impl ClientStore + ThreadStore + IdStore),
    agent: &Agent,
    recipient: &Recipient,
    draft: Draft,
    claim: Option<KeyClaimed>,
) -> Result<Delivery> {
    let client = find_client(store, recipient).await?;
    deliver(store, agent, client, draft, claim).await
}

/// Adds the message to the client's open thread, opening one when there is none. The database
/// refuses a message for a thread that was closed meanwhile and a second open thread; either way
/// the client is read again and the message retried.
pub async fn deliver(
    store: &(impl ClientStore + ThreadStore + IdStore),
    agent: &Agent,
    mut client: Client,
    draft: Draft,
    claim: Option<KeyClaimed>,
) -> Result<Delivery> {
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
            client = store
                .client(client.client_id)
                .await?
                .ok_or_else(|| Error::internal(format!("client {} vanished", client.client_id)))?;
        }
        let recipient = Resolved { client: client.clone(), is_new: false, device: None };
        let sender = Sender::Agent(agent.agent_id);
        if let Some(delivery) = deliver_once(store, sender, &recipient, draft.clone(), claim.as_ref(), None).await? {
            return Ok(delivery);
        }
    }
    Err(Error::StorageUnavailable(format!(
        "a message for client {} lost {MAX_ATTEMPTS} races for its thread",
        client.client_id
    )))
}

/// The client a message goes to, as the send found it, and what the send must write about it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub client: Client,
    /// The client is new: the send creates it.
    pub is_new: bool,
    /// A device to bind to the client: (device, the client it belonged to before).
    pub device: Option<(Device, Option<u64>)>,
}

/// One try at writing the message, with the client and device writes it needs (and, for a
/// customer's message, the item that keeps its provider's id unique), in one transaction;
/// `None` when a condition failed (a concurrent writer got there first).
pub async fn deliver_once(
    store: &(impl ThreadStore + IdStore),
    sender: Sender,
    recipient: &Resolved,
    draft: Draft,
    claim: Option<&KeyClaimed>,
    provider: Option<(ChannelType, &str)>,
) -> Result<Option<Delivery>> {
    let client = &recipient.client;
    let message_id = store.next_id(IdKind::Message).await?;
    let now = Timestamp::now();
    let (thread_id, opening) = match client.open_thread_id {
        Some(thread_id) => (thread_id, false),
        None => (store.next_id(IdKind::Thread).await?, true),
    };
    let message = draft.into_message(message_id, thread_id, client.client_id, sender, now);
    let delivery = Delivery { message, client_external_id: client.external_id.clone() };
    let received = Received::from(&delivery);
    // What the key keeps is what the route answers: a customer's message, where it went.
    let completed = claim
        .map(|claim| match sender {
            Sender::Customer => claim.complete(&received),
            Sender::Agent(_) | Sender::System => claim.complete(&delivery),
        })
        .transpose()?;
    let provider_message = provider.map(|(channel, provider_message_id)| ProviderMessage {
        channel,
        provider_message_id,
        received: &received,
    });
    // A new client is written already naming the thread it opens.
    let new_client = recipient.is_new.then(|| Client { open_thread_id: Some(thread_id), ..client.clone() });
    let alongside = Alongside {
        new_client: new_client.as_ref(),
        device: recipient
            .device
            .as_ref()
            .map(|(device, previous_client)| DeviceBinding { device, previous_client: *previous_client }),
        key: completed.as_ref(),
        provider_message,
    };
    let write = if opening {
        let thread = Thread {
            thread_id,
            client_id: client.client_id,
            status: ThreadStatus::Open,
            start_time: now,
            last_message_time: now,
            message_count: 1,
        };
        store.open_thread(&thread, Some(&delivery.message), &alongside).await?
    } else {
        store.append_message(&delivery.message, &alongside).await?
    };
    Ok((write == Write::Done).then_some(delivery))
}

/// Adds the message to the named thread, which must be open: a closed thread is not reopened
/// by posting into it (409 `SESSION_CLOSED`).
pub async fn post_to_thread(
    store: &(impl ThreadStore + IdStore),
    agent: &Agent,
    mut thread: Thread,
    draft: Draft,
    claim: Option<KeyClaimed>,
) -> Result<Message> {
    let thread_id = thread.thread_id;
    let message_id = store.next_id(IdKind::Message).await?;
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            // Refused: closed meanwhile, or a concurrent post touched the thread first.
            back_off(attempt).await;
            thread = crate::core::threads::existing_thread(store, thread_id).await?;
        }
        if thread.status != ThreadStatus::Open {
            return Err(Error::conflict(
                SESSION_CLOSED,
                format!("session {thread_id} is closed; it takes no more messages"),
            ));
        }
        // Stamped at each try, so that the thread lists messages in the order they were accepted.
        let sender = Sender::Agent(agent.agent_id);
        let message = draft.clone().into_message(message_id, thread_id, thread.client_id, sender, Timestamp::now());
        let completed = claim.as_ref().map(|claim| claim.complete(&message)).transpose()?;
        let alongside = Alongside { key: completed.as_ref(), ..Alongside::default() };
        if store.append_message(&message, &alongside).await? == Write::Done {
            return Ok(message);
        }
    }
    Err(Error::StorageUnavailable(format!("message {message_id} lost {MAX_ATTEMPTS} races for thread {thread_id}")))
}

/// Conflict code: the thread was closed.
pub const SESSION_CLOSED: &str = "SESSION_CLOSED";

/// Jittered, growing pause so that concurrent senders to one client do not collide again.
pub(crate) async fn back_off(attempt: u32) {
    let ceiling_ms = 5u64 << attempt.min(6);
    let pause = rand::random::<u64>() % ceiling_ms + 1;
    tokio::time::sleep(Duration::from_millis(pause)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::Field;

    #[test]
    fn the_highest_priority_identifier_wins_and_the_others_are_ignored() {
        assert_eq!(Recipient::choose(Some(7), Some("ext".into()), Some(9)).unwrap(), Recipient::ThreadsClientId(7));
        assert_eq!(Recipient::choose(None, Some("ext".into()), Some(0)).unwrap(), Recipient::ClientId("ext".into()));
        assert_eq!(Recipient::choose(None, None, Some(9)).unwrap(), Recipient::ThreadId(9));
    }

    #[test]
    fn a_request_without_any_identifier_is_refused() {
        let err = Recipient::choose(None, None, None).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { field: Some(Field::Input(Input::ClientId)), .. }), "{err:?}");
    }

    #[test]
    fn the_chosen_identifier_must_be_valid() {
        let err = Recipient::choose(Some(0), Some("ext".into()), None).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { field: Some(Field::Input(Input::ClientId)), .. }));
        let err = Recipient::choose(None, Some(String::new()), None).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { field: Some(Field::Input(Input::ExternalClientId)), .. }));
    }
}
