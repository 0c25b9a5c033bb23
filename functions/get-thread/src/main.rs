//! `GET /api/v1/threads/{threadId}`: a thread's state.

use shared::core::model::MESSAGING_ROLES;
use shared::core::threads;
use shared::edna::{self, wire::ThreadView};
use shared::http::{ApiRequest, Reply};
use shared::{App, Result, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    edna::serve(app, routes::GET_THREAD, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Reply> {
    edna::authenticate(app, &request, MESSAGING_ROLES).await?;
    let thread_id = request.path_id("threadId")?;
    edna::ok(&ThreadView::from(threads::get_thread(&app.store, thread_id).await?))
}

#[cfg(test)]
mod tests;
