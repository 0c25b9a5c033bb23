//! API Gateway WebSocket events (`$connect`, `$disconnect`, and each frame a client sends),
//! under the same discipline as an HTTP request ([`crate::invocation`]): one deadline, one log
//! line with the DynamoDB cost, errors with the status of [`status_of`] and the body the route's
//! [`ErrorBody`] renders, never a crash. On `$connect` a status other than 2xx refuses the
//! connection; on a frame the body is what the route's response sends back to the client.

use std::future::Future;

use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use base64::Engine;
use lambda_http::http::HeaderValue;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

use crate::edna::Edna;
use crate::http::{Dialect, status_of};
use crate::invocation::{Invocation, Outcome, Resources};
use crate::{Error, Result};

/// The log line's `kind` for a WebSocket event.
pub const KIND: &str = "websocket";

/// One WebSocket event as a handler sees it.
#[derive(Debug)]
pub struct WebSocketEvent {
    /// `$connect`, `$disconnect`, `$default` or the frame's action route.
    pub route_key: String,
    pub connection_id: String,
    pub request_id: String,
    /// The frame's text (binary frames arrive in base64 and are decoded); empty on connect and
    /// disconnect.
    pub body: Vec<u8>,
    raw: ApiGatewayWebsocketProxyRequest,
}

impl WebSocketEvent {
    fn read(raw: ApiGatewayWebsocketProxyRequest) -> Result<WebSocketEvent> {
        let context = &raw.request_context;
        let connection_id = context.connection_id.clone().filter(|id| !id.is_empty());
        let connection_id =
            connection_id.ok_or_else(|| Error::invalid("connectionId", "the event names no connection"))?;
        let body = match (&raw.body, raw.is_base64_encoded) {
            (None, _) => Vec::new(),
            (Some(text), false) => text.clone().into_bytes(),
            (Some(text), true) => base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| Error::invalid("body", "the frame is marked base64 but is not"))?,
        };
        Ok(WebSocketEvent {
            route_key: context.route_key.clone().unwrap_or_default(),
            connection_id,
            request_id: context.request_id.clone().unwrap_or_default(),
            body,
            raw,
        })
    }

    /// The event, its frame copied to `frame` first (for the error body, should there be one).
    fn keeping_body(self, frame: &mut Vec<u8>) -> Self {
        frame.clone_from(&self.body);
        self
    }

    /// A query string parameter of the connect request (`?token=`).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.raw.query_string_parameters.first(name)
    }

    /// A header of the connect request.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.raw.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// How a route words an error: the body sent back, given the frame that caused it (empty on
/// connect and disconnect).
pub type ErrorBody = fn(&Error, &[u8]) -> String;

/// Edna's error body: what a refused `$connect` answers.
pub fn edna_error(err: &Error, _frame: &[u8]) -> String {
    Edna::render_error(err, &()).body().to_owned()
}

/// Runs the Lambda loop of a WebSocket route (`$connect`, `$disconnect`, `$default`).
pub async fn serve<R, H, Fut>(resources: R, handler: H, errors: ErrorBody) -> Result<(), lambda_http::Error>
where
    R: Resources,
    H: Fn(R, WebSocketEvent) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<String>>> + Send,
{
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
        Ok::<_, std::convert::Infallible>(answer(resources, handler, errors, event).await)
    }))
    .await
}

