//! `webchat-message` (`$default`): each frame a page sends, answered on the same connection
//! (the route's response is the answer frame; a refused frame gets an error frame and the
//! connection stays open).

use crate::core::webchat::{self, Answer, MAX_FRAME_BYTES, Request};
use crate::webchat::wire;
use crate::websocket::{self, WebSocketEvent};
use crate::{App, Error, Result};

pub async fn handle(app: &'static App, event: WebSocketEvent) -> Result<Option<String>> {
    if event.body.len() > MAX_FRAME_BYTES {
        return Err(Error::PayloadTooLarge { limit: MAX_FRAME_BYTES });
    }
    let frame = wire::read_frame(&event.body)?;
    let answer = match (frame.request, frame.thread_id) {
        // A ping only keeps the connection from idling out: it needs no table.
        (Request::Ping, None) => Answer::Pong,
        (request, thread_id) => {
            let connection = webchat::connection(&app.store, &event.connection_id).await?;
            webchat::answer(&app.store, &connection, thread_id, request).await?
        }
    };
    wire::answer_frame(&answer, frame.request_id).map(Some)
}

pub async fn serve() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    websocket::serve(app, handle, wire::error_frame).await
}
