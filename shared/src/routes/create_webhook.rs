//! `POST /api/v1/webhooks`: a subscription; the answer is the only one that shows its secret.

use super::{Call, Endpoint};
use crate::core::model::{Agent, Role, WEBHOOK_ROLES};
use crate::core::webhooks::NewSubscription;
use crate::edna::webhooks::{SubscriptionWithSecret, WebhookRequest};
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::webhooks::{settings, subscriptions};
use crate::{App, Result};

pub struct CreateWebhook;

impl Endpoint for CreateWebhook {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = NewSubscription;
    type Found = ();
    const ROUTE: Route = super::CREATE_WEBHOOK;
    const ROLES: &'static [Role] = WEBHOOK_ROLES;
    const IDEMPOTENT: bool = true;

    fn parse(request: &ApiRequest) -> Result<NewSubscription> {
        edna::body::<WebhookRequest>(request).and_then(WebhookRequest::validate)
    }

    async fn look_up(_: &'static App, _: &NewSubscription) -> Result<()> {
        Ok(())
    }

    async fn run(app: &'static App, call: Call<Agent, NewSubscription, ()>) -> Result<Reply> {
        let Call { input, once, .. } = call;
        let allow_loopback_http = settings().allow_loopback_http;
        let outcome = once.run(|claim| subscriptions::create(&app.store, input, allow_loopback_http, claim)).await?;
        let reply = edna::json(201, &SubscriptionWithSecret::from(&outcome.value))?;
        Ok(if outcome.replayed { reply.with_header("idempotent-replayed", "true") } else { reply })
    }
}
