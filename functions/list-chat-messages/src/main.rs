//! `GET /api/v1/ChatSession/{chatSessionId}/Messages`: the route is `shared::routes::list_chat_messages`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::list_chat_messages::ListChatMessages>().await
}

#[cfg(test)]
mod tests;
