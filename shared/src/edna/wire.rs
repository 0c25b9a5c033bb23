//! edna's request and response bodies (camelCase JSON), and their translation to and from the
//! core.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::core::credentials::LoginGrant;
use crate::core::devices::DeviceTarget;
use crate::core::error::{Field, Input, Message as ErrorMessage};
use crate::core::incoming::Incoming;
use crate::core::model::{Attachment, DeliveryState, DeliveryStatus, Direction, Message, Role, ThreadStatus};
use crate::core::sending::{Delivery, Received, Recipient};
use crate::core::threads::ThreadSummary;
use crate::core::validation::{MessageContent, RawContent};
use crate::store::MessagePage;
use crate::store::{StatusChange, StatusUpdate};
use crate::{Error, Result, wording};

/// Body of `POST /api/auth/login`.
#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

/// edna's login answer: `token` is ready to be sent as the `Authorization` header; `ticket` is
/// for the SuperOffice endpoints (`Authorization: SOTicket <ticket>`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    pub user_id: u64,
    pub login: String,
    pub token: String,
    #[serde(serialize_with = "role_name")]
    pub role: Role,
    pub ticket: String,
}

impl From<&LoginGrant> for LoginResponse {
    fn from(grant: &LoginGrant) -> Self {
        LoginResponse {
            user_id: grant.agent.agent_id,
            login: grant.agent.login.clone(),
            token: format!("Bearer {}", grant.token),
            role: grant.agent.role,
            ticket: grant.ticket.clone(),
        }
    }
}

fn role_name<S: Serializer>(role: &Role, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(role.as_str())
}

/// An attachment as edna's bodies carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentBody {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// In bytes; `82825.0` reads as 82825 (see [`crate::json`]).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::json::optional_count")]
    pub size: Option<u64>,
}

impl From<AttachmentBody> for Attachment {
    fn from(body: AttachmentBody) -> Self {
        Attachment { url: body.url, name: body.name, mime_type: body.mime_type, size: body.size }
    }
}

impl From<&Attachment> for AttachmentBody {
    fn from(attachment: &Attachment) -> Self {
        AttachmentBody {
            url: attachment.url.clone(),
            name: attachment.name.clone(),
            mime_type: attachment.mime_type.clone(),
            size: attachment.size,
        }
    }
}

fn attachments_in<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<Attachment>>, D::Error> {
    let bodies = Option::<Vec<AttachmentBody>>::deserialize(deserializer)?;
    Ok(bodies.map(|bodies| bodies.into_iter().map(Attachment::from).collect()))
}

pub(crate) fn attachments_out<S: Serializer>(attachments: &[Attachment], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(attachments.iter().map(AttachmentBody::from))
}

fn status_name<S: Serializer>(status: &ThreadStatus, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(match status {
        ThreadStatus::Open => "OPEN",
        ThreadStatus::Closed => "CLOSED",
    })
}

pub(crate) fn direction_name<S: Serializer>(direction: &Direction, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(match direction {
        Direction::Outgoing => "OUTGOING",
        Direction::Incoming => "INCOMING",
    })
}

/// Body of `POST /api/v1/messages/outgoing` (seed 000).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutgoingRequest {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "attachments_in")]
    pub attachments: Option<Vec<Attachment>>,
    /// External client id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Internal client id. Integers may come as `7.0` (see [`crate::json`]).
    #[serde(default, deserialize_with = "crate::json::optional_count")]
    pub threads_client_id: Option<u64>,
    #[serde(default, deserialize_with = "crate::json::optional_count")]
    pub thread_id: Option<u64>,
}

impl OutgoingRequest {
    /// The recipient by the priority rule, and the checked content.
    pub fn validate(self) -> Result<(Recipient, MessageContent)> {
        let recipient = Recipient::choose(self.threads_client_id, self.client_id, self.thread_id)?;
        let content = RawContent { text: self.text, attachments: self.attachments }.validate()?;
        Ok((recipient, content))
    }
}

/// Body of `POST /api/v1/messages/outgoing-to-device`. The descriptor comes under the name of
/// the seed's examples or of its table.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutgoingToDeviceRequest {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "attachments_in")]
    pub attachments: Option<Vec<Attachment>>,
    #[serde(default)]
    pub client_application_descriptor: Option<RawDescriptor>,
    #[serde(default)]
    pub application_descriptor: Option<RawDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawDescriptor {
    #[serde(default)]
    pub channel_type: Option<String>,
    #[serde(default)]
    pub device_address: Option<String>,
    #[serde(default)]
    pub app_marker: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub unauthorized_client_id: Option<String>,
}

