//! `GET /api/v1/events?after=&limit=`: every event, oldest first, for a receiver that was down
//! to reconcile. `nextCursor` is always given: it is where to poll from next time.

use super::{Call, Endpoint};
use crate::core::model::{Agent, Role, WEBHOOK_ROLES};
use crate::core::threads;
use crate::edna::webhooks::{EventList, decode_feed_cursor};
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::store::{EventPage, FeedPosition};
use crate::webhooks::subscriptions;
use crate::{App, Result};

pub struct ListEvents;

pub struct Page {
    after: Option<FeedPosition>,
    limit: usize,
}

impl Endpoint for ListEvents {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = Page;
    type Found = EventPage;
    const ROUTE: Route = super::LIST_EVENTS;
    const ROLES: &'static [Role] = WEBHOOK_ROLES;

    fn parse(request: &ApiRequest) -> Result<Page> {
        let limit = threads::page_size(request.query("limit"))?;
        let after = request.query("after").map(decode_feed_cursor).transpose()?;
        Ok(Page { after, limit })
    }

    async fn look_up(app: &'static App, page: &Page) -> Result<EventPage> {
        subscriptions::events(&app.store, page.after.as_ref(), page.limit).await
    }

    async fn run(_: &'static App, call: Call<Agent, Page, EventPage>) -> Result<Reply> {
        edna::ok(&EventList::try_from(&call.found)?)
    }
}
