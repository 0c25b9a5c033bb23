//! The edna Chat Center dialect (seeds 000 and 001, login, threads): JSON bodies in camelCase,
//! the error body `{code, message, field}`, `Bearer` credentials.

mod cursor;
pub mod visitors;
pub mod webhooks;
pub mod wire;

use std::borrow::Cow;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::core::error::{AttachmentPart, DevicePart, Input};
use crate::http::{self, ApiRequest, Dialect, Reply, Scheme};
use crate::{Error, Result};

pub use cursor::{decode_cursor, encode_cursor};

const JSON: &str = "application/json";

/// The edna conventions, for [`http::serve`] and the routes (`crate::routes`).
pub struct Edna;

impl Dialect for Edna {
    type Answer = Reply;
    type Context = ();
    const SCHEMES: &'static [Scheme] = SCHEMES;

    fn negotiate(request: &ApiRequest) -> ((), Result<()>) {
        let acceptable = http::choose(request.header("accept"), &[JSON]).is_some();
        ((), if acceptable { Ok(()) } else { Err(Error::NotAcceptable) })
    }

    fn render(answer: Reply, _: &()) -> Result<Reply> {
        Ok(answer)
    }

    fn render_error(err: &Error, _: &()) -> Reply {
        let body = serde_json::to_string(&ErrorBody::of(err))
            .unwrap_or_else(|_| r#"{"code":"INTERNAL_ERROR","message":"internal error"}"#.into());
        let reply = Reply::error(err, JSON, body);
        match err {
            Error::Unauthorized(_) => reply.with_header("www-authenticate", "Bearer"),
            _ => reply,
        }
    }
}

/// A 200 with `value` as JSON.
pub fn ok(value: &impl Serialize) -> Result<Reply> {
    json(200, value)
}

pub fn json(status: u16, value: &impl Serialize) -> Result<Reply> {
    Ok(Reply::new(status, JSON, serde_json::to_string(value).map_err(Error::internal)?))
}

/// A 200 with `value`, marked as a replay when it is the stored result of an earlier request.
pub fn ok_replayable(value: &impl Serialize, replayed: bool) -> Result<Reply> {
    let reply = ok(value)?;
    Ok(if replayed { reply.with_header("idempotent-replayed", "true") } else { reply })
}

/// The body as `T`: JSON (no `Content-Type` is taken for JSON); errors name the field at fault.
pub fn body<T: DeserializeOwned>(request: &ApiRequest) -> Result<T> {
    if let Some(content_type) = request.header("content-type")
        && http::media_type(content_type).0 != JSON
    {
        return Err(Error::UnsupportedMediaType(content_type.to_owned()));
    }
    if request.body().iter().all(u8::is_ascii_whitespace) {
        return Err(Error::InvalidInput {
            code: "INVALID_JSON",
            message: "the request body is empty; send a JSON object".into(),
            field: None,
        });
    }
    http::parse_json(request.body())
}

/// The credentials this dialect accepts.
pub const SCHEMES: &[Scheme] = &[Scheme::Bearer];

/// edna's words for an error: its error body, whose parts web chat's error frames reuse.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorBody {
    pub fn of(err: &Error) -> ErrorBody {
        ErrorBody {
            code: code_of(err),
            message: crate::wording::message(err, &Names),
            field: err.field().map(|field| crate::wording::field_name(field, &Names).into_owned()),
        }
    }
}

fn code_of(err: &Error) -> &'static str {
    match err {
        Error::InvalidInput { code, .. } | Error::Conflict { code, .. } => code,
        Error::Unauthorized(_) => "UNAUTHORIZED",
        Error::Forbidden(_) => "FORBIDDEN",
        Error::NotFound { .. } => "NOT_FOUND",
        Error::MethodNotAllowed { .. } => "METHOD_NOT_ALLOWED",
        Error::NotAcceptable => "NOT_ACCEPTABLE",
        Error::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
        Error::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
        Error::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
        Error::RateLimited { .. } => "RATE_LIMITED",
        Error::StorageUnavailable(_) => "STORAGE_UNAVAILABLE",
        Error::OutcomeUnknown(_) => "OUTCOME_UNKNOWN",
        Error::Internal(_) => "INTERNAL_ERROR",
    }
}

