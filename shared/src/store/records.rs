//! The items the table holds, as records of their own: the attribute names and value encodings
//! are the table's (`docs/design.md`), whatever the core's entities or a dialect's bodies look
//! like. Renaming a field of the model changes none of them; renaming an attribute here is a
//! migration. The results idempotency keys keep are here too, as JSON of these records.
//! [`super::attributes`] names the attributes expressions use; its tests check them
//! against these records.

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::core::idempotency::Replayable;
use crate::core::sending::{Delivery, Received};
use crate::core::threads::ThreadSummary;
use crate::{Error, Result};

use crate::core::model::{
    Agent, Attachment, ChannelType, Client, DeliveryError, DeliveryState, DeliveryStatus, Device, Message, MessageType,
    Role, Sender, SpecialType, Thread, ThreadStatus,
};

/// An enum as stored: one fixed spelling per value, converted to and from the core's enum.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $stored:ident for $core:ident { $($variant:ident = $spelling:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $stored {
            $(#[serde(rename = $spelling)] $variant),+
        }

        impl From<$core> for $stored {
            fn from(value: $core) -> Self {
                match value {
                    $($core::$variant => $stored::$variant),+
                }
            }
        }

        impl From<$stored> for $core {
            fn from(value: $stored) -> Self {
                match value {
                    $($stored::$variant => $core::$variant),+
                }
            }
        }
    };
}
pub(crate) use stored_enum;

stored_enum!(StoredRole for Role {
    Integrator = "INTEGRATOR",
    Operator = "OPERATOR",
    Supervisor = "SUPERVISOR",
    Administrator = "ADMINISTRATOR",
    Bot = "BOT",
    Gateway = "GATEWAY",
});

stored_enum!(StoredChannel for ChannelType {
    Whatsapp = "WHATSAPP",
    Viber = "VIBER",
    Sms = "SMS",
    Telegram = "TELEGRAM",
    Email = "EMAIL",
    Mobile = "MOBILE",
    Web = "WEB",
});

stored_enum!(
    /// `status` of a thread item.
    StoredStatus for ThreadStatus {
    Open = "OPEN",
    Closed = "CLOSED",
});

stored_enum!(
    /// `messageType` of a message item (the names SuperOffice also uses; stored apart from them).
    StoredMessageType for MessageType {
    Invalid = "Invalid",
    ToCustomer = "ToCustomer",
    ToUser = "ToUser",
    Special = "Special",
});

stored_enum!(
    /// `specialType` of a message item.
    StoredSpecialType for SpecialType {
    None = "None",
    Welcome = "Welcome",
    Url = "Url",
    Block = "Block",
    NewSession = "NewSession",
    TransferedSession = "TransferedSession",
    Error = "Error",
    SessionDeleted = "SessionDeleted",
    FaqSuccessQuestion = "FaqSuccessQuestion",
    ClosedByUser = "ClosedByUser",
    ClosedByCustomer = "ClosedByCustomer",
    ClosedByIdle = "ClosedByIdle",
    TransferRejected = "TransferRejected",
    ReopenedByCustomer = "ReopenedByCustomer",
    ClickedOption = "ClickedOption",
    BotMessage = "BotMessage",
    Options = "Options",
});

/// Defaults are left out of items and stored results, which therefore read and write as
/// before the attribute existed.
fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// `sender` of a message item: who wrote it (items written before it existed are agents').
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum StoredSender {
    #[default]
    #[serde(rename = "AGENT")]
    Agent,
    #[serde(rename = "CUSTOMER")]
    Customer,
    #[serde(rename = "SYSTEM")]
    System,
}

stored_enum!(
    /// `status` of a message item (its delivery status).
    StoredDeliveryStatus for DeliveryStatus {
    Accepted = "ACCEPTED",
    Sent = "SENT",
    Delivered = "DELIVERED",
    Read = "READ",
    Failed = "FAILED",
    Undelivered = "UNDELIVERED",
    Expired = "EXPIRED",
});

impl Default for StoredDeliveryStatus {
    fn default() -> Self {
        DeliveryStatus::default().into()
    }
}

impl Default for StoredMessageType {
    fn default() -> Self {
        MessageType::default().into()
    }
}

