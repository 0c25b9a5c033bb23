//! How errors read in English: one sentence per kind and per [`Problem`], with the inputs named
//! by the dialect that answers ([`Names`]). edna's answers, SuperOffice's English ones, the log
//! and the operator's command all read them; `Display` of [`Error`] uses edna's names.

use std::borrow::Cow;
use std::fmt;

use crate::Error;
use crate::core::error::{Field, Input, Message, Problem, Refusal};

/// The header that makes a request idempotent (read by the edge, named by both dialects).
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// A dialect's names for the domain's inputs.
pub trait Names {
    /// The name of `input` as the dialect's error body names the field at fault.
    fn name(&self, input: Input) -> Cow<'static, str>;
}

/// The name of the field at fault, in `names`.
pub fn field_name(field: &Field, names: &impl Names) -> Cow<'static, str> {
    match field {
        Field::Input(input) => names.name(*input),
        Field::Wire(name) => Cow::Owned(name.clone()),
    }
}

/// The error's message, naming inputs as `names` does.
pub fn message(err: &Error, names: &impl Names) -> String {
    let text = |message: &Message| match message {
        Message::Text(text) => text.clone(),
        Message::Problem(problem) => describe(problem, err.field(), names),
    };
    match err {
        Error::InvalidInput { message, .. } | Error::NotFound { message, .. } | Error::Conflict { message, .. } => {
            text(message)
        }
        Error::Unauthorized(refusal) => refusal_text(*refusal).to_owned(),
        Error::Forbidden(text) => text.clone(),
        Error::MethodNotAllowed { allow } => format!("method not allowed; allowed: {}", allow.join(", ")),
        Error::NotAcceptable => "this endpoint only produces application/json".into(),
        Error::PayloadTooLarge { limit } => format!("request body is larger than {limit} bytes"),
        Error::UnsupportedMediaType(given) => format!("unsupported Content-Type {given:?}; send application/json"),
        Error::IdempotencyKeyReused => {
            format!("this {} was already used for a different request", names.name(Input::IdempotencyKey))
        }
        Error::RateLimited { retry_after_secs } => {
            format!("too many failed logins; retry in {retry_after_secs} seconds")
        }
        Error::StorageUnavailable(_) => "storage is temporarily unavailable; retry later".into(),
        Error::OutcomeUnknown(_) => format!(
            "the write was sent but not confirmed before the deadline and may still be applied; retry with the same \
             {}, or read the thread before sending again",
            names.name(Input::IdempotencyKey)
        ),
        Error::Internal(_) => "internal error".into(),
    }
}

/// Why credentials were refused (the same words in every dialect; they name the edge's headers).
pub fn refusal_text(refusal: Refusal) -> &'static str {
    match refusal {
        // Same text for every failed login, so it tells nobody which part was wrong.
        Refusal::BadCredentials => "login or password is incorrect",
        Refusal::BadToken => "missing, invalid or expired credentials; log in with POST /api/auth/login",
        Refusal::BadXsrf => "the X-XSRF-TOKEN header is missing or does not match the session cookie",
        Refusal::BadAppToken => "a ticket needs an SO-AppToken header naming a registered application",
        Refusal::BadVisitorToken => {
            "missing, unknown or expired visitor token; the site's server asks POST /api/v1/webchat/visitors for a new one"
        }
    }
}

/// A problem of the field at fault, as a sentence. Some sentences name the field by its last
/// part only (`url must be ...` of `attachments[0].url`).
pub fn describe(problem: &Problem, field: Option<&Field>, names: &impl Names) -> String {
    let name = field.map(|field| field_name(field, names)).unwrap_or(Cow::Borrowed("value"));
    let leaf = name.rsplit('.').next().unwrap_or(&name);
    match problem {
        Problem::TooLong { chars, max } => format!("{name} is {chars} characters long; at most {max} are allowed"),
        Problem::LongerThan { max } => format!("{name} is longer than {max} characters"),
        Problem::Empty => format!("{name} must not be empty"),
        Problem::ControlCharacters => format!("{name} must not contain control characters"),
        Problem::IdOutOfRange { max } => format!("{name} must be an integer between 1 and {max}"),
        Problem::IntegerOutOfRange { min, max } => format!("{name} must be an integer from {min} to {max}"),
        Problem::CharacterCount { min, max, no_spaces } => {
            format!("{name} must be {min} to {max} characters{}", if *no_spaces { " without spaces" } else { "" })
        }
        Problem::PrintableCount { min, max } => format!("{name} must be {min} to {max} printable ASCII characters"),
        Problem::NoRecipient => format!(
            "name the client with one of {}, {} or {}",
            names.name(Input::ClientId),
            names.name(Input::ExternalClientId),
            names.name(Input::ThreadId)
        ),
        Problem::EmptyWithoutAttachments => {
            format!("{name} may be empty only when at least one attachment is given")
        }
        Problem::TooMany { given, max } => format!("{given} {name} given; at most {max} are allowed"),
        Problem::NotWebUrl => format!("{leaf} must be an absolute http or https URL"),
        Problem::NotMediaType => format!("{leaf} must be a MIME type such as image/jpeg"),
        Problem::UnknownFileKind => {
            "give either a file name with an extension or a MIME type, so the client can display the file".into()
        }
        Problem::Required => format!("{leaf} is required"),
        Problem::RequiredOneOf { allowed } => format!("{leaf} is required; one of {}", allowed.join(", ")),
        Problem::UnknownValue { given, allowed } => format!("unknown {leaf} {given:?}; one of {}", allowed.join(", ")),
        Problem::NotPhoneNumber => format!("{leaf} is not a phone number: 5 to 15 digits with an optional leading +"),
        Problem::NotEmailAddress => format!("{leaf} is not an e-mail address"),
        Problem::NotToken { max } => format!("must be 1 to {max} characters without spaces or control characters"),
        Problem::NoneWith { value } => {
            let what = match field {
                Some(Field::Input(Input::ThreadId)) => "thread",
                Some(Field::Input(Input::Login)) => "agent",
                Some(Field::Input(Input::MessageId)) => "message",
                Some(Field::Input(Input::WebhookId)) => "webhook",
                _ => "client",
            };
            format!("no {what} with {name} {value}")
        }
        Problem::InProgress => {
            format!("a request with this {} is still being processed; retry shortly", names.name(Input::IdempotencyKey))
        }
        Problem::NotTimestamp => {
            format!("{leaf} must be a date-time with an offset (RFC 3339), such as 2026-12-02T18:00:00Z")
        }
    }
}

/// The log's and the operator's wording: edna's names.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&message(self, &crate::edna::Names))
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&field_name(self, &crate::edna::Names))
    }
}
