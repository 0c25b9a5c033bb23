//! `POST /api/v1/messages/incoming`: the route is `shared::routes::receive_incoming`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::receive_incoming::ReceiveIncoming>().await
}

#[cfg(test)]
mod tests;
