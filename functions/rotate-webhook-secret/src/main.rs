//! `POST /api/v1/webhooks/{id}/rotate-secret`: the route is `shared::routes::rotate_webhook_secret`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::rotate_webhook_secret::RotateWebhookSecret>().await
}
