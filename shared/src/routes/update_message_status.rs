//! `POST /api/v1/messages/{id}/status`: a gateway reports how far a message got. One
//! conditional update of the message: it moves only forward; a late status answers the current
//! one.

use super::{Call, Endpoint};
use crate::core::model::{Agent, GATEWAY_ROLES, Role};
use crate::core::status;
use crate::edna::wire::{StatusRequest, StatusView};
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::store::{MessagePosition, StatusUpdate};
use crate::{App, Result};

pub struct UpdateMessageStatus;

impl Endpoint for UpdateMessageStatus {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = (u64, StatusUpdate);
    type Found = (u64, MessagePosition);
    const ROUTE: Route = super::UPDATE_MESSAGE_STATUS;
    const ROLES: &'static [Role] = GATEWAY_ROLES;

    fn parse(request: &ApiRequest) -> Result<Self::Input> {
        let message_id = request.path_id("id")?;
        let update = edna::body::<StatusRequest>(request).and_then(StatusRequest::validate)?;
        Ok((message_id, update))
    }

    async fn look_up(app: &'static App, (message_id, _): &Self::Input) -> Result<Self::Found> {
        status::locate(&app.store, *message_id).await
    }

    async fn run(app: &'static App, call: Call<Agent, Self::Input, Self::Found>) -> Result<Reply> {
        let (_, update) = call.input;
        // Forward-only by its condition, so a retry is harmless: no Idempotency-Key needed.
        let change = status::report(&app.store, call.found, &update).await?;
        edna::ok(&StatusView::from(change))
    }
}
