//! `GET /api/v1/webhooks/{id}`: one subscription, without its secret.

use super::{Call, Endpoint};
use crate::core::model::{Agent, Role, WEBHOOK_ROLES};
use crate::core::webhooks::Subscription;
use crate::edna::webhooks::{SubscriptionView, webhook_id};
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::webhooks::subscriptions;
use crate::{App, Result};

pub struct GetWebhook;

impl Endpoint for GetWebhook {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = String;
    type Found = Subscription;
    const ROUTE: Route = super::GET_WEBHOOK;
    const ROLES: &'static [Role] = WEBHOOK_ROLES;

    fn parse(request: &ApiRequest) -> Result<String> {
        webhook_id(request)
    }

    async fn look_up(app: &'static App, id: &String) -> Result<Subscription> {
        subscriptions::get(&app.store, id).await
    }

    async fn run(_: &'static App, call: Call<Agent, String, Subscription>) -> Result<Reply> {
        edna::ok(&SubscriptionView::from(&call.found))
    }
}
