//! Domain errors. `crate::http::response` is the one place that turns them into HTTP responses.

/// Everything a request can fail with, in the terms of the edna error body
/// `{code, message, field}`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: the request is malformed or breaks a rule; `field` names the part at fault.
    #[error("{message}")]
    InvalidInput { code: &'static str, message: String, field: Option<String> },
    /// 401: no usable credentials. The message never says which part was wrong.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 403: the agent is known but its role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: the thing named does not exist.
    #[error("{message}")]
    NotFound { message: String, field: Option<String> },
    /// 405: the path exists with other methods.
    #[error("method not allowed; allowed: {}", allow.join(", "))]
    MethodNotAllowed { allow: Vec<&'static str> },
    /// 406: the caller accepts no representation we can produce.
    #[error("this endpoint only produces application/json")]
    NotAcceptable,
    /// 409: the request clashes with the current state.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 413: the body is larger than we accept.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415: the body is in a format we do not read.
    #[error("unsupported Content-Type {0:?}; send application/json")]
    UnsupportedMediaType(String),
    /// 422: an `Idempotency-Key` was reused for a different request.
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    /// 429: too many failed attempts; retry after this many seconds.
    #[error("too many failed logins; retry in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    /// 503: the database could not be reached or is throttling; safe to retry.
    #[error("storage is temporarily unavailable; retry later")]
    StorageUnavailable(String),
    /// 503: a write reached the database, whose answer did not come back before the deadline: it
    /// may still be applied. Only when the database stays unreachable for the whole budget; a
    /// retry with the same `Idempotency-Key` gets the stored result if it was.
    #[error(
        "the write was sent but not confirmed before the deadline and may still be applied; retry with the same \
         Idempotency-Key, or read the thread before sending again"
    )]
    OutcomeUnknown(String),
    /// 500: a fault of ours. The detail is logged, never shown.
    #[error("internal error")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A 400 naming the field at fault.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput { code: "VALIDATION_FAILED", message: message.into(), field: Some(field.into()) }
    }

    pub fn not_found(field: Option<&str>, message: impl Into<String>) -> Self {
        Error::NotFound { message: message.into(), field: field.map(str::to_owned) }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict { code, message: message.into() }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Error::Internal(detail.to_string())
    }

    /// What went wrong on our side (500, 503), for the log and the operator; never shown to callers.
    pub fn server_detail(&self) -> Option<&str> {
        match self {
            Error::Internal(detail) | Error::StorageUnavailable(detail) | Error::OutcomeUnknown(detail) => Some(detail),
            _ => None,
        }
    }
}
