//! `retry-webhooks`: webhook deliveries whose next attempt is due (schedule); the consumer is `shared::consumers::retry_webhooks`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::consumers::retry_webhooks::serve().await
}
