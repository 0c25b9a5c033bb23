//! The HTTP edge shared by every function, generic over a [`Dialect`]: turning an API Gateway
//! event (REST 1.0 or HTTP 2.0) into an [`ApiRequest`], negotiating the answer's form, calling the
//! handler, and rendering its result or error with a request id and one JSON log line.

mod credentials;
mod event;
mod negotiate;
mod request;
mod response;

pub use credentials::{Scheme, credentials, login_cookies};
pub use event::{answer_event, lambda_http_can_read, run};
pub use negotiate::{MediaRange, choose, media_type};
pub use request::{ApiRequest, Route, parse_json};
pub use response::{Reply, status_of};

use std::future::Future;

use lambda_http::{Body, Request, RequestExt, Response};

use crate::invocation::{Invocation, Outcome};
pub use crate::invocation::{Resources, Usage};
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
    /// The credentials it accepts, in the order they are tried.
    const SCHEMES: &'static [Scheme];
    /// Reads the caller's wishes; when they cannot be met, the error comes with a context to
    /// render it in.
    fn negotiate(request: &ApiRequest) -> (Self::Context, Result<()>);
    fn render(answer: Self::Answer, context: &Self::Context) -> Result<Reply>;
    /// The error body (status and common headers come from [`status_of`] and [`Reply::error`]).
    fn render_error(err: &Error, context: &Self::Context) -> Reply;
}

/// Runs `work` (reads only) alongside authentication, so that they cost one round trip; the
/// caller learns nothing of `work` unless its credentials hold. Until DynamoDB has answered the
/// container once they run one after the other instead: with no connection open yet, running
/// them together opens a second connection, whose TLS handshake costs more than the round trip
/// it saves (docs/performance.md, "Cold start").
pub async fn authenticated<A, T>(
    app: &App,
    authentication: impl Future<Output = Result<A>>,
    work: impl Future<Output = Result<T>>,
) -> Result<(A, T)> {
    if !app.store.has_connection() {
        let authentication = authentication.await?;
        return Ok((authentication, work.await?));
    }
    let (authentication, work) = tokio::join!(authentication, work);
    Ok((authentication?, work?))
}

/// The error for a request that did not parse: bad credentials are told before a bad request.
pub async fn refused<A>(authentication: impl Future<Output = Result<A>>, invalid: Error) -> Error {
    authentication.await.err().unwrap_or(invalid)
}

/// Runs the Lambda loop for one route. Call from `main` after building the [`App`].
pub async fn serve<D, R, H, Fut>(resources: R, route: Route, handler: H) -> Result<(), lambda_http::Error>
where
    D: Dialect,
    R: Resources,
    H: Fn(R, ApiRequest) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<D::Answer>> + Send + 'static,
{
    run::<D, _, _>(route, move |event: Request| respond::<D, R, H, Fut>(resources, route, handler, event)).await
}

/// Answers one event. Public so that tests can feed real API Gateway events to a handler.
pub async fn respond<D, R, H, Fut>(resources: R, route: Route, handler: H, event: Request) -> Response<Body>
where
    D: Dialect,
    R: Resources,
    H: Fn(R, ApiRequest) -> Fut,
    Fut: Future<Output = Result<D::Answer>>,
{
    let context = event.lambda_context_ref();
    let invocation = Invocation::traced(
        resources,
        context.map(|context| context.deadline),
        context.and_then(|context| context.xray_trace_id.as_deref()),
    );
    let request = ApiRequest::from_event(event, route);
    let request_id = request.request_id().to_owned();
    let method = request.method().to_owned();
    let (context, negotiated) = D::negotiate(&request);
    let outcome = match negotiated.and_then(|()| request.check_size()) {
        // The store resolves a write before the deadline; a read still waiting then is dropped.
        Ok(()) => match invocation.within(Box::pin(handler(resources, request))).await {
            Some(answer) => answer.and_then(|answer| D::render(answer, &context)),
            None => Err(Error::StorageUnavailable("the request's deadline passed".into())),
        },
        Err(err) => Err(err),
    };
    let reply = outcome.unwrap_or_else(|err| {
        if let Some(detail) = err.server_detail() {
            tracing::error!(request_id = %request_id, status = status_of(&err), detail = %detail, "request failed");
        }
        D::render_error(&err, &context)
    });
    invocation.finish(Outcome {
        kind: "request",
        route: route.pattern,
        method: &method,
        status: reply.status(),
        request_id: &request_id,
        records: None,
        failed: None,
    });
    reply.into_response(&request_id)
}
