//! Counts the HTTP requests the DynamoDB client sends (retries included) and the round trips
//! they took, so each request's log line can say what it cost. A Lambda container serves one
//! request at a time, so the difference between two readings is that request's cost.
//!
//! A round trip is a period in which at least one call is in flight, so calls made together
//! count once, plus one for each retry the SDK sends after a failed attempt. A call is in
//! flight from the moment the store makes it (`send()` is first polled: calls joined together
//! start in the same poll, before any of them is transmitted) until it returns, or until it is
//! abandoned: a call dropped mid-flight (the request's deadline passed, a `try_join!` failed)
//! ends with its operation's state, so it can never hold the count open for later requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
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

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(CallInFlight::start(&self.0));
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.requests.fetch_add(1, Ordering::Relaxed);
        if cfg.load::<Transmitted>().is_some() {
            // A retry, sent after the call's previous attempt failed: one more round trip.
            self.0.round_trips.fetch_add(1, Ordering::Relaxed);
        } else {
            cfg.interceptor_state().store_put(Transmitted);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Dropping the call's guard ends it; a call dropped before this hook ends with its
        // config bag, which drops the guard too.
        cfg.interceptor_state().unset::<CallInFlight>();
        Ok(())
    }
}

/// A call in flight, kept in its operation's config bag: made, it counts a round trip when no
/// other call was in flight; dropped (when the call returns or is abandoned), it ends.
#[derive(Debug)]
struct CallInFlight(Arc<Counts>);

impl CallInFlight {
    fn start(counts: &Arc<Counts>) -> CallInFlight {
        if counts.in_flight.fetch_add(1, Ordering::AcqRel) == 0 {
            counts.round_trips.fetch_add(1, Ordering::Relaxed);
        }
        CallInFlight(counts.clone())
    }
}

impl Drop for CallInFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl aws_smithy_types::config_bag::Storable for CallInFlight {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// Marks a call whose first attempt was transmitted, in its config bag.
#[derive(Debug, Clone, Copy)]
struct Transmitted;

impl aws_smithy_types::config_bag::Storable for Transmitted {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_dynamodb::types::AttributeValue;
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

    use super::*;

    /// A client counted by `counter`, of a "database" that accepts connections and never answers.
    async fn stalled(counter: &RequestCounter) -> aws_sdk_dynamodb::Client {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let http =
            aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(format!("http://{address}"))
            .http_client(http)
            .interceptor(counter.clone())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// Whether `call` was still waiting after 300 ms (and so dropped in flight).
    async fn abandoned<F: std::future::Future>(call: F) -> bool {
        tokio::time::timeout(Duration::from_millis(300), call).await.is_err()
    }

    #[tokio::test]
    async fn a_call_abandoned_in_flight_ends_its_round_trip() {
        let counter = RequestCounter::default();
        let client = stalled(&counter).await;
        let get = || client.get_item().table_name("t").key("pk", AttributeValue::S("x".into())).send();
        // Two calls made together, both dropped unanswered: one round trip of two requests.
        assert!(abandoned(async { tokio::join!(get(), get()) }).await);
        assert_eq!((counter.round_trips(), counter.total()), (1, 2));
        // They hold nothing open: the next call is a round trip of its own.
        assert!(abandoned(async { get().await.ok() }).await);
        assert_eq!((counter.round_trips(), counter.total()), (2, 3));
    }
}
