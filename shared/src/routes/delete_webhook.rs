//! `DELETE /api/v1/webhooks/{id}`: no more deliveries; answers the subscription as it was.

use super::{Call, Endpoint};
use crate::core::model::{Agent, Role, WEBHOOK_ROLES};
use crate::edna::webhooks::{SubscriptionView, webhook_id};
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::webhooks::subscriptions;
use crate::{App, Result};

pub struct DeleteWebhook;

impl Endpoint for DeleteWebhook {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = String;
    type Found = ();
    const ROUTE: Route = super::DELETE_WEBHOOK;
    const ROLES: &'static [Role] = WEBHOOK_ROLES;

    fn parse(request: &ApiRequest) -> Result<String> {
        webhook_id(request)
    }

    async fn look_up(_: &'static App, _: &String) -> Result<()> {
        Ok(())
    }

    async fn run(app: &'static App, call: Call<Agent, String, ()>) -> Result<Reply> {
        edna::ok(&SubscriptionView::from(&subscriptions::delete(&app.store, &call.input).await?))
    }
}
