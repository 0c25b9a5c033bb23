//! `POST /api/v1/webhooks/{id}/replay`: the route is `shared::routes::replay_webhook`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::replay_webhook::ReplayWebhook>().await
}
