//! The entities as stored and as the domain sees them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Largest identifier a JavaScript client can hold exactly (2^53 − 1).
pub const MAX_SAFE_ID: u64 = (1 << 53) - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Integrator,
    Operator,
    Supervisor,
    Administrator,
    Bot,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Integrator, Role::Operator, Role::Supervisor, Role::Administrator, Role::Bot];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Integrator => "INTEGRATOR",
            Role::Operator => "OPERATOR",
            Role::Supervisor => "SUPERVISOR",
            Role::Administrator => "ADMINISTRATOR",
            Role::Bot => "BOT",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str().eq_ignore_ascii_case(name))
    }
}

/// The roles allowed to send messages and read threads (seeds 000 and 001).
pub const MESSAGING_ROLES: &[Role] = &[Role::Integrator, Role::Operator, Role::Supervisor];
/// The roles allowed to close a thread.
pub const CLOSING_ROLES: &[Role] = &[Role::Integrator, Role::Supervisor];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    pub agent_id: u64,
    pub login: String,
    pub role: Role,
    pub enabled: bool,
    /// Argon2id PHC string; never logged or returned.
    pub password_hash: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    pub client_id: u64,
    /// The authorized external id the business knows the client by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// An unauthorized external id (seed 001's `unauthorizedClientId`), for clients the business
    /// has not verified yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unauthorized_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The client's one open thread, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_thread_id: Option<u64>,
    pub created_at: Timestamp,
}

/// How firmly a client is identified; a device may move only to a more firmly identified client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Identification {
    Anonymous,
    Unauthorized,
    Authorized,
}

impl Client {
    pub fn identification(&self) -> Identification {
        match (&self.external_id, &self.unauthorized_id) {
            (Some(_), _) => Identification::Authorized,
            (None, Some(_)) => Identification::Unauthorized,
            (None, None) => Identification::Anonymous,
        }
    }
}

/// The messaging channels a device can be reached on (seed 001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChannelType {
    Whatsapp,
    Viber,
    Sms,
    Telegram,
    Email,
    Mobile,
    Web,
}

impl ChannelType {
    pub const ALL: [ChannelType; 7] = [
        ChannelType::Whatsapp,
        ChannelType::Viber,
        ChannelType::Sms,
        ChannelType::Telegram,
        ChannelType::Email,
        ChannelType::Mobile,
        ChannelType::Web,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelType::Whatsapp => "WHATSAPP",
            ChannelType::Viber => "VIBER",
            ChannelType::Sms => "SMS",
            ChannelType::Telegram => "TELEGRAM",
            ChannelType::Email => "EMAIL",
            ChannelType::Mobile => "MOBILE",
            ChannelType::Web => "WEB",
        }
    }

    pub fn parse(name: &str) -> Option<ChannelType> {
        ChannelType::ALL.into_iter().find(|channel| channel.as_str() == name)
    }
}

/// One device of a client on one channel; it belongs to exactly one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub channel_type: ChannelType,
    /// Normalised address (phone number, e-mail address or token).
    pub device_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_marker: Option<String>,
    pub client_id: u64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ThreadStatus {
    Open,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Thread {
    pub thread_id: u64,
    pub client_id: u64,
    pub status: ThreadStatus,
    pub start_time: Timestamp,
    pub last_message_time: Timestamp,
    pub message_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// In bytes; `82825.0` reads as 82825 (see [`crate::json`]).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::json::optional_count")]
    pub size: Option<u64>,
}

/// Who a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MessageType {
    Invalid,
    #[default]
    ToCustomer,
    ToUser,
    Special,
}

/// What kind of special message it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SpecialType {
    #[default]
    None,
    Welcome,
    Url,
    Block,
    NewSession,
    TransferedSession,
    Error,
    SessionDeleted,
    FaqSuccessQuestion,
    ClosedByUser,
    ClosedByCustomer,
    ClosedByIdle,
    TransferRejected,
    ReopenedByCustomer,
    ClickedOption,
    BotMessage,
    Options,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub message_id: u64,
    pub thread_id: u64,
    pub client_id: u64,
    pub agent_id: u64,
    pub text: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// When the service accepted it (orders the thread).
    pub created_at: Timestamp,
    #[serde(default)]
    pub message_type: MessageType,
    #[serde(default)]
    pub special_type: SpecialType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_param: Option<String>,
    /// Who wrote it, as the caller says (a sending agent's login when not said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default)]
    pub read_by_customer: i32,
    /// When the caller says it was posted, if it said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_posted: Option<Timestamp>,
}
