//! Each request's time budget: what is left of the Lambda invocation's deadline, minus a margin
//! for answering. Every DynamoDB call of the request fits in it (`crate::http` stops the
//! request at the deadline; the store stops retrying a write before it), so a stalled or
//! throttling database gets our JSON 503 before the platform's own timeout error.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Time kept back from the invocation's deadline to render and return the answer.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(700);
/// The budget when the invocation carries no deadline (tests, the operator's command): the
/// template's 10 s function timeout less the margin.
pub const DEFAULT_BUDGET: Duration = Duration::from_millis(9_300);

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
            Duration::from_millis(ms).saturating_sub(now).saturating_sub(ANSWER_MARGIN)
        })
        .unwrap_or(DEFAULT_BUDGET);
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
    }
}
