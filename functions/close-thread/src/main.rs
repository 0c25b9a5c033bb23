//! `POST /api/v1/threads/{threadId}/close`: the route is `shared::routes::close_thread`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::close_thread::CloseThread>().await
}

#[cfg(test)]
mod tests;
