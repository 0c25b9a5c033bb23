//! The Lambda event before `lambda_http` reads it. `lambda_http` 1.3 panics, rather than
//! refusing, on a few events a caller may be able to shape (found by the `gateway_event` fuzz
//! target): with `panic = "abort"` the container would die and API Gateway answer its own 502.
//! Such an event gets our 400 instead; every other event goes to `lambda_http` unchanged.

use std::convert::Infallible;
use std::future::Future;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Body, Request, Response, Service, service_fn};
use serde_json::{Map, Value};

use super::{ApiRequest, Dialect, Route};
use crate::Error;

/// Runs the Lambda loop: each event is checked ([`lambda_http_can_read`]) and then answered by
/// `answer`; an event `lambda_http` cannot read is refused in dialect `D`.
pub async fn run<D, F, Fut>(route: Route, answer: F) -> Result<(), lambda_http::Error>
where
    D: Dialect,
    F: Fn(Request) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, Infallible>(answer_event::<D, F, Fut>(route, answer, event).await)
    }))
    .await
}

/// Answers one raw event (an API Gateway proxy response). Public for tests.
pub async fn answer_event<D, F, Fut>(route: Route, answer: F, event: LambdaEvent<Value>) -> Value
where
    D: Dialect,
    F: Fn(Request) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let LambdaEvent { payload, context } = event;
    let request = match lambda_http_can_read(&payload) {
        true => serde_json::from_value::<LambdaRequest>(payload).ok(),
        false => None,
    };
    let Some(request) = request else { return unreadable::<D>(route) };
    let mut adapter =
        Adapter::from(service_fn(move |request: Request| async move { Ok::<_, Infallible>(answer(request).await) }));
    let response = match adapter.call(LambdaEvent::new(request, context)).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    serde_json::to_value(response).unwrap_or_else(|_| unreadable::<D>(route))
}

/// The 400 for an event `lambda_http` cannot read, in API Gateway's proxy response format (both
/// payload versions take it), with the dialect's default error body.
fn unreadable<D: Dialect>(route: Route) -> Value {
    let request = ApiRequest::from_event(Request::default(), route);
    let (context, _) = D::negotiate(&request);
    let err = Error::invalid("request", "the request's host, scheme, path, query string or body encoding is malformed");
    let response = D::render_error(&err, &context).into_response(request.request_id());
    let headers: Map<String, Value> = response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), Value::from(value.to_str().ok()?))))
        .collect();
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    };
    serde_json::json!({
        "statusCode": response.status().as_u16(),
        "headers": headers,
        "body": body,
        "isBase64Encoded": false,
    })
}

