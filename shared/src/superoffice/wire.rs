//! SuperOffice's entities on the wire (PascalCase), and their translation to and from the core.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::dates::{self, Zone};
use super::enums::NumberedEnum;
use crate::core::model::{Message, MessageType, SpecialType, ThreadStatus};
use crate::core::sending::Draft;
use crate::core::threads::{SessionCustomer, ThreadSummary};
use crate::core::validation::{MAX_TEXT_CHARS, check_length};
use crate::{Error, Result};

pub const MESSAGE_FIELDS: &[&str] = &[
    "ChatMessageId",
    "ChatSessionId",
    "Type",
    "Message",
    "Author",
    "ReadByCustomer",
    "SpecialType",
    "SpecialParam",
    "WhenPosted",
];
pub const SESSION_FIELDS: &[&str] = &[
    "ChatSessionId",
    "Status",
    "CustomerId",
    "CustomerExternalId",
    "CustomerAlias",
    "WhenRequested",
    "LastMessage",
    "MessageCount",
];
pub const MAX_AUTHOR_CHARS: usize = 255;
pub const MAX_ALIAS_CHARS: usize = 255;
pub const MAX_SPECIAL_PARAM_CHARS: usize = 2_000;

/// The new message that JSON Patch and merge patch bodies apply to.
pub fn default_message() -> Value {
    json!({
        "ChatMessageId": 0,
        "ChatSessionId": 0,
        "Type": MessageType::default().name(),
        "Message": "",
        "Author": null,
        "ReadByCustomer": 0,
        "SpecialType": SpecialType::default().name(),
        "SpecialParam": "",
        "WhenPosted": null,
    })
}

/// The new session that patch bodies apply to.
pub fn default_session() -> Value {
    json!({"CustomerId": null, "CustomerExternalId": null, "CustomerAlias": null})
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChatMessage {
    pub chat_message_id: i64,
    pub chat_session_id: i64,
    #[serde(rename = "Type")]
    pub message_type: &'static str,
    pub message: String,
    pub author: String,
    pub read_by_customer: i32,
    pub special_type: &'static str,
    pub special_param: String,
    pub when_posted: String,
}

impl ChatMessage {
    pub fn new(message: Message, zone: &Zone) -> Self {
        ChatMessage {
            chat_message_id: message.message_id as i64,
            chat_session_id: message.thread_id as i64,
            message_type: message.message_type.name(),
            message: message.text,
            author: message.author.unwrap_or_default(),
            // 1 once the customer read it (a gateway's READ), else what the caller posted.
            read_by_customer: if message.delivery.status == crate::core::model::DeliveryStatus::Read {
                1
            } else {
                message.read_by_customer
            },
            special_type: message.special_type.name(),
            special_param: message.special_param.unwrap_or_default(),
            when_posted: zone.format(message.when_posted.unwrap_or(message.created_at)),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChatSession {
    pub chat_session_id: i64,
    pub status: &'static str,
    pub customer_id: u64,
    pub customer_external_id: Option<String>,
    pub customer_alias: Option<String>,
    pub when_requested: String,
    pub last_message: String,
    pub message_count: u64,
}

impl ChatSession {
    pub fn new(summary: ThreadSummary, zone: &Zone) -> Self {
        let thread = summary.thread;
        ChatSession {
            chat_session_id: thread.thread_id as i64,
            status: match thread.status {
                ThreadStatus::Open => "Chatting",
                ThreadStatus::Closed => "Ended",
            },
            customer_id: thread.client_id,
            customer_external_id: summary.client_external_id,
            customer_alias: summary.client_display_name,
            when_requested: zone.format(thread.start_time),
            last_message: zone.format(thread.last_message_time),
            message_count: thread.message_count,
        }
    }
}

/// A field's text: a string, a number (as written), or absent / `null`.
fn text(fields: &Map<String, Value>, name: &str) -> Result<Option<String>> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Number(number)) => Ok(Some(number.to_string())),
        Some(_) => Err(Error::invalid(name, format!("{name} must be a string"))),
    }
}

/// A field's integer: a number without fraction (`82825.0` counts) or a string of one.
fn integer(fields: &Map<String, Value>, name: &str, min: i64, max: i64) -> Result<Option<i64>> {
    let invalid = || Error::invalid(name, format!("{name} must be an integer from {min} to {max}"));
    let value = match fields.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(number)) => crate::json::integer(number),
        Some(Value::String(text)) if text.trim().is_empty() => return Ok(None),
        Some(Value::String(text)) => text.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    value.filter(|value| (min..=max).contains(value)).map(Some).ok_or_else(invalid)
}

