//! The `$default` route: a 404 for unknown paths, and 405 with `Allow` for known paths asked
//! with another method — in the SuperOffice error body on SuperOffice paths, else edna's.

use lambda_http::{Body, Request, RequestExt, Response};

use super::{CATCH_ALL, Refusal, SUPEROFFICE_PREFIX, methods_for};
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

/// 405 with the methods the path takes, or 404 when no route has the path.
pub fn no_route(request: &ApiRequest) -> Error {
    let allow = methods_for(request.path());
    if allow.is_empty() {
        Error::not_found(None, format!("no route for {} {}", request.method(), request.path()))
    } else {
        Error::MethodNotAllowed { allow }
    }
}

/// The edna answer (public for tests).
pub async fn handle((): (), request: ApiRequest) -> Result<Reply> {
    Err(no_route(&request))
}

/// The SuperOffice answer (public for tests).
pub async fn handle_superoffice((): (), request: ApiRequest) -> Result<Answer> {
    Err(no_route(&request))
}

/// What this route refuses a request with, as [`super::refusals`] says for the others.
pub fn refusals(request: &ApiRequest) -> Vec<Refusal> {
    fn refused<D: Dialect>(request: &ApiRequest) -> Vec<Refusal> {
        super::refused::<D>(request, |request| vec![no_route(request)])
    }
    if is_superoffice(request.path()) { refused::<SuperOffice>(request) } else { refused::<Edna>(request) }
}
