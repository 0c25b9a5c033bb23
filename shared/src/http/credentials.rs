//! Reading credentials off a request, in the schemes a dialect accepts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::ApiRequest;
use crate::core::credentials::{BAD_TOKEN, Credentials};
use crate::{Error, Result};

/// The session cookie that login sets (its value is the bearer token).
pub const SESSION_COOKIE: &str = "chat_session";
/// The cookie login sets for the double-submit check; the client echoes it in `X-XSRF-TOKEN`.
pub const XSRF_COOKIE: &str = "XSRF-TOKEN";
pub const XSRF_HEADER: &str = "x-xsrf-token";
pub const APP_TOKEN_HEADER: &str = "so-apptoken";

/// A way of proving who one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Bearer,
    Basic,
    SoTicket,
    /// The session cookie with `X-XSRF-TOKEN`, when there is no `Authorization` header.
    Cookie,
}

/// The request's credentials in one of `schemes`; 401 when there are none usable.
pub fn credentials(request: &ApiRequest, schemes: &[Scheme]) -> Result<Credentials> {
    let unauthorized = || Error::Unauthorized(BAD_TOKEN);
    let Some(authorization) = request.header("authorization") else {
        if schemes.contains(&Scheme::Cookie)
            && let Some(token) = cookie(request, SESSION_COOKIE)
        {
            return Ok(Credentials::Cookie { token, xsrf: request.header(XSRF_HEADER).map(str::to_owned) });
        }
        return Err(unauthorized());
    };
    let (scheme, value) = authorization.trim().split_once(' ').ok_or_else(unauthorized)?;
    let value = value.trim();
    let accepts = |wanted: Scheme| schemes.contains(&wanted);
    if scheme.eq_ignore_ascii_case("bearer") && accepts(Scheme::Bearer) {
        Ok(Credentials::Bearer(value.to_owned()))
    } else if scheme.eq_ignore_ascii_case("basic") && accepts(Scheme::Basic) {
        let decoded =
            STANDARD.decode(value).ok().and_then(|bytes| String::from_utf8(bytes).ok()).ok_or_else(unauthorized)?;
        let (login, password) = decoded.split_once(':').ok_or_else(unauthorized)?;
        Ok(Credentials::Basic { login: login.to_owned(), password: password.to_owned() })
    } else if scheme.eq_ignore_ascii_case("soticket") && accepts(Scheme::SoTicket) {
        Ok(Credentials::Ticket {
            ticket: value.to_owned(),
            app_token: request.header(APP_TOKEN_HEADER).map(|token| token.trim().to_owned()),
        })
    } else {
        Err(unauthorized())
    }
}

/// The `Set-Cookie` values a login answers with: the session (not readable by scripts) and the
/// XSRF value the page's script echoes in `X-XSRF-TOKEN`.
pub fn login_cookies(token: &str, xsrf: &str, max_age_secs: u64) -> [String; 2] {
    [
        format!("{SESSION_COOKIE}={token}; Path=/api; Max-Age={max_age_secs}; HttpOnly; Secure; SameSite=Strict"),
        format!("{XSRF_COOKIE}={xsrf}; Path=/; Max-Age={max_age_secs}; Secure; SameSite=Strict"),
    ]
}

/// A cookie's value from the `Cookie` header(s).
fn cookie(request: &ApiRequest, name: &str) -> Option<String> {
    request
        .header_values("cookie")
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}
