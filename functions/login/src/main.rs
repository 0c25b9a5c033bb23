//! `POST /api/auth/login`: exchanges a login and password for a bearer token.

use shared::http::{ApiRequest, Reply};
use shared::{App, Result, auth, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    shared::http::serve(app, routes::LOGIN, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Reply> {
    let credentials = request.json()?;
    Reply::ok(&auth::log_in(&app.store, credentials, app.config.token_ttl).await?)
}

#[cfg(test)]
mod tests;
