//! Clients: the people messages go to.

use jiff::Timestamp;

use crate::model::Client;
use crate::store::{IdKind, Store, Write};
use crate::validation::check_external_id;
use crate::{Error, Result};

pub const MAX_DISPLAY_NAME_CHARS: usize = 255;

/// Creates a client, optionally with an authorized external id, so that messages can be sent
/// to it before any device exists.
pub async fn create_client(
    store: &impl Store,
    external_id: Option<&str>,
    display_name: Option<&str>,
) -> Result<Client> {
    if let Some(external_id) = external_id {
        check_external_id(external_id, "externalId")?;
    }
    if display_name.is_some_and(|name| name.chars().count() > MAX_DISPLAY_NAME_CHARS) {
        return Err(Error::invalid(
            "displayName",
            format!("displayName is longer than {MAX_DISPLAY_NAME_CHARS} characters"),
        ));
    }
    let client = Client {
        client_id: store.next_id(IdKind::Client).await?,
        external_id: external_id.map(str::to_owned),
        unauthorized_id: None,
        display_name: display_name.map(str::to_owned),
        open_thread_id: None,
        created_at: Timestamp::now(),
    };
    match store.create_client(&client).await? {
        Write::Done => Ok(client),
        Write::Refused => Err(Error::conflict(
            "EXTERNAL_ID_TAKEN",
            format!("a client with external id {:?} already exists", external_id.unwrap_or_default()),
        )),
    }
}
