//! `POST /api/v1/messages/outgoing-to-device`: sends a message to one device of a client, finding
//! or creating the client the device belongs to (seed 001).

use shared::core::model::MESSAGING_ROLES;
use shared::core::sending::Draft;
use shared::core::{devices, idempotency};
use shared::edna::{
    self,
    wire::{OutgoingToDeviceRequest, SentMessage},
};
use shared::http::{self, ApiRequest, Reply};
use shared::{App, Result, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    edna::serve(app, routes::SEND_OUTGOING_TO_DEVICE, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Reply> {
    let authentication = edna::authenticate(app, &request, MESSAGING_ROLES);
    let parsed = edna::body::<OutgoingToDeviceRequest>(&request).and_then(OutgoingToDeviceRequest::validate);
    let (target, content) = match parsed {
        Ok(valid) => valid,
        Err(invalid) => return Err(http::refused(authentication, invalid).await),
    };
    let (agent, lookup) = http::authenticated(app, authentication, devices::look_up(&app.store, &target)).await?;
    let key = request.idempotency_key(agent.agent_id)?;
    let draft = Draft::to_customer(content, &agent);
    let outcome = idempotency::once(&app.store, key, |claim| {
        devices::send_to_device(&app.store, &agent, &target, lookup, draft, claim)
    })
    .await?;
    edna::ok_replayable(&SentMessage::from(&outcome.value), outcome.replayed)
}

#[cfg(test)]
mod tests;
