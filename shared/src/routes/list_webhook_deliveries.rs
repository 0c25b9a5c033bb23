//! `GET /api/v1/webhooks/{id}/deliveries?status=&limit=&cursor=`: a subscription's deliveries,
//! newest event first.

use super::{Call, Endpoint};
use crate::core::error::Input;
use crate::core::model::{Agent, Role, WEBHOOK_ROLES};
use crate::core::threads;
use crate::core::webhooks::{DispatchKey, DispatchStatus};
use crate::edna::webhooks::{DispatchList, decode_dispatch_cursor, webhook_id};
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::store::DispatchPage;
use crate::webhooks::subscriptions;
use crate::{App, Error, Result};

pub struct ListWebhookDeliveries;

pub struct Page {
    webhook_id: String,
    status: Option<DispatchStatus>,
    limit: usize,
    before: Option<DispatchKey>,
}

impl Endpoint for ListWebhookDeliveries {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = Page;
    type Found = DispatchPage;
    const ROUTE: Route = super::LIST_WEBHOOK_DELIVERIES;
    const ROLES: &'static [Role] = WEBHOOK_ROLES;

    fn parse(request: &ApiRequest) -> Result<Page> {
        let webhook_id = webhook_id(request)?;
        let status = request
            .query("status")
            .map(|name| {
                DispatchStatus::parse(name)
                    .ok_or_else(|| Error::invalid(Input::DispatchStatus, "must be PENDING, DELIVERED or FAILED"))
            })
            .transpose()?;
        let limit = threads::page_size(request.query("limit"))?;
        let before = request.query("cursor").map(|cursor| decode_dispatch_cursor(&webhook_id, cursor)).transpose()?;
        Ok(Page { webhook_id, status, limit, before })
    }

    async fn look_up(app: &'static App, page: &Page) -> Result<DispatchPage> {
        subscriptions::deliveries(&app.store, &page.webhook_id, page.status, page.limit, page.before.as_ref()).await
    }

    async fn run(_: &'static App, call: Call<Agent, Page, DispatchPage>) -> Result<Reply> {
        edna::ok(&DispatchList::from(&call.found))
    }
}
