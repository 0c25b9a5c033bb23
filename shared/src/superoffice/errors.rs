//! SuperOffice's error body: `ErrorType` per kind, the message in English or Norwegian, and the
//! field or header at fault in `ErrorSource`.

use super::language::Language;
use crate::Error;
use crate::core::sending::SESSION_CLOSED;

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
    let field = match err {
        Error::InvalidInput { field, .. } | Error::NotFound { field, .. } => field.as_deref().unwrap_or_default(),
        Error::IdempotencyKeyReused => crate::core::idempotency::HEADER,
        _ => "",
    };
    // The core names a thread `threadId`; here it is the session in the path.
    match field {
        "threadId" => "chatSessionId".to_owned(),
        other => other.to_owned(),
    }
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
            _ => err.to_string(),
        },
        Language::Norwegian => norwegian(err),
    }
}

fn norwegian(err: &Error) -> String {
    match err {
        Error::InvalidInput { field: Some(field), .. } => format!("Ugyldig verdi i {field}."),
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
        Error::IdempotencyKeyReused => "Denne Idempotency-Key er allerede brukt for en annen forespørsel.".into(),
        Error::RateLimited { retry_after_secs } => {
            format!("For mange mislykkede pålogginger; prøv igjen om {retry_after_secs} sekunder.")
        }
        Error::StorageUnavailable(_) => "Lagringen er midlertidig utilgjengelig; prøv igjen.".into(),
        Error::OutcomeUnknown(_) => "Skrivingen ble sendt, men ikke bekreftet i tide, og kan fortsatt bli lagret; \
                                     prøv igjen med samme Idempotency-Key, eller les økten før du sender på nytt."
            .into(),
        Error::Internal(_) => "Intern feil.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_norwegian_message_that_differs_from_the_english_one() {
        let errors = [
            Error::invalid("Type", "unknown Type"),
            Error::Unauthorized("x"),
            Error::not_found(Some("threadId"), "no thread"),
            Error::conflict(SESSION_CLOSED, "closed"),
            Error::NotAcceptable,
        ];
        for err in errors {
            assert_ne!(message(&err, Language::English), message(&err, Language::Norwegian), "{err:?}");
        }
        assert_eq!(source(&Error::not_found(Some("threadId"), "x")), "chatSessionId");
        assert_eq!(error_type(&Error::conflict(SESSION_CLOSED, "x")), "SessionClosed");
    }
}
