//! What every invocation shares, whatever its event (an HTTP request, a DynamoDB stream batch, a
//! WebSocket frame): the deadline it must be answered by, the scope that lets the store see that
//! deadline, and one JSON log line with what it cost in DynamoDB. `http::respond`,
//! [`crate::stream`] and [`crate::websocket`] each open one [`Invocation`] per event.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use crate::App;
use crate::xray::Trace;

/// What a function hands its handlers besides the event: the [`App`], or `()` for a function
/// that needs no store (not-found, which then builds no DynamoDB client at all).
pub trait Resources: Copy + Send + Sync + 'static {
    /// The store's figures so far, for the log line.
    fn usage(self) -> Usage;
    /// Where X-Ray subsegments go ([`crate::xray`]); none without a daemon.
    fn xray_daemon(self) -> Option<std::net::SocketAddr> {
        None
    }
}

/// DynamoDB figures of a container so far; their difference over an invocation goes in its log
/// line.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Usage {
    pub requests: u64,
    pub round_trips: u64,
    pub read_units: f64,
    pub write_units: f64,
}

impl Usage {
    fn since(self, before: Usage) -> Usage {
        Usage {
            requests: self.requests - before.requests,
            round_trips: self.round_trips - before.round_trips,
            read_units: self.read_units - before.read_units,
            write_units: self.write_units - before.write_units,
        }
    }
}

impl Resources for &'static App {
    fn usage(self) -> Usage {
        let (read_units, write_units) = self.store.capacity_units();
        Usage { requests: self.store.requests_sent(), round_trips: self.store.round_trips(), read_units, write_units }
    }

    fn xray_daemon(self) -> Option<std::net::SocketAddr> {
        self.config.xray_daemon
    }
}

impl Resources for () {
    fn usage(self) -> Usage {
        Usage::default()
    }
}

/// One invocation: when it started, the instant it must be answered by, and the store's figures
/// at its start.
pub struct Invocation<R: Resources> {
    resources: R,
    started: Instant,
    deadline: Instant,
    before: Usage,
    /// Its X-Ray trace, when it is sampled, and when it started in the trace's clock.
    trace: Option<Arc<Trace>>,
    started_at: f64,
}

/// What an invocation did, for its log line: what kind of event, which route or consumer, and
/// how it ended. `records` and `failed` are a batch's (absent for a single request).
pub struct Outcome<'a> {
    pub kind: &'static str,
    pub route: &'a str,
    pub method: &'a str,
    pub status: u16,
    pub request_id: &'a str,
    pub records: Option<u64>,
    pub failed: Option<u64>,
}

impl<R: Resources> Invocation<R> {
    /// Starts an invocation whose Lambda deadline is `deadline_epoch_ms` (the runtime's
    /// `Context::deadline`; `None` outside Lambda).
    pub fn start(resources: R, deadline_epoch_ms: Option<u64>) -> Self {
        Self::traced(resources, deadline_epoch_ms, None)
    }

