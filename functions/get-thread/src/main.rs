//! `GET /api/v1/threads/{threadId}`: the route is `shared::routes::get_thread`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::get_thread::GetThread>().await
}

#[cfg(test)]
mod tests;