impl OutgoingToDeviceRequest {
    pub fn validate(self) -> Result<(DeviceTarget, MessageContent)> {
        let target = device_target(self.client_application_descriptor, self.application_descriptor)?;
        let content = RawContent { text: self.text, attachments: self.attachments }.validate()?;
        Ok((target, content))
    }
}

/// The descriptor under the name of the seed's examples or of its table (both: the same).
fn device_target(
    client_application_descriptor: Option<RawDescriptor>,
    application_descriptor: Option<RawDescriptor>,
) -> Result<DeviceTarget> {
    let (name, descriptor) = match (client_application_descriptor, application_descriptor) {
        (Some(seed_example), Some(seed_table)) if seed_example != seed_table => {
            return Err(Error::invalid(
                "applicationDescriptor",
                "clientApplicationDescriptor and applicationDescriptor are both given and differ; send one",
            ));
        }
        (Some(descriptor), _) => ("clientApplicationDescriptor", descriptor),
        (None, Some(descriptor)) => ("applicationDescriptor", descriptor),
        (None, None) => {
            return Err(Error::invalid(
                "clientApplicationDescriptor",
                "clientApplicationDescriptor (or applicationDescriptor) is required",
            ));
        }
    };
    descriptor.validate(name)
}

/// Body of `POST /api/v1/messages/incoming`: a customer's message, posted by a gateway.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncomingRequest {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "attachments_in")]
    pub attachments: Option<Vec<Attachment>>,
    #[serde(default)]
    pub client_application_descriptor: Option<RawDescriptor>,
    #[serde(default)]
    pub application_descriptor: Option<RawDescriptor>,
    #[serde(default)]
    pub provider_message_id: Option<String>,
    #[serde(default)]
    pub received_at: Option<String>,
}

impl IncomingRequest {
    pub fn validate(self) -> Result<Incoming> {
        let target = device_target(self.client_application_descriptor, self.application_descriptor)?;
        let content = RawContent { text: self.text, attachments: self.attachments }.validate()?;
        Incoming::check(target, content, self.provider_message_id, self.received_at)
    }
}

/// Body of `POST /api/v1/messages/{id}/status`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRequest {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub status_at: Option<String>,
    #[serde(default)]
    pub provider_message_id: Option<String>,
    #[serde(default)]
    pub error: Option<StatusErrorBody>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusErrorBody {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl StatusRequest {
    pub fn validate(self) -> Result<StatusUpdate> {
        crate::core::status::check(
            self.status,
            self.status_at,
            self.provider_message_id,
            self.error.map(|error| (error.code, error.message)),
        )
    }
}

fn delivery_status_name<S: Serializer>(status: &DeliveryStatus, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(status.as_str())
}

/// A message's delivery: its status, when it was reached, and each status's own time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    #[serde(serialize_with = "delivery_status_name")]
    pub status: DeliveryStatus,
    pub status_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub read_at: Option<Timestamp>,
    pub failed_at: Option<Timestamp>,
    pub error: Option<StatusErrorBody>,
}

impl DeliveryView {
    fn of(delivery: DeliveryState, created_at: Timestamp) -> Self {
        DeliveryView {
            status: delivery.status,
            status_at: delivery.status_at.unwrap_or(created_at),
            sent_at: delivery.sent_at,
            delivered_at: delivery.delivered_at,
            read_at: delivery.read_at,
            failed_at: delivery.failed_at,
            error: delivery.error.map(|error| StatusErrorBody { code: Some(error.code), message: Some(error.message) }),
        }
    }
}

/// The answer to a status update: the message's delivery as it now stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    pub id: u64,
    #[serde(flatten)]
    pub delivery: DeliveryView,
}

impl From<StatusChange> for StatusView {
    fn from(change: StatusChange) -> Self {
        // A status update always has a time (the reported one, or now).
        let at = change.delivery.status_at.unwrap_or_else(Timestamp::now);
        StatusView { id: change.message_id, delivery: DeliveryView::of(change.delivery, at) }
    }
}

/// The answer to an incoming message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedMessage {
    pub id: u64,
    pub thread_id: u64,
    pub client_id: u64,
    pub client_external_id: Option<String>,
}

