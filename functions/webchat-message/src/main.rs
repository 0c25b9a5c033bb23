//! `$default` of the web chat WebSocket API, every frame a page sends: `shared::webchat::frames`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::webchat::frames::serve().await
}

#[cfg(test)]
mod tests;