/// edna's names of the core's inputs (camelCase fields of its bodies, its query parameters and
/// the `Idempotency-Key` header).
pub struct Names;

impl crate::wording::Names for Names {
    fn name(&self, input: Input) -> Cow<'static, str> {
        Cow::Borrowed(match input {
            Input::Text => "text",
            Input::Attachments => "attachments",
            Input::Attachment(index, part) => {
                return Cow::Owned(format!("attachments[{index}].{}", attachment_part(part)));
            }
            Input::ClientId => "threadsClientId",
            Input::ExternalClientId => "clientId",
            Input::UnauthorizedClientId => "unauthorizedClientId",
            Input::DisplayName => "displayName",
            Input::ThreadId => "threadId",
            Input::Limit => "limit",
            Input::After => "after",
            Input::Device(part) => device_part(part),
            Input::Login => "login",
            Input::Password => "password",
            Input::ApplicationName => "name",
            Input::IdempotencyKey => crate::wording::IDEMPOTENCY_KEY_HEADER,
            Input::ProviderMessageId => "providerMessageId",
            Input::ReceivedAt => "receivedAt",
            Input::MessageId => "id",
            Input::DeliveryStatus => "status",
            Input::StatusAt => "statusAt",
            Input::StatusErrorCode => "error.code",
            Input::StatusErrorMessage => "error.message",
            Input::WebhookId => "id",
            Input::WebhookUrl => "url",
            Input::WebhookEvents => "events",
            Input::WebhookFormat => "format",
            Input::WebhookDescription => "description",
            Input::DispatchStatus => "status",
            Input::Cursor => "cursor",
            Input::Since => "since",
            Input::Until => "until",
            Input::StreamRecord => "record",
        })
    }
}

fn attachment_part(part: AttachmentPart) -> &'static str {
    match part {
        AttachmentPart::Url => "url",
        AttachmentPart::Name => "name",
        AttachmentPart::MimeType => "type",
    }
}

