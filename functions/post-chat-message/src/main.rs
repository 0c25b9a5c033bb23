//! `POST /api/v1/ChatSession/{chatSessionId}/Messages`: the route is `shared::routes::post_chat_message`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::post_chat_message::PostChatMessage>().await
}

#[cfg(test)]
mod tests;
