//! Replies, and the one place where each kind of domain error gets its status and headers (the
//! body is the dialect's).

use lambda_http::http::{HeaderName, HeaderValue, StatusCode};
use lambda_http::{Body, Response};

use crate::Error;

/// A rendered response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    status: u16,
    content_type: String,
    body: String,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn new(status: u16, content_type: impl Into<String>, body: String) -> Reply {
        Reply { status, content_type: content_type.into(), body, headers: Vec::new() }
    }

    /// An error's reply: its status, the headers every dialect sends for it, and `body`.
    pub fn error(err: &Error, content_type: impl Into<String>, body: String) -> Reply {
        let mut reply = Reply::new(status_of(err), content_type, body);
        match err {
            Error::MethodNotAllowed { allow } => reply = reply.with_header("allow", allow.join(", ")),
            Error::StorageUnavailable(_) | Error::OutcomeUnknown(_) => reply = reply.with_header("retry-after", "1"),
            Error::RateLimited { retry_after_secs } => {
                reply = reply.with_header("retry-after", retry_after_secs.to_string())
            }
            _ => {}
        }
        reply
    }

    /// Adds a header; a name given twice (`set-cookie`) is sent twice.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn body(&self) -> &str {
        &self.body
    }

    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(header, _)| header.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    pub fn into_response(self, request_id: &str) -> Response<Body> {
        let mut response = Response::new(Body::Text(self.body));
        *response.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&self.content_type) {
            headers.insert("content-type", value);
        }
        headers.insert("cache-control", HeaderValue::from_static("no-store"));
        headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
        if let Ok(value) = HeaderValue::from_str(request_id) {
            headers.insert(super::REQUEST_ID_HEADER, value);
        }
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.append(HeaderName::from_static(name), value);
            }
        }
        response
    }
}

/// The status of each kind of error, the same in every dialect.
pub fn status_of(err: &Error) -> u16 {
    match err {
        Error::InvalidInput { .. } => 400,
        Error::Unauthorized(_) => 401,
        Error::Forbidden(_) => 403,
        Error::NotFound { .. } => 404,
        Error::MethodNotAllowed { .. } => 405,
        Error::NotAcceptable => 406,
        Error::Conflict { .. } => 409,
        Error::PayloadTooLarge { .. } => 413,
        Error::UnsupportedMediaType(_) => 415,
        Error::IdempotencyKeyReused => 422,
        Error::RateLimited { .. } => 429,
        Error::StorageUnavailable(_) | Error::OutcomeUnknown(_) => 503,
        Error::Internal(_) => 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_status() {
        let cases = [
            (Error::invalid("f", "x"), 400),
            (Error::Unauthorized(crate::core::error::Refusal::BadToken), 401),
            (Error::Forbidden("x".into()), 403),
            (Error::not_found(None, "x"), 404),
            (Error::MethodNotAllowed { allow: vec!["GET"] }, 405),
            (Error::NotAcceptable, 406),
            (Error::conflict("X", "x"), 409),
            (Error::PayloadTooLarge { limit: 1 }, 413),
            (Error::UnsupportedMediaType("text/plain".into()), 415),
            (Error::IdempotencyKeyReused, 422),
            (Error::RateLimited { retry_after_secs: 60 }, 429),
            (Error::StorageUnavailable("x".into()), 503),
            (Error::internal("x"), 500),
        ];
        for (err, status) in cases {
            assert_eq!(status_of(&err), status, "{err:?}");
        }
    }

    #[test]
    fn retryable_errors_say_when_to_retry() {
        let reply = Reply::error(&Error::StorageUnavailable("x".into()), "application/json", String::new());
        assert_eq!(reply.header("retry-after"), Some("1"));
        let reply = Reply::error(&Error::RateLimited { retry_after_secs: 60 }, "application/json", String::new());
        assert_eq!(reply.header("Retry-After"), Some("60"));
        let reply =
            Reply::error(&Error::MethodNotAllowed { allow: vec!["GET", "POST"] }, "application/json", String::new());
        assert_eq!(reply.header("allow"), Some("GET, POST"));
    }
}
