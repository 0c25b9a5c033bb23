//! Delivery statuses reported by a channel gateway: they only move forward (the database's
//! condition holds the rank), each keeps its own time, `READ` implies `DELIVERED`, failures are
//! final and none follows `READ`.

use jiff::Timestamp;

use crate::core::error::{Input, Problem};
use crate::core::incoming::{check_provider_message_id, parse_time};
use crate::core::model::{DeliveryError, DeliveryStatus};
use crate::core::validation;
use crate::store::{MessagePosition, StatusChange, StatusUpdate, ThreadStore};
use crate::{Error, Result};

pub const MAX_ERROR_CODE_CHARS: usize = 255;
pub const MAX_ERROR_MESSAGE_CHARS: usize = 2_000;

/// Checks a reported status: one of [`DeliveryStatus::REPORTED`], an optional RFC 3339 time
/// (now when absent), the provider's id, and a failure's error.
pub fn check(
    status: Option<String>,
    status_at: Option<String>,
    provider_message_id: Option<String>,
    error: Option<(Option<String>, Option<String>)>,
) -> Result<StatusUpdate> {
    let allowed = || DeliveryStatus::REPORTED.map(DeliveryStatus::as_str).to_vec();
    let name =
        status.ok_or_else(|| Error::invalid(Input::DeliveryStatus, Problem::RequiredOneOf { allowed: allowed() }))?;
    let status = DeliveryStatus::REPORTED.into_iter().find(|status| status.as_str() == name).ok_or_else(|| {
        Error::invalid(Input::DeliveryStatus, Problem::UnknownValue { given: name.clone(), allowed: allowed() })
    })?;
    let at = match status_at {
        Some(text) => parse_time(&text, Input::StatusAt)?,
        None => Timestamp::now(),
    };
    if let Some(id) = &provider_message_id {
        check_provider_message_id(id)?;
    }
    let error = match error {
        None => None,
        Some((code, message)) => {
            let code = code.ok_or_else(|| Error::invalid(Input::StatusErrorCode, Problem::Required))?;
            validation::check_external_id(&code, Input::StatusErrorCode)?;
            let message = message.unwrap_or_default();
            validation::check_length(&message, MAX_ERROR_MESSAGE_CHARS, Input::StatusErrorMessage)?;
            Some(DeliveryError { code, message })
        }
    };
    Ok(StatusUpdate { status, at, error })
}

/// Where the message is (read alongside authentication); 404 when there is no such message.
pub async fn locate(store: &impl ThreadStore, message_id: u64) -> Result<(u64, MessagePosition)> {
    store.message_location(message_id).await?.ok_or_else(|| unknown(message_id))
}

fn unknown(message_id: u64) -> Error {
    Error::none_with(Input::MessageId, message_id.to_string())
}

/// Applies the status to the message found by [`locate`].
pub async fn report(
    store: &impl ThreadStore,
    (thread_id, position): (u64, MessagePosition),
    update: &StatusUpdate,
) -> Result<StatusChange> {
    store.update_status(thread_id, position, update).await?.ok_or_else(|| unknown(position.message_id))
}
