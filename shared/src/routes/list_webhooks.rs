//! `GET /api/v1/webhooks`: every subscription, oldest first, without secrets.

use super::{Call, Endpoint};
use crate::core::model::{Agent, Role, WEBHOOK_ROLES};
use crate::core::webhooks::Subscription;
use crate::edna::webhooks::{SubscriptionList, SubscriptionView};
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::webhooks::subscriptions;
use crate::{App, Result};

pub struct ListWebhooks;

impl Endpoint for ListWebhooks {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = ();
    type Found = Vec<Subscription>;
    const ROUTE: Route = super::LIST_WEBHOOKS;
    const ROLES: &'static [Role] = WEBHOOK_ROLES;

    fn parse(_: &ApiRequest) -> Result<()> {
        Ok(())
    }

    async fn look_up(app: &'static App, _: &()) -> Result<Vec<Subscription>> {
        subscriptions::list(&app.store).await
    }

    async fn run(_: &'static App, call: Call<Agent, (), Vec<Subscription>>) -> Result<Reply> {
        edna::ok(&SubscriptionList { items: call.found.iter().map(SubscriptionView::from).collect() })
    }
}
