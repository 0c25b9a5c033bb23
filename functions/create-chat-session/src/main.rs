//! `POST /api/v1/ChatSession`: the route is `shared::routes::create_chat_session`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::create_chat_session::CreateChatSession>().await
}

#[cfg(test)]
mod tests;
