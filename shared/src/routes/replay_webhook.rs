//! `POST /api/v1/webhooks/{id}/replay` `{since, until}`: the subscription's deliveries of events
//! in that window are sent again, with their original ids.

use jiff::Timestamp;

use super::{Call, Endpoint};
use crate::core::model::{Agent, Role, WEBHOOK_ROLES};
use crate::edna::webhooks::{ReplayAnswer, ReplayRequest, webhook_id};
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::webhooks::subscriptions;
use crate::{App, Result};

pub struct ReplayWebhook;

pub struct Window {
    webhook_id: String,
    since: Timestamp,
    until: Timestamp,
}

impl Endpoint for ReplayWebhook {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = Window;
    type Found = ();
    const ROUTE: Route = super::REPLAY_WEBHOOK;
    const ROLES: &'static [Role] = WEBHOOK_ROLES;

    fn parse(request: &ApiRequest) -> Result<Window> {
        let webhook_id = webhook_id(request)?;
        let (since, until) = edna::body::<ReplayRequest>(request)?.validate()?;
        Ok(Window { webhook_id, since, until })
    }

    async fn look_up(_: &'static App, _: &Window) -> Result<()> {
        Ok(())
    }

    async fn run(app: &'static App, call: Call<Agent, Window, ()>) -> Result<Reply> {
        let Window { webhook_id, since, until } = call.input;
        let replayed = subscriptions::replay(&app.store, &webhook_id, since, until).await?;
        edna::json(202, &ReplayAnswer { replayed })
    }
}
