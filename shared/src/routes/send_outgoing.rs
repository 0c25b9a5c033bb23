//! `POST /api/v1/messages/outgoing`: sends a message to an existing client (seed 000).

use super::{Call, Endpoint};
use crate::core::model::{Agent, Client, MESSAGING_ROLES, Role};
use crate::core::sending::{self, Draft, Recipient};
use crate::core::validation::MessageContent;
use crate::edna::wire::{OutgoingRequest, SentMessage};
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::{App, Result};

pub struct SendOutgoing;

impl Endpoint for SendOutgoing {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = (Recipient, MessageContent);
    type Found = Client;
    const ROUTE: Route = super::SEND_OUTGOING;
    const ROLES: &'static [Role] = MESSAGING_ROLES;
    const IDEMPOTENT: bool = true;

    fn parse(request: &ApiRequest) -> Result<Self::Input> {
        edna::body::<OutgoingRequest>(request).and_then(OutgoingRequest::validate)
    }

    async fn look_up(app: &'static App, (recipient, _): &Self::Input) -> Result<Client> {
        sending::find_client(&app.store, recipient).await
    }

    async fn run(app: &'static App, call: Call<Agent, Self::Input, Client>) -> Result<Reply> {
        let Call { caller: agent, input: (_, content), found: client, once } = call;
        let draft = Draft::to_customer(content, &agent);
        let outcome = once.run(|claim| sending::deliver(&app.store, &agent, client, draft, claim)).await?;
        edna::ok_replayable(&SentMessage::from(&outcome.value), outcome.replayed)
    }
}
