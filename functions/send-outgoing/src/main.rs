//! `POST /api/v1/messages/outgoing`: sends a message to an existing client (seed 000).

use shared::http::{ApiRequest, Reply};
use shared::idempotency;
use shared::model::MESSAGING_ROLES;
use shared::sending::{self, OutgoingRequest};
use shared::{App, Result, auth, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    shared::http::serve(app, routes::SEND_OUTGOING, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Reply> {
    let agent = auth::authenticate(&app.store, request.header("authorization"), MESSAGING_ROLES).await?;
    let (recipient, content) = request.json::<OutgoingRequest>()?.validate()?;
    let key = request.idempotency_key(agent.agent_id)?;
    let outcome = idempotency::once(&app.store, key, |claim| {
        sending::send_outgoing(&app.store, &agent, &recipient, content, claim)
    })
    .await?;
    Reply::from_outcome(outcome)
}

#[cfg(test)]
mod tests;
