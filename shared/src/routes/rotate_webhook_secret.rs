//! `POST /api/v1/webhooks/{id}/rotate-secret`: a new secret, shown once; the previous one keeps
//! signing beside it for 24 h.

use super::{Call, Endpoint};
use crate::core::model::{Agent, Role, WEBHOOK_ROLES};
use crate::edna::webhooks::{SubscriptionWithSecret, webhook_id};
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::webhooks::subscriptions;
use crate::{App, Result};

pub struct RotateWebhookSecret;

impl Endpoint for RotateWebhookSecret {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = String;
    type Found = ();
    const ROUTE: Route = super::ROTATE_WEBHOOK_SECRET;
    const ROLES: &'static [Role] = WEBHOOK_ROLES;

    fn parse(request: &ApiRequest) -> Result<String> {
        webhook_id(request)
    }

    async fn look_up(_: &'static App, _: &String) -> Result<()> {
        Ok(())
    }

    async fn run(app: &'static App, call: Call<Agent, String, ()>) -> Result<Reply> {
        edna::ok(&SubscriptionWithSecret::from(&subscriptions::rotate(&app.store, &call.input).await?))
    }
}
