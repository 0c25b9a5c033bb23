//! `POST /api/v1/messages/outgoing`: sends a message to an existing client (seed 000).

use shared::core::idempotency;
use shared::core::model::MESSAGING_ROLES;
use shared::core::sending::{self, Delivery, Draft};
use shared::edna::{
    self,
    wire::{OutgoingRequest, SentMessage},
};
use shared::http::{ApiRequest, Reply};
use shared::{App, Result, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    edna::serve(app, routes::SEND_OUTGOING, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Reply> {
    let agent = edna::authenticate(app, &request, MESSAGING_ROLES).await?;
    let (recipient, content) = edna::body::<OutgoingRequest>(&request)?.validate()?;
    let key = request.idempotency_key(agent.agent_id)?;
    let draft = Draft::to_customer(content, &agent);
    let outcome = idempotency::once(&app.store, key, |claim| {
        sending::send_outgoing(&app.store, &agent, &recipient, draft, claim)
    })
    .await?;
    edna::ok_replayable(&SentMessage::from(&outcome.value as &Delivery), outcome.replayed)
}

#[cfg(test)]
mod tests;
