//! `$disconnect` of the web chat WebSocket API: `shared::webchat::disconnect`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::webchat::disconnect::serve().await
}

#[cfg(test)]
mod tests;
