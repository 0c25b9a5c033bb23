//! `publish-events`: the table stream -> events and deliveries; the consumer is `shared::consumers::publish_events`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::consumers::publish_events::serve().await
}

#[cfg(test)]
mod tests;
