//! The `$default` route (308 to a known path sent with a trailing slash, 404, or 405 with
//! `Allow`): `shared::routes::not_found`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::not_found::serve().await
}

#[cfg(test)]
mod tests;
