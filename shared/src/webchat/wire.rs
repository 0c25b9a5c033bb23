//! The frames of `docs/webchat.md`: what a page sends (`action`), what it gets back (`type`),
//! and a message as the page shows it. A refused frame is answered with an error frame that
//! names the field at fault in the frame's own words.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core::error::Input;
use crate::core::model::{Attachment, Direction, Message};
use crate::core::validation::RawContent;
use crate::core::webchat::{Answer, Request, check_page_message_id};
use crate::edna::wire::{attachments_out, direction_name};
use crate::http::{parse_json, status_of};
use crate::{Error, Result};

/// The actions a page may ask for.
const ACTIONS: [&str; 4] = ["sync", "send", "read", "ping"];
/// Longest `requestId` echoed back.
const MAX_REQUEST_ID_CHARS: usize = 100;

/// A frame as a page sends it; which fields matter depends on `action`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFrame {
    action: Option<String>,
    request_id: Option<RequestId>,
    thread_id: Option<u64>,
    after: Option<u64>,
    text: Option<String>,
    client_message_id: Option<String>,
    message_id: Option<u64>,
}

/// The page's own id for a request, echoed in the answer so it can match the two.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RequestId {
    Number(u64),
    Text(String),
}

/// A frame that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub request_id: Option<RequestId>,
    pub thread_id: Option<u64>,
    pub request: Request,
}

pub fn read_frame(body: &[u8]) -> Result<Frame> {
    if serde_json::from_slice::<Value>(body).is_err() {
        return Err(Error::InvalidInput {
            code: "INVALID_JSON",
            message: "a frame is one JSON object, such as {\"action\": \"ping\"}".into(),
            field: Some("frame".into()),
        });
    }
    let raw: RawFrame = parse_json(body)?;
    if let Some(RequestId::Text(id)) = &raw.request_id
        && id.chars().count() > MAX_REQUEST_ID_CHARS
    {
        return Err(Error::invalid("requestId", crate::core::error::Problem::LongerThan { max: MAX_REQUEST_ID_CHARS }));
    }
    let required = |field: &'static str| Error::invalid(field, crate::core::error::Problem::Required);
    let request = match raw.action.as_deref() {
        Some("sync") => Request::Sync { after: raw.after },
        Some("ping") => Request::Ping,
        Some("read") => Request::Read { message_id: raw.message_id.ok_or_else(|| required("messageId"))? },
        Some("send") => {
            let page_message_id = raw.client_message_id.ok_or_else(|| required("clientMessageId"))?;
            check_page_message_id(&page_message_id, "clientMessageId")?;
            let content = RawContent { text: raw.text, attachments: None }.validate().map_err(named)?;
            Request::Send { content, page_message_id }
        }
        other => {
            let problem = match other {
                None => crate::core::error::Problem::RequiredOneOf { allowed: ACTIONS.to_vec() },
                Some(given) => {
                    crate::core::error::Problem::UnknownValue { given: given.to_owned(), allowed: ACTIONS.to_vec() }
                }
            };
            return Err(Error::invalid("action", problem));
        }
    };
    Ok(Frame { request_id: raw.request_id, thread_id: raw.thread_id, request })
}

/// The core names a message's text as an input; a frame calls it `text` too.
fn named(err: Error) -> Error {
    match err {
        Error::InvalidInput { code, message, field: Some(crate::core::error::Field::Input(Input::Text)) } => {
            Error::InvalidInput { code, message, field: Some("text".into()) }
        }
        other => other,
    }
}

/// A message as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageMessage {
    pub id: u64,
    pub thread_id: u64,
    /// `INCOMING` for the visitor's own messages, `OUTGOING` for the business's.
    #[serde(serialize_with = "direction_name")]
    pub direction: Direction,
    pub text: String,
    #[serde(serialize_with = "attachments_out")]
    pub attachments: Vec<Attachment>,
    pub created_at: Timestamp,
    pub status: &'static str,
    pub author: Option<String>,
}

impl From<&Message> for PageMessage {
    fn from(message: &Message) -> Self {
        PageMessage {
            id: message.message_id,
            thread_id: message.thread_id,
            direction: message.sender.direction(),
            text: message.text.clone(),
            attachments: message.attachments.clone(),
            created_at: message.created_at,
            status: message.delivery.status.as_str(),
            author: message.author.clone(),
        }
    }
}

/// Every frame the functions send to a page.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum ServerFrame<'a> {
    #[serde(rename_all = "camelCase")]
    History {
        thread_id: Option<u64>,
        messages: Vec<PageMessage>,
    },
    #[serde(rename_all = "camelCase")]
    Sent {
        client_message_id: &'a str,
        message: PageMessage,
    },
    #[serde(rename_all = "camelCase")]
    Read {
        message_id: u64,
        status: &'static str,
    },
    Pong,
    Message {
        message: PageMessage,
    },
}

/// A frame with the page's `requestId`, when it gave one.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answered<'a, T: Serialize> {
    #[serde(flatten)]
    frame: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a RequestId>,
}

fn to_text(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(Error::internal)
}

/// The answer to a frame.
pub fn answer_frame(answer: &Answer, request_id: Option<RequestId>) -> Result<String> {
    let frame = match answer {
        Answer::History { thread_id, messages } => {
            ServerFrame::History { thread_id: *thread_id, messages: messages.iter().map(PageMessage::from).collect() }
        }
        Answer::Sent { page_message_id, message } => {
            ServerFrame::Sent { client_message_id: page_message_id, message: PageMessage::from(message.as_ref()) }
        }
        Answer::Read { message_id, status } => ServerFrame::Read { message_id: *message_id, status: status.as_str() },
        Answer::Pong => ServerFrame::Pong,
    };
    to_text(&Answered { frame, request_id: request_id.as_ref() })
}

/// A new message of the page's thread, pushed unasked.
pub fn message_frame(message: &Message) -> Result<String> {
    to_text(&ServerFrame::Message { message: PageMessage::from(message) })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorFrame {
    r#type: &'static str,
    status: u16,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<RequestId>,
}

/// The error frame answering `frame` ([`crate::websocket::ErrorBody`]): edna's code, message and
/// field, the HTTP status the same error would have, and the frame's `requestId` when it has one.
pub fn error_frame(err: &Error, frame: &[u8]) -> String {
    let words = crate::edna::ErrorBody::of(err);
    let request_id = serde_json::from_slice::<Value>(frame)
        .ok()
        .and_then(|value| serde_json::from_value::<RequestId>(value.get("requestId")?.clone()).ok());
    let (field, message) = match (err, err.field()) {
        (Error::PayloadTooLarge { limit }, _) => {
            (Some("frame".to_owned()), format!("a frame is at most {limit} bytes"))
        }
        // edna calls a message's id `id` (its path parameter); a frame calls it `messageId`.
        (_, Some(crate::core::error::Field::Input(Input::MessageId))) => (Some("messageId".to_owned()), words.message),
        _ => (words.field, words.message),
    };
    let body = ErrorFrame { r#type: "error", status: status_of(err), code: words.code, field, message, request_id };
    serde_json::to_string(&body).unwrap_or_else(|_| r#"{"type":"error","status":500}"#.to_owned())
}
