//! Test support for the functions: real API Gateway events (the payloads in `events/`, REST 1.0
//! and HTTP 2.0) and fixtures in DynamoDB Local (`TABLE_NAME`, `DYNAMODB_ENDPOINT`, set by
//! `scripts/test`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::App;
use crate::core::credentials::{self, LoginGrant};
use crate::core::model::{Agent, Client, Role};
use crate::http::Route;

const HTTP_API_V2: &str = include_str!("../../events/http-api-v2.json");
const REST_API_V1: &str = include_str!("../../events/rest-api-v1.json");

/// The two payload formats API Gateway sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    HttpApiV2,
    RestApiV1,
}

pub const FORMATS: [Format; 2] = [Format::HttpApiV2, Format::RestApiV1];

/// An API Gateway event for one request, made from a recorded event of the chosen format.
#[derive(Debug, Clone)]
pub struct Event {
    format: Format,
    route: Route,
    method: String,
    path: String,
    path_parameters: BTreeMap<String, String>,
    query: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
    body: Option<String>,
    gateway_request_id: String,
    /// The invocation's deadline (epoch ms) in the Lambda context, when set.
    deadline_ms: Option<u64>,
    /// The invocation's X-Ray trace header in the Lambda context, when set.
    trace_header: Option<String>,
}

impl Event {
    /// A request for `route` with its `{parameters}` filled from `path_parameters` in order.
    pub fn new(format: Format, route: Route, path_parameters: &[&str]) -> Self {
        let mut path = route.pattern.to_owned();
        let mut parameters = BTreeMap::new();
        let mut values = path_parameters.iter();
        while let (Some(start), Some(end)) = (path.find('{'), path.find('}')) {
            let name = path[start + 1..end].to_owned();
            let value = values.next().expect("a value for every path parameter").to_string();
            path.replace_range(start..=end, &value);
            parameters.insert(name, value);
        }
        Event {
            format,
            route,
            method: route.method.to_owned(),
            path,
            path_parameters: parameters,
            query: BTreeMap::new(),
            headers: BTreeMap::new(),
            body: None,
            gateway_request_id: uuid::Uuid::new_v4().to_string(),
            deadline_ms: None,
            trace_header: None,
        }
    }

    /// The `requestContext.requestId` API Gateway gives this request.
    pub fn gateway_request_id(&self) -> &str {
        &self.gateway_request_id
    }

    pub fn method(mut self, method: &str) -> Self {
        self.method = method.to_owned();
        self
    }

    /// The path as the caller sent it (a trailing slash, a stage prefix) instead of the route's.
    pub fn path(mut self, path: &str) -> Self {
        self.path = path.to_owned();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(name.to_owned(), value.to_owned());
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", token)
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.insert(name.to_owned(), value.to_owned());
        self
    }

    /// A raw body, sent with `Content-Type: application/json` unless another is set.
    pub fn body(mut self, body: &str) -> Self {
        self.headers.entry("Content-Type".into()).or_insert_with(|| "application/json".into());
        self.body = Some(body.to_owned());
        self
    }

    pub fn json(self, value: &Value) -> Self {
        self.body(&value.to_string())
    }

