//! `$connect` of the web chat WebSocket API: `shared::webchat::connect`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::webchat::connect::serve().await
}

#[cfg(test)]
mod tests;