/// Answers one WebSocket event: 200 with the handler's body (JSON text, if any), or the error's
/// status with the body `errors` renders. Public so that tests can feed it events.
pub async fn answer<R, H, Fut>(
    resources: R,
    handler: H,
    errors: ErrorBody,
    event: LambdaEvent<ApiGatewayWebsocketProxyRequest>,
) -> ApiGatewayProxyResponse
where
    R: Resources,
    H: Fn(R, WebSocketEvent) -> Fut,
    Fut: Future<Output = Result<Option<String>>>,
{
    let LambdaEvent { payload, context } = event;
    let invocation = Invocation::traced(resources, Some(context.deadline), context.xray_trace_id.as_deref());
    let route_key = payload.request_context.route_key.clone().unwrap_or_default();
    let request_id = payload.request_context.request_id.clone().unwrap_or_else(|| context.request_id.clone());
    let mut frame = Vec::new();
    let outcome = match WebSocketEvent::read(payload) {
        // Boxed: a handler's future is deep, and the runtime's future around it deeper still.
        Ok(event) => match invocation.within(Box::pin(handler(resources, event.keeping_body(&mut frame)))).await {
            Some(outcome) => outcome,
            None => Err(Error::StorageUnavailable("the event's deadline passed".into())),
        },
        Err(err) => Err(err),
    };
    let (status, body) = match outcome {
        Ok(body) => (200, body),
        Err(err) => {
            if let Some(detail) = err.server_detail() {
                tracing::error!(request_id = %request_id, status = status_of(&err), detail = %detail, "websocket event failed");
            }
            (status_of(&err), Some(errors(&err, &frame)))
        }
    };
    invocation.finish(Outcome {
        kind: KIND,
        route: &route_key,
        method: "",
        status,
        request_id: &request_id,
        records: None,
        failed: None,
    });
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = i64::from(status);
    if let Some(body) = body {
        response.headers.insert("content-type", HeaderValue::from_static("application/json"));
        response.body = Some(Body::Text(body));
    }
    response
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use lambda_http::lambda_runtime::Context;
    use serde_json::{Value, json};

    use super::*;
    use crate::core::error::Refusal;
    use crate::testing::CapturedLog;

    /// What API Gateway sends on a connect (with the page's token in the query string) and for a
    /// frame on the `$default` route (recorded shapes, `events/websocket-*.json`).
    const CONNECT: &str = include_str!("../../events/websocket-connect.json");
    const MESSAGE: &str = include_str!("../../events/websocket-message.json");

    fn event(json: &str) -> LambdaEvent<ApiGatewayWebsocketProxyRequest> {
        let payload = serde_json::from_str(json).expect("an API Gateway WebSocket event");
        let mut context = Context::default();
        context.request_id = "invocation-1".into();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        context.deadline = (now + Duration::from_secs(10)).as_millis() as u64;
        LambdaEvent::new(payload, context)
    }

    fn body(response: &ApiGatewayProxyResponse) -> Value {
        match &response.body {
            Some(Body::Text(text)) => serde_json::from_str(text).unwrap(),
            other => panic!("a JSON body, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_connect_reads_its_token_and_connection_and_is_logged_once() {
        let log = CapturedLog::start();
        let handler = |_: (), event: WebSocketEvent| async move {
            assert_eq!((event.route_key.as_str(), event.connection_id.as_str()), ("$connect", "Xyz0AcdEIAMCJkA="));
            match event.query("token") {
                Some("vt_abc") => Ok(None),
                _ => Err(Error::Unauthorized(Refusal::BadToken)),
            }
        };
        let response = answer((), handler, edna_error, event(CONNECT)).await;
        assert_eq!(response.status_code, 200);
        assert!(response.body.is_none());
        let lines = log.lines_with("kind", KIND);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!((lines[0]["route"].as_str(), lines[0]["status"].as_u64()), (Some("$connect"), Some(200)));
        assert_eq!(lines[0]["request_id"].as_str(), Some("XyzRequestId="));
        assert_eq!(lines[0]["dynamodb_requests"].as_u64(), Some(0));
        assert!(!log.text().contains("vt_abc"), "the token is not logged");
    }

    #[tokio::test]
    async fn a_refused_connect_gets_the_errors_status_and_body() {
        let handler =
            |_: (), _: WebSocketEvent| async move { Err::<Option<String>, _>(Error::Unauthorized(Refusal::BadToken)) };
        let response = answer((), handler, edna_error, event(CONNECT)).await;
        assert_eq!(response.status_code, 401);
        assert_eq!(body(&response)["code"], json!("UNAUTHORIZED"));
    }

    #[tokio::test]
    async fn a_frame_reaches_the_handler_and_its_answer_goes_back() {
        let handler = |_: (), event: WebSocketEvent| async move {
            let frame: Value = serde_json::from_slice(&event.body).map_err(|_| Error::invalid("body", "not JSON"))?;
            Ok(Some(json!({"type": "pong", "echo": frame["action"]}).to_string()))
        };
        let response = answer((), handler, edna_error, event(MESSAGE)).await;
        assert_eq!(response.status_code, 200);
        assert_eq!(body(&response), json!({"type": "pong", "echo": "ping"}));
    }

    #[tokio::test]
    async fn a_bad_frame_is_a_400_naming_the_field_and_a_fault_of_ours_a_500_without_detail() {
        let mut bad: Value = serde_json::from_str(MESSAGE).unwrap();
        bad["isBase64Encoded"] = json!(true);
        bad["body"] = json!("%%% not base64");
        let never = |_: (), _: WebSocketEvent| async move { Ok(Some("unreachable".to_owned())) };
        let response = answer((), never, edna_error, event(&bad.to_string())).await;
        assert_eq!((response.status_code, body(&response)["field"].clone()), (400, json!("body")));

        let failing =
            |_: (), _: WebSocketEvent| async move { Err::<Option<String>, _>(Error::internal("secret detail")) };
        let response = answer((), failing, edna_error, event(MESSAGE)).await;
        assert_eq!(response.status_code, 500);
        assert!(!body(&response).to_string().contains("secret"));
    }
}
