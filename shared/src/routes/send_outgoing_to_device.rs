//! `POST /api/v1/messages/outgoing-to-device`: sends a message to one device of a client, finding
//! or creating the client the device belongs to (seed 001).

use super::{Call, Endpoint};
use crate::core::devices::{self, DeviceTarget, Lookup};
use crate::core::model::{Agent, MESSAGING_ROLES, Role};
use crate::core::sending::Draft;
use crate::core::validation::MessageContent;
use crate::edna::wire::{OutgoingToDeviceRequest, SentMessage};
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::{App, Result};

pub struct SendOutgoingToDevice;

impl Endpoint for SendOutgoingToDevice {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = (DeviceTarget, MessageContent);
    type Found = Lookup;
    const ROUTE: Route = super::SEND_OUTGOING_TO_DEVICE;
    const ROLES: &'static [Role] = MESSAGING_ROLES;
    const IDEMPOTENT: bool = true;

    fn parse(request: &ApiRequest) -> Result<Self::Input> {
        edna::body::<OutgoingToDeviceRequest>(request).and_then(OutgoingToDeviceRequest::validate)
    }

    async fn look_up(app: &'static App, (target, _): &Self::Input) -> Result<Lookup> {
        devices::look_up(&app.store, target).await
    }

    async fn run(app: &'static App, call: Call<Agent, Self::Input, Lookup>) -> Result<Reply> {
        let Call { caller: agent, input: (target, content), found: lookup, once } = call;
        let draft = Draft::to_customer(content, &agent);
        let outcome =
            once.run(|claim| devices::send_to_device(&app.store, &agent, &target, lookup, draft, claim)).await?;
        edna::ok_replayable(&SentMessage::from(&outcome.value), outcome.replayed)
    }
}
