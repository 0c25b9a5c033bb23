//! `GET /api/v1/ChatSession/{chatSessionId}`: the route is `shared::routes::get_chat_session`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::get_chat_session::GetChatSession>().await
}

#[cfg(test)]
mod tests;
