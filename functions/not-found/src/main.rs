//! The `$default` route: a JSON 404 for unknown paths, and 405 with `Allow` for known paths
//! asked with another method.

use shared::http::{ApiRequest, Reply};
use shared::{App, Error, Result, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    shared::edna::serve(app, routes::CATCH_ALL, handle).await
}

async fn handle(_app: &'static App, request: ApiRequest) -> Result<Reply> {
    let allow = routes::methods_for(request.path());
    if allow.is_empty() {
        Err(Error::not_found(None, format!("no route for {} {}", request.method(), request.path())))
    } else {
        Err(Error::MethodNotAllowed { allow })
    }
}

#[cfg(test)]
mod tests;
