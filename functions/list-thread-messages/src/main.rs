//! `GET /api/v1/threads/{threadId}/messages`: the route is `shared::routes::list_thread_messages`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::list_thread_messages::ListThreadMessages>().await
}

#[cfg(test)]
mod tests;
