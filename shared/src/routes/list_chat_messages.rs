//! `GET /api/v1/ChatSession/{chatSessionId}/Messages?after=`: the session's messages after one,
//! oldest first.

use super::{Call, Endpoint};
use crate::core::model::{Agent, MESSAGING_ROLES, Role};
use crate::core::threads;
use crate::http::{ApiRequest, Route};
use crate::store::MessagePage;
use crate::superoffice::{self, Answer, SuperOffice};
use crate::{App, Error, Result};

pub struct ListChatMessages;

/// The session, the page size and the `ChatMessageId` the list starts after (0: the first).
pub struct After {
    session_id: u64,
    limit: usize,
    after: u64,
}

impl Endpoint for ListChatMessages {
    type Dialect = SuperOffice;
    type Caller = Agent;
    type Input = After;
    type Found = MessagePage;
    const ROUTE: Route = super::LIST_CHAT_MESSAGES;
    const ROLES: &'static [Role] = MESSAGING_ROLES;

    fn parse(request: &ApiRequest) -> Result<After> {
        let session_id = superoffice::session_id(request)?;
        let limit = threads::page_size(request.query("limit"))?;
        let after = match request.query("after") {
            None => 0,
            Some(raw) => {
                crate::json::count_text(raw.trim()).filter(|id| *id <= superoffice::MAX_ID).ok_or_else(|| {
                    Error::invalid("after", format!("after must be a ChatMessageId from 0 to {}", superoffice::MAX_ID))
                })?
            }
        };
        Ok(After { session_id, limit, after })
    }

    async fn look_up(app: &'static App, input: &After) -> Result<MessagePage> {
        threads::list_messages_after(&app.store, input.session_id, input.after, input.limit).await
    }

    async fn run(_: &'static App, call: Call<Agent, After, MessagePage>) -> Result<Answer> {
        Ok(Answer::messages(call.found.messages))
    }
}
