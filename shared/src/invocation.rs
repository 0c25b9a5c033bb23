//! What every invocation shares, whatever its event (an HTTP request, a DynamoDB stream batch, a
//! WebSocket frame): the deadline it must be answered by, the scope that lets the store see that
//! deadline, and one JSON log line with what it cost in DynamoDB. `http::respond`,
//! [`crate::stream`] and [`crate::websocket`] each open one [`Invocation`] per event.

use std::future::Future;
use std::time::Instant;

use crate::App;

/// What a function hands its handlers besides the event: the [`App`], or `()` for a function
/// that needs no store (not-found, which then builds no DynamoDB client at all).
pub trait Resources: Copy + Send + Sync + 'static {
    /// The store's figures so far, for the log line.
    fn usage(self) -> Usage;
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
        let started = Instant::now();
        let deadline = crate::budget::from_invocation(deadline_epoch_ms);
        Invocation { resources, started, deadline, before: resources.usage() }
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Runs `work` with the invocation's deadline in scope (the store stops retrying a write
    /// before it); `None` when the deadline passed first, and whatever was still waiting is
    /// dropped.
    pub async fn within<F: Future>(&self, work: F) -> Option<F::Output> {
        tokio::time::timeout_at(self.deadline.into(), crate::budget::within(self.deadline, work)).await.ok()
    }

    /// Writes the invocation's one log line and returns its DynamoDB figures.
    pub fn finish(self, outcome: Outcome<'_>) -> Usage {
        let usage = self.resources.usage().since(self.before);
        tracing::info!(
            kind = outcome.kind,
            route = outcome.route,
            method = outcome.method,
            status = outcome.status,
            records = outcome.records,
            failed = outcome.failed,
            latency_ms = self.started.elapsed().as_micros() as f64 / 1000.0,
            dynamodb_requests = usage.requests,
            dynamodb_round_trips = usage.round_trips,
            dynamodb_read_units = usage.read_units,
            dynamodb_write_units = usage.write_units,
            budget_ms = self.deadline.saturating_duration_since(self.started).as_millis() as u64,
            request_id = %outcome.request_id,
            "{}",
            outcome.kind
        );
        usage
    }
}
