//! `GET /api/v1/webhooks/{id}/deliveries`: the route is `shared::routes::list_webhook_deliveries`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::list_webhook_deliveries::ListWebhookDeliveries>().await
}