fn enumeration<T: NumberedEnum>(fields: &Map<String, Value>, name: &str) -> Result<Option<T>> {
    // A number is the value's number: `3` and `3.0` alike.
    let raw = match fields.get(name) {
        Some(Value::Number(number)) => {
            crate::json::integer(number).map(|n| n.to_string()).or_else(|| text(fields, name).ok().flatten())
        }
        _ => text(fields, name)?,
    };
    let Some(raw) = raw else { return Ok(None) };
    T::parse(&raw).map(Some).ok_or_else(|| {
        let names: Vec<String> = T::ALL.iter().map(|value| format!("{}({})", value.name(), value.number())).collect();
        Error::invalid(name, format!("unknown {name} {raw:?}; one of {}", names.join(", ")))
    })
}

/// A posted `ChatMessage` as a draft for session `session_id` (the path's). The caller's
/// `ChatMessageId` is ignored; its `ChatSessionId` must be absent, 0 or the path's.
/// The message as posted; `author` is `None` when `Author` is left out (the route then names the
/// agent who posts).
pub fn message_draft(fields: &Map<String, Value>, session_id: u64) -> Result<Draft> {
    if let Some(named) = integer(fields, "ChatSessionId", 0, i64::from(i32::MAX))?
        && named != 0
        && named as u64 != session_id
    {
        return Err(Error::invalid(
            "ChatSessionId",
            format!(
                "ChatSessionId {named} differs from the session in the path ({session_id}); send 0 or leave it out"
            ),
        ));
    }
    let message_type = enumeration::<MessageType>(fields, "Type")?.unwrap_or_default();
    let special_type = enumeration::<SpecialType>(fields, "SpecialType")?.unwrap_or_default();
    let body = text(fields, "Message")?.unwrap_or_default();
    check_length(&body, MAX_TEXT_CHARS, "Message")?;
    if body.is_empty() && message_type != MessageType::Special && special_type == SpecialType::None {
        return Err(Error::invalid("Message", "Message may be empty only for special messages"));
    }
    let author = text_field(fields, "Author", MAX_AUTHOR_CHARS)?;
    let special_param = text_field(fields, "SpecialParam", MAX_SPECIAL_PARAM_CHARS)?.filter(|param| !param.is_empty());
    let read_by_customer = integer(fields, "ReadByCustomer", i64::from(i32::MIN), i64::from(i32::MAX))?.unwrap_or(0);
    let when_posted = match text(fields, "WhenPosted")? {
        Some(raw) if !raw.trim().is_empty() => Some(dates::parse(&raw, "WhenPosted")?),
        _ => None,
    };
    Ok(Draft {
        text: body,
        attachments: Vec::new(),
        message_type,
        special_type,
        special_param,
        author,
        read_by_customer: read_by_customer as i32,
        when_posted,
    })
}

fn text_field(fields: &Map<String, Value>, name: &str, max: usize) -> Result<Option<String>> {
    let value = text(fields, name)?;
    if let Some(value) = &value {
        check_length(value, max, name)?;
    }
    Ok(value)
}

/// Whose session a posted `ChatSession` asks for.
pub fn session_customer(fields: &Map<String, Value>) -> Result<SessionCustomer> {
    if let Some(client_id) = integer(fields, "CustomerId", 0, crate::core::model::MAX_SAFE_ID as i64)?
        && client_id > 0
    {
        return Ok(SessionCustomer::ClientId(client_id as u64));
    }
    if let Some(external_id) = text(fields, "CustomerExternalId")?.filter(|id| !id.is_empty()) {
        crate::core::validation::check_external_id(&external_id, "CustomerExternalId")?;
        return Ok(SessionCustomer::ExternalId(external_id));
    }
    // At most 255 characters, as documented (and as the ChatSession answer promises).
    let display_name = text_field(fields, "CustomerAlias", MAX_ALIAS_CHARS)?.filter(|alias| !alias.is_empty());
    Ok(SessionCustomer::New { display_name })
}

#[cfg(test)]
mod tests {
    use super::*;
    fn draft(value: Value) -> Result<Draft> {
        message_draft(value.as_object().unwrap(), 103)
    }

    fn field_of(value: Value) -> String {
        match draft(value.clone()) {
            Err(Error::InvalidInput { field: Some(field), .. }) => field.to_string(),
            other => panic!("{value}: {other:?}"),
        }
    }

