//! Counts the HTTP requests the DynamoDB client sends (retries included) and the round trips
//! they took, so each request's log line can say what it cost. A round trip is a period in which
//! at least one request is in flight: requests sent together count once. A Lambda container
//! serves one request at a time, so the difference between two readings is that request's cost.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::config::interceptors::{BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;

#[derive(Debug, Default)]
struct Counts {
    requests: AtomicU64,
    in_flight: AtomicU64,
    round_trips: AtomicU64,
}

#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<Counts>);

impl RequestCounter {
    pub fn total(&self) -> u64 {
        self.0.requests.load(Ordering::Relaxed)
    }

    pub fn round_trips(&self) -> u64 {
        self.0.round_trips.load(Ordering::Relaxed)
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.requests.fetch_add(1, Ordering::Relaxed);
        if self.0.in_flight.fetch_add(1, Ordering::AcqRel) == 0 {
            self.0.round_trips.fetch_add(1, Ordering::Relaxed);
        }
        cfg.interceptor_state().store_put(InFlight);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Only attempts that were transmitted were counted in flight.
        if cfg.load::<InFlight>().is_some() {
            cfg.interceptor_state().unset::<InFlight>();
            self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
        Ok(())
    }
}

/// Marks an attempt as transmitted (and so in flight) in its config bag.
#[derive(Debug, Clone, Copy)]
struct InFlight;

impl aws_smithy_types::config_bag::Storable for InFlight {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}
