//! What handlers see of a request: headers, path and query parameters, the body.

use lambda_http::http::{HeaderMap, Method, Uri};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;

use super::{MAX_BODY_BYTES, REQUEST_ID_HEADER};
use crate::core::idempotency::RequestKey;
use crate::core::model::MAX_SAFE_ID;
use crate::{Error, Result};

/// One route of `template.yaml`: its method and path pattern (`{name}` marks a parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub pattern: &'static str,
}

pub struct ApiRequest {
    route: Route,
    method: Method,
    path: String,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    path_parameters: lambda_http::aws_lambda_events::query_map::QueryMap,
    query: lambda_http::aws_lambda_events::query_map::QueryMap,
    request_id: String,
}

impl ApiRequest {
    pub fn from_event(event: Request, route: Route) -> Self {
        let path = event.raw_http_path().to_owned();
        let path = if path.is_empty() { event.uri().path().to_owned() } else { path };
        let path_parameters = event.path_parameters();
        let query = event.query_string_parameters();
        // The caller's id when it sent a usable one, else API Gateway's (it is in the access
        // logs too), else a new one.
        let gateway_request_id = match event.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
            Some(RequestContext::ApiGatewayV1(context)) => context.request_id.clone(),
            _ => None,
        };
        let request_id = event
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
            .into_iter()
            .chain(gateway_request_id)
            .find(|id| is_safe_request_id(id))
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let (parts, body) = event.into_parts();
        ApiRequest {
            route,
            method: parts.method,
            path,
            uri: parts.uri,
            headers: parts.headers,
            body,
            path_parameters,
            query,
            request_id,
        }
    }

    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    pub fn method(&self) -> &str {
        self.method.as_str()
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The request's URI as `lambda_http` rebuilt it: the path with the stage API Gateway
    /// served it under (`/prod/...`), and the query string.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    pub fn body(&self) -> &[u8] {
        self.body.as_ref()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Every value of a header sent more than once (`Cookie`).
    pub fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.headers.get_all(name).into_iter().filter_map(|value| value.to_str().ok())
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.first(name)
    }

    /// Requests larger than [`MAX_BODY_BYTES`] get 413 before their handler runs.
    pub fn check_size(&self) -> Result<()> {
        if self.body().len() > MAX_BODY_BYTES {
            return Err(Error::PayloadTooLarge { limit: MAX_BODY_BYTES });
        }
        Ok(())
    }

    /// A positive integer path parameter such as `{threadId}`, at most JavaScript's safe integer.
    pub fn path_id(&self, name: &str) -> Result<u64> {
        self.path_id_at_most(name, MAX_SAFE_ID)
    }

    /// A positive integer path parameter of at most `max`. API Gateway fills path parameters;
    /// where it did not (a catch-all route), the path is matched against the route.
    pub fn path_id_at_most(&self, name: &str, max: u64) -> Result<u64> {
        let raw =
            self.path_text(name).ok_or_else(|| Error::invalid(name, format!("{name} is missing from the path")))?;
        crate::json::count_text(&raw)
            .filter(|id| (1..=max).contains(id))
            .ok_or_else(|| Error::invalid(name, format!("{name} must be an integer between 1 and {max}")))
    }

    /// The text of a path parameter such as `{id}`: API Gateway's, or where it filled none (a
    /// catch-all route), the path matched against the route.
    pub fn path_text(&self, name: &str) -> Option<String> {
        self.path_parameters
            .first(name)
            .map(str::to_owned)
            .or_else(|| crate::routes::path_parameter(self.route.pattern, &self.path, name).map(str::to_owned))
    }

    /// The request's `Idempotency-Key`, scoped to the calling agent; `None` when not sent.
    pub fn idempotency_key(&self, agent_id: u64) -> Result<Option<RequestKey>> {
        // A value that is not visible ASCII (`clé-1`) is refused, not taken for no key.
        let header = match self.headers.get(crate::wording::IDEMPOTENCY_KEY_HEADER) {
            None => None,
            Some(value) => Some(value.to_str().unwrap_or("\u{0}")),
        };
        RequestKey::from_header(header, agent_id, self.method(), self.path(), self.body())
    }
}

/// A JSON object as `T`; errors name the field at fault.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    // serde would also read a struct from an array; the API speaks objects only.
    if body.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{')
        && serde_json::from_slice::<serde_json::Value>(body).is_ok()
    {
        return Err(Error::InvalidInput {
            code: "VALIDATION_FAILED",
            message: "the body must be a JSON object".into(),
            field: None,
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return Error::InvalidInput {
                code: "INVALID_JSON",
                message: format!("malformed JSON: {inner}").into(),
                field: None,
            };
        }
        let message = inner.to_string();
        // serde reports a missing field at its parent; name the field itself.
        let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => Some(name.to_owned()),
            (_, Some(name)) => Some(format!("{path}.{name}")),
            (".", None) => None,
            (_, None) => Some(path),
        };
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        Error::InvalidInput { code: "VALIDATION_FAILED", message: message.into(), field: field.map(Into::into) }
    })?;
    deserializer.end().map_err(|err| Error::InvalidInput {
        code: "INVALID_JSON",
        message: format!("malformed JSON: {err}").into(),
        field: None,
    })?;
    Ok(value)
}

fn is_safe_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Probe {
        name: String,
        items: Option<Vec<Item>>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        size: u64,
    }

    fn failure(body: &str) -> (String, Option<String>) {
        match parse_json::<Probe>(body.as_bytes()) {
            Err(Error::InvalidInput { code, field, .. }) => (code.to_owned(), field.map(|field| field.to_string())),
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn json_errors_name_the_field_at_fault() {
        assert_eq!(failure(r#"{"name": 5}"#), ("VALIDATION_FAILED".into(), Some("name".into())));
        assert_eq!(failure(r#"{}"#), ("VALIDATION_FAILED".into(), Some("name".into())));
        assert_eq!(
            failure(r#"{"name":"a","items":[{"size":1},{"size":-1}]}"#),
            ("VALIDATION_FAILED".into(), Some("items[1].size".into()))
        );
        assert_eq!(failure(r#"{"name":"a","items":[{}]}"#), ("VALIDATION_FAILED".into(), Some("items[0].size".into())));
        assert_eq!(failure("[1]"), ("VALIDATION_FAILED".into(), None));
    }

    #[test]
    fn malformed_json_is_reported_as_such() {
        assert_eq!(failure(r#"{"name": "#).0, "INVALID_JSON");
        assert_eq!(failure(r#"{"name": "a"} trailing"#).0, "INVALID_JSON");
    }
}
