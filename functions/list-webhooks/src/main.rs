//! `GET /api/v1/webhooks`: the route is `shared::routes::list_webhooks`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::list_webhooks::ListWebhooks>().await
}
