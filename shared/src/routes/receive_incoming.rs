//! `POST /api/v1/messages/incoming`: a customer's message, posted by a channel gateway; the
//! device rule of outgoing-to-device finds or creates the client.

use super::{Call, Endpoint};
use crate::core::incoming::{self, Incoming, IncomingLookup};
use crate::core::model::{Agent, GATEWAY_ROLES, Role};
use crate::edna::wire::{IncomingRequest, ReceivedMessage};
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::{App, Result};

pub struct ReceiveIncoming;

impl Endpoint for ReceiveIncoming {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = Incoming;
    type Found = IncomingLookup;
    const ROUTE: Route = super::RECEIVE_INCOMING;
    const ROLES: &'static [Role] = GATEWAY_ROLES;
    const IDEMPOTENT: bool = true;

    fn parse(request: &ApiRequest) -> Result<Incoming> {
        edna::body::<IncomingRequest>(request).and_then(IncomingRequest::validate)
    }

    async fn look_up(app: &'static App, input: &Incoming) -> Result<IncomingLookup> {
        incoming::look_up(&app.store, input).await
    }

    async fn run(app: &'static App, call: Call<Agent, Incoming, IncomingLookup>) -> Result<Reply> {
        let Call { input, found, once, .. } = call;
        let outcome = once.run(|claim| incoming::receive(&app.store, &input, found, claim)).await?;
        edna::ok_replayable(&ReceivedMessage::from(&outcome.value), outcome.replayed)
    }
}