    /// The event as the Lambda runtime would hand it to `lambda_http`.
    pub fn to_json(&self) -> String {
        let query_string: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut event: Value = match self.format {
            Format::HttpApiV2 => serde_json::from_str(HTTP_API_V2).expect("recorded event"),
            Format::RestApiV1 => serde_json::from_str(REST_API_V1).expect("recorded event"),
        };
        let template_path = self.route.pattern;
        match self.format {
            Format::HttpApiV2 => {
                let route_key = format!("{} {}", self.route.method, template_path);
                event["routeKey"] = json!(route_key);
                event["rawPath"] = json!(self.path);
                event["rawQueryString"] = json!(query_string.join("&"));
                event["cookies"] = json!([]);
                event["requestContext"]["routeKey"] = json!(route_key);
                event["requestContext"]["http"]["method"] = json!(self.method);
                event["requestContext"]["http"]["path"] = json!(self.path);
                event["requestContext"]["requestId"] = json!(self.gateway_request_id);
            }
            Format::RestApiV1 => {
                event["httpMethod"] = json!(self.method);
                event["path"] = json!(self.path);
                event["resource"] = json!(template_path);
                event["requestContext"]["httpMethod"] = json!(self.method);
                event["requestContext"]["resourcePath"] = json!(template_path);
                event["requestContext"]["path"] = json!(format!("/test{}", self.path));
                event["requestContext"]["requestId"] = json!(self.gateway_request_id);
                let multi: BTreeMap<&String, Vec<&String>> = self.headers.iter().map(|(k, v)| (k, vec![v])).collect();
                event["multiValueHeaders"] = json!(multi);
            }
        }
        event["headers"] = json!(self.headers);
        event["queryStringParameters"] = if self.query.is_empty() { Value::Null } else { json!(self.query) };
        event["pathParameters"] =
            if self.path_parameters.is_empty() { Value::Null } else { json!(self.path_parameters) };
        event["body"] = self.body.as_ref().map_or(Value::Null, |body| json!(body));
        event["isBase64Encoded"] = json!(false);
        event.to_string()
    }

    /// The invocation must be answered within `millis` from now (the Lambda context's deadline).
    pub fn deadline_in(mut self, millis: u64) -> Self {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        self.deadline_ms = Some(now.as_millis() as u64 + millis);
        self
    }

    /// The invocation carries this X-Ray trace header (`Root=…;Parent=…;Sampled=1`).
    pub fn traced(mut self, header: &str) -> Self {
        self.trace_header = Some(header.to_owned());
        self
    }

    pub fn into_request(self) -> lambda_http::Request {
        use lambda_http::RequestExt;
        let request = lambda_http::request::from_str(&self.to_json()).expect("lambda_http reads the event");
        if self.deadline_ms.is_none() && self.trace_header.is_none() {
            return request;
        }
        let mut context = lambda_http::Context::default();
        context.deadline = self.deadline_ms.unwrap_or_default();
        context.xray_trace_id = self.trace_header;
        request.with_lambda_context(context)
    }
}

/// The app, configured from the test environment.
pub async fn app() -> &'static App {
    assert!(
        std::env::var("DYNAMODB_ENDPOINT").is_ok() && std::env::var("TABLE_NAME").is_ok(),
        "these tests need DynamoDB Local: run them through ./scripts/test"
    );
    // Logs go to the test harness, which shows them only for failing tests.
    let _ = tracing_subscriber::fmt().json().with_test_writer().try_init();
    App::from_env().await.expect("configuration from the test environment")
}

/// Reads the store's request and round-trip counters, to tell what a call cost.
pub struct Meter {
    app: &'static App,
    requests: u64,
    round_trips: u64,
    units: (f64, f64),
}

impl Meter {
    pub fn start(app: &'static App) -> Meter {
        let (requests, round_trips, units) =
            (app.store.requests_sent(), app.store.round_trips(), app.store.capacity_units());
        Meter { app, requests, round_trips, units }
    }

    /// (read, write) capacity units DynamoDB reported since the start.
    pub fn units(&self) -> (f64, f64) {
        let (read, write) = self.app.store.capacity_units();
        (read - self.units.0, write - self.units.1)
    }

    /// (round trips, requests) since the start.
    pub fn cost(&self) -> (u64, u64) {
        (self.app.store.round_trips() - self.round_trips, self.app.store.requests_sent() - self.requests)
    }

