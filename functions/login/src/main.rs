//! `POST /api/auth/login`: exchanges a login and password for a bearer token, a SuperOffice
//! ticket and the session cookies.

use shared::core::credentials;
use shared::edna::{
    self,
    wire::{LoginRequest, LoginResponse},
};
use shared::http::{ApiRequest, Reply, login_cookies};
use shared::{App, Result, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    edna::serve(app, routes::LOGIN, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Reply> {
    let LoginRequest { login, password } = edna::body(&request)?;
    let grant = credentials::log_in(&app.store, &login, &password, app.config.token_ttl).await?;
    let [session, xsrf] = login_cookies(&grant.token, &grant.xsrf, app.config.token_ttl.as_secs());
    Ok(edna::ok(&LoginResponse::from(&grant))?.with_header("set-cookie", session).with_header("set-cookie", xsrf))
}

#[cfg(test)]
mod tests;
