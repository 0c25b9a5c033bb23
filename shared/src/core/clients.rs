//! Clients: the people messages go to.

use jiff::Timestamp;

use crate::core::error::{Input, Problem};
use crate::core::model::Client;
use crate::core::validation::check_external_id;
use crate::store::{ClientStore, IdKind, IdStore, Write};
use crate::{Error, Result};

pub const MAX_DISPLAY_NAME_CHARS: usize = 255;

/// A client with a new id, not yet stored.
pub async fn new_client(
    store: &impl IdStore,
    external_id: Option<String>,
    unauthorized_id: Option<String>,
    display_name: Option<String>,
) -> Result<Client> {
    Ok(Client {
        client_id: store.next_id(IdKind::Client).await?,
        external_id,
        unauthorized_id,
        display_name,
        open_thread_id: None,
        created_at: Timestamp::now(),
    })
}

/// Creates a client, optionally with an authorized external id, so that messages can be sent
/// to it before any device exists.
pub async fn create_client(
    store: &(impl ClientStore + IdStore),
    external_id: Option<&str>,
    display_name: Option<&str>,
) -> Result<Client> {
    if let Some(external_id) = external_id {
        check_external_id(external_id, Input::ExternalClientId)?;
    }
    if display_name.is_some_and(|name| name.chars().count() > MAX_DISPLAY_NAME_CHARS) {
        return Err(Error::invalid(Input::DisplayName, Problem::LongerThan { max: MAX_DISPLAY_NAME_CHARS }));
    }
    let client = new_client(store, external_id.map(str::to_owned), None, display_name.map(str::to_owned)).await?;
    match store.create_client(&client).await? {
        Write::Done => Ok(client),
        Write::Refused => Err(Error::conflict(
            "EXTERNAL_ID_TAKEN",
            format!("a client with external id {:?} already exists", external_id.unwrap_or_default()),
        )),
    }
}
