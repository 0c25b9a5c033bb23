//! The `$default` route: a `308 Permanent Redirect` for a known path sent with a trailing slash,
//! 405 with `Allow` for a known path asked with another method, else 404 — in the SuperOffice
//! body on SuperOffice paths, else edna's.

use lambda_http::{Body, Request, RequestExt, Response};

use super::{CATCH_ALL, Refusal, SUPEROFFICE_PREFIX, canonical, methods_for};
use crate::edna::Edna;
use crate::http::{self, ApiRequest, Dialect, Reply, respond};
use crate::superoffice::{Answer, SuperOffice};
use crate::{Error, Result, logging};

/// The Lambda loop. No store: an unknown path costs no DynamoDB client, so init builds no TLS
/// context either.
pub async fn serve() -> Result<(), lambda_http::Error> {
    logging::init_from_env();
    http::run::<Edna, _, _>(CATCH_ALL, answer).await
}

/// Answers one request in the dialect its path belongs to.
pub async fn answer(event: Request) -> Response<Body> {
    let path = if event.raw_http_path().is_empty() { event.uri().path() } else { event.raw_http_path() };
    if is_superoffice(path) {
        respond::<SuperOffice, _, _, _>((), CATCH_ALL, handle_superoffice, event).await
    } else {
        respond::<Edna, _, _, _>((), CATCH_ALL, handle, event).await
    }
}

fn is_superoffice(path: &str) -> bool {
    path.contains(SUPEROFFICE_PREFIX)
}

/// Where a path sent with a trailing slash lives: its canonical form as the caller addressed it
/// (behind the stage the URI names, if any), with the query string; `None` when the path
/// without its slash is unknown too.
pub fn redirect(request: &ApiRequest) -> Option<String> {
    let known = canonical(request.path())?;
    let path = canonical(request.uri().path()).unwrap_or(known);
    Some(match request.uri().query() {
        Some(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path.to_owned(),
    })
}

/// 405 with the methods the path takes, or 404 when no route has the path.
pub fn no_route(request: &ApiRequest) -> Error {
    let allow = methods_for(request.path());
    if allow.is_empty() {
        Error::not_found(None, format!("no route for {} {}", request.method(), request.path()))
    } else {
        Error::MethodNotAllowed { allow }
    }
}

/// The edna answer (public for tests): a redirect's body says where to go, as
/// `{code, message, location}`.
pub async fn handle((): (), request: ApiRequest) -> Result<Reply> {
    let Some(location) = redirect(&request) else { return Err(no_route(&request)) };
    let body = serde_json::json!({
        "code": "PERMANENT_REDIRECT",
        "message": format!("moved permanently to {location}"),
        "location": location,
    });
    Ok(Reply::new(308, "application/json", body.to_string()).with_header("location", location))
}

/// The SuperOffice answer (public for tests).
pub async fn handle_superoffice((): (), request: ApiRequest) -> Result<Answer> {
    match redirect(&request) {
        Some(location) => Ok(Answer::moved(location)),
        None => Err(no_route(&request)),
    }
}

/// What this route refuses a request with, as [`super::refusals`] says for the others (a
/// redirect refuses nothing).
pub fn refusals(request: &ApiRequest) -> Vec<Refusal> {
    fn refused<D: Dialect>(request: &ApiRequest) -> Vec<Refusal> {
        super::refused::<D>(request, |request| {
            redirect(request).is_none().then(|| no_route(request)).into_iter().collect()
        })
    }
    if is_superoffice(request.path()) { refused::<SuperOffice>(request) } else { refused::<Edna>(request) }
}
