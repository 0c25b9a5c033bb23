//! What the fuzz targets share: requests built as API Gateway and `lambda_http` build them, and
//! [`edge`], which runs a request through the reading its route does before the store is asked
//! (`shared::routes::READERS`, the same `parse` functions the functions run), checking that every
//! refusal is the caller's fault: a 4xx by `shared::http::status_of`, the crate's one error →
//! status mapping, and rendered as such by the dialect. A new route or query parameter is
//! fuzzed without a change here.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::http::{HeaderName, HeaderValue};
use lambda_http::{Body, RequestExt};
use serde_json::{Map, Value, json};
use shared::Error;
use shared::http::{ApiRequest, status_of};
use shared::routes::{self, CATCH_ALL};

const HTTP_API_V2: &str = include_str!("../../events/http-api-v2.json");
const REST_API_V1: &str = include_str!("../../events/rest-api-v1.json");

/// Panics unless `err` is the caller's fault: a 4xx by the crate's error → status mapping.
pub fn assert_client_error(err: &Error, what: &str) {
    let status = status_of(err);
    assert!((400..500).contains(&status), "{what}: {err:?} maps to {status}, not to a 4xx");
}

/// A request as `lambda_http` hands it over, without an API Gateway event: for the targets that
/// fuzz one decoder behind the edge. Headers that are not valid HTTP are left out (API Gateway
/// never sends them).
pub fn direct_request<'a>(
    method: &str,
    path: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: &[u8],
) -> lambda_http::Request {
    let mut request = lambda_http::Request::new(Body::from(body.to_vec()));
    *request.method_mut() = method.parse().unwrap_or(lambda_http::http::Method::POST);
    *request.uri_mut() = path.parse().unwrap_or_else(|_| "/".parse().expect("a valid URI"));
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name.trim()), HeaderValue::from_str(value.trim())) {
            request.headers_mut().append(name, value);
        }
    }
    request
}

/// The route API Gateway picks for `method` and `path` (`shared::routes::route_for`).
pub use routes::route_for;

/// The routes that take a body by POST, of one dialect (SuperOffice's or edna's): what the body
/// targets pick from, so that a new route's body is fuzzed without a change here.
pub fn posts(superoffice: bool) -> Vec<shared::http::Route> {
    routes::READERS
        .iter()
        .map(|reader| reader.route)
        .filter(|route| route.method == "POST" && route.pattern.starts_with(routes::SUPEROFFICE_PREFIX) == superoffice)
        .collect()
}

/// One request through the edge, as the function serving its route would take it: the route's
/// own reading of it (`shared::routes::READERS`: negotiation, the size check, the form of the
/// credentials, then the route's `parse`), or not-found's. Each refusal must be a 4xx, rendered
/// by the dialect with that status.
pub fn edge(event: lambda_http::Request) {
    let path = if event.raw_http_path().is_empty() { event.uri().path() } else { event.raw_http_path() }.to_owned();
    let route = route_for(event.method().as_str(), &path);
    let request = ApiRequest::from_event(event, route);
    let refusals = match routes::READERS.iter().find(|reader| reader.route == route) {
        Some(reader) => (reader.refusals)(&request),
        None => routes::not_found::refusals(&request),
    };
    if trace() {
        let errors: Vec<&Error> = refusals.iter().map(|refusal| &refusal.error).collect();
        eprintln!("{} {} ({}): {errors:?}", request.method(), request.path(), route.pattern);
    }
    for refusal in refusals {
        assert_client_error(&refusal.error, route.pattern);
        assert_eq!(refusal.answered, refusal.status, "{:?}", refusal.error);
    }
}

/// `FUZZ_TRACE=1` prints each request's route and refusals, to see what an input reaches:
/// `FUZZ_TRACE=1 fuzz/target/<host>/release/request fuzz/seeds/request/*`.
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some())
}

