//! The entities as the domain sees them. How they are stored is `crate::store::records`'s
//! business, how they look on the wire each dialect's.

use jiff::Timestamp;

/// Largest identifier a JavaScript client can hold exactly (2^53 − 1).
pub const MAX_SAFE_ID: u64 = (1 << 53) - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Integrator,
    Operator,
    Supervisor,
    Administrator,
    Bot,
    /// A channel connector: posts customers' messages and delivery statuses, sends nothing.
    Gateway,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Integrator, Role::Operator, Role::Supervisor, Role::Administrator, Role::Bot, Role::Gateway];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Integrator => "INTEGRATOR",
            Role::Operator => "OPERATOR",
            Role::Supervisor => "SUPERVISOR",
            Role::Administrator => "ADMINISTRATOR",
            Role::Bot => "BOT",
            Role::Gateway => "GATEWAY",
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
/// The roles allowed to post customers' messages and delivery statuses.
pub const GATEWAY_ROLES: &[Role] = &[Role::Gateway];
/// The roles allowed to manage webhook subscriptions and read the event feed.
pub const WEBHOOK_ROLES: &[Role] = &[Role::Integrator, Role::Supervisor, Role::Administrator];

#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub agent_id: u64,
    pub login: String,
    pub role: Role,
    pub enabled: bool,
    /// Argon2id PHC string; never logged or returned.
    pub password_hash: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub client_id: u64,
    /// The authorized external id the business knows the client by.
    pub external_id: Option<String>,
    /// An unauthorized external id, for clients the business
    /// has not verified yet.
    pub unauthorized_id: Option<String>,
    pub display_name: Option<String>,
    /// The client's one open thread, if any.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub channel_type: ChannelType,
    /// Normalised address (phone number, e-mail address or token).
    pub device_address: String,
    pub app_marker: Option<String>,
    pub client_id: u64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadStatus {
    Open,
    Closed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    pub thread_id: u64,
    pub client_id: u64,
    pub status: ThreadStatus,
    pub start_time: Timestamp,
    pub last_message_time: Timestamp,
    pub message_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub url: String,
    pub name: Option<String>,
    pub mime_type: Option<String>,
    /// In bytes.
    pub size: Option<u64>,
}

/// Who a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessageType {
    Invalid,
    #[default]
    ToCustomer,
    ToUser,
    Special,
}

/// What kind of special message it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

/// Who wrote a message; the direction follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// An agent (or an integrator's system acting as one): the message goes to the customer.
    Agent(u64),
    /// The customer, through a channel gateway: the message comes in.
    Customer,
    /// The service itself.
    System,
}

impl Default for Sender {
    fn default() -> Self {
        Sender::Agent(0)
    }
}

/// Which way a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Outgoing,
    Incoming,
}

impl Sender {
    pub fn agent_id(self) -> Option<u64> {
        match self {
            Sender::Agent(agent_id) => Some(agent_id),
            Sender::Customer | Sender::System => None,
        }
    }

    pub fn direction(self) -> Direction {
        match self {
            Sender::Customer => Direction::Incoming,
            Sender::Agent(_) | Sender::System => Direction::Outgoing,
        }
    }
}

/// Where a message stands on its way to its reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeliveryStatus {
    #[default]
    Accepted,
    Sent,
    Delivered,
    Read,
    Failed,
    Undelivered,
    Expired,
}

impl DeliveryStatus {
    /// The statuses a gateway may report.
    pub const REPORTED: [DeliveryStatus; 6] = [
        DeliveryStatus::Sent,
        DeliveryStatus::Delivered,
        DeliveryStatus::Read,
        DeliveryStatus::Failed,
        DeliveryStatus::Undelivered,
        DeliveryStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Accepted => "ACCEPTED",
            DeliveryStatus::Sent => "SENT",
            DeliveryStatus::Delivered => "DELIVERED",
            DeliveryStatus::Read => "READ",
            DeliveryStatus::Failed => "FAILED",
            DeliveryStatus::Undelivered => "UNDELIVERED",
            DeliveryStatus::Expired => "EXPIRED",
        }
    }

    pub fn is_failure(self) -> bool {
        matches!(self, DeliveryStatus::Failed | DeliveryStatus::Undelivered | DeliveryStatus::Expired)
    }

    /// The order statuses move in: ACCEPTED < SENT < DELIVERED < READ; a failure is final and
    /// ranks above all (none follows `READ`, which is why a failure's condition is "before READ").
    pub fn rank(self) -> u8 {
        match self {
            DeliveryStatus::Accepted => 0,
            DeliveryStatus::Sent => 1,
            DeliveryStatus::Delivered => 2,
            DeliveryStatus::Read => 3,
            DeliveryStatus::Failed | DeliveryStatus::Undelivered | DeliveryStatus::Expired => 4,
        }
    }

    /// The stored rank must be below this for the status to apply.
    pub fn applies_below(self) -> u8 {
        if self.is_failure() { DeliveryStatus::Read.rank() } else { self.rank() }
    }
}

/// A delivery failure, as the gateway reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    pub code: String,
    pub message: String,
}

/// A message's status and the time of each status it reached.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeliveryState {
    pub status: DeliveryStatus,
    /// When the current status was reached (`None`: when the message was accepted).
    pub status_at: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub read_at: Option<Timestamp>,
    pub failed_at: Option<Timestamp>,
    pub error: Option<DeliveryError>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Message {
    pub message_id: u64,
    pub thread_id: u64,
    pub client_id: u64,
    pub sender: Sender,
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// When the service accepted it (orders the thread).
    pub created_at: Timestamp,
    pub message_type: MessageType,
    pub special_type: SpecialType,
    pub special_param: Option<String>,
    /// Who wrote it, as the caller says (a sending agent's login when not said).
    pub author: Option<String>,
    pub read_by_customer: i32,
    /// When the caller says it was posted, if it said so.
    pub when_posted: Option<Timestamp>,
    pub delivery: DeliveryState,
}
