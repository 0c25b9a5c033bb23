//! Customers' messages, posted by a channel gateway: the device rule of sending to a device
//! finds or creates the client, the message joins or opens its thread in one transaction, and a
//! provider's retry of the same message (same channel, same provider id) stores nothing.

use jiff::Timestamp;

use crate::core::devices::{self, DeviceTarget, Lookup};
use crate::core::error::{Input, Problem};
use crate::core::idempotency::KeyClaimed;
use crate::core::model::Sender;
use crate::core::sending::{self, Draft, Received};
use crate::core::validation::MessageContent;
use crate::store::{ClientStore, IdStore, ThreadStore};
use crate::{Error, Result};

/// Attempts to settle the device's client and thread when concurrent first messages race.
const MAX_ATTEMPTS: u32 = 12;
/// Longest provider message id accepted (WhatsApp's `wamid.` ids are about 60 characters).
pub const MAX_PROVIDER_MESSAGE_ID_CHARS: usize = 255;

/// A checked incoming message.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub target: DeviceTarget,
    pub content: MessageContent,
    pub provider_message_id: Option<String>,
    pub received_at: Option<Timestamp>,
}

impl Incoming {
    pub fn check(
        target: DeviceTarget,
        content: MessageContent,
        provider_message_id: Option<String>,
        received_at: Option<String>,
    ) -> Result<Incoming> {
        if let Some(id) = &provider_message_id {
            check_provider_message_id(id)?;
        }
        let received_at = received_at.map(|at| parse_time(&at, Input::ReceivedAt)).transpose()?;
        Ok(Incoming { target, content, provider_message_id, received_at })
    }
}

/// 1 to 255 printable characters without spaces (a provider's own id).
pub fn check_provider_message_id(id: &str) -> Result<()> {
    let chars = id.chars().count();
    if chars == 0 || chars > MAX_PROVIDER_MESSAGE_ID_CHARS || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(Input::ProviderMessageId, Problem::NotToken { max: MAX_PROVIDER_MESSAGE_ID_CHARS }));
    }
    Ok(())
}

/// An RFC 3339 date-time with an offset.
pub fn parse_time(text: &str, field: Input) -> Result<Timestamp> {
    text.parse::<Timestamp>().map_err(|_| Error::invalid(field, Problem::NotTimestamp))
}

/// What is read before writing: the device and the client the descriptor names, and the first
/// message with the same provider id, if there was one.
#[derive(Debug, Clone)]
pub struct IncomingLookup {
    pub device: Lookup,
    pub duplicate: Option<Received>,
}

/// Reads the device (and named client) and the provider id's item concurrently.
pub async fn look_up(store: &(impl ClientStore + ThreadStore), incoming: &Incoming) -> Result<IncomingLookup> {
    let device = devices::look_up(store, &incoming.target);
    let duplicate = async {
        match &incoming.provider_message_id {
            Some(id) => store.provider_message(incoming.target.channel, id).await,
            None => Ok(None),
        }
    };
    let (device, duplicate) = tokio::try_join!(device, duplicate)?;
    Ok(IncomingLookup { device, duplicate })
}

/// Stores the customer's message (or finds the first one with its provider id).
pub async fn receive(
    store: &(impl ClientStore + ThreadStore + IdStore),
    incoming: &Incoming,
    lookup: IncomingLookup,
    claim: Option<KeyClaimed>,
) -> Result<Received> {
    if let Some(first) = lookup.duplicate {
        return Ok(first);
    }
    let target = &incoming.target;
    let provider = incoming.provider_message_id.as_deref().map(|id| (target.channel, id));
    let mut draft = Draft::from_customer(incoming.content.clone());
    draft.when_posted = incoming.received_at;
    let mut device = lookup.device;
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            sending::back_off(attempt).await;
            // A concurrent retry of the provider may have stored this message meanwhile.
            if let Some((channel, id)) = provider
                && let Some(first) = store.provider_message(channel, id).await?
            {
                return Ok(first);
            }
            device = devices::look_up(store, target).await?;
        }
        let recipient = devices::resolve(store, target, device.clone()).await?;
        let delivered =
            sending::deliver_once(store, Sender::Customer, &recipient, draft.clone(), claim.as_ref(), provider).await?;
        if let Some(delivery) = delivered {
            return Ok(Received::from(&delivery));
        }
    }
    Err(Error::StorageUnavailable(format!(
        "a {} device kept changing while a message came in",
        target.channel.as_str()
    )))
}
