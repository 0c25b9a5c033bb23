//! `GET /api/v1/threads/{threadId}`: a thread's state.

use shared::http::{ApiRequest, Reply};
use shared::model::MESSAGING_ROLES;
use shared::{App, Result, auth, routes, threads};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    shared::http::serve(app, routes::GET_THREAD, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Reply> {
    auth::authenticate(&app.store, request.header("authorization"), MESSAGING_ROLES).await?;
    let thread_id = request.path_id("threadId")?;
    Reply::ok(&threads::get_thread(&app.store, thread_id).await?)
}

#[cfg(test)]
mod tests;
