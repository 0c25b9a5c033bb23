//! Counts the HTTP requests the DynamoDB client sends (retries included) and the round trips
//! they took, so each request's log line can say what it cost. A round trip is a period in which
//! at least one request is in flight: requests sent together count once. A Lambda container
//! serves one request at a time, so the difference between two readings is that request's cost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};

#[derive(Debug, Default)]
struct Counts {
    requests: AtomicU64,
    in_flight: AtomicU64,
    round_trips: AtomicU64,
    /// Capacity units DynamoDB reported as consumed, in thousandths.
    read_milli_units: AtomicU64,
    write_milli_units: AtomicU64,
    /// Whether DynamoDB has answered at least once: the client then has a connection open.
    answered: AtomicBool,
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

    /// Whether an answer has come back, so the client's pool holds an open connection.
    pub fn answered(&self) -> bool {
        self.0.answered.load(Ordering::Relaxed)
    }

    /// Read and write capacity units consumed so far.
    pub fn capacity_units(&self) -> (f64, f64) {
        let units = |counter: &AtomicU64| counter.load(Ordering::Relaxed) as f64 / 1000.0;
        (units(&self.0.read_milli_units), units(&self.0.write_milli_units))
    }

    fn consumed<'a>(&self, write: bool, capacities: impl IntoIterator<Item = &'a ConsumedCapacity>) {
        let milli: u64 =
            capacities.into_iter().map(|c| (c.capacity_units.unwrap_or(0.0) * 1000.0).round() as u64).sum();
        let counter = if write { &self.0.write_milli_units } else { &self.0.read_milli_units };
        counter.fetch_add(milli, Ordering::Relaxed);
    }
}

/// Asks every operation for its consumed capacity (`ReturnConsumedCapacity::Total`).
macro_rules! ask_capacity {
    ($input:expr, $($operation:ident),+) => {
        $(if let Some(input) = $input.downcast_mut::<op::$operation>() {
            input.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
        })+
    };
}

mod op {
    pub use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemInput;
    pub use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
    pub use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
    pub use aws_sdk_dynamodb::operation::delete_item::DeleteItemOutput;
    pub use aws_sdk_dynamodb::operation::get_item::GetItemInput;
    pub use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
    pub use aws_sdk_dynamodb::operation::put_item::PutItemInput;
    pub use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
    pub use aws_sdk_dynamodb::operation::query::QueryInput;
    pub use aws_sdk_dynamodb::operation::query::QueryOutput;
    pub use aws_sdk_dynamodb::operation::scan::ScanInput;
    pub use aws_sdk_dynamodb::operation::scan::ScanOutput;
    pub use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
    pub use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
    pub use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
    pub use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input_mut();
        ask_capacity!(
            input,
            GetItemInput,
            PutItemInput,
            UpdateItemInput,
            DeleteItemInput,
            QueryInput,
            ScanInput,
            BatchGetItemInput,
            TransactWriteItemsInput
        );
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.answered.store(true, Ordering::Relaxed);
        let Ok(output) = context.output_or_error() else { return Ok(()) };
        if let Some(output) = output.downcast_ref::<op::GetItemOutput>() {
            self.consumed(false, output.consumed_capacity.as_ref());
        } else if let Some(output) = output.downcast_ref::<op::QueryOutput>() {
            self.consumed(false, output.consumed_capacity.as_ref());
        } else if let Some(output) = output.downcast_ref::<op::ScanOutput>() {
            self.consumed(false, output.consumed_capacity.as_ref());
        } else if let Some(output) = output.downcast_ref::<op::BatchGetItemOutput>() {
            self.consumed(false, output.consumed_capacity.iter().flatten());
        } else if let Some(output) = output.downcast_ref::<op::PutItemOutput>() {
            self.consumed(true, output.consumed_capacity.as_ref());
        } else if let Some(output) = output.downcast_ref::<op::UpdateItemOutput>() {
            self.consumed(true, output.consumed_capacity.as_ref());
        } else if let Some(output) = output.downcast_ref::<op::DeleteItemOutput>() {
            self.consumed(true, output.consumed_capacity.as_ref());
        } else if let Some(output) = output.downcast_ref::<op::TransactWriteItemsOutput>() {
            self.consumed(true, output.consumed_capacity.iter().flatten());
        }
        Ok(())
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
