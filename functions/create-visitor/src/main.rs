//! `POST /api/v1/webchat/visitors`: the route is `shared::routes::create_visitor`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::create_visitor::CreateVisitor>().await
}

#[cfg(test)]
mod tests;