    #[test]
    fn the_seed_sample_reads_as_given() {
        let sample = json!({"ChatMessageId": 664, "ChatSessionId": 103, "Type": "Invalid", "Message": "officia",
            "Author": "voluptatem", "ReadByCustomer": 973, "SpecialType": "Block", "SpecialParam": "quo",
            "WhenPosted": "2007-12-18T17:54:08.0543344+01:00"});
        let draft = draft(sample).unwrap();
        assert_eq!((draft.message_type, draft.special_type), (MessageType::Invalid, SpecialType::Block));
        assert_eq!(
            (draft.text.as_str(), draft.author.as_deref(), draft.read_by_customer),
            ("officia", Some("voluptatem"), 973)
        );
        assert_eq!(draft.special_param.as_deref(), Some("quo"));
        assert_eq!(draft.when_posted.unwrap(), "2007-12-18T16:54:08.0543344Z".parse().unwrap());
    }

    #[test]
    fn enums_read_names_and_numbers_and_defaults_fill_the_rest() {
        let draft = draft(json!({"Message": "hi", "Type": 2, "SpecialType": "17"})).unwrap();
        assert_eq!((draft.message_type, draft.special_type), (MessageType::ToUser, SpecialType::Options));
        let draft =
            super::tests::draft(json!({"Message": "hi", "Type": "tocustomer", "ReadByCustomer": 82825.0})).unwrap();
        assert_eq!((draft.message_type, draft.read_by_customer), (MessageType::ToCustomer, 82825));
        // No `Author`: the route names the posting agent (post-chat-message's tests read it back).
        assert_eq!(draft.author, None);
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(field_of(json!({"Message": "x", "Type": "Sideways"})), "Type");
        assert_eq!(field_of(json!({"Message": "x", "SpecialType": 4})), "SpecialType");
        assert_eq!(field_of(json!({"Message": "x", "ChatSessionId": 104})), "ChatSessionId");
        assert_eq!(field_of(json!({"Message": "x", "ReadByCustomer": 1.5})), "ReadByCustomer");
        assert_eq!(field_of(json!({"Message": "x", "WhenPosted": "soon"})), "WhenPosted");
        assert_eq!(field_of(json!({"Message": ""})), "Message");
        assert_eq!(field_of(json!({"Message": "x".repeat(2001)})), "Message");
        assert!(draft(json!({"Message": "x", "ChatSessionId": 0})).is_ok());
        assert!(draft(json!({"Message": "", "SpecialType": "Block"})).is_ok());
    }

    #[test]
    fn integers_may_be_written_with_a_zero_fraction_but_not_beyond_the_safe_range() {
        let customer = |value: Value| session_customer(value.as_object().unwrap());
        assert!(matches!(customer(json!({"CustomerId": 7.0})), Ok(SessionCustomer::ClientId(7))));
        assert!(matches!(customer(json!({"CustomerId": 7e0})), Ok(SessionCustomer::ClientId(7))));
        for bad in [json!(7.5), json!(9_007_199_254_740_992u64), json!(1e300), json!(-1)] {
            match customer(json!({ "CustomerId": bad })) {
                Err(Error::InvalidInput { field: Some(field), .. }) => assert_eq!(field, "CustomerId"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert_eq!(draft(json!({"Message": "x", "ChatSessionId": 103.0})).unwrap().text, "x");
        let numbered = draft(json!({"Message": "x", "Type": 2.0, "SpecialType": 17.0})).unwrap();
        assert_eq!((numbered.message_type, numbered.special_type), (MessageType::ToUser, SpecialType::Options));
        assert_eq!(field_of(json!({"Message": "x", "Type": 2.5})), "Type");
    }

    #[test]
    fn a_new_customers_alias_is_at_most_255_characters() {
        let customer = |value: Value| session_customer(value.as_object().unwrap());
        let at_most = customer(json!({"CustomerAlias": "é".repeat(255)})).unwrap();
        assert!(matches!(at_most, SessionCustomer::New { display_name: Some(name) } if name.chars().count() == 255));
        match customer(json!({"CustomerAlias": "é".repeat(256)})) {
            Err(Error::InvalidInput { field: Some(field), .. }) => assert_eq!(field, "CustomerAlias"),
            other => panic!("{other:?}"),
        }
        assert_eq!(field_of(json!({"Message": "x", "ReadByCustomer": 2_147_483_648.0})), "ReadByCustomer");
    }
}
