//! `POST /api/v1/webchat/visitors`: a token for a visitor's page, tied to a client's `WEB`
//! device (`docs/webchat.md`). Not idempotent by key: a replay would have to store the token.

use super::{Call, Endpoint};
use crate::core::model::{Agent, MESSAGING_ROLES, Role};
use crate::core::webchat::{self, VisitorRequest};
use crate::edna::visitors::{VisitorBody, VisitorCreated};
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::{App, Result};

pub struct CreateVisitor;

impl Endpoint for CreateVisitor {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = VisitorRequest;
    type Found = ();
    const ROUTE: Route = super::CREATE_VISITOR;
    const ROLES: &'static [Role] = MESSAGING_ROLES;

    fn parse(request: &ApiRequest) -> Result<VisitorRequest> {
        VisitorBody::read(request)
    }

    async fn look_up(_: &'static App, _: &VisitorRequest) -> Result<()> {
        Ok(())
    }

    async fn run(app: &'static App, call: Call<Agent, VisitorRequest, ()>) -> Result<Reply> {
        let created = webchat::create_visitor(&app.store, &call.input).await?;
        let websocket_url = crate::webchat::settings().websocket_url.clone();
        edna::json(201, &VisitorCreated::new(created, websocket_url))
    }
}
