//! The edna Chat Center dialect (seeds 000 and 001, login, threads): JSON bodies in camelCase,
//! the error body `{code, message, field}`, `Bearer` credentials.

mod cursor;
pub mod wire;

use serde::Serialize;
use serde::de::DeserializeOwned;

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
        let body = ErrorBody { code: code_of(err), message: err.to_string(), field: field_of(err) };
        let body = serde_json::to_string(&body)
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

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
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

fn field_of(err: &Error) -> Option<&str> {
    match err {
        Error::InvalidInput { field, .. } | Error::NotFound { field, .. } => field.as_deref(),
        Error::IdempotencyKeyReused => Some(crate::core::idempotency::HEADER),
        _ => None,
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
        let reply = Edna::render_error(&Error::Unauthorized("x"), &());
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
        assert_eq!(body_of(&reply)["code"], "UNAUTHORIZED");
    }
}
