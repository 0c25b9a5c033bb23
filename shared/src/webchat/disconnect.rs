//! `webchat-disconnect` (`$disconnect`): forgets the connection, so pushes stop looking for it.
//! API Gateway sends this on a best-effort basis: a connection it never reports gone is removed
//! by the first push that gets a 410, or by its TTL.

use crate::store::VisitorStore;
use crate::websocket::{self, WebSocketEvent};
use crate::{App, Result};

pub async fn handle(app: &'static App, event: WebSocketEvent) -> Result<Option<String>> {
    if let Some(connection) = app.store.connection(&event.connection_id).await? {
        app.store.remove_connection(&connection.connection_id, connection.client_id).await?;
    }
    Ok(None)
}

pub async fn serve() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    websocket::serve(app, handle, websocket::edna_error).await
}
