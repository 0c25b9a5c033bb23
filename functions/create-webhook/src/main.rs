//! `POST /api/v1/webhooks`: the route is `shared::routes::create_webhook`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::create_webhook::CreateWebhook>().await
}

#[cfg(test)]
mod tests;