/// A descriptor's field (`wire::RawDescriptor`).
pub(crate) fn device_part(part: DevicePart) -> &'static str {
    match part {
        DevicePart::Channel => "channelType",
        DevicePart::Address => "deviceAddress",
        DevicePart::AppMarker => "appMarker",
        DevicePart::ExternalClientId => "clientId",
        DevicePart::UnauthorizedClientId => "unauthorizedClientId",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(reply: &Reply) -> serde_json::Value {
        serde_json::from_str(reply.body()).unwrap()
    }

    #[test]
    fn validation_errors_carry_code_message_and_field() {
        let reply = Edna::render_error(&Error::invalid("attachments[0].url", "bad url"), &());
        assert_eq!(reply.status(), 400);
        assert_eq!(
            body_of(&reply),
            serde_json::json!({"code": "VALIDATION_FAILED", "message": "bad url", "field": "attachments[0].url"})
        );
    }

    /// The core names no field; edna's answers read as they did when it did.
    #[test]
    fn core_errors_read_in_ednas_names() {
        use crate::core::error::{Input, Refusal};
        use crate::core::{idempotency::RequestKey, sending::Recipient, threads, validation};
        let answer = |err: Error| {
            let body = body_of(&Edna::render_error(&err, &()));
            (body["message"].as_str().unwrap_or_default().to_owned(), body["field"].as_str().map(str::to_owned))
        };
        let case = |err: Error, message: &str, field: Option<&str>| {
            assert_eq!(answer(err), (message.to_owned(), field.map(str::to_owned)));
        };
        case(
            Recipient::choose(None, None, None).unwrap_err(),
            "name the client with one of threadsClientId, clientId or threadId",
            Some("threadsClientId"),
        );
        case(
            validation::check_id(0, Input::ThreadId).unwrap_err(),
            "threadId must be an integer between 1 and 9007199254740991",
            Some("threadId"),
        );
        case(Error::none_with(Input::ClientId, "7"), "no client with threadsClientId 7", Some("threadsClientId"));
        case(Error::none_with(Input::ExternalClientId, "\"e\""), "no client with clientId \"e\"", Some("clientId"));
        case(Error::none_with(Input::ThreadId, "9"), "no thread with threadId 9", Some("threadId"));
        case(threads::page_size(Some("0")).unwrap_err(), "limit must be an integer from 1 to 100", Some("limit"));
        case(
            RequestKey::from_header(Some(""), 1, "POST", "/p", b"").unwrap_err(),
            "Idempotency-Key must be 1 to 255 printable ASCII characters",
            Some("Idempotency-Key"),
        );
        case(
            Error::IdempotencyKeyReused,
            "this Idempotency-Key was already used for a different request",
            Some("Idempotency-Key"),
        );
        case(
            Error::Unauthorized(Refusal::BadToken),
            "missing, invalid or expired credentials; log in with POST /api/auth/login",
            None,
        );
        let content = |text: &str, attachments: serde_json::Value| {
            let request: wire::OutgoingRequest =
                serde_json::from_value(serde_json::json!({"threadId": 1, "text": text, "attachments": attachments}))
                    .unwrap();
            request.validate().unwrap_err()
        };
        case(
            content(&"x".repeat(2001), serde_json::json!([])),
            "text is 2001 characters long; at most 2000 are allowed",
            Some("text"),
        );
        case(
            content("", serde_json::json!([])),
            "text may be empty only when at least one attachment is given",
            Some("text"),
        );
        case(
            content("x", serde_json::json!([{"url": "ftp://a.b/f.jpg"}])),
            "url must be an absolute http or https URL",
            Some("attachments[0].url"),
        );
        case(
            content("x", serde_json::json!([{"url": "https://a.b/f.jpg", "type": "no"}])),
            "type must be a MIME type such as image/jpeg",
            Some("attachments[0].type"),
        );
        let device = |descriptor: serde_json::Value| {
            let request: wire::OutgoingToDeviceRequest =
                serde_json::from_value(serde_json::json!({"text": "x", "applicationDescriptor": descriptor})).unwrap();
            request.validate().unwrap_err()
        };
        case(
            device(serde_json::json!({"channelType": "PIGEON"})),
            "unknown channelType \"PIGEON\"; one of WHATSAPP, VIBER, SMS, TELEGRAM, EMAIL, MOBILE, WEB",
            Some("applicationDescriptor.channelType"),
        );
        case(
            device(serde_json::json!({"channelType": "SMS"})),
            "deviceAddress is required",
            Some("applicationDescriptor.deviceAddress"),
        );
        case(
            device(serde_json::json!({"channelType": "SMS", "deviceAddress": "x"})),
            "deviceAddress is not a phone number: 5 to 15 digits with an optional leading +",
            Some("applicationDescriptor.deviceAddress"),
        );
        case(
            device(serde_json::json!({"channelType": "SMS", "deviceAddress": "+100000", "clientId": " "})),
            "applicationDescriptor.clientId must not be empty",
            Some("applicationDescriptor.clientId"),
        );
        case(
            device(serde_json::json!({"channelType": "MOBILE", "deviceAddress": "t", "appMarker": "a b"})),
            "must be 1 to 255 characters without spaces or control characters",
            Some("applicationDescriptor.appMarker"),
        );
    }

    #[test]
    fn internal_details_stay_out_of_the_body() {
        let reply = Edna::render_error(&Error::internal("dynamodb said something secret"), &());
        assert_eq!(reply.status(), 500);
        assert!(!reply.body().contains("secret"));
        let reply = Edna::render_error(&Error::StorageUnavailable("throttled on table x".into()), &());
        assert_eq!(reply.status(), 503);
        assert!(!reply.body().contains("table x"));
    }

    #[test]
    fn a_failed_authentication_names_the_scheme() {
        let reply = Edna::render_error(&Error::Unauthorized(crate::core::error::Refusal::BadToken), &());
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
        assert_eq!(body_of(&reply)["code"], "UNAUTHORIZED");
    }
}
