//! `POST /api/v1/messages/outgoing`: the route is `shared::routes::send_outgoing`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::send_outgoing::SendOutgoing>().await
}

#[cfg(test)]
mod tests;
