//! Time and retries, in one place: each request's budget, the margins kept back from it, the
//! DynamoDB client's timeouts and retries, and the store's retries of a transaction with its
//! `ClientRequestToken`. From the outside in:
//!
//! 1. **The invocation.** Lambda stops the function [`FUNCTION_TIMEOUT`] after it starts
//!    (`template.yaml`'s `Timeout`, which a test below reads); the consumers of the table's
//!    stream and the retry schedule have longer ones ([`PUBLISH_EVENTS_TIMEOUT`],
//!    [`DELIVER_WEBHOOKS_TIMEOUT`], [`RETRY_WEBHOOKS_TIMEOUT`]), which they declare at start
//!    ([`set_function_timeout`]). A webhook attempt waits at most 15 s
//!    (`core::webhooks::ATTEMPT_TIMEOUT`), or what its invocation has left.
//! 2. **The request's deadline**: the invocation's deadline less [`REPLY_MARGIN`], the time to
//!    render and return the answer ([`from_invocation`]; [`DEFAULT_BUDGET`] when the invocation
//!    carries none). The edge (`crate::http`) runs the handler [`within`] it and drops whatever
//!    still runs at the deadline (a read still waiting, say), answering 503
//!    `STORAGE_UNAVAILABLE`.
//! 3. **A write's verdict.** The store stops trying a transaction [`VERDICT_MARGIN`] before the
//!    deadline ([`time_for_tries`]), so that its own answer (written, refused, 503
//!    `STORAGE_UNAVAILABLE` when nothing can have been stored, 503 `OUTCOME_UNKNOWN` when a try
//!    was sent and never answered) is what the caller gets, not the edge's.
//! 4. **A transaction's tries** ([`TRY_TIMEOUT`], [`MIN_TRY`], [`pause_after`]): the store sends
//!    a transaction again with the same token after a try without a verdict (a timeout, a lost
//!    connection, a 5xx, throttling) while time is left; DynamoDB applies a token's transaction
//!    once. Each try is one SDK call of one attempt ([`transaction_try`]: no SDK retry, the
//!    SDK's own timeout ends it), so the store's loop is the only retry of a write and sees
//!    every attempt's outcome.
//! 5. **Every other call** (reads, the id counter's `ADD`, the idempotency claim): the SDK's
//!    standard retries ([`sdk_retries`]: 3 attempts, jittered backoff) within its timeouts
//!    ([`sdk_timeouts`]: connect 1 s, attempt 3 s, call 6 s), and the request's deadline ends
//!    them sooner when less is left.
//!
//! Not a matter of time: the domain's loops (`core::sending`, `core::devices`, up to 12 tries)
//! run a send again when the database *refused* it because a concurrent writer won a race (a
//! condition failed: the thread was closed, a device was bound meanwhile). Each of their tries
//! is a fresh transaction with its own token; a failure of time (any error) ends them at once.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;

/// Lambda's timeout of every function: `Timeout` in `template.yaml`'s `Globals.Function`.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);
/// `publish-events`: a batch of up to 100 stream records, a few reads and writes each.
pub const PUBLISH_EVENTS_TIMEOUT: Duration = Duration::from_secs(30);
/// `deliver-webhooks`: a batch's first attempts, side by side, 15 s each at most, and the writes
/// around them.
pub const DELIVER_WEBHOOKS_TIMEOUT: Duration = Duration::from_secs(30);
/// `retry-webhooks`: it starts attempts for 50 s (`WEBHOOK_SWEEP_SECONDS` in the template), and
/// the last one started gets its 15 s.
pub const RETRY_WEBHOOKS_TIMEOUT: Duration = Duration::from_secs(70);

/// This process's function timeout, when it is not [`FUNCTION_TIMEOUT`] (a consumer's).
static PROCESS_TIMEOUT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// Declares this function's timeout (a consumer's `serve` does, first thing): the budget of an
/// invocation that carries no real deadline is then this one's, not an HTTP request's.
pub fn set_function_timeout(timeout: Duration) {
    let _ = PROCESS_TIMEOUT.set(timeout);
}

/// The budget when the invocation carries no deadline: this function's timeout less the margin.
fn fallback_budget() -> Duration {
    PROCESS_TIMEOUT.get().copied().unwrap_or(FUNCTION_TIMEOUT).saturating_sub(REPLY_MARGIN)
}

/// Kept back from the invocation's deadline to render and return the answer: the request's
/// deadline is this much earlier than Lambda's.
pub const REPLY_MARGIN: Duration = Duration::from_millis(700);
/// The budget when the invocation carries no deadline (tests, the operator's command): the
/// function timeout less the reply margin, 9.3 s.
pub const DEFAULT_BUDGET: Duration = FUNCTION_TIMEOUT.saturating_sub(REPLY_MARGIN);
/// Kept back from the request's deadline by the store's tries of a transaction, so that the
/// store's verdict on the write (not the edge's deadline error) is the answer.
pub const VERDICT_MARGIN: Duration = Duration::from_millis(100);

/// Longest one try of a transaction may take before it is sent again with its token.
pub const TRY_TIMEOUT: Duration = Duration::from_millis(2_000);
/// With less time than this left, a try is not worth sending.
pub const MIN_TRY: Duration = Duration::from_millis(150);

/// Longest the SDK waits for a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest one attempt of a call (other than a transaction's try) may take before the SDK
/// tries again.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest a call (other than a transaction's try), its retries included, may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(6);
/// Attempts the SDK makes of a call other than a transaction's try (its standard mode).
pub const SDK_ATTEMPTS: u32 = 3;

