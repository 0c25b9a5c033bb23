//! `POST /api/v1/ChatSession`: opens a chat session (a new thread) for an existing client or a
//! new anonymous one.

use shared::core::model::MESSAGING_ROLES;
use shared::core::{idempotency, threads};
use shared::http::ApiRequest;
use shared::superoffice::{self, Answer, body, wire};
use shared::{App, Result, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    superoffice::serve(app, routes::CREATE_CHAT_SESSION, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Answer> {
    let agent = superoffice::authenticate(app, &request, MESSAGING_ROLES).await?;
    let fields = body::fields(&request, "ChatSession", wire::default_session())?;
    let customer = wire::session_customer(&fields)?;
    let key = request.idempotency_key(agent.agent_id)?;
    let outcome =
        idempotency::once(&app.store, key, |claim| threads::open_session(&app.store, customer, claim)).await?;
    Ok(Answer::created_session(outcome.value, outcome.replayed))
}

#[cfg(test)]
mod tests;
