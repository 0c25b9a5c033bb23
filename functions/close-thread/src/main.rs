//! `POST /api/v1/threads/{threadId}/close`: closes a thread; the client's next message opens a
//! new one.

use shared::core::model::CLOSING_ROLES;
use shared::core::threads;
use shared::edna::{self, wire::ThreadView};
use shared::http::{ApiRequest, Reply};
use shared::{App, Result, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    edna::serve(app, routes::CLOSE_THREAD, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Reply> {
    edna::authenticate(app, &request, CLOSING_ROLES).await?;
    let thread_id = request.path_id("threadId")?;
    edna::ok(&ThreadView::from(threads::close_thread(&app.store, thread_id).await?))
}

#[cfg(test)]
mod tests;