    /// Asserts at most `round_trips` round trips and exactly `requests` requests. Round trips
    /// are periods with a request in flight: a read that overlaps another branch's may share its
    /// period, so fewer is fine.
    #[track_caller]
    pub fn assert_cost(&self, round_trips: u64, requests: u64, what: &str) {
        let (took_round_trips, took_requests) = self.cost();
        assert!(
            (1..=round_trips).contains(&took_round_trips) && took_requests == requests,
            "{what}: {took_round_trips} round trips and {took_requests} requests; expected at most {round_trips} and {requests}"
        );
    }
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

pub const PASSWORD: &str = "test password 1";

/// A new enabled agent with `role` and a valid `Bearer ...` header value for it.
pub async fn agent(app: &App, role: Role) -> (Agent, String) {
    let grant = login(app, role).await;
    (grant.agent, format!("Bearer {}", grant.token))
}

/// A new enabled agent with `role`, logged in: its token, ticket and XSRF value.
pub async fn login(app: &App, role: Role) -> LoginGrant {
    let agent = credentials::register_agent(&app.store, &unique(role.as_str()), role, PASSWORD).await.unwrap();
    credentials::log_in(&app.store, &agent.login, PASSWORD, app.config.token_ttl).await.unwrap()
}

/// Sends `content` to `recipient` as `agent`, as edna's outgoing does; the edna answer.
pub async fn send(
    app: &App,
    agent: &Agent,
    recipient: &crate::core::sending::Recipient,
    content: crate::core::validation::MessageContent,
) -> crate::edna::wire::SentMessage {
    let draft = crate::core::sending::Draft::to_customer(content, agent);
    let delivery = crate::core::sending::send_outgoing(&app.store, agent, recipient, draft, None).await.unwrap();
    crate::edna::wire::SentMessage::from(&delivery)
}

/// A new client with a fresh external id.
pub async fn client(app: &App) -> Client {
    crate::core::clients::create_client(&app.store, Some(&unique("client")), Some("Test Client")).await.unwrap()
}

/// Status and parsed JSON body of a response.
pub fn status_and_body(response: &lambda_http::Response<lambda_http::Body>) -> (u16, Value) {
    let body: &[u8] = response.body().as_ref();
    let json =
        serde_json::from_slice(body).unwrap_or_else(|_| panic!("JSON body, got {:?}", String::from_utf8_lossy(body)));
    (response.status().as_u16(), json)
}

/// Feeds `event` to an edna `handler` as the Lambda runtime would; returns status, JSON body
/// and the whole response.
pub async fn call<R, H, Fut>(
    app: R,
    route: Route,
    handler: H,
    event: Event,
) -> (u16, Value, lambda_http::Response<lambda_http::Body>)
where
    R: crate::http::Resources,
    H: Fn(R, crate::http::ApiRequest) -> Fut,
    Fut: std::future::Future<Output = crate::Result<crate::http::Reply>>,
{
    let response = crate::http::respond::<crate::edna::Edna, _, _, _>(app, route, handler, event.into_request()).await;
    let (status, body) = status_and_body(&response);
    (status, body, response)
}

/// Feeds `event` to a handler of dialect `D`; returns the whole response.
pub async fn call_in<D, R, H, Fut>(
    app: R,
    route: Route,
    handler: H,
    event: Event,
) -> lambda_http::Response<lambda_http::Body>
where
    D: crate::http::Dialect,
    R: crate::http::Resources,
    H: Fn(R, crate::http::ApiRequest) -> Fut,
    Fut: std::future::Future<Output = crate::Result<D::Answer>>,
{
    crate::http::respond::<D, _, _, _>(app, route, handler, event.into_request()).await
}

/// A proxy in front of DynamoDB Local that loses the answer of the first `TransactWriteItems`
/// it forwards: DynamoDB commits the transaction, the caller sees the connection close. What a
/// send then answers shows whether an unknown outcome is resolved before answering.
pub struct LosingProxy {
    pub endpoint: String,
    pub lost: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

impl LosingProxy {
    /// Starts the proxy for `upstream` (host:port); it loses the answers of the first `lose`
    /// transactions.
    pub async fn start(upstream: String, lose: u32) -> LosingProxy {
        use std::sync::atomic::{AtomicU32, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let endpoint = format!("http://{}", listener.local_addr().expect("an address"));
        let lost = std::sync::Arc::new(AtomicU32::new(0));
        let counter = lost.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, counter) = (upstream.clone(), counter.clone());
                tokio::spawn(async move {
                    let _ = relay(client, &upstream, |request| {
                        match is_transaction(request) && counter.fetch_add(1, Ordering::SeqCst) < lose {
                            true => Fate::Lose,
                            false => Fate::Pass,
                        }
                    })
                    .await;
                });
            }
        });
        LosingProxy { endpoint, lost }
    }
}

