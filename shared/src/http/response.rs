//! Replies, and the one place where domain errors become HTTP responses.

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::idempotency::Outcome;
use crate::store::StoredResponse;
use crate::{Error, Result};

/// A JSON response a handler produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    status: u16,
    body: String,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: u16, value: &impl Serialize) -> Result<Reply> {
        let body = serde_json::to_string(value).map_err(Error::internal)?;
        Ok(Reply { status, body, headers: Vec::new() })
    }

    pub fn ok(value: &impl Serialize) -> Result<Reply> {
        Reply::json(200, value)
    }

    /// A fresh result, or the stored response of the request this one repeats.
    pub fn from_outcome<T: Serialize>(outcome: Outcome<T>) -> Result<Reply> {
        match outcome {
            Outcome::Fresh(value) => Reply::ok(&value),
            Outcome::Replayed(StoredResponse { status, body }) => {
                Ok(Reply { status, body, headers: vec![("idempotent-replayed", "true".into())] })
            }
        }
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn body(&self) -> &str {
        &self.body
    }

    pub fn into_response(self, request_id: &str) -> Response<Body> {
        let mut response = Response::new(Body::Text(self.body));
        *response.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("cache-control", HeaderValue::from_static("no-store"));
        if let Ok(value) = HeaderValue::from_str(request_id) {
            headers.insert(super::REQUEST_ID_HEADER, value);
        }
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        response
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

/// The edna error body `{code, message, field}` and status for every error.
pub fn error_reply(err: &Error, request_id: &str) -> Reply {
    let (status, code, field) = match err {
        Error::InvalidInput { code, field, .. } => (400, *code, field.as_deref()),
        Error::Unauthorized(_) => (401, "UNAUTHORIZED", None),
        Error::Forbidden(_) => (403, "FORBIDDEN", None),
        Error::NotFound { field, .. } => (404, "NOT_FOUND", field.as_deref()),
        Error::MethodNotAllowed { .. } => (405, "METHOD_NOT_ALLOWED", None),
        Error::NotAcceptable => (406, "NOT_ACCEPTABLE", None),
        Error::Conflict { code, .. } => (409, *code, None),
        Error::PayloadTooLarge { .. } => (413, "PAYLOAD_TOO_LARGE", None),
        Error::UnsupportedMediaType(_) => (415, "UNSUPPORTED_MEDIA_TYPE", None),
        Error::IdempotencyKeyReused => (422, "IDEMPOTENCY_KEY_REUSED", Some(crate::idempotency::HEADER)),
        Error::RateLimited { .. } => (429, "RATE_LIMITED", None),
        Error::StorageUnavailable(_) => (503, "STORAGE_UNAVAILABLE", None),
        Error::Internal(_) => (500, "INTERNAL_ERROR", None),
    };
    if let Error::Internal(detail) | Error::StorageUnavailable(detail) = err {
        tracing::error!(request_id, status, detail = %detail, "request failed");
    }
    let body = ErrorBody { code, message: err.to_string(), field };
    let mut reply = Reply {
        status,
        body: serde_json::to_string(&body)
            .unwrap_or_else(|_| r#"{"code":"INTERNAL_ERROR","message":"internal error"}"#.into()),
        headers: Vec::new(),
    };
    match err {
        Error::MethodNotAllowed { allow } => reply.headers.push(("allow", allow.join(", "))),
        Error::StorageUnavailable(_) => reply.headers.push(("retry-after", "1".into())),
        Error::RateLimited { retry_after_secs } => reply.headers.push(("retry-after", retry_after_secs.to_string())),
        Error::Unauthorized(_) => reply.headers.push(("www-authenticate", "Bearer".into())),
        _ => {}
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(reply: &Reply) -> serde_json::Value {
        serde_json::from_str(reply.body()).unwrap()
    }

    #[test]
    fn validation_errors_carry_code_message_and_field() {
        let reply = error_reply(&Error::invalid("attachments[0].url", "bad url"), "r");
        assert_eq!(reply.status(), 400);
        assert_eq!(
            body_of(&reply),
            serde_json::json!({"code": "VALIDATION_FAILED", "message": "bad url", "field": "attachments[0].url"})
        );
    }

    #[test]
    fn internal_details_stay_out_of_the_body() {
        let reply = error_reply(&Error::internal("dynamodb said something secret"), "r");
        assert_eq!(reply.status(), 500);
        assert!(!reply.body().contains("secret"));
        let reply = error_reply(&Error::StorageUnavailable("throttled on table x".into()), "r");
        assert_eq!(reply.status(), 503);
        assert!(!reply.body().contains("table x"));
    }

    #[test]
    fn each_error_has_its_status() {
        let cases = [
            (Error::Unauthorized("x"), 401),
            (Error::Forbidden("x".into()), 403),
            (Error::not_found(None, "x"), 404),
            (Error::MethodNotAllowed { allow: vec!["GET"] }, 405),
            (Error::NotAcceptable, 406),
            (Error::conflict("X", "x"), 409),
            (Error::PayloadTooLarge { limit: 1 }, 413),
            (Error::UnsupportedMediaType("text/plain".into()), 415),
            (Error::IdempotencyKeyReused, 422),
            (Error::RateLimited { retry_after_secs: 60 }, 429),
        ];
        for (err, status) in cases {
            assert_eq!(error_reply(&err, "r").status(), status, "{err:?}");
        }
    }
}
