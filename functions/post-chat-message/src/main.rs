//! `POST /api/v1/ChatSession/{chatSessionId}/Messages`: adds a message to a chat session (seed
//! 002) and answers the stored `ChatMessage`.

use shared::core::model::MESSAGING_ROLES;
use shared::core::{idempotency, sending, threads};
use shared::http::{self, ApiRequest};
use shared::superoffice::{self, Answer, body, wire};
use shared::{App, Result, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    superoffice::serve(app, routes::POST_CHAT_MESSAGE, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Answer> {
    let authentication = superoffice::authenticate(app, &request, MESSAGING_ROLES);
    let parsed = superoffice::session_id(&request)
        .and_then(|id| Ok((id, body::fields(&request, "ChatMessage", wire::default_message())?)));
    let (session_id, fields) = match parsed {
        Ok(valid) => valid,
        Err(invalid) => return Err(http::refused(authentication, invalid).await),
    };
    let (agent, thread) =
        http::authenticated(app, authentication, threads::existing_thread(&app.store, session_id)).await?;
    let draft = wire::message_draft(&fields, session_id, &agent)?;
    let key = request.idempotency_key(agent.agent_id)?;
    let outcome =
        idempotency::once(&app.store, key, |claim| sending::post_to_thread(&app.store, &agent, thread, draft, claim))
            .await?;
    Ok(Answer::message(outcome.value, outcome.replayed))
}

#[cfg(test)]
mod tests;
