//! AWS X-Ray subsegments, when the stack's `Tracing` parameter is `Active`: for a sampled
//! invocation, one subsegment for its handler (named by its route or consumer) and one for each
//! AWS SDK call it makes (DynamoDB, API Gateway's management API), each sent as one UDP datagram
//! to the daemon Lambda runs beside the function (`AWS_XRAY_DAEMON_ADDRESS`), under the
//! function's segment (the `Parent` of the invocation's trace header). An invocation that is not
//! sampled, or a function without a daemon address, sends nothing and costs one branch.
//!
//! Written here rather than taken from a crate: the daemon protocol is a header line and a JSON
//! document, and the Rust clients of it (xray-lite 0.0.x, xray-tracing 0.0.1) are one-release
//! projects that would add their own HTTP and serde stacks to every function.

use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use rand::RngCore;
use serde_json::{Value, json};

/// What the daemon expects before each document.
const HEADER: &str = "{\"format\": \"json\", \"version\": 1}\n";

/// A sampled invocation's trace: where its subsegments go and what they hang under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub trace_id: String,
    pub parent_id: String,
    pub daemon: SocketAddr,
}

impl Trace {
    /// The trace of an invocation whose trace header (`Root=…;Parent=…;Sampled=1`, Lambda's
    /// `Lambda-Runtime-Trace-Id`) is `header`; `None` unless it is sampled and a daemon is given.
    pub fn of(header: Option<&str>, daemon: Option<SocketAddr>) -> Option<Trace> {
        let (header, daemon) = (header?, daemon?);
        let field = |name: &str| {
            header.split(';').find_map(|part| part.trim().strip_prefix(name)?.strip_prefix('=')).map(str::to_owned)
        };
        if field("Sampled").as_deref() != Some("1") {
            return None;
        }
        Some(Trace { trace_id: field("Root")?, parent_id: field("Parent")?, daemon })
    }

    /// Sends one finished subsegment: `name`, from `start` to now (epoch seconds), with the
    /// members of `extra` (`namespace`, `aws`, `http`, `annotations`, `error`, `fault`).
    pub fn send(&self, name: &str, start: f64, extra: Value) {
        let mut document = json!({
            "name": name,
            "id": new_id(),
            "trace_id": self.trace_id,
            "parent_id": self.parent_id,
            "type": "subsegment",
            "start_time": start,
            "end_time": now(),
        });
        if let (Some(document), Value::Object(extra)) = (document.as_object_mut(), extra) {
            document.extend(extra);
        }
        let Some(socket) = socket() else { return };
        // Best effort, as every X-Ray SDK: a trace is never worth failing or slowing a request.
        let _ = socket.send_to(format!("{HEADER}{document}").as_bytes(), self.daemon);
    }
}

/// The daemon's UDP address from `AWS_XRAY_DAEMON_ADDRESS` (`host:port`, or `tcp:… udp:…`).
pub fn daemon_address(value: &str) -> Option<SocketAddr> {
    let udp = value.split_whitespace().find_map(|part| part.strip_prefix("udp:"));
    udp.unwrap_or(value.trim()).parse().ok()
}

/// Seconds since the epoch, as X-Ray documents count time.
pub fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

/// 64 random bits in hex: a (sub)segment's id.
fn new_id() -> String {
    format!("{:016x}", rand::thread_rng().next_u64())
}

fn socket() -> Option<&'static UdpSocket> {
    static SOCKET: OnceLock<Option<UdpSocket>> = OnceLock::new();
    SOCKET
        .get_or_init(|| {
            let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
            socket.set_nonblocking(true).ok()?;
            Some(socket)
        })
        .as_ref()
}

tokio::task_local! {
    static CURRENT: Option<Arc<Trace>>;
}

/// Runs `work` with `trace` as the invocation's trace (what [`SdkCalls`] attaches to).
pub async fn within<F: std::future::Future>(trace: Option<Arc<Trace>>, work: F) -> F::Output {
    CURRENT.scope(trace, work).await
}

fn current() -> Option<Arc<Trace>> {
    CURRENT.try_with(Clone::clone).ok().flatten()
}

/// When an SDK call of a traced invocation started, and under which trace.
#[derive(Debug, Clone)]
struct Started {
    trace: Arc<Trace>,
    at: f64,
}

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

/// An SDK interceptor that reports each call of a traced invocation (all its attempts) as one
/// `aws` subsegment: service, operation, request id, HTTP status.
#[derive(Debug, Clone, Default)]
pub struct SdkCalls;

