//! `POST /api/auth/login`: exchanges a login and password for a bearer token, a SuperOffice
//! ticket and the session cookies.

use super::{Anyone, Call, Endpoint};
use crate::core::credentials;
use crate::edna::wire::{LoginRequest, LoginResponse};
use crate::edna::{self, Edna};
use crate::http::{ApiRequest, Reply, Route, login_cookies};
use crate::{App, Result};

pub struct Login;

impl Endpoint for Login {
    type Dialect = Edna;
    type Caller = Anyone;
    type Input = LoginRequest;
    type Found = ();
    const ROUTE: Route = super::LOGIN;

    fn parse(request: &ApiRequest) -> Result<LoginRequest> {
        edna::body(request)
    }

    async fn look_up(_: &'static App, _: &LoginRequest) -> Result<()> {
        Ok(())
    }

    async fn run(app: &'static App, call: Call<Anyone, LoginRequest, ()>) -> Result<Reply> {
        let LoginRequest { login, password } = call.input;
        let grant = credentials::log_in(&app.store, &login, &password, app.config.token_ttl).await?;
        let [session, xsrf] = login_cookies(&grant.token, &grant.xsrf, app.config.token_ttl.as_secs());
        Ok(edna::ok(&LoginResponse::from(&grant))?.with_header("set-cookie", session).with_header("set-cookie", xsrf))
    }
}
