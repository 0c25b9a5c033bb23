//! `POST /api/v1/messages/{id}/status`: the route is `shared::routes::update_message_status`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::update_message_status::UpdateMessageStatus>().await
}

#[cfg(test)]
mod tests;