impl Intercept for SdkCalls {
    fn name(&self) -> &'static str {
        "XRaySdkCalls"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(trace) = current() {
            cfg.interceptor_state().store_put(Started { trace, at: now() });
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(started) = cfg.load::<Started>() else { return Ok(()) };
        let (service, operation) =
            cfg.load::<Metadata>().map_or(("AWS", "Unknown"), |metadata| (metadata.service(), metadata.name()));
        let response = context.response();
        let status = response.map(|response| response.status().as_u16());
        let request_id = response.and_then(|response| {
            let headers = response.headers();
            headers.get("x-amzn-requestid").or_else(|| headers.get("x-amz-request-id")).map(str::to_owned)
        });
        let mut extra = json!({
            "namespace": "aws",
            "aws": {"operation": operation, "request_id": request_id},
            "error": status.is_some_and(|status| (400..500).contains(&status)),
            "fault": status.is_none_or(|status| status >= 500),
        });
        if let Some(status) = status {
            extra["http"] = json!({"response": {"status": status}});
        }
        started.trace.send(service, started.at, extra);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_sampled_header_with_a_daemon_is_traced() {
        let daemon = daemon_address("169.254.79.129:2000");
        assert_eq!(daemon, Some("169.254.79.129:2000".parse().unwrap()));
        assert_eq!(daemon_address("tcp:127.0.0.1:2000 udp:127.0.0.2:2001"), Some("127.0.0.2:2001".parse().unwrap()));
        let sampled = "Root=1-6750e7fd-3b1c2d4e5f60718293a4b5c6;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a:0";
        let trace = Trace::of(Some(sampled), daemon).unwrap();
        assert_eq!(
            (trace.trace_id.as_str(), trace.parent_id.as_str()),
            ("1-6750e7fd-3b1c2d4e5f60718293a4b5c6", "53995c3f42cd8ad8")
        );
        assert_eq!(Trace::of(Some(&sampled.replace("Sampled=1", "Sampled=0")), daemon), None);
        assert_eq!(Trace::of(Some(sampled), None), None);
        assert_eq!(Trace::of(None, daemon), None);
        assert_eq!(Trace::of(Some("Root=1-6750e7fd-3b1c2d4e5f60718293a4b5c6;Sampled=1"), daemon), None);
    }

    #[test]
    fn a_subsegment_is_one_datagram_the_daemon_reads() {
        let daemon = UdpSocket::bind("127.0.0.1:0").unwrap();
        daemon.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        let trace = Trace {
            trace_id: "1-6750e7fd-3b1c2d4e5f60718293a4b5c6".into(),
            parent_id: "53995c3f42cd8ad8".into(),
            daemon: daemon.local_addr().unwrap(),
        };
        let start = now();
        trace.send("handler", start, json!({"annotations": {"route": "/x"}}));
        let mut buffer = [0u8; 65_536];
        let read = daemon.recv(&mut buffer).unwrap();
        let text = std::str::from_utf8(&buffer[..read]).unwrap();
        let (header, body) = text.split_once('\n').unwrap();
        assert_eq!(serde_json::from_str::<Value>(header).unwrap(), json!({"format": "json", "version": 1}));
        let document: Value = serde_json::from_str(body).unwrap();
        assert_eq!(document["type"], "subsegment");
        assert_eq!(
            (document["trace_id"].as_str(), document["parent_id"].as_str()),
            (Some("1-6750e7fd-3b1c2d4e5f60718293a4b5c6"), Some("53995c3f42cd8ad8"))
        );
        assert_eq!(document["id"].as_str().map(str::len), Some(16));
        assert!(document["end_time"].as_f64().unwrap() >= start);
        assert_eq!(document["annotations"]["route"], "/x");
    }

    /// A sampled request through the driver: a subsegment per DynamoDB call and one for the
    /// handler, all under the function's segment; an unsampled one sends nothing.
    #[tokio::test]
    async fn a_sampled_request_reports_its_handler_and_each_dynamodb_call() {
        use crate::core::model::Role;
        use crate::routes::{self, handle};
        use crate::testing::{self, Event, Format};

        let daemon = UdpSocket::bind("127.0.0.1:0").unwrap();
        daemon.set_read_timeout(Some(std::time::Duration::from_millis(500))).unwrap();
        let shared = testing::app().await;
        let config = crate::config::Config { xray_daemon: Some(daemon.local_addr().unwrap()), ..shared.config.clone() };
        let app = crate::App::from_config(config).await.unwrap();
        let (_, token) = testing::agent(app, Role::Integrator).await;
        let header = "Root=1-6750e7fd-3b1c2d4e5f60718293a4b5c6;Parent=53995c3f42cd8ad8;Sampled=1";
        let receive = |daemon: &UdpSocket| {
            let mut documents = Vec::new();
            let mut buffer = [0u8; 65_536];
            while let Ok(read) = daemon.recv(&mut buffer) {
                let text = std::str::from_utf8(&buffer[..read]).unwrap();
                documents.push(serde_json::from_str::<Value>(text.split_once('\n').unwrap().1).unwrap());
            }
            documents
        };
        for (trace, expected) in [(header.replace("Sampled=1", "Sampled=0"), 0), (header.to_owned(), 3)] {
            let event = Event::new(Format::HttpApiV2, routes::GET_THREAD, &["987654321"]).bearer(&token).traced(&trace);
            let (status, _, _) =
                testing::call(app, routes::GET_THREAD, handle::<routes::get_thread::GetThread>, event).await;
            assert_eq!(status, 404);
            let documents = receive(&daemon);
            // The agent and session (BatchGetItem), the thread (GetItem), the handler.
            assert_eq!(documents.len(), expected, "{documents:?}");
            if expected == 0 {
                continue;
            }
            for document in &documents {
                assert_eq!(document["trace_id"], "1-6750e7fd-3b1c2d4e5f60718293a4b5c6");
                assert_eq!(document["parent_id"], "53995c3f42cd8ad8");
            }
            let mut calls: Vec<(&str, &str)> = documents
                .iter()
                .filter(|document| document["namespace"] == "aws")
                .map(|document| (document["name"].as_str().unwrap(), document["aws"]["operation"].as_str().unwrap()))
                .collect();
            // Authentication and the route's read run together: either may finish first.
            calls.sort_unstable();
            assert_eq!(calls, [("DynamoDB", "BatchGetItem"), ("DynamoDB", "GetItem")]);
            let handler = documents.iter().find(|document| document["name"] == "handler").expect("the handler's");
            assert_eq!(handler["annotations"]["route"], "/api/v1/threads/{threadId}");
            assert_eq!(
                (handler["annotations"]["status"].as_u64(), handler["error"].as_bool()),
                (Some(404), Some(true))
            );
        }
    }
}
