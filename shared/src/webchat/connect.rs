//! `webchat-connect` (`$connect`): admits a page whose `?token=` is a live visitor token and
//! records its connection; any other page is refused during the handshake (401).

use crate::core::webchat;
use crate::websocket::{self, WebSocketEvent};
use crate::{App, Result};

pub async fn handle(app: &'static App, event: WebSocketEvent) -> Result<Option<String>> {
    webchat::connect(&app.store, event.query("token"), &event.connection_id).await?;
    Ok(None)
}

pub async fn serve() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    websocket::serve(app, handle, websocket::edna_error).await
}
