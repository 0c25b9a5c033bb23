//! `POST /api/auth/login`: the route is `shared::routes::login`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::routes::serve::<shared::routes::login::Login>().await
}

#[cfg(test)]
mod tests;
