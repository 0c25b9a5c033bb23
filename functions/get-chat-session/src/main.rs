//! `GET /api/v1/ChatSession/{chatSessionId}`: a chat session (a thread of the edna side).

use shared::core::model::MESSAGING_ROLES;
use shared::core::threads;
use shared::http::{self, ApiRequest};
use shared::superoffice::{self, Answer};
use shared::{App, Result, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    superoffice::serve(app, routes::GET_CHAT_SESSION, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Answer> {
    let authentication = superoffice::authenticate(app, &request, MESSAGING_ROLES);
    let session_id = match superoffice::session_id(&request) {
        Ok(id) => id,
        Err(invalid) => return Err(http::refused(authentication, invalid).await),
    };
    let (_, summary) = http::authenticated(app, authentication, threads::get_thread(&app.store, session_id)).await?;
    Ok(Answer::session(summary))
}

#[cfg(test)]
mod tests;