impl Default for StoredSpecialType {
    fn default() -> Self {
        SpecialType::default().into()
    }
}

/// An agent's `PROFILE` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentRecord {
    pub agent_id: u64,
    pub login: String,
    pub role: StoredRole,
    pub enabled: bool,
    pub password_hash: String,
    pub created_at: Timestamp,
}

impl From<&Agent> for AgentRecord {
    fn from(agent: &Agent) -> Self {
        AgentRecord {
            agent_id: agent.agent_id,
            login: agent.login.clone(),
            role: agent.role.into(),
            enabled: agent.enabled,
            password_hash: agent.password_hash.clone(),
            created_at: agent.created_at,
        }
    }
}

impl From<AgentRecord> for Agent {
    fn from(record: AgentRecord) -> Self {
        Agent {
            agent_id: record.agent_id,
            login: record.login,
            role: record.role.into(),
            enabled: record.enabled,
            password_hash: record.password_hash,
            created_at: record.created_at,
        }
    }
}

/// A client's `PROFILE` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientRecord {
    pub client_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unauthorized_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_thread_id: Option<u64>,
    pub created_at: Timestamp,
}

impl From<&Client> for ClientRecord {
    fn from(client: &Client) -> Self {
        ClientRecord {
            client_id: client.client_id,
            external_id: client.external_id.clone(),
            unauthorized_id: client.unauthorized_id.clone(),
            display_name: client.display_name.clone(),
            open_thread_id: client.open_thread_id,
            created_at: client.created_at,
        }
    }
}

impl From<ClientRecord> for Client {
    fn from(record: ClientRecord) -> Self {
        Client {
            client_id: record.client_id,
            external_id: record.external_id,
            unauthorized_id: record.unauthorized_id,
            display_name: record.display_name,
            open_thread_id: record.open_thread_id,
            created_at: record.created_at,
        }
    }
}

/// A `DEVICE` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRecord {
    pub channel_type: StoredChannel,
    pub device_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_marker: Option<String>,
    pub client_id: u64,
    pub created_at: Timestamp,
}

impl From<&Device> for DeviceRecord {
    fn from(device: &Device) -> Self {
        DeviceRecord {
            channel_type: device.channel_type.into(),
            device_address: device.device_address.clone(),
            app_marker: device.app_marker.clone(),
            client_id: device.client_id,
            created_at: device.created_at,
        }
    }
}

impl From<DeviceRecord> for Device {
    fn from(record: DeviceRecord) -> Self {
        Device {
            channel_type: record.channel_type.into(),
            device_address: record.device_address,
            app_marker: record.app_marker,
            client_id: record.client_id,
            created_at: record.created_at,
        }
    }
}

/// A `THREAD` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadRecord {
    pub thread_id: u64,
    pub client_id: u64,
    pub status: StoredStatus,
    pub start_time: Timestamp,
    pub last_message_time: Timestamp,
    pub message_count: u64,
    /// The id of the message that made `messageCount` what it is (with `lastMessageTime`, its
    /// sort key): what the stream's consumer reads to publish the message with its sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_id: Option<u64>,
    /// When the thread was closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
}

impl From<&Thread> for ThreadRecord {
    fn from(thread: &Thread) -> Self {
        ThreadRecord {
            thread_id: thread.thread_id,
            client_id: thread.client_id,
            status: thread.status.into(),
            start_time: thread.start_time,
            last_message_time: thread.last_message_time,
            message_count: thread.message_count,
            last_message_id: None,
            closed_at: None,
        }
    }
}

impl From<ThreadRecord> for Thread {
    fn from(record: ThreadRecord) -> Self {
        Thread {
            thread_id: record.thread_id,
            client_id: record.client_id,
            status: record.status.into(),
            start_time: record.start_time,
            last_message_time: record.last_message_time,
            message_count: record.message_count,
        }
    }
}

/// An attachment within a message item (a map).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRecord {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::json::optional_count")]
    pub size: Option<u64>,
}

impl From<&Attachment> for AttachmentRecord {
    fn from(attachment: &Attachment) -> Self {
        AttachmentRecord {
            url: attachment.url.clone(),
            name: attachment.name.clone(),
            mime_type: attachment.mime_type.clone(),
            size: attachment.size,
        }
    }
}

