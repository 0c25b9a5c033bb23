//! The HTTP edge shared by every function, generic over a [`Dialect`]: turning an API Gateway
//! event (REST 1.0 or HTTP 2.0) into an [`ApiRequest`], negotiating the answer's form, calling the
//! handler, and rendering its result or error with a request id and one JSON log line.

mod credentials;
mod negotiate;
mod request;
mod response;

pub use credentials::{Scheme, credentials, login_cookies};
pub use negotiate::{MediaRange, choose, media_type};
pub use request::{ApiRequest, Route, parse_json};
pub use response::{Reply, status_of};

use std::convert::Infallible;
use std::future::Future;
use std::time::Instant;

use lambda_http::{Body, Request, RequestExt, Response, service_fn};

use crate::{App, Error, Result};

/// Requests larger than this get 413.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// One API vendor's conventions: what its handlers answer, how it reads the caller's wishes
/// (format, language, time zone) and how it renders results and errors.
pub trait Dialect: 'static {
    /// What this dialect's handlers return.
    type Answer: Send;
    /// What the request asked the answer to look like.
    type Context: Send + Sync;
    /// Reads the caller's wishes; when they cannot be met, the error comes with a context to
    /// render it in.
    fn negotiate(request: &ApiRequest) -> (Self::Context, Result<()>);
    fn render(answer: Self::Answer, context: &Self::Context) -> Result<Reply>;
    /// The error body (status and common headers come from [`status_of`] and [`Reply::error`]).
    fn render_error(err: &Error, context: &Self::Context) -> Reply;
}

/// Runs `work` (reads only) alongside authentication, so that they cost one round trip; the
/// caller learns nothing of `work` unless its credentials hold.
pub async fn authenticated<A, T>(
    authentication: impl Future<Output = Result<A>>,
    work: impl Future<Output = Result<T>>,
) -> Result<(A, T)> {
    let (authentication, work) = tokio::join!(authentication, work);
    Ok((authentication?, work?))
}

/// The error for a request that did not parse: bad credentials are told before a bad request.
pub async fn refused<A>(authentication: impl Future<Output = Result<A>>, invalid: Error) -> Error {
    authentication.await.err().unwrap_or(invalid)
}

/// Runs the Lambda loop for one route. Call from `main` after building the [`App`].
pub async fn serve<D, H, Fut>(app: &'static App, route: Route, handler: H) -> Result<(), lambda_http::Error>
where
    D: Dialect,
    H: Fn(&'static App, ApiRequest) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<D::Answer>> + Send,
{
    lambda_http::run(service_fn(move |event: Request| async move {
        Ok::<_, Infallible>(respond::<D, H, Fut>(app, route, handler, event).await)
    }))
    .await
}

/// Answers one event. Public so that tests can feed real API Gateway events to a handler.
pub async fn respond<D, H, Fut>(app: &'static App, route: Route, handler: H, event: Request) -> Response<Body>
where
    D: Dialect,
    H: Fn(&'static App, ApiRequest) -> Fut,
    Fut: Future<Output = Result<D::Answer>>,
{
    let started = Instant::now();
    let deadline = crate::deadline::from_invocation(event.lambda_context_ref().map(|context| context.deadline));
    let (requests_before, round_trips_before) = (app.store.requests_sent(), app.store.round_trips());
    let (read_units_before, write_units_before) = app.store.capacity_units();
    let request = ApiRequest::from_event(event, route);
    let request_id = request.request_id().to_owned();
    let method = request.method().to_owned();
    let (context, negotiated) = D::negotiate(&request);
    let outcome = match negotiated.and_then(|()| request.check_size()) {
        // The store resolves a write before the deadline; a read still waiting then is dropped.
        Ok(()) => {
            match tokio::time::timeout_at(
                deadline.into(),
                crate::deadline::within(deadline, Box::pin(handler(app, request))),
            )
            .await
            {
                Ok(answer) => answer.and_then(|answer| D::render(answer, &context)),
                Err(_) => Err(Error::StorageUnavailable("the request's deadline passed".into())),
            }
        }
        Err(err) => Err(err),
    };
    let reply = outcome.unwrap_or_else(|err| {
        if let Error::Internal(detail) | Error::StorageUnavailable(detail) = &err {
            tracing::error!(request_id = %request_id, status = status_of(&err), detail = %detail, "request failed");
        }
        D::render_error(&err, &context)
    });
    let status = reply.status();
    let (read_units, write_units) = app.store.capacity_units();
    tracing::info!(
        route = route.pattern,
        method = %method,
        status,
        latency_ms = started.elapsed().as_micros() as f64 / 1000.0,
        dynamodb_requests = app.store.requests_sent() - requests_before,
        dynamodb_round_trips = app.store.round_trips() - round_trips_before,
        dynamodb_read_units = read_units - read_units_before,
        dynamodb_write_units = write_units - write_units_before,
        budget_ms = deadline.saturating_duration_since(started).as_millis() as u64,
        request_id = %request_id,
        "request"
    );
    reply.into_response(&request_id)
}
