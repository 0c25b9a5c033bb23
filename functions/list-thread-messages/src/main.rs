//! `GET /api/v1/threads/{threadId}/messages`: a thread's messages, newest first, paginated.

use shared::http::{ApiRequest, Reply};
use shared::model::MESSAGING_ROLES;
use shared::{App, Result, auth, routes, threads};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    shared::http::serve(app, routes::LIST_THREAD_MESSAGES, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Reply> {
    auth::authenticate(&app.store, request.header("authorization"), MESSAGING_ROLES).await?;
    let thread_id = request.path_id("threadId")?;
    let page = threads::list_messages(&app.store, thread_id, request.query("limit"), request.query("cursor")).await?;
    Reply::ok(&page)
}

#[cfg(test)]
mod tests;