impl From<AttachmentRecord> for Attachment {
    fn from(record: AttachmentRecord) -> Self {
        Attachment { url: record.url, name: record.name, mime_type: record.mime_type, size: record.size }
    }
}

/// A message item (`MSG#...`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRecord {
    pub message_id: u64,
    pub thread_id: u64,
    pub client_id: u64,
    /// The writing agent; absent on a customer's or the system's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<u64>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub sender: StoredSender,
    pub text: String,
    #[serde(default)]
    pub attachments: Vec<AttachmentRecord>,
    pub created_at: Timestamp,
    #[serde(default)]
    pub message_type: StoredMessageType,
    #[serde(default)]
    pub special_type: StoredSpecialType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_param: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default)]
    pub read_by_customer: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_posted: Option<Timestamp>,
    /// The delivery status; its rank (`statusRank`) is what the status update's condition holds.
    #[serde(default, skip_serializing_if = "is_default")]
    pub status: StoredDeliveryStatus,
    #[serde(default, skip_serializing_if = "is_default")]
    pub status_rank: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl From<&Message> for MessageRecord {
    fn from(message: &Message) -> Self {
        MessageRecord {
            message_id: message.message_id,
            thread_id: message.thread_id,
            client_id: message.client_id,
            agent_id: message.sender.agent_id(),
            sender: match message.sender {
                Sender::Agent(_) => StoredSender::Agent,
                Sender::Customer => StoredSender::Customer,
                Sender::System => StoredSender::System,
            },
            text: message.text.clone(),
            attachments: message.attachments.iter().map(AttachmentRecord::from).collect(),
            created_at: message.created_at,
            message_type: message.message_type.into(),
            special_type: message.special_type.into(),
            special_param: message.special_param.clone(),
            author: message.author.clone(),
            read_by_customer: message.read_by_customer,
            when_posted: message.when_posted,
            status: message.delivery.status.into(),
            status_rank: message.delivery.status.rank(),
            status_at: message.delivery.status_at,
            sent_at: message.delivery.sent_at,
            delivered_at: message.delivery.delivered_at,
            read_at: message.delivery.read_at,
            failed_at: message.delivery.failed_at,
            error_code: message.delivery.error.as_ref().map(|error| error.code.clone()),
            error_message: message.delivery.error.as_ref().map(|error| error.message.clone()),
        }
    }
}

impl From<MessageRecord> for Message {
    fn from(record: MessageRecord) -> Self {
        Message {
            message_id: record.message_id,
            thread_id: record.thread_id,
            client_id: record.client_id,
            sender: match record.sender {
                StoredSender::Agent => Sender::Agent(record.agent_id.unwrap_or_default()),
                StoredSender::Customer => Sender::Customer,
                StoredSender::System => Sender::System,
            },
            text: record.text,
            attachments: record.attachments.into_iter().map(Attachment::from).collect(),
            created_at: record.created_at,
            message_type: record.message_type.into(),
            special_type: record.special_type.into(),
            special_param: record.special_param,
            author: record.author,
            read_by_customer: record.read_by_customer,
            when_posted: record.when_posted,
            delivery: DeliveryState {
                status: record.status.into(),
                status_at: record.status_at,
                sent_at: record.sent_at,
                delivered_at: record.delivered_at,
                read_at: record.read_at,
                failed_at: record.failed_at,
                error: record
                    .error_code
                    .map(|code| DeliveryError { code, message: record.error_message.unwrap_or_default() }),
            },
        }
    }
}

/// A `PROVIDERMSG#` item: where the first message with this provider id went (also what an
/// idempotency key of the incoming route keeps).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderMessageRecord {
    pub message_id: u64,
    pub thread_id: u64,
    pub client_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_external_id: Option<String>,
}

impl From<&Received> for ProviderMessageRecord {
    fn from(received: &Received) -> Self {
        ProviderMessageRecord {
            message_id: received.message_id,
            thread_id: received.thread_id,
            client_id: received.client_id,
            client_external_id: received.client_external_id.clone(),
        }
    }
}

impl From<ProviderMessageRecord> for Received {
    fn from(record: ProviderMessageRecord) -> Self {
        Received {
            message_id: record.message_id,
            thread_id: record.thread_id,
            client_id: record.client_id,
            client_external_id: record.client_external_id,
        }
    }
}

