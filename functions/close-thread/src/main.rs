//! `POST /api/v1/threads/{threadId}/close`: closes a thread; the client's next message opens a
//! new one.

use shared::http::{ApiRequest, Reply};
use shared::model::CLOSING_ROLES;
use shared::{App, Result, auth, routes, threads};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    shared::http::serve(app, routes::CLOSE_THREAD, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Reply> {
    auth::authenticate(&app.store, request.header("authorization"), CLOSING_ROLES).await?;
    let thread_id = request.path_id("threadId")?;
    Reply::ok(&threads::close_thread(&app.store, thread_id).await?)
}

#[cfg(test)]
mod tests;
