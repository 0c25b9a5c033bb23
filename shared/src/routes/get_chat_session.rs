//! `GET /api/v1/ChatSession/{chatSessionId}`: a chat session (a thread of the edna side).

use super::{Call, Endpoint};
use crate::core::model::{Agent, MESSAGING_ROLES, Role};
use crate::core::threads::{self, ThreadSummary};
use crate::http::{ApiRequest, Route};
use crate::superoffice::{self, Answer, SuperOffice};
use crate::{App, Result};

pub struct GetChatSession;

impl Endpoint for GetChatSession {
    type Dialect = SuperOffice;
    type Caller = Agent;
    type Input = u64;
    type Found = ThreadSummary;
    const ROUTE: Route = super::GET_CHAT_SESSION;
    const ROLES: &'static [Role] = MESSAGING_ROLES;

    fn parse(request: &ApiRequest) -> Result<u64> {
        superoffice::session_id(request)
    }

    async fn look_up(app: &'static App, session_id: &u64) -> Result<ThreadSummary> {
        threads::get_thread(&app.store, *session_id).await
    }

    async fn run(_: &'static App, call: Call<Agent, u64, ThreadSummary>) -> Result<Answer> {
        Ok(Answer::session(call.found))
    }
}
