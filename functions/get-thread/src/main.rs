//! `GET /api/v1/threads/{threadId}`: a thread's state.

use shared::core::model::MESSAGING_ROLES;
use shared::core::threads;
use shared::edna::{self, wire::ThreadView};
use shared::http::{self, ApiRequest, Reply};
use shared::{App, Result, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    edna::serve(app, routes::GET_THREAD, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Reply> {
    let authentication = edna::authenticate(app, &request, MESSAGING_ROLES);
    let thread_id = match request.path_id("threadId") {
        Ok(id) => id,
        Err(invalid) => return Err(http::refused(authentication, invalid).await),
    };
    let (_, summary) = http::authenticated(app, authentication, threads::get_thread(&app.store, thread_id)).await?;
    edna::ok(&ThreadView::from(summary))
}

#[cfg(test)]
mod tests;
