//! `DELETE /api/v1/webhooks/{id}`: the route is `shared::routes::delete_webhook`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::delete_webhook::DeleteWebhook>().await
}
