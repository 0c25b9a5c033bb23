//! `deliver-webhooks`: the first attempt of each new webhook delivery (table stream); the consumer is `shared::consumers::deliver_webhooks`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::consumers::deliver_webhooks::serve().await
}

#[cfg(test)]
mod tests;
