//! `GET /api/v1/events`: the route is `shared::routes::list_events`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::list_events::ListEvents>().await
}

#[cfg(test)]
mod tests;