/// A proxy in front of DynamoDB Local that holds back the answer of the first `slow`
/// `TransactWriteItems` it forwards for `delay`: DynamoDB commits the transaction at once, the
/// caller waits. A delay longer than a try may take makes the store give up on that try.
pub struct SlowProxy {
    pub endpoint: String,
    /// Transactions forwarded so far.
    pub transactions: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

impl SlowProxy {
    pub async fn start(upstream: String, slow: u32, delay: std::time::Duration) -> SlowProxy {
        use std::sync::atomic::{AtomicU32, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let endpoint = format!("http://{}", listener.local_addr().expect("an address"));
        let transactions = std::sync::Arc::new(AtomicU32::new(0));
        let counter = transactions.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, counter) = (upstream.clone(), counter.clone());
                tokio::spawn(async move {
                    let _ = relay(client, &upstream, |request| {
                        match is_transaction(request) && counter.fetch_add(1, Ordering::SeqCst) < slow {
                            true => Fate::Delay(delay),
                            false => Fate::Pass,
                        }
                    })
                    .await;
                });
            }
        });
        SlowProxy { endpoint, transactions }
    }
}

fn is_transaction(request: &[u8]) -> bool {
    request.windows(19).any(|w| w == b"TransactWriteItems\r")
}

/// What a proxy does with the answer to one request.
enum Fate {
    Pass,
    /// Closes the connection instead of passing the answer on.
    Lose,
    /// Passes the answer on after a pause.
    Delay(std::time::Duration),
}

/// Relays HTTP/1.1 requests of one connection: forwards each request, reads the answer, and
/// deals with it as `fate(request)` says.
async fn relay(
    mut client: tokio::net::TcpStream,
    upstream: &str,
    mut fate: impl FnMut(&[u8]) -> Fate,
) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut server = tokio::net::TcpStream::connect(upstream).await?;
    loop {
        let Some(request) = read_message(&mut client).await? else { return Ok(()) };
        server.write_all(&request).await?;
        let Some(answer) = read_message(&mut server).await? else { return Ok(()) };
        match fate(&request) {
            Fate::Lose => return Ok(()), // dropping both connections: the answer is lost
            Fate::Delay(delay) => tokio::time::sleep(delay).await,
            Fate::Pass => {}
        }
        client.write_all(&answer).await?;
    }
}

/// One HTTP/1.1 message with a `Content-Length` body; `None` at the end of the stream.
async fn read_message(stream: &mut tokio::net::TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    use tokio::io::AsyncReadExt;
    let mut message = Vec::new();
    let mut byte = [0u8; 1];
    while !message.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        message.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&message).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await?;
    message.extend_from_slice(&body);
    Ok(Some(message))
}

/// The JSON log lines written on this thread while it lives, as the functions write them
/// (`logging::init`'s format): for tests of what a log line says, and that secrets stay out.
/// Tokio's test runtime runs a test on one thread, so the capture sees the whole test.
pub struct CapturedLog {
    buffer: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    _guard: tracing::dispatcher::DefaultGuard,
}

#[derive(Clone)]
struct SharedBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    pub fn start() -> CapturedLog {
        let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = SharedBuffer(buffer.clone());
        let subscriber = crate::logging::subscriber("info", move || writer.clone());
        CapturedLog { buffer, _guard: tracing::dispatcher::set_default(&tracing::Dispatch::new(subscriber)) }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())).into_owned()
    }

    /// The lines whose `field` is the string `value`.
    pub fn lines_with(&self, field: &str, value: &str) -> Vec<Value> {
        self.text()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line[field].as_str() == Some(value))
            .collect()
    }

    /// The log lines of HTTP requests (one per invocation, from `crate::http`) so far.
    pub fn requests(&self) -> Vec<Value> {
        self.lines_with("message", "request")
    }

    /// The last request's log line.
    #[track_caller]
    pub fn last_request(&self) -> Value {
        self.requests().pop().expect("a request's log line")
    }
}

