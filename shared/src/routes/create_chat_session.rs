//! `POST /api/v1/ChatSession`: opens a chat session (a new thread) for an existing client or a
//! new anonymous one.

use super::{Call, Endpoint};
use crate::core::model::{Agent, MESSAGING_ROLES, Role};
use crate::core::threads::{self, SessionCustomer};
use crate::http::{ApiRequest, Route};
use crate::superoffice::{Answer, SuperOffice, body, wire};
use crate::{App, Result};

pub struct CreateChatSession;

impl Endpoint for CreateChatSession {
    type Dialect = SuperOffice;
    type Caller = Agent;
    type Input = SessionCustomer;
    type Found = ();
    const ROUTE: Route = super::CREATE_CHAT_SESSION;
    const ROLES: &'static [Role] = MESSAGING_ROLES;
    const IDEMPOTENT: bool = true;

    fn parse(request: &ApiRequest) -> Result<SessionCustomer> {
        wire::session_customer(&body::fields(request, "ChatSession", wire::default_session())?)
    }

    async fn look_up(_: &'static App, _: &SessionCustomer) -> Result<()> {
        Ok(())
    }

    async fn run(app: &'static App, call: Call<Agent, SessionCustomer, ()>) -> Result<Answer> {
        let Call { input: customer, once, .. } = call;
        let outcome = once.run(|claim| threads::open_session(&app.store, customer, claim)).await?;
        Ok(Answer::created_session(outcome.value, outcome.replayed))
    }
}