impl From<&Received> for ReceivedMessage {
    fn from(received: &Received) -> Self {
        ReceivedMessage {
            id: received.message_id,
            thread_id: received.thread_id,
            client_id: received.client_id,
            client_external_id: received.client_external_id.clone(),
        }
    }
}

impl RawDescriptor {
    /// The checked descriptor; an error names the part at fault under the descriptor's own name
    /// (`clientApplicationDescriptor.deviceAddress`).
    fn validate(self, name: &str) -> Result<DeviceTarget> {
        DeviceTarget::check(
            self.channel_type,
            self.device_address,
            self.app_marker,
            self.client_id,
            self.unauthorized_client_id,
        )
        .map_err(|err| match err {
            Error::InvalidInput { code, message, field: Some(Field::Input(Input::Device(part))) } => {
                let field = Field::Wire(format!("{name}.{}", super::device_part(part)));
                let message = match message {
                    ErrorMessage::Problem(problem) => wording::describe(&problem, Some(&field), &super::Names),
                    ErrorMessage::Text(text) => text,
                };
                Error::InvalidInput { code, message: message.into(), field: Some(field) }
            }
            other => other,
        })
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

impl From<&Delivery> for SentMessage {
    fn from(delivery: &Delivery) -> Self {
        SentMessage {
            id: delivery.message.message_id,
            thread_id: delivery.message.thread_id,
            client_id: delivery.message.client_id,
            client_external_id: delivery.client_external_id.clone(),
            agent_id: delivery.message.sender.agent_id().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadView {
    pub id: u64,
    #[serde(serialize_with = "status_name")]
    pub status: ThreadStatus,
    pub client_id: u64,
    pub client_external_id: Option<String>,
    pub start_time: Timestamp,
    pub last_message_time: Timestamp,
    pub message_count: u64,
}

impl From<ThreadSummary> for ThreadView {
    fn from(summary: ThreadSummary) -> Self {
        let thread = summary.thread;
        ThreadView {
            id: thread.thread_id,
            status: thread.status,
            client_id: thread.client_id,
            client_external_id: summary.client_external_id,
            start_time: thread.start_time,
            last_message_time: thread.last_message_time,
            message_count: thread.message_count,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: u64,
    pub thread_id: u64,
    pub client_id: u64,
    /// `null` on a customer's message.
    pub agent_id: Option<u64>,
    /// `OUTGOING` (to the customer) or `INCOMING` (from the customer).
    #[serde(serialize_with = "direction_name")]
    pub direction: Direction,
    #[serde(flatten)]
    pub delivery: DeliveryView,
    pub text: String,
    #[serde(serialize_with = "attachments_out")]
    pub attachments: Vec<Attachment>,
    pub created_at: Timestamp,
}

impl From<Message> for MessageView {
    fn from(message: Message) -> Self {
        MessageView {
            id: message.message_id,
            thread_id: message.thread_id,
            client_id: message.client_id,
            agent_id: message.sender.agent_id(),
            direction: message.sender.direction(),
            delivery: DeliveryView::of(message.delivery, message.created_at),
            text: message.text,
            attachments: message.attachments,
            created_at: message.created_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageList {
    pub items: Vec<MessageView>,
    pub next_cursor: Option<String>,
}

impl From<MessagePage> for MessageList {
    fn from(page: MessagePage) -> Self {
        MessageList {
            items: page.messages.into_iter().map(MessageView::from).collect(),
            next_cursor: page.next.map(super::encode_cursor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::ChannelType;
    use serde_json::json;

    fn validate(body: serde_json::Value) -> Result<(DeviceTarget, MessageContent)> {
        serde_json::from_value::<OutgoingToDeviceRequest>(body).unwrap().validate()
    }

    fn field_of(body: serde_json::Value) -> String {
        match validate(body.clone()) {
            Err(Error::InvalidInput { field: Some(field), .. }) => field.to_string(),
            other => panic!("{body}: {other:?}"),
        }
    }

    fn outgoing_field(body: serde_json::Value) -> String {
        match serde_json::from_value::<OutgoingRequest>(body.clone()).unwrap().validate() {
            Err(err @ Error::InvalidInput { .. }) => err.field().unwrap().to_string(),
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn the_recipient_is_named_as_the_body_names_it() {
        assert_eq!(outgoing_field(json!({"text": "x"})), "threadsClientId");
        assert_eq!(outgoing_field(json!({"text": "x", "threadsClientId": 0, "clientId": "ext"})), "threadsClientId");
        assert_eq!(outgoing_field(json!({"text": "x", "clientId": ""})), "clientId");
        assert_eq!(outgoing_field(json!({"text": "x", "threadId": 0})), "threadId");
        assert_eq!(outgoing_field(json!({"text": "", "threadId": 1})), "text");
        let bad_type = json!({"text": "x", "threadId": 1, "attachments": [{"url": "https://a.b/f", "type": "no"}]});
        assert_eq!(outgoing_field(bad_type), "attachments[0].type");
    }

    #[test]
    fn the_seed_examples_validate() {
        let (target, _) = validate(json!({"text": "message", "attachments": [],
            "clientApplicationDescriptor": {"channelType": "WHATSAPP", "deviceAddress": "89000000000"}}))
        .unwrap();
        assert_eq!(
            (target.channel, target.address.as_str(), target.client_id),
            (ChannelType::Whatsapp, "89000000000", None)
        );
        let (target, _) = validate(json!({"text": "message", "attachments": [], "clientApplicationDescriptor": {
            "channelType": "MOBILE", "clientId": "012-3456-7890-12", "appMarker": "myApp",
            "deviceAddress": "wsfck62auiv00gz14vedivwptm09ahmrhz"}}))
        .unwrap();
        assert_eq!(target.app_marker.as_deref(), Some("myApp"));
        assert_eq!(target.client_id.as_deref(), Some("012-3456-7890-12"));
    }

    #[test]
    fn the_descriptor_is_read_under_either_name_but_not_two_different_ones() {
        let descriptor = json!({"channelType": "SMS", "deviceAddress": "+7 900 000-00-00"});
        let (target, _) = validate(json!({"text": "x", "applicationDescriptor": descriptor})).unwrap();
        assert_eq!(target.address, "+79000000000");
        assert!(
            validate(
                json!({"text": "x", "applicationDescriptor": descriptor, "clientApplicationDescriptor": descriptor})
            )
            .is_ok()
        );
        let other = json!({"channelType": "SMS", "deviceAddress": "+79000000001"});
        assert_eq!(
            field_of(json!({"text": "x", "applicationDescriptor": descriptor, "clientApplicationDescriptor": other})),
            "applicationDescriptor"
        );
        assert_eq!(field_of(json!({"text": "x"})), "clientApplicationDescriptor");
    }

    #[test]
    fn channels_and_addresses_are_checked_per_channel() {
        let case = |channel: &str, address: &str| json!({"text": "x", "clientApplicationDescriptor": {"channelType": channel, "deviceAddress": address}});
        assert_eq!(field_of(case("PIGEON", "1")), "clientApplicationDescriptor.channelType");
        assert_eq!(field_of(case("whatsapp", "89000000000")), "clientApplicationDescriptor.channelType");
        for (channel, address) in [
            ("WHATSAPP", "not-a-phone"),
            ("VIBER", "123"),
            ("SMS", "+1234567890123456"),
            ("EMAIL", "no-at-sign"),
            ("EMAIL", "a@b"),
            ("EMAIL", "a b@example.com"),
            ("TELEGRAM", ""),
            ("WEB", "has space"),
            ("MOBILE", ""),
        ] {
            assert_eq!(
                field_of(case(channel, address)),
                "clientApplicationDescriptor.deviceAddress",
                "{channel} {address:?}"
            );
        }
        let (target, _) = validate(case("EMAIL", "Ada@Example.COM")).unwrap();
        assert_eq!(target.address, "Ada@example.com");
        let missing = json!({"text": "x", "clientApplicationDescriptor": {"channelType": "WEB"}});
        assert_eq!(field_of(missing), "clientApplicationDescriptor.deviceAddress");
    }

    #[test]
    fn client_ids_and_markers_are_checked() {
        let body = json!({"text": "x", "applicationDescriptor": {"channelType": "MOBILE", "deviceAddress": "t", "clientId": ""}});
        assert_eq!(field_of(body), "applicationDescriptor.clientId");
        let body = json!({"text": "x", "applicationDescriptor": {"channelType": "MOBILE", "deviceAddress": "t", "appMarker": "my app"}});
        assert_eq!(field_of(body), "applicationDescriptor.appMarker");
        let body = json!({"text": "x", "applicationDescriptor": {"channelType": "WEB", "deviceAddress": "t", "unauthorizedClientId": "u".repeat(300)}});
        assert_eq!(field_of(body), "applicationDescriptor.unauthorizedClientId");
    }
}
