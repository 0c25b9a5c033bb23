//! Sending to a device (seed 001): the application descriptor, per-channel address checks, and
//! which client a device belongs to.

use jiff::Timestamp;

use crate::core::clients::new_client;
use crate::core::error::{DevicePart, Input, Problem};
use crate::core::idempotency::KeyClaimed;
use crate::core::model::{Agent, ChannelType, Client, Device, Identification, Sender};
use crate::core::sending::{self, Delivery, Draft};
use crate::core::validation;
use crate::store::{ClientStore, IdStore, ThreadStore};
use crate::{Error, Result};

/// Attempts to settle a device's client when concurrent first sends race for it.
const MAX_ATTEMPTS: u32 = 12;
pub const MAX_TOKEN_CHARS: usize = 1_024;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_APP_MARKER_CHARS: usize = 255;

/// A checked descriptor: the device and how the request names its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceTarget {
    pub channel: ChannelType,
    pub address: String,
    pub app_marker: Option<String>,
    /// Authorized external id.
    pub client_id: Option<String>,
    pub unauthorized_client_id: Option<String>,
}

impl DeviceTarget {
    /// Checks a descriptor's parts; errors name them as [`Input::Device`] parts.
    pub fn check(
        channel_type: Option<String>,
        device_address: Option<String>,
        app_marker: Option<String>,
        client_id: Option<String>,
        unauthorized_client_id: Option<String>,
    ) -> Result<DeviceTarget> {
        let field = Input::Device;
        let allowed = || ChannelType::ALL.map(ChannelType::as_str).to_vec();
        let channel_name = channel_type
            .ok_or_else(|| Error::invalid(field(DevicePart::Channel), Problem::RequiredOneOf { allowed: allowed() }))?;
        let channel = ChannelType::parse(&channel_name).ok_or_else(|| {
            Error::invalid(
                field(DevicePart::Channel),
                Problem::UnknownValue { given: channel_name.clone(), allowed: allowed() },
            )
        })?;
        let raw_address =
            device_address.ok_or_else(|| Error::invalid(field(DevicePart::Address), Problem::Required))?;
        let address =
            normalise_address(channel, &raw_address).map_err(|why| Error::invalid(field(DevicePart::Address), why))?;
        // The marker tells apps on one mobile device apart; other channels have no apps.
        let app_marker = match (channel, app_marker) {
            (ChannelType::Mobile, Some(marker)) => {
                check_token(&marker, MAX_APP_MARKER_CHARS)
                    .map_err(|why| Error::invalid(field(DevicePart::AppMarker), why))?;
                Some(marker)
            }
            _ => None,
        };
        for (part, value) in
            [(DevicePart::ExternalClientId, &client_id), (DevicePart::UnauthorizedClientId, &unauthorized_client_id)]
        {
            if let Some(value) = value {
                validation::check_external_id(value, field(part))?;
            }
        }
        Ok(DeviceTarget { channel, address, app_marker, client_id, unauthorized_client_id })
    }
}

/// The address in the form devices are stored under, or why it is not one for this channel.
pub fn normalise_address(channel: ChannelType, raw: &str) -> std::result::Result<String, Problem> {
    match channel {
        ChannelType::Whatsapp | ChannelType::Viber | ChannelType::Sms => normalise_phone(raw),
        ChannelType::Email => normalise_email(raw),
        ChannelType::Telegram | ChannelType::Mobile | ChannelType::Web => {
            check_token(raw, MAX_TOKEN_CHARS)?;
            Ok(raw.to_owned())
        }
    }
}

/// Digits with an optional leading `+`; spaces, dots, dashes and brackets are dropped.
fn normalise_phone(raw: &str) -> std::result::Result<String, Problem> {
    let compact: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    if (5..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(compact)
    } else {
        Err(Problem::NotPhoneNumber)
    }
}

/// `local@domain.tld`; the domain is case-insensitive and kept in lower case.
fn normalise_email(raw: &str) -> std::result::Result<String, Problem> {
    let invalid = || Problem::NotEmailAddress;
    let address = raw.trim();
    if address.chars().count() > MAX_EMAIL_CHARS || address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let (local, domain) = address.split_once('@').ok_or_else(invalid)?;
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if local.is_empty() || local.contains('@') || !domain_ok {
        return Err(invalid());
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

fn check_token(raw: &str, max: usize) -> std::result::Result<(), Problem> {
    if raw.is_empty() || raw.chars().count() > max || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Problem::NotToken { max });
    }
    Ok(())
}