/// A record of the table's stream as Lambda delivers it: `INSERT` (no old image) or `MODIFY`,
/// keyed by the image's `pk` and `sk`, with a sequence number later than any before.
pub fn stream_record(
    new_image: serde_dynamo::Item,
    old_image: Option<serde_dynamo::Item>,
) -> aws_lambda_events::event::dynamodb::EventRecord {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQUENCE: AtomicU64 = AtomicU64::new(17_000_000);
    let key = |name: &str| new_image.get(name).cloned().map(|value| (name.to_owned(), value));
    let keys: serde_dynamo::Item =
        key("pk").into_iter().chain(key("sk")).collect::<std::collections::HashMap<_, _>>().into();
    let name = if old_image.is_some() { "MODIFY" } else { "INSERT" };
    let sequence = format!("44215845000000000{:011}", SEQUENCE.fetch_add(1, Ordering::Relaxed));
    let record = json!({
        "eventID": uuid::Uuid::new_v4().simple().to_string(),
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": jiff::Timestamp::now().as_second(),
            "Keys": serde_json::to_value(&keys).unwrap(),
            "NewImage": serde_json::to_value(&new_image).unwrap(),
            "OldImage": old_image.map(|image| serde_json::to_value(&image).unwrap()),
            "SequenceNumber": sequence,
            "SizeBytes": 512,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/chat-center/stream/2026-12-02T00:00:00.000"
    });
    serde_json::from_value(record).expect("a stream record Lambda would send")
}

/// A batch of stream records, with 20 s of the invocation left.
pub fn stream_batch(
    records: Vec<aws_lambda_events::event::dynamodb::EventRecord>,
) -> lambda_http::lambda_runtime::LambdaEvent<aws_lambda_events::event::dynamodb::Event> {
    let mut payload = aws_lambda_events::event::dynamodb::Event::default();
    payload.records = records;
    let mut context = lambda_http::lambda_runtime::Context::default();
    context.request_id = uuid::Uuid::new_v4().to_string();
    context.deadline = (jiff::Timestamp::now().as_millisecond() + 20_000) as u64;
    lambda_http::lambda_runtime::LambdaEvent::new(payload, context)
}

const WEBSOCKET_CONNECT: &str = include_str!("../../events/websocket-connect.json");
const WEBSOCKET_MESSAGE: &str = include_str!("../../events/websocket-message.json");

/// An API Gateway WebSocket event as recorded (`events/websocket-*.json`) on `connection_id`:
/// `$connect` with `?token=` when `token` is given, `$disconnect`, or a `$default` frame.
pub fn websocket_event(
    route_key: &str,
    connection_id: &str,
    token: Option<&str>,
    frame: Option<&str>,
) -> lambda_http::lambda_runtime::LambdaEvent<aws_lambda_events::event::apigw::ApiGatewayWebsocketProxyRequest> {
    let mut payload: Value =
        serde_json::from_str(if route_key == "$default" { WEBSOCKET_MESSAGE } else { WEBSOCKET_CONNECT }).unwrap();
    payload["requestContext"]["routeKey"] = json!(route_key);
    payload["requestContext"]["connectionId"] = json!(connection_id);
    payload["requestContext"]["requestId"] = json!(uuid::Uuid::new_v4().to_string());
    if route_key == "$disconnect" {
        payload["requestContext"]["eventType"] = json!("DISCONNECT");
    }
    match token {
        Some(token) => {
            payload["queryStringParameters"] = json!({"token": token});
            payload["multiValueQueryStringParameters"] = json!({"token": [token]});
        }
        None => {
            payload["queryStringParameters"] = Value::Null;
            payload["multiValueQueryStringParameters"] = Value::Null;
        }
    }
    payload["body"] = frame.map_or(Value::Null, |frame| json!(frame));
    let mut context = lambda_http::lambda_runtime::Context::default();
    context.request_id = uuid::Uuid::new_v4().to_string();
    context.deadline = (jiff::Timestamp::now().as_millisecond() + 20_000) as u64;
    lambda_http::lambda_runtime::LambdaEvent::new(serde_json::from_value(payload).unwrap(), context)
}

