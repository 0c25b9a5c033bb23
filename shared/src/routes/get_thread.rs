//! `GET /api/v1/threads/{threadId}`: a thread's state.

use super::{Call, Endpoint};
use crate::core::model::{Agent, MESSAGING_ROLES, Role};
use crate::core::threads::{self, ThreadSummary};
use crate::edna::wire::ThreadView;
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route};
use crate::{App, Result};

pub struct GetThread;

impl Endpoint for GetThread {
    type Dialect = Edna;
    type Caller = Agent;
    type Input = u64;
    type Found = ThreadSummary;
    const ROUTE: Route = super::GET_THREAD;
    const ROLES: &'static [Role] = MESSAGING_ROLES;

    fn parse(request: &ApiRequest) -> Result<u64> {
        request.path_id("threadId")
    }

    async fn look_up(app: &'static App, thread_id: &u64) -> Result<ThreadSummary> {
        threads::get_thread(&app.store, *thread_id).await
    }

    async fn run(_: &'static App, call: Call<Agent, u64, ThreadSummary>) -> Result<Reply> {
        edna::ok(&ThreadView::from(call.found))
    }
}
