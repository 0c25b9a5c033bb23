//! SuperOffice's error body: `ErrorType` per kind, the message in English or Norwegian, and the
//! field or header at fault in `ErrorSource`.

use std::borrow::Cow;

use super::language::Language;
use crate::Error;
use crate::core::error::Input;
use crate::core::sending::SESSION_CLOSED;
use crate::wording::{self, Names as _, field_name};

/// SuperOffice's names of the core's inputs, as `ErrorSource` gives them: a thread is the
/// session in the path, a client the session's customer.
struct Source;

impl wording::Names for Source {
    fn name(&self, input: Input) -> Cow<'static, str> {
        match input {
            Input::ThreadId => Cow::Borrowed("chatSessionId"),
            other => Words.name(other),
        }
    }
}

/// The names the messages use; they kept the words they always had (a thread is `threadId` in
/// them, as in edna's answers).
struct Words;

impl wording::Names for Words {
    fn name(&self, input: Input) -> Cow<'static, str> {
        match input {
            Input::ClientId => Cow::Borrowed("CustomerId"),
            Input::ExternalClientId => Cow::Borrowed("CustomerExternalId"),
            Input::DisplayName => Cow::Borrowed("CustomerAlias"),
            Input::Text => Cow::Borrowed("Message"),
            other => crate::edna::Names.name(other),
        }
    }
}

pub fn error_type(err: &Error) -> &'static str {
    match err {
        Error::InvalidInput { .. } => "InvalidInput",
        Error::Unauthorized(_) => "Unauthorized",
        Error::Forbidden(_) => "Forbidden",
        Error::NotFound { .. } => "NotFound",
        Error::MethodNotAllowed { .. } => "MethodNotAllowed",
        Error::NotAcceptable => "NotAcceptable",
        Error::Conflict { code, .. } if *code == SESSION_CLOSED => "SessionClosed",
        Error::Conflict { .. } => "Conflict",
        Error::PayloadTooLarge { .. } => "PayloadTooLarge",
        Error::UnsupportedMediaType(_) => "UnsupportedMediaType",
        Error::IdempotencyKeyReused => "IdempotencyKeyReused",
        Error::RateLimited { .. } => "RateLimited",
        Error::StorageUnavailable(_) => "StorageUnavailable",
        Error::OutcomeUnknown(_) => "OutcomeUnknown",
        Error::Internal(_) => "InternalError",
    }
}

/// The field or header at fault, in this dialect's names; empty when none is.
pub fn source(err: &Error) -> String {
    err.field().map(|field| field_name(field, &Source).into_owned()).unwrap_or_default()
}

pub fn message(err: &Error, language: Language) -> String {
    match language {
        Language::English => match err {
            Error::NotAcceptable => {
                format!("no acceptable answer format; this endpoint answers {}", super::ANSWER_TYPES.join(", "))
            }
            Error::UnsupportedMediaType(given) => {
                format!("unsupported Content-Type {given:?}; send one of {}", super::body::CONTENT_TYPES.join(", "))
            }
            _ => wording::message(err, &Words),
        },
        Language::Norwegian => norwegian(err),
    }
}

fn norwegian(err: &Error) -> String {
    match err {
        Error::InvalidInput { field: Some(field), .. } => format!("Ugyldig verdi i {}.", field_name(field, &Words)),
        Error::InvalidInput { field: None, .. } => "Forespørselen kan ikke leses.".into(),
        Error::Unauthorized(_) => "Mangler gyldig pålogging.".into(),
        Error::Forbidden(_) => "Rollen din har ikke tilgang til dette.".into(),
        Error::NotFound { .. } => "Fant ikke det som ble etterspurt.".into(),
        Error::MethodNotAllowed { allow } => format!("Metoden er ikke tillatt her; tillatt: {}.", allow.join(", ")),
        Error::NotAcceptable => "Ingen av de ønskede svarformatene kan leveres.".into(),
        Error::Conflict { code, .. } if *code == SESSION_CLOSED => {
            "Chatteøkten er avsluttet og tar ikke imot flere meldinger.".into()
        }
        Error::Conflict { .. } => "Forespørselen er i konflikt med gjeldende tilstand.".into(),
        Error::PayloadTooLarge { limit } => format!("Forespørselen er større enn {limit} byte."),
        Error::UnsupportedMediaType(_) => "Innholdstypen støttes ikke.".into(),
        Error::IdempotencyKeyReused => {
            format!("Denne {} er allerede brukt for en annen forespørsel.", Words.name(Input::IdempotencyKey))
        }
        Error::RateLimited { retry_after_secs } => {
            format!("For mange mislykkede pålogginger; prøv igjen om {retry_after_secs} sekunder.")
        }
        Error::StorageUnavailable(_) => "Lagringen er midlertidig utilgjengelig; prøv igjen.".into(),
        Error::OutcomeUnknown(_) => format!(
            "Skrivingen ble sendt, men ikke bekreftet i tide, og kan fortsatt bli lagret; prøv igjen med samme {}, \
             eller les økten før du sender på nytt.",
            Words.name(Input::IdempotencyKey)
        ),
        Error::Internal(_) => "Intern feil.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::Refusal;

    #[test]
    fn every_kind_has_a_norwegian_message_that_differs_from_the_english_one() {
        let errors = [
            Error::invalid("Type", "unknown Type"),
            Error::Unauthorized(Refusal::BadToken),
            Error::none_with(Input::ThreadId, "7"),
            Error::conflict(SESSION_CLOSED, "closed"),
            Error::NotAcceptable,
        ];
        for err in errors {
            assert_ne!(message(&err, Language::English), message(&err, Language::Norwegian), "{err:?}");
        }
        assert_eq!(source(&Error::none_with(Input::ThreadId, "7")), "chatSessionId");
        assert_eq!(message(&Error::none_with(Input::ThreadId, "7"), Language::English), "no thread with threadId 7");
        assert_eq!(error_type(&Error::conflict(SESSION_CLOSED, "x")), "SessionClosed");
    }
}