    /// As [`Invocation::start`], for an invocation with this X-Ray trace header (the runtime's
    /// `Context::xray_trace_id`).
    pub fn traced(resources: R, deadline_epoch_ms: Option<u64>, trace_header: Option<&str>) -> Self {
        let started = Instant::now();
        let deadline = crate::budget::from_invocation(deadline_epoch_ms);
        let trace = Trace::of(trace_header, resources.xray_daemon()).map(Arc::new);
        Invocation { resources, started, deadline, before: resources.usage(), trace, started_at: crate::xray::now() }
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Runs `work` with the invocation's deadline in scope (the store stops retrying a write
    /// before it); `None` when the deadline passed first, and whatever was still waiting is
    /// dropped.
    pub async fn within<F: Future>(&self, work: F) -> Option<F::Output> {
        let work = crate::xray::within(self.trace.clone(), crate::budget::within(self.deadline, work));
        tokio::time::timeout_at(self.deadline.into(), work).await.ok()
    }

    /// Writes the invocation's one log line and returns its DynamoDB figures. The line is in
    /// CloudWatch embedded metric format ([`REQUEST_METRICS`]): its figures are metrics too.
    pub fn finish(self, outcome: Outcome<'_>) -> Usage {
        let usage = self.resources.usage().since(self.before);
        if let Some(trace) = &self.trace {
            let annotations = json!({"kind": outcome.kind, "route": outcome.route, "status": outcome.status});
            let (error, fault) = (matches!(outcome.status, 400..=499), outcome.status >= 500);
            trace.send("handler", self.started_at, json!({"annotations": annotations, "error": error, "fault": fault}));
        }
        tracing::info!(
            kind = outcome.kind,
            route = outcome.route,
            method = outcome.method,
            status = outcome.status,
            status_class = status_class(outcome.status),
            records = outcome.records,
            failed = outcome.failed,
            latency_ms = self.started.elapsed().as_micros() as f64 / 1000.0,
            dynamodb_requests = usage.requests,
            dynamodb_round_trips = usage.round_trips,
            dynamodb_read_units = usage.read_units,
            dynamodb_write_units = usage.write_units,
            budget_ms = self.deadline.saturating_duration_since(self.started).as_millis() as u64,
            request_id = %outcome.request_id,
            _aws = %embedded_metrics(REQUEST_METRICS),
            "{}",
            outcome.kind
        );
        usage
    }
}

/// `2xx`, `4xx`, `5xx` (`1xx`, `3xx`): what a status says, as a metric dimension.
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The metrics of an invocation's log line, in CloudWatch embedded metric format: namespace
/// `ChatCenter`, by route, by route and status class, and by kind (every request together: what
/// the latency alarm of `template.yaml` watches).
pub const REQUEST_METRICS: &str = r#"{"Namespace":"ChatCenter","Dimensions":[["route"],["route","status_class"],["kind"]],"Metrics":[{"Name":"latency_ms","Unit":"Milliseconds"},{"Name":"dynamodb_round_trips","Unit":"Count"},{"Name":"dynamodb_requests","Unit":"Count"},{"Name":"dynamodb_read_units","Unit":"Count"},{"Name":"dynamodb_write_units","Unit":"Count"}]}"#;

/// A webhook delivery that ended `FAILED`: `webhook_deliveries_failed` by kind (`webhook`).
pub const WEBHOOK_FAILURE_METRICS: &str = r#"{"Namespace":"ChatCenter","Dimensions":[["kind"]],"Metrics":[{"Name":"webhook_deliveries_failed","Unit":"Count"}]}"#;

/// The `_aws` member of a log line in embedded metric format: now, and the one metric directive
/// given (JSON). `crate::logging` writes it as an object: tracing's fields are flat.
pub fn embedded_metrics(directive: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!(r#"{{"Timestamp":{},"CloudWatchMetrics":[{directive}]}}"#, now.as_millis())
}

/// Logs a webhook delivery that ended `FAILED` (its schedule spent, 410 Gone, or its
/// subscription gone) as one line that counts it in `webhook_deliveries_failed`: ids only.
pub fn webhook_delivery_failed(webhook_id: &str, event_id: &str, attempts: u32) {
    tracing::warn!(
        kind = "webhook",
        webhook_id,
        event_id,
        attempts,
        webhook_deliveries_failed = 1u64,
        _aws = %embedded_metrics(WEBHOOK_FAILURE_METRICS),
        "webhook delivery failed"
    );
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::testing::CapturedLog;

    /// The line as CloudWatch reads embedded metric format: `_aws` an object with a timestamp in
    /// ms and one directive, each dimension and metric it names a top-level member of the line
    /// (dimensions strings, metrics numbers); every field the line had is still there.
    fn assert_embedded_metric_format(line: &Value) {
        let metadata = &line["_aws"];
        let timestamp = metadata["Timestamp"].as_u64().expect("a Timestamp in ms");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        assert!(now - 60_000 < timestamp && timestamp <= now, "{timestamp}");
        let directives = metadata["CloudWatchMetrics"].as_array().expect("CloudWatchMetrics");
        assert_eq!(directives.len(), 1, "{line}");
        let directive = &directives[0];
        assert_eq!(directive["Namespace"], "ChatCenter");
        for set in directive["Dimensions"].as_array().unwrap() {
            for dimension in set.as_array().unwrap() {
                let name = dimension.as_str().unwrap();
                assert!(line[name].is_string(), "dimension {name} is no string member: {line}");
            }
        }
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(line[name].is_number(), "metric {name} is no number member: {line}");
            let unit = metric["Unit"].as_str().unwrap();
            assert!(["Milliseconds", "Count", "None"].contains(&unit), "{unit}");
        }
    }

    #[test]
    fn the_log_line_is_in_embedded_metric_format_and_keeps_its_fields() {
        let log = CapturedLog::start();
        let invocation = Invocation::start((), None);
        invocation.finish(Outcome {
            kind: "request",
            route: "/api/v1/threads/{threadId}",
            method: "GET",
            status: 404,
            request_id: "req-1",
            records: None,
            failed: None,
        });
        let line = log.last_request();
        assert_embedded_metric_format(&line);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Dimensions"], json!([["route"], ["route", "status_class"], ["kind"]]));
        let metrics: Vec<(&str, &str)> = directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|metric| (metric["Name"].as_str().unwrap(), metric["Unit"].as_str().unwrap()))
            .collect();
        assert_eq!(
            metrics,
            [
                ("latency_ms", "Milliseconds"),
                ("dynamodb_round_trips", "Count"),
                ("dynamodb_requests", "Count"),
                ("dynamodb_read_units", "Count"),
                ("dynamodb_write_units", "Count"),
            ]
        );
        for field in ["timestamp", "level", "message", "kind", "route", "method", "status", "budget_ms", "request_id"] {
            assert!(line.get(field).is_some(), "{field} is missing: {line}");
        }
        assert_eq!((line["status"].as_u64(), line["status_class"].as_str()), (Some(404), Some("4xx")));
        assert_eq!(line["route"], "/api/v1/threads/{threadId}");
        assert_eq!(line["dynamodb_requests"], 0);
    }

    #[test]
    fn a_failed_webhook_delivery_is_counted() {
        let log = CapturedLog::start();
        webhook_delivery_failed("wh_1", "evt_1", 10);
        let line = log.lines_with("message", "webhook delivery failed").pop().expect("the line");
        assert_embedded_metric_format(&line);
        assert_eq!(line["webhook_deliveries_failed"], 1);
        assert_eq!(
            (line["kind"].as_str(), line["webhook_id"].as_str(), line["attempts"].as_u64()),
            (Some("webhook"), Some("wh_1"), Some(10))
        );
    }

    #[test]
    fn statuses_fall_in_their_classes() {
        let classes: Vec<&str> = [101, 200, 201, 308, 400, 404, 499, 500, 503].into_iter().map(status_class).collect();
        assert_eq!(classes, ["1xx", "2xx", "2xx", "3xx", "4xx", "4xx", "4xx", "5xx", "5xx"]);
    }
}
