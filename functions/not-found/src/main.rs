//! The `$default` route: a 404 for unknown paths, and 405 with `Allow` for known paths asked
//! with another method — in the SuperOffice error body on SuperOffice paths, else edna's.

use lambda_http::{Request, RequestExt};
use shared::edna::Edna;
use shared::http::{self, ApiRequest, Reply, respond};
use shared::superoffice::{Answer, SuperOffice};
use shared::{Error, Result, logging, routes};

/// No store: an unknown path costs no DynamoDB client, so init builds no TLS context either.
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    logging::init_from_env();
    http::run::<Edna, _, _>(routes::CATCH_ALL, answer).await
}

async fn answer(event: Request) -> lambda_http::Response<lambda_http::Body> {
    let path = if event.raw_http_path().is_empty() { event.uri().path() } else { event.raw_http_path() };
    if path.contains(routes::SUPEROFFICE_PREFIX) {
        respond::<SuperOffice, _, _, _>((), routes::CATCH_ALL, handle_superoffice, event).await
    } else {
        respond::<Edna, _, _, _>((), routes::CATCH_ALL, handle, event).await
    }
}

fn no_route(request: &ApiRequest) -> Error {
    let allow = routes::methods_for(request.path());
    if allow.is_empty() {
        Error::not_found(None, format!("no route for {} {}", request.method(), request.path()))
    } else {
        Error::MethodNotAllowed { allow }
    }
}

async fn handle((): (), request: ApiRequest) -> Result<Reply> {
    Err(no_route(&request))
}

async fn handle_superoffice((): (), request: ApiRequest) -> Result<Answer> {
    Err(no_route(&request))
}

#[cfg(test)]
mod tests;
