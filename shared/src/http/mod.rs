//! The HTTP edge shared by every function: turning an API Gateway event (REST 1.0 or HTTP 2.0)
//! into an [`ApiRequest`], calling the handler, and turning its result or error into a response
//! with a request id and one JSON log line.

mod request;
mod response;

pub use request::{ApiRequest, Route};
pub use response::{Reply, error_reply};

use std::convert::Infallible;
use std::future::Future;
use std::time::Instant;

use lambda_http::{Body, Request, Response, service_fn};

use crate::{App, Result};

/// Requests larger than this get 413.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Runs the Lambda loop for one route. Call from `main` after building the [`App`].
pub async fn serve<H, Fut>(app: &'static App, route: Route, handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(&'static App, ApiRequest) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<Reply>> + Send,
{
    lambda_http::run(service_fn(move |event: Request| async move {
        Ok::<_, Infallible>(respond(app, route, handler, event).await)
    }))
    .await
}

/// Answers one event. Public so that tests can feed real API Gateway events to a handler.
pub async fn respond<H, Fut>(app: &'static App, route: Route, handler: H, event: Request) -> Response<Body>
where
    H: Fn(&'static App, ApiRequest) -> Fut,
    Fut: Future<Output = Result<Reply>>,
{
    let started = Instant::now();
    let requests_before = app.store.requests_sent();
    let request = ApiRequest::from_event(event, route);
    let request_id = request.request_id().to_owned();
    let method = request.method().to_owned();
    let outcome = match request.preflight() {
        Ok(()) => handler(app, request).await,
        Err(err) => Err(err),
    };
    let reply = outcome.unwrap_or_else(|err| error_reply(&err, &request_id));
    let status = reply.status();
    tracing::info!(
        route = route.pattern,
        method = %method,
        status,
        latency_ms = started.elapsed().as_micros() as f64 / 1000.0,
        dynamodb_requests = app.store.requests_sent() - requests_before,
        request_id = %request_id,
        "request"
    );
    reply.into_response(&request_id)
}
