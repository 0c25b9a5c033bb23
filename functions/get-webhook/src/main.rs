//! `GET /api/v1/webhooks/{id}`: the route is `shared::routes::get_webhook`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::get_webhook::GetWebhook>().await
}
