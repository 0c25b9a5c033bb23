//! `POST /api/v1/ChatSession/{chatSessionId}/Messages`: adds a message to a chat session (seed
//! 002) and answers the stored `ChatMessage`.

use super::{Call, Endpoint};
use crate::core::model::{Agent, MESSAGING_ROLES, Role, Thread};
use crate::core::sending::{self, Draft};
use crate::core::threads;
use crate::http::{ApiRequest, Route};
use crate::superoffice::{self, Answer, SuperOffice, body, wire};
use crate::{App, Result};

pub struct PostChatMessage;

impl Endpoint for PostChatMessage {
    type Dialect = SuperOffice;
    type Caller = Agent;
    /// The session and the message as posted.
    type Input = (u64, Draft);
    type Found = Thread;
    const ROUTE: Route = super::POST_CHAT_MESSAGE;
    const ROLES: &'static [Role] = MESSAGING_ROLES;
    const IDEMPOTENT: bool = true;

    fn parse(request: &ApiRequest) -> Result<(u64, Draft)> {
        let session_id = superoffice::session_id(request)?;
        let fields = body::fields(request, "ChatMessage", wire::default_message())?;
        Ok((session_id, wire::message_draft(&fields, session_id)?))
    }

    async fn look_up(app: &'static App, (session_id, _): &(u64, Draft)) -> Result<Thread> {
        threads::existing_thread(&app.store, *session_id).await
    }

    async fn run(app: &'static App, call: Call<Agent, (u64, Draft), Thread>) -> Result<Answer> {
        let Call { caller: agent, input: (_, mut draft), found: thread, once } = call;
        // An `Author` left out is the agent who posts.
        draft.author.get_or_insert_with(|| agent.login.clone());
        let outcome = once.run(|claim| sending::post_to_thread(&app.store, &agent, thread, draft, claim)).await?;
        Ok(Answer::message(outcome.value, outcome.replayed))
    }
}
