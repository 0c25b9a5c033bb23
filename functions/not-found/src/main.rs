//! The `$default` route (404, or 405 with `Allow`): `shared::routes::not_found`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::not_found::serve().await
}

#[cfg(test)]
mod tests;
