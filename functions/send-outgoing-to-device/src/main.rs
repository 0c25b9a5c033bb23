//! `POST /api/v1/messages/outgoing-to-device`: sends a message to one device of a client,
//! creating the client and the device record on first use (seed 001).

use shared::devices::{self, OutgoingToDeviceRequest};
use shared::http::{ApiRequest, Reply};
use shared::idempotency;
use shared::model::MESSAGING_ROLES;
use shared::{App, Result, auth, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    shared::http::serve(app, routes::SEND_OUTGOING_TO_DEVICE, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Reply> {
    let agent = auth::authenticate(&app.store, request.header("authorization"), MESSAGING_ROLES).await?;
    let (target, content) = request.json::<OutgoingToDeviceRequest>()?.validate()?;
    let key = request.idempotency_key(agent.agent_id)?;
    let outcome = idempotency::once(&app.store, key, |claim| {
        devices::send_to_device(&app.store, &agent, &target, content, claim)
    })
    .await?;
    Reply::from_outcome(outcome)
}

#[cfg(test)]
mod tests;