/// Feeds a WebSocket event to `handler` as its function would; the status and the body's JSON.
pub async fn websocket_call<H, Fut>(
    app: &'static App,
    handler: H,
    errors: crate::websocket::ErrorBody,
    event: lambda_http::lambda_runtime::LambdaEvent<aws_lambda_events::event::apigw::ApiGatewayWebsocketProxyRequest>,
) -> (u16, Option<Value>)
where
    H: Fn(&'static App, crate::websocket::WebSocketEvent) -> Fut,
    Fut: std::future::Future<Output = crate::Result<Option<String>>>,
{
    let response = crate::websocket::answer(app, handler, errors, event).await;
    let body = match response.body {
        Some(aws_lambda_events::encodings::Body::Text(text)) => Some(serde_json::from_str(&text).unwrap()),
        None => None,
        Some(other) => panic!("a text body, got {other:?}"),
    };
    (response.status_code as u16, body)
}

/// A webhook receiver on 127.0.0.1: records every request it gets (headers in lower case, body)
/// and answers each with the next of its scripted answers (then 200), after an optional delay.
pub struct Receiver {
    pub url: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<ReceivedRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    /// The request line's method and path (`POST /@connections/abc%3D`).
    pub request_line: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// When the request had arrived whole.
    pub at: std::time::Instant,
}

/// One scripted answer: a status, extra headers, and how long to wait before answering.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub delay: std::time::Duration,
}

impl Answer {
    pub fn status(status: u16) -> Answer {
        Answer { status, headers: Vec::new(), delay: std::time::Duration::ZERO }
    }
}

impl Receiver {
    pub async fn start(script: Vec<Answer>) -> Receiver {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let script = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(script)));
        let (seen, answers) = (received.clone(), script.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (seen, answers) = (seen.clone(), answers.clone());
                tokio::spawn(async move {
                    let mut data = Vec::new();
                    let mut buffer = [0u8; 4096];
                    let (head_end, length) = loop {
                        let Ok(read) = socket.read(&mut buffer).await else { return };
                        if read == 0 {
                            return;
                        }
                        data.extend_from_slice(&buffer[..read]);
                        if let Some(end) = data.windows(4).position(|window| window == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
                            let length = head
                                .lines()
                                .find_map(|line| line.strip_prefix("content-length:"))
                                .and_then(|value| value.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            break (end + 4, length);
                        }
                    };
                    while data.len() < head_end + length {
                        let Ok(read) = socket.read(&mut buffer).await else { return };
                        if read == 0 {
                            return;
                        }
                        data.extend_from_slice(&buffer[..read]);
                    }
                    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
                    let request_line = head
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .rsplit_once(' ')
                        .map_or("", |(line, _)| line)
                        .to_owned();
                    let headers = head
                        .lines()
                        .skip(1)
                        .filter_map(|line| line.split_once(':'))
                        .map(|(name, value)| (name.trim().to_lowercase(), value.trim().to_owned()))
                        .collect();
                    let body = String::from_utf8_lossy(&data[head_end..head_end + length]).to_string();
                    seen.lock().unwrap().push(ReceivedRequest {
                        request_line,
                        headers,
                        body,
                        at: std::time::Instant::now(),
                    });
                    let answer = answers.lock().unwrap().pop_front().unwrap_or(Answer::status(200));
                    tokio::time::sleep(answer.delay).await;
                    let mut response =
                        format!("HTTP/1.1 {} X\r\ncontent-length: 0\r\nconnection: close\r\n", answer.status);
                    for (name, value) in &answer.headers {
                        response.push_str(&format!("{name}: {value}\r\n"));
                    }
                    response.push_str("\r\n");
                    let _ = socket.write_all(response.as_bytes()).await;
                });
            }
        });
        Receiver { url, received, task }
    }

    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