/// An HTTP request in text, the input of the `request` target:
///
/// ```text
/// POST /api/v1/messages/outgoing?x=1 v1
/// Authorization: Bearer 1.abc
///
/// {"text": "hi", "threadId": 1}
/// ```
///
/// The first line's third word picks the payload: `v1` (REST API) or anything else (HTTP API).
#[derive(Debug, Default)]
pub struct HttpText {
    pub rest_v1: bool,
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpText {
    pub fn parse(data: &[u8]) -> Option<HttpText> {
        let split = data.windows(2).position(|w| w == b"\n\n");
        let (head, body) = match split {
            Some(at) => (&data[..at], &data[at + 2..]),
            None => (data, &[][..]),
        };
        let head = std::str::from_utf8(head).ok()?;
        let mut lines = head.lines();
        let mut first = lines.next()?.split(' ');
        let method = first.next()?.to_owned();
        let target = first.next().unwrap_or("/");
        let rest_v1 = first.next() == Some("v1");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        // What API Gateway passes on always starts with a slash.
        let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        Some(HttpText { rest_v1, method, path, query: query.to_owned(), headers, body: body.to_vec() })
    }

    /// The event API Gateway would send for this request, in the chosen payload format, made
    /// from the recorded events in `events/` (as `shared::testing` does). What API Gateway itself
    /// guarantees is kept: the `Host` and `X-Forwarded-Proto` headers are its own, and the raw
    /// query string is URI-safe (other bytes are percent-encoded).
    pub fn to_event(&self) -> String {
        let route = route_for(&self.method, &self.path);
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(self.query.as_bytes()).into_owned().collect();
        let raw_query: String = self
            .query
            .bytes()
            .map(|b| {
                let safe = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b);
                if safe { (b as char).to_string() } else { format!("%{b:02X}") }
            })
            .collect();
        let headers: Vec<&(String, String)> = self
            .headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("host") && !name.eq_ignore_ascii_case("x-forwarded-proto"))
            .collect();
        let path_parameters: Map<String, Value> = if route == CATCH_ALL {
            Map::new()
        } else {
            route
                .pattern
                .split('/')
                .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
                .filter_map(|name| {
                    routes::path_parameter(route.pattern, &self.path, name).map(|v| (name.to_owned(), json!(v)))
                })
                .collect()
        };
        let (body, base64) = match std::str::from_utf8(&self.body) {
            _ if self.body.is_empty() => (Value::Null, false),
            Ok(text) => (json!(text), false),
            Err(_) => (json!(STANDARD.encode(&self.body)), true),
        };
        let optional = |map: Map<String, Value>| if map.is_empty() { Value::Null } else { Value::Object(map) };
        let mut event: Value;
        if self.rest_v1 {
            event = serde_json::from_str(REST_API_V1).expect("the recorded event");
            let mut single = event["headers"].as_object().cloned().unwrap_or_default();
            let mut multi = event["multiValueHeaders"].as_object().cloned().unwrap_or_default();
            for (name, value) in &headers {
                single.insert(name.clone(), json!(value));
                multi.entry(name.clone()).or_insert_with(|| json!([])).as_array_mut().map(|v| v.push(json!(value)));
            }
            let mut query_single = Map::new();
            let mut query_multi = Map::new();
            for (name, value) in &pairs {
                query_single.insert(name.clone(), json!(value));
                query_multi.entry(name.clone()).or_insert_with(|| json!([])).as_array_mut().map(|v| v.push(json!(value)));
            }
            event["httpMethod"] = json!(self.method);
            event["path"] = json!(self.path);
            event["resource"] = json!(route.pattern);
            event["requestContext"]["httpMethod"] = json!(self.method);
            event["requestContext"]["resourcePath"] = json!(route.pattern);
            event["requestContext"]["path"] = json!(format!("/test{}", self.path));
            event["headers"] = Value::Object(single);
            event["multiValueHeaders"] = Value::Object(multi);
            event["queryStringParameters"] = optional(query_single);
            event["multiValueQueryStringParameters"] = optional(query_multi);
        } else {
            event = serde_json::from_str(HTTP_API_V2).expect("the recorded event");
            let route_key =
                if route == CATCH_ALL { "$default".to_owned() } else { format!("{} {}", route.method, route.pattern) };
            // HTTP API lower-cases names, joins repeated headers with commas and moves cookies
            // out of the headers.
            let mut single: Map<String, Value> = Map::new();
            let mut cookies = Vec::new();
            for (name, value) in &headers {
                let name = name.to_ascii_lowercase();
                if name == "cookie" {
                    cookies.extend(value.split(';').map(|c| json!(c.trim())));
                    continue;
                }
                let joined = match single.get(&name).and_then(Value::as_str) {
                    Some(before) => format!("{before},{value}"),
                    None => value.clone(),
                };
                single.insert(name, json!(joined));
            }
            let mut query: Map<String, Value> = Map::new();
            for (name, value) in &pairs {
                let joined = match query.get(name).and_then(Value::as_str) {
                    Some(before) => format!("{before},{value}"),
                    None => value.clone(),
                };
                query.insert(name.clone(), json!(joined));
            }
            event["routeKey"] = json!(route_key);
            event["rawPath"] = json!(self.path);
            event["rawQueryString"] = json!(raw_query);
            event["cookies"] = if cookies.is_empty() { Value::Null } else { json!(cookies) };
            event["requestContext"]["routeKey"] = json!(route_key);
            event["requestContext"]["http"]["method"] = json!(self.method);
            event["requestContext"]["http"]["path"] = json!(self.path);
            event["headers"] = Value::Object(single);
            event["queryStringParameters"] = optional(query);
        }
        event["pathParameters"] = optional(path_parameters);
        event["body"] = body;
        event["isBase64Encoded"] = json!(base64);
        event.to_string()
    }
}
