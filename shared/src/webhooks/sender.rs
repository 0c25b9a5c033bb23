//! The HTTPS client of webhook deliveries: its own trust store (Mozilla's roots, for customers'
//! hosts; DynamoDB's client trusts Amazon's only), no proxy, no redirects followed, 15 s per
//! attempt, connections only to addresses the guard allows (checked again as the connection is
//! made, so a name that now resolves to a private address is not reached), and nothing of the
//! answer read but its status and `Retry-After`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;

use super::deliver::{Outgoing, Transport};
use super::guard;
use crate::core::webhooks::{ATTEMPT_TIMEOUT, AttemptResult};
use crate::{Error, Result};

pub struct HttpSender {
    client: reqwest::Client,
}

/// Resolves names for the client, keeping only addresses the guard allows.
struct GuardedResolver {
    allow_loopback_http: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback_http;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            // The scheme is not known here: loopback passes only where plain http to it is
            // allowed (the URL's scheme was checked before the request was made).
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|address| match guard::blocked_reason(address.ip()) {
                    None => true,
                    Some("a loopback address") => allow_loopback,
                    Some(_) => false,
                })
                .collect();
            if allowed.is_empty() {
                return Err("blocked address".into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

impl HttpSender {
    pub fn new(allow_loopback_http: bool) -> Result<HttpSender> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver { allow_loopback_http }))
            .redirect(Policy::none())
            .no_proxy()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent("chat-center-webhooks/1")
            .build()
            .map_err(|err| Error::internal(format!("the webhook client: {err}")))?;
        Ok(HttpSender { client })
    }
}

/// This container's client (one connection pool for every delivery it makes), built once from
/// the container's settings.
pub fn shared() -> Result<&'static HttpSender> {
    static SENDER: std::sync::OnceLock<HttpSender> = std::sync::OnceLock::new();
    if let Some(sender) = SENDER.get() {
        return Ok(sender);
    }
    let sender = HttpSender::new(super::settings().allow_loopback_http)?;
    Ok(SENDER.get_or_init(|| sender))
}

impl Transport for HttpSender {
    async fn post(&self, request: Outgoing, timeout: Duration) -> AttemptResult {
        let Outgoing { target, headers, body } = request;
        // An address in the URL itself is not resolved: it was checked by the guard.
        let mut builder = self.client.post(target.url.clone()).timeout(timeout).body(body);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        match builder.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(parse_retry_after);
                // The body is never read: dropping the response closes it.
                match status {
                    200..=299 => AttemptResult::Delivered { status },
                    410 => AttemptResult::Gone,
                    _ => AttemptResult::Refused { status, retry_after },
                }
            }
            Err(err) => AttemptResult::Unreachable { reason: reason_of(&err) },
        }
    }
}

/// Seconds (`Retry-After: 120`) or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value.trim()).ok()?.timestamp();
    let wait = at.duration_since(jiff::Timestamp::now());
    Duration::try_from(wait).ok()
}

/// Why no answer came, in our words (never the URL, which may carry a token in its query).
fn reason_of(err: &reqwest::Error) -> String {
    let text = format!("{err:?}");
    if text.contains("blocked address") {
        "blocked address".into()
    } else if err.is_timeout() {
        "no answer in time".into()
    } else if err.is_connect() {
        "the connection failed".into()
    } else if err.is_redirect() {
        "a redirect (not followed)".into()
    } else {
        "the request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        let later = jiff::Timestamp::now() + Duration::from_secs(3600);
        let date = jiff::fmt::rfc2822::to_string(&later.to_zoned(jiff::tz::TimeZone::UTC)).unwrap();
        let parsed = parse_retry_after(&date).unwrap();
        assert!(parsed > Duration::from_secs(3500) && parsed <= Duration::from_secs(3600), "{parsed:?}");
        assert_eq!(parse_retry_after("soon"), None);
    }
}