impl Replayable for Received {
    fn to_replay(&self) -> Result<String> {
        to_json(&ProviderMessageRecord::from(self))
    }

    fn from_replay(stored: &str) -> Result<Self> {
        from_json::<ProviderMessageRecord>(stored).map(Received::from)
    }
}

/// What an idempotency key keeps of a send (JSON in the key's `result`, read by retries for
/// 24 h): the message as its item stores it, and how the client is known.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryReplay {
    message: MessageRecord,
    client_external_id: Option<String>,
}

/// What an idempotency key keeps of a new session.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionReplay {
    thread: ThreadRecord,
    client_external_id: Option<String>,
    client_display_name: Option<String>,
}

pub(crate) fn to_json(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(Error::internal)
}

pub(crate) fn from_json<T: DeserializeOwned>(stored: &str) -> Result<T> {
    serde_json::from_str(stored).map_err(|_| Error::internal("a stored idempotent result does not decode"))
}

impl Replayable for Delivery {
    fn to_replay(&self) -> Result<String> {
        to_json(&DeliveryReplay {
            message: MessageRecord::from(&self.message),
            client_external_id: self.client_external_id.clone(),
        })
    }

    fn from_replay(stored: &str) -> Result<Self> {
        let replay: DeliveryReplay = from_json(stored)?;
        Ok(Delivery { message: replay.message.into(), client_external_id: replay.client_external_id })
    }
}

impl Replayable for Message {
    fn to_replay(&self) -> Result<String> {
        to_json(&MessageRecord::from(self))
    }

    fn from_replay(stored: &str) -> Result<Self> {
        from_json::<MessageRecord>(stored).map(Message::from)
    }
}

impl Replayable for ThreadSummary {
    fn to_replay(&self) -> Result<String> {
        to_json(&SessionReplay {
            thread: ThreadRecord::from(&self.thread),
            client_external_id: self.client_external_id.clone(),
            client_display_name: self.client_display_name.clone(),
        })
    }

    fn from_replay(stored: &str) -> Result<Self> {
        let replay: SessionReplay = from_json(stored)?;
        Ok(ThreadSummary {
            thread: replay.thread.into(),
            client_external_id: replay.client_external_id,
            client_display_name: replay.client_display_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Results stored before the records existed (the JSON of the model's serde derives) still
    /// replay, and are written the same way.
    #[test]
    fn stored_replays_read_and_write_as_before() {
        let delivery = r#"{"message":{"messageId":11,"threadId":12,"clientId":13,"agentId":14,"text":"hi","attachments":[{"url":"https://a.b/f.jpg","name":"f.jpg","type":"image/jpeg","size":82825}],"createdAt":"2024-05-01T10:00:00.123456Z","messageType":"ToCustomer","specialType":"None","author":"tje0","readByCustomer":0},"clientExternalId":null}"#;
        let read = Delivery::from_replay(delivery).unwrap();
        assert_eq!(read.message.attachments[0].mime_type.as_deref(), Some("image/jpeg"));
        assert_eq!(read.to_replay().unwrap(), delivery);
        let message = r#"{"messageId":1,"threadId":2,"clientId":3,"agentId":4,"text":"","attachments":[],"createdAt":"2024-05-01T10:00:00Z","messageType":"Special","specialType":"Options","specialParam":"p","readByCustomer":973,"whenPosted":"2007-12-18T16:54:08.0543344Z"}"#;
        let read = Message::from_replay(message).unwrap();
        assert_eq!((read.message_type, read.special_type), (MessageType::Special, SpecialType::Options));
        assert_eq!(read.to_replay().unwrap(), message);
        let session = r#"{"thread":{"threadId":5,"clientId":6,"status":"OPEN","startTime":"2024-05-01T10:00:00Z","lastMessageTime":"2024-05-01T10:00:00Z","messageCount":0},"clientExternalId":"ext","clientDisplayName":null}"#;
        let read = ThreadSummary::from_replay(session).unwrap();
        assert_eq!(read.thread.status, ThreadStatus::Open);
        assert_eq!(read.to_replay().unwrap(), session);
    }
}