/// Any real deadline is later than this (2001-09-09, in ms since the epoch).
const EPOCH_MS_2001: u64 = 1_000_000_000_000;

tokio::task_local! {
    static DEADLINE: Instant;
}

/// The instant by which the request must be answered, from the invocation's deadline (epoch ms).
pub fn from_invocation(deadline_epoch_ms: Option<u64>) -> Instant {
    let now = Instant::now();
    let budget = deadline_epoch_ms
        // cargo-lambda's emulator sends its timeout (600000) where Lambda sends an epoch time.
        .filter(|ms| *ms >= EPOCH_MS_2001)
        .map(|ms| {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
            Duration::from_millis(ms).saturating_sub(now).saturating_sub(REPLY_MARGIN)
        })
        .unwrap_or_else(fallback_budget);
    now + budget
}

/// Runs `work` with `deadline` as the request's deadline.
pub async fn within<F: Future>(deadline: Instant, work: F) -> F::Output {
    DEADLINE.scope(deadline, work).await
}

/// Time left before the request's deadline (the default budget outside a request).
pub fn remaining() -> Duration {
    DEADLINE.try_with(|deadline| deadline.saturating_duration_since(Instant::now())).unwrap_or(DEFAULT_BUDGET)
}

/// What is left of the request's budget for a transaction's tries: the deadline, less the
/// verdict margin.
pub fn time_for_tries() -> Duration {
    remaining().saturating_sub(VERDICT_MARGIN)
}

/// The pause before the next try of a transaction after `tries` without a verdict: 50 ms a try
/// so far, at most 500 ms.
pub fn pause_after(tries: u32) -> Duration {
    Duration::from_millis(50 * u64::from(tries.min(10)))
}

/// The DynamoDB client's timeouts, for every call but a transaction's try.
pub fn sdk_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(CALL_TIMEOUT)
        .build()
}

/// The DynamoDB client's retries, for every call but a transaction's try.
pub fn sdk_retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(SDK_ATTEMPTS)
}

/// What one try of a transaction overrides in the client's configuration: one attempt, no SDK
/// retry (the store tries again, with the token), ended by the SDK after `limit`.
pub fn transaction_try(limit: Duration) -> aws_sdk_dynamodb::config::Builder {
    let timeouts = TimeoutConfig::builder().operation_attempt_timeout(limit).operation_timeout(limit).build();
    aws_sdk_dynamodb::config::Builder::default().retry_config(RetryConfig::disabled()).timeout_config(timeouts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_the_invocations_time_left_minus_the_margin() {
        let in_three_seconds = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64 + 3_000;
        let budget = from_invocation(Some(in_three_seconds)).saturating_duration_since(Instant::now());
        assert!(budget <= Duration::from_millis(2_300) && budget > Duration::from_millis(2_000), "{budget:?}");
        let none = from_invocation(None).saturating_duration_since(Instant::now());
        assert!(none <= DEFAULT_BUDGET && none > DEFAULT_BUDGET - Duration::from_millis(100));
        let past = from_invocation(Some(EPOCH_MS_2001)).saturating_duration_since(Instant::now());
        assert_eq!(past, Duration::ZERO);
        let emulator = from_invocation(Some(600_000)).saturating_duration_since(Instant::now());
        assert!(emulator > DEFAULT_BUDGET - Duration::from_millis(100), "not a deadline: {emulator:?}");
    }

    #[tokio::test]
    async fn remaining_time_is_the_scoped_deadlines() {
        let deadline = Instant::now() + Duration::from_millis(500);
        let left = within(deadline, async { remaining() }).await;
        assert!(left <= Duration::from_millis(500) && left > Duration::from_millis(400), "{left:?}");
        assert_eq!(remaining(), DEFAULT_BUDGET);
        let for_tries = within(deadline, async { time_for_tries() }).await;
        assert!(for_tries <= Duration::from_millis(400) && for_tries > Duration::from_millis(300), "{for_tries:?}");
    }

    /// Every function's `Timeout` in the template is the one the budget is made from.
    #[test]
    fn the_templates_function_timeout_is_the_budgets() {
        let template = include_str!("../../template.yaml");
        let timeouts: Vec<&str> =
            template.lines().filter_map(|line| line.trim().strip_prefix("Timeout:")).map(str::trim).collect();
        // Globals first, then the consumers in the template's order.
        let expected = [FUNCTION_TIMEOUT, PUBLISH_EVENTS_TIMEOUT, DELIVER_WEBHOOKS_TIMEOUT, RETRY_WEBHOOKS_TIMEOUT]
            .map(|timeout| timeout.as_secs().to_string());
        assert_eq!(timeouts, expected, "Timeout lines of template.yaml");
        assert_eq!(DEFAULT_BUDGET, Duration::from_millis(9_300));
    }

    /// The layers fit inside each other: a transaction's try, and a call with its retries, end
    /// before the default budget; the margins leave room for a try.
    #[test]
    fn the_timeouts_nest() {
        assert!(TRY_TIMEOUT < ATTEMPT_TIMEOUT && ATTEMPT_TIMEOUT < CALL_TIMEOUT && CALL_TIMEOUT < DEFAULT_BUDGET);
        assert!(CONNECT_TIMEOUT < TRY_TIMEOUT && MIN_TRY < TRY_TIMEOUT);
        assert!(VERDICT_MARGIN < REPLY_MARGIN && REPLY_MARGIN < FUNCTION_TIMEOUT);
        assert_eq!(
            (pause_after(1), pause_after(10), pause_after(20)),
            (Duration::from_millis(50), Duration::from_millis(500), Duration::from_millis(500))
        );
    }
}
