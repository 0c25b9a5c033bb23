//! `POST /api/v1/threads/{threadId}/close`: closes a thread; the client's next message opens a
//! new one.

use super::{Call, Endpoint};
use crate::core::model::{Agent, CLOSING_ROLES, Role};
use crate::core::threads;
use crate::edna::wire::ThreadView;
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::{App, Result};

pub struct CloseThread;

impl Endpoint for CloseThread {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = u64;
    type Found = ();
    const ROUTE: Route = super::CLOSE_THREAD;
    const ROLES: &'static [Role] = CLOSING_ROLES;

    fn parse(request: &ApiRequest) -> Result<u64> {
        request.path_id("threadId")
    }

    async fn look_up(_: &'static App, _: &u64) -> Result<()> {
        Ok(())
    }

    async fn run(app: &'static App, call: Call<Agent, u64, ()>) -> Result<Reply> {
        edna::ok(&ThreadView::from(threads::close_thread(&app.store, call.input).await?))
    }
}
