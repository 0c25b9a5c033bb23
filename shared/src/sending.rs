//! Sending a message to a client: who the recipient is (identifier priority) and which thread the
//! message joins (the client's open thread, else a new one).

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::idempotency::KeyClaimed;
use crate::model::{Agent, Attachment, Client, Message, Thread, ThreadStatus};
use crate::store::{IdKind, Store, Write};
use crate::validation::{self, MessageContent, RawContent};
use crate::{Error, Result};

/// How often a send is retried when a concurrent writer changed the thread under it.
const MAX_ATTEMPTS: u32 = 12;

/// Body of `POST /api/v1/messages/outgoing` (seed 000).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutgoingRequest {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub attachments: Option<Vec<Attachment>>,
    /// External client id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Internal client id.
    #[serde(default)]
    pub threads_client_id: Option<u64>,
    #[serde(default)]
    pub thread_id: Option<u64>,
}

/// How the caller named the client, after the priority rule picked one identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    ThreadsClientId(u64),
    ClientId(String),
    ThreadId(u64),
}

impl OutgoingRequest {
    /// Picks the highest-priority identifier present (threadsClientId > clientId > threadId) and
    /// checks the content. Lower-priority identifiers are ignored, not checked.
    pub fn validate(self) -> Result<(Recipient, MessageContent)> {
        let recipient = if let Some(id) = self.threads_client_id {
            Recipient::ThreadsClientId(validation::check_id(id, "threadsClientId")?)
        } else if let Some(external_id) = self.client_id {
            validation::check_external_id(&external_id, "clientId")?;
            Recipient::ClientId(external_id)
        } else if let Some(id) = self.thread_id {
            Recipient::ThreadId(validation::check_id(id, "threadId")?)
        } else {
            return Err(Error::invalid(
                "threadsClientId",
                "name the client with one of threadsClientId, clientId or threadId",
            ));
        };
        let content = RawContent { text: self.text, attachments: self.attachments }.validate()?;
        Ok((recipient, content))
    }
}

/// The answer to a send (seeds 000 and 001).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    pub id: u64,
    pub thread_id: u64,
    pub client_id: u64,
    pub client_external_id: Option<String>,
    pub agent_id: u64,
}

pub async fn find_client(store: &impl Store, recipient: &Recipient) -> Result<Client> {
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
        Recipient::ThreadsClientId(id) => {
            Error::not_found(Some("threadsClientId"), format!("no client with threadsClientId {id}"))
        }
        Recipient::ClientId(external_id) => {
            Error::not_found(Some("clientId"), format!("no client with clientId {external_id:?}"))
        }
        Recipient::ThreadId(id) => Error::not_found(Some("threadId"), format!("no thread with threadId {id}")),
    })
}

pub async fn send_outgoing(
    store: &impl Store,
    agent: &Agent,
    recipient: &Recipient,
    content: MessageContent,
    claim: Option<KeyClaimed>,
) -> Result<SentMessage> {
    let client = find_client(store, recipient).await?;
    deliver(store, agent, client, content, claim).await
}

/// Adds the message to the client's open thread, opening one when there is none. The database
/// refuses a message for a thread that was closed meanwhile and a second open thread; either way
/// the client is read again and the message retried.
pub async fn deliver(
    store: &impl Store,
    agent: &Agent,
    mut client: Client,
    content: MessageContent,
    claim: Option<KeyClaimed>,
) -> Result<SentMessage> {
    let message_id = store.next_id(IdKind::Message).await?;
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
            client = store
                .client(client.client_id)
                .await?
                .ok_or_else(|| Error::internal(format!("client {} vanished", client.client_id)))?;
        }
        let now = Timestamp::now();
        let (thread_id, opening) = match client.open_thread_id {
            Some(thread_id) => (thread_id, false),
            None => (store.next_id(IdKind::Thread).await?, true),
        };
        let message = Message {
            message_id,
            thread_id,
            client_id: client.client_id,
            agent_id: agent.agent_id,
            text: content.text.clone(),
            attachments: content.attachments.clone(),
            created_at: now,
        };
        let sent = SentMessage {
            id: message_id,
            thread_id,
            client_id: client.client_id,
            client_external_id: client.external_id.clone(),
            agent_id: agent.agent_id,
        };
        let completed = claim.as_ref().map(|claim| claim.complete(200, &sent)).transpose()?;
        let write = if opening {
            let thread = Thread {
                thread_id,
                client_id: client.client_id,
                status: ThreadStatus::Open,
                start_time: now,
                last_message_time: now,
                message_count: 1,
            };
            store.open_thread(&thread, &message, completed.as_ref()).await?
        } else {
            store.append_message(&message, completed.as_ref()).await?
        };
        if write == Write::Done {
            return Ok(sent);
        }
    }
    Err(Error::StorageUnavailable(format!(
        "message {message_id} for client {} lost {MAX_ATTEMPTS} races for its thread",
        client.client_id
    )))
}

/// Jittered, growing pause so that concurrent senders to one client do not collide again.
pub(crate) async fn back_off(attempt: u32) {
    let ceiling_ms = 5u64 << attempt.min(6);
    let pause = rand::random::<u64>() % ceiling_ms + 1;
    tokio::time::sleep(Duration::from_millis(pause)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> OutgoingRequest {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_highest_priority_identifier_wins_and_the_others_are_ignored() {
        let all = r#"{"text":"hi","threadsClientId":7,"clientId":"ext","threadId":9}"#;
        assert_eq!(request(all).validate().unwrap().0, Recipient::ThreadsClientId(7));
        let two = r#"{"text":"hi","clientId":"ext","threadId":0}"#;
        assert_eq!(request(two).validate().unwrap().0, Recipient::ClientId("ext".into()));
        let one = r#"{"text":"hi","threadId":9}"#;
        assert_eq!(request(one).validate().unwrap().0, Recipient::ThreadId(9));
    }

    #[test]
    fn a_request_without_any_identifier_is_refused() {
        let err = request(r#"{"text":"hi","clientId":null}"#).validate().unwrap_err();
        assert!(matches!(err, Error::InvalidInput { field: Some(ref f), .. } if f == "threadsClientId"), "{err:?}");
    }

    #[test]
    fn the_chosen_identifier_must_be_valid() {
        let err = request(r#"{"text":"hi","threadsClientId":0,"clientId":"ext"}"#).validate().unwrap_err();
        assert!(matches!(err, Error::InvalidInput { field: Some(ref f), .. } if f == "threadsClientId"));
        let err = request(r#"{"text":"hi","clientId":""}"#).validate().unwrap_err();
        assert!(matches!(err, Error::InvalidInput { field: Some(ref f), .. } if f == "clientId"));
    }
}
