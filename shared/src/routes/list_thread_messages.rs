//! `GET /api/v1/threads/{threadId}/messages?limit=&cursor=`: a thread's messages, newest first,
//! paginated.

use super::{Call, Endpoint};
use crate::core::model::{Agent, MESSAGING_ROLES, Role};
use crate::core::threads;
use crate::edna::wire::MessageList;
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::store::{MessagePage, PageStart};
use crate::{App, Result};

pub struct ListThreadMessages;

/// The thread, the page size and where the page starts.
pub struct Page {
    thread_id: u64,
    limit: usize,
    start: PageStart,
}

impl Endpoint for ListThreadMessages {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = Page;
    type Found = MessagePage;
    const ROUTE: Route = super::LIST_THREAD_MESSAGES;
    const ROLES: &'static [Role] = MESSAGING_ROLES;

    fn parse(request: &ApiRequest) -> Result<Page> {
        let thread_id = request.path_id("threadId")?;
        let limit = threads::page_size(request.query("limit"))?;
        let before = request.query("cursor").map(edna::decode_cursor).transpose()?;
        Ok(Page { thread_id, limit, start: PageStart::NewestBefore(before) })
    }

    async fn look_up(app: &'static App, page: &Page) -> Result<MessagePage> {
        threads::list_messages(&app.store, page.thread_id, page.limit, page.start).await
    }

    async fn run(_: &'static App, call: Call<Agent, Page, MessagePage>) -> Result<Reply> {
        edna::ok(&MessageList::from(call.found))
    }
}
