//! `POST /api/v1/messages/outgoing`: sends a message to an existing client (seed 000).

use shared::core::idempotency;
use shared::core::model::MESSAGING_ROLES;
use shared::core::sending::{self, Delivery, Draft};
use shared::edna::{
    self,
    wire::{OutgoingRequest, SentMessage},
};
use shared::http::{self, ApiRequest, Reply};
use shared::{App, Result, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    edna::serve(app, routes::SEND_OUTGOING, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Reply> {
    let authentication = edna::authenticate(app, &request, MESSAGING_ROLES);
    let (recipient, content) = match edna::body::<OutgoingRequest>(&request).and_then(OutgoingRequest::validate) {
        Ok(valid) => valid,
        Err(invalid) => return Err(http::refused(authentication, invalid).await),
    };
    let (agent, client) =
        http::authenticated(app, authentication, sending::find_client(&app.store, &recipient)).await?;
    let key = request.idempotency_key(agent.agent_id)?;
    let draft = Draft::to_customer(content, &agent);
    let outcome =
        idempotency::once(&app.store, key, |claim| sending::deliver(&app.store, &agent, client, draft, claim)).await?;
    edna::ok_replayable(&SentMessage::from(&outcome.value as &Delivery), outcome.replayed)
}

#[cfg(test)]
mod tests;
