//! `POST /api/v1/messages/outgoing-to-device`: the route is `shared::routes::send_outgoing_to_device`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::send_outgoing_to_device::SendOutgoingToDevice>().await
}

#[cfg(test)]
mod tests;