/// What the store holds of a device and of the client the request names, read together.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub device: Option<Device>,
    /// `None` when the request names no client; `Some(None)` when the named one does not exist.
    pub named: Option<Option<Client>>,
}

/// Reads the device and the client the request names, concurrently.
pub async fn look_up(store: &impl ClientStore, target: &DeviceTarget) -> Result<Lookup> {
    let device = store.device(target.channel, target.app_marker.as_deref(), &target.address);
    let named = async {
        match (&target.client_id, &target.unauthorized_client_id) {
            (Some(external_id), _) => Ok(Some(store.client_by_external_id(external_id).await?)),
            (None, Some(unauthorized_id)) => Ok(Some(store.client_by_unauthorized_id(unauthorized_id).await?)),
            (None, None) => Ok(None),
        }
    };
    let (device, named) = tokio::try_join!(device, named)?;
    Ok(Lookup { device, named })
}

/// The client the message goes to, in the contract's order: the authorized external id (created
/// if new), else the unauthorized external id (created if new), else the device's client, else a
/// new anonymous client; and the device binding the send must write. Writes nothing: the send
/// writes the client, the device and the message in one transaction. A device moves only from a
/// less firmly identified client; a device of another authorized client is a 409.
pub async fn resolve(
    store: &(impl ClientStore + IdStore),
    target: &DeviceTarget,
    lookup: Lookup,
) -> Result<sending::Resolved> {
    let binding = |client_id: u64, previous: Option<u64>| {
        let device = Device {
            channel_type: target.channel,
            device_address: target.address.clone(),
            app_marker: target.app_marker.clone(),
            client_id,
            created_at: lookup.device.as_ref().map_or_else(Timestamp::now, |device| device.created_at),
        };
        Some((device, previous))
    };
    let (client, is_new) = match (lookup.named, &lookup.device) {
        (Some(Some(client)), _) => (client, false),
        (None, Some(device)) => {
            let client = store
                .client(device.client_id)
                .await?
                .ok_or_else(|| Error::internal(format!("device names missing client {}", device.client_id)))?;
            return Ok(sending::Resolved { client, is_new: false, device: None });
        }
        (Some(None), _) | (None, None) => (client_named_by(store, target).await?, true),
    };
    let device = match &lookup.device {
        None => binding(client.client_id, None),
        Some(device) if device.client_id == client.client_id => None,
        Some(device) => {
            let current = store.client(device.client_id).await?;
            let current_level = current.as_ref().map_or(Identification::Anonymous, Client::identification);
            if current_level >= client.identification() {
                return Err(Error::conflict(
                    "DEVICE_BELONGS_TO_ANOTHER_CLIENT",
                    format!(
                        "this {} device belongs to another {} client",
                        target.channel.as_str(),
                        if current_level == Identification::Authorized { "authorized" } else { "unauthorized" }
                    ),
                ));
            }
            binding(client.client_id, Some(device.client_id))
        }
    };
    Ok(sending::Resolved { client, is_new, device })
}

/// Sends to the device's client, joining or opening its thread like any other send; the client,
/// the device binding and the message are written in one transaction. `lookup` is what the
/// caller read (alongside authentication); when a concurrent writer changed the device or the
/// client meanwhile, it is read again.
pub async fn send_to_device(
    store: &(impl ClientStore + ThreadStore + IdStore),
    agent: &Agent,
    target: &DeviceTarget,
    mut lookup: Lookup,
    draft: Draft,
    claim: Option<KeyClaimed>,
) -> Result<Delivery> {
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            sending::back_off(attempt).await;
            lookup = look_up(store, target).await?;
        }
        let recipient = resolve(store, target, lookup.clone()).await?;
        let sender = Sender::Agent(agent.agent_id);
        if let Some(delivery) =
            sending::deliver_once(store, sender, &recipient, draft.clone(), claim.as_ref(), None).await?
        {
            return Ok(delivery);
        }
    }
    Err(Error::StorageUnavailable(format!("a {} device kept changing while being bound", target.channel.as_str())))
}

/// A client named as the request names it (not yet stored).
async fn client_named_by(store: &impl IdStore, target: &DeviceTarget) -> Result<Client> {
    // An authorized client is known by its authorized external id; the unauthorized id is not kept for it.
    let unauthorized_id = if target.client_id.is_some() { None } else { target.unauthorized_client_id.clone() };
    new_client(store, target.client_id.clone(), unauthorized_id, None).await
}