/// False for an event `lambda_http` 1.3 would panic on: a path that does not start with `/`; a
/// `Host` / `X-Forwarded-Proto` / `domainName` that do not make a URI with the path and the raw
/// query string (`build_request_uri` unwraps `Url::parse`, the request builder expects a valid
/// URI); a body marked `isBase64Encoded` that is not base64 (`Body::from_maybe_encoded`).
pub fn lambda_http_can_read(event: &Value) -> bool {
    // Every value a header has in either map (lambda_http reads one or the other, by payload),
    // leaving out those it ignores (not visible ASCII: `HeaderValue::to_str` fails).
    let header = |name: &str| -> Vec<String> {
        ["headers", "multiValueHeaders"]
            .iter()
            .filter_map(|field| event[field].as_object())
            .flat_map(|map| map.iter().filter(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value))
            .flat_map(|value| match value {
                Value::Array(values) => values.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                other => other.as_str().map(str::to_owned).into_iter().collect::<Vec<_>>(),
            })
            .filter(|value| value.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)))
            .collect()
    };
    // Which payload lambda_http takes the event for is its (untagged) deserialiser's choice:
    // check both the REST API's `path` and the HTTP API's `rawPath` and `rawQueryString`.
    let paths: Vec<&str> = ["rawPath", "path"].iter().filter_map(|field| event[field].as_str()).collect();
    if paths.iter().any(|path| !path.is_empty() && !path.starts_with('/')) {
        return false;
    }
    // The URI lambda_http builds (`build_request_uri`), with and without the stage prefix, from
    // any host and scheme it may take.
    let mut hosts: Vec<Option<String>> = header("host").into_iter().map(Some).collect();
    hosts.push(event["requestContext"]["domainName"].as_str().map(str::to_owned));
    hosts.push(None);
    let mut schemes = header("x-forwarded-proto");
    schemes.push("https".into());
    let stage = event["requestContext"]["stage"].as_str().unwrap_or_default();
    // HTTP API passes the query string on as sent; REST API's is re-encoded by lambda_http.
    let query = event["rawQueryString"].as_str().filter(|query| !query.is_empty());
    for path in paths.iter().flat_map(|path| [path.to_string(), format!("/{stage}{path}")]).chain(["/".into()]) {
        for host in &hosts {
            for scheme in &schemes {
                let url = match host {
                    Some(host) => url::Url::parse(&format!("{scheme}://{host}{path}")).map(|url| url.to_string()),
                    None => url::Url::parse(&format!("http://localhost{path}")).map(|url| url.path().to_owned()),
                };
                let Ok(mut uri) = url else { return false };
                if let Some(query) = query {
                    uri = format!("{uri}?{query}");
                }
                if lambda_http::http::Uri::try_from(uri).is_err() {
                    return false;
                }
            }
        }
    }
    let base64 = event["isBase64Encoded"].as_bool().unwrap_or(false);
    !(base64 && event["body"].as_str().is_some_and(|body| STANDARD.decode(body).is_err()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::edna::Edna;
    use crate::routes;

    const HTTP_API_V2: &str = include_str!("../../../events/http-api-v2.json");
    const REST_API_V1: &str = include_str!("../../../events/rest-api-v1.json");

    async fn hello(_request: Request) -> Response<Body> {
        Response::builder().status(200).body(Body::from("hello")).unwrap()
    }

    async fn answer(event: Value) -> Value {
        answer_event::<Edna, _, _>(routes::CATCH_ALL, hello, LambdaEvent::new(event, Default::default())).await
    }

    /// Events lambda_http 1.3 panics on (each found by the fuzzer) get a JSON 400 naming the
    /// request; the same events without the fault reach the handler.
    #[tokio::test]
    async fn events_lambda_http_would_panic_on_get_a_json_400() {
        for sample in [HTTP_API_V2, REST_API_V1] {
            let good: Value = serde_json::from_str(sample).unwrap();
            let answered = answer(good.clone()).await;
            assert_eq!((answered["statusCode"].as_u64(), answered["body"].as_str()), (Some(200), Some("hello")));

            let mut faults: Vec<Value> = Vec::new();
            let mut bad_host = good.clone();
            bad_host["headers"]["host"] = json!("exa mple.com");
            faults.push(bad_host);
            let mut bad_scheme = good.clone();
            bad_scheme["headers"]["x-forwarded-proto"] = json!("ht tp");
            faults.push(bad_scheme);
            let mut bad_body = good.clone();
            bad_body["isBase64Encoded"] = json!(true);
            bad_body["body"] = json!("not base64!");
            faults.push(bad_body);
            let mut bad_path = good.clone();
            for field in ["rawPath", "path"] {
                if bad_path.get(field).is_some() {
                    bad_path[field] = json!("no-slash");
                }
            }
            faults.push(bad_path);
            for fault in faults {
                assert!(!lambda_http_can_read(&fault), "{fault}");
                let answered = answer(fault).await;
                assert_eq!(answered["statusCode"], json!(400), "{answered}");
                assert_eq!(answered["headers"]["content-type"], json!("application/json"));
                let body: Value = serde_json::from_str(answered["body"].as_str().unwrap()).unwrap();
                assert_eq!(
                    (body["code"].as_str(), body["field"].as_str()),
                    (Some("VALIDATION_FAILED"), Some("request"))
                );
            }
        }
    }

    #[tokio::test]
    async fn an_event_that_is_no_api_gateway_payload_gets_a_400() {
        let answered = answer(json!({"hello": "world"})).await;
        assert_eq!(answered["statusCode"], json!(400), "{answered}");
    }
}
