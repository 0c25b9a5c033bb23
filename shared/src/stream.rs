//! DynamoDB stream batches, as Lambda's event source mapping delivers them, under the same
//! discipline as an HTTP request ([`crate::invocation`]): one deadline for the batch, one log
//! line with its DynamoDB cost, and errors that never crash the container.
//!
//! Records are handled one at a time, in the shard's order. The answer is a partial batch
//! response (`FunctionResponseTypes: [ReportBatchItemFailures]`): the first record that fails,
//! or that the deadline leaves unhandled, is reported by its sequence number, and Lambda sends
//! the batch again from there; the records before it are done and are not sent again. A record
//! the consumer refuses as malformed (a 4xx error: retrying cannot help) is logged and passed
//! over, so that it cannot block the shard.

use std::future::Future;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

use crate::http::status_of;
use crate::invocation::{Invocation, Outcome, Resources};
use crate::{Error, Result};

/// One record of a batch, as consumers get it.
pub use aws_lambda_events::event::dynamodb::EventRecord as Record;

/// The log line's `kind` for a batch.
pub const KIND: &str = "stream-batch";

/// Runs the Lambda loop of a stream consumer named `name` (the log line's `route`): `handler`
/// gets each record of each batch.
pub async fn serve<R, H, Fut>(resources: R, name: &'static str, handler: H) -> Result<(), lambda_http::Error>
where
    R: Resources,
    H: Fn(R, EventRecord) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send,
{
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, std::convert::Infallible>(answer(resources, name, handler, event).await)
    }))
    .await
}

/// Handles one batch and says which record Lambda must start again from, if any. Public so that
/// tests (and the local stack's stream poller) can feed it recorded batches.
pub async fn answer<R, H, Fut>(resources: R, name: &str, handler: H, event: LambdaEvent<Event>) -> DynamoDbEventResponse
where
    R: Resources,
    H: Fn(R, EventRecord) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let LambdaEvent { payload, context } = event;
    let invocation = Invocation::traced(resources, Some(context.deadline), context.xray_trace_id.as_deref());
    let records = payload.records.len() as u64;
    let mut failure = None;
    for record in payload.records {
        let sequence_number = record.change.sequence_number.clone();
        let outcome = invocation.within(handler(resources, record)).await;
        if let Some(err) = judge(outcome, &sequence_number, &context.request_id) {
            failure = Some((sequence_number, err));
            break;
        }
    }
    conclude(invocation, name, &context.request_id, records, failure)
}

/// What handling a record came to: nothing to retry (done, or refused as malformed: a 4xx, which
/// retrying cannot help, so it is logged and passed over), or the error the batch is retried
/// from; `None` for the outcome means the deadline came first.
fn judge(outcome: Option<Result<()>>, sequence_number: &Option<String>, request_id: &str) -> Option<Error> {
    match outcome {
        Some(Ok(())) => None,
        Some(Err(err)) if is_the_records_fault(&err) => {
            tracing::warn!(
                request_id,
                sequence_number = sequence_number.as_deref().unwrap_or_default(),
                status = status_of(&err),
                error = %err,
                "stream record refused; passed over"
            );
            None
        }
        Some(Err(err)) => Some(err),
        None => Some(Error::StorageUnavailable("the batch's deadline passed".into())),
    }
}

/// The partial batch response for the record the batch must start again from, if any, and the
/// invocation's one log line.
fn conclude<R: Resources>(
    invocation: Invocation<R>,
    name: &str,
    request_id: &str,
    records: u64,
    failure: Option<(Option<String>, Error)>,
) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    let mut status = 200;
    if let Some((sequence_number, failure)) = failure {
        status = status_of(&failure);
        tracing::error!(
            request_id,
            sequence_number = sequence_number.as_deref().unwrap_or_default(),
            status,
            detail = failure.server_detail().unwrap_or_default(),
            "stream record failed; the batch is retried from it"
        );
        let mut item = DynamoDbBatchItemFailure::default();
        // Without a sequence number Lambda takes the whole batch as failed, which is still safe.
        item.item_identifier = sequence_number;
        response.batch_item_failures.push(item);
    }
    invocation.finish(Outcome {
        kind: KIND,
        route: name,
        method: "",
        status,
        request_id,
        records: Some(records),
        failed: Some(response.batch_item_failures.len() as u64),
    });
    response
}

/// As [`serve`], for a consumer whose records of different items may be handled side by side
/// (`deliver-webhooks`: a slow receiver must not hold up another subscription's deliveries).
/// Records with the same partition key keep their order; the partial batch response names the
/// first record, in the batch's order, that failed or was left undone (records after it that
/// were done are sent again, which such a consumer must take calmly).
pub async fn serve_side_by_side<R, H, Fut>(
    resources: R,
    name: &'static str,
    handler: H,
) -> Result<(), lambda_http::Error>
where
    R: Resources,
    H: Fn(R, EventRecord) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send,
{
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, std::convert::Infallible>(answer_side_by_side(resources, name, handler, event).await)
    }))
    .await
}

/// One batch of [`serve_side_by_side`].
pub async fn answer_side_by_side<R, H, Fut>(
    resources: R,
    name: &str,
    handler: H,
    event: LambdaEvent<Event>,
) -> DynamoDbEventResponse
where
    R: Resources,
    H: Fn(R, EventRecord) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let LambdaEvent { payload, context } = event;
    let invocation = Invocation::traced(resources, Some(context.deadline), context.xray_trace_id.as_deref());
    let records = payload.records.len() as u64;
    let first_sequence = payload.records.first().and_then(|record| record.change.sequence_number.clone());
    // Each partition key's records, in the batch's order, with their place in the batch.
    let mut lanes: Vec<(String, Vec<(usize, EventRecord)>)> = Vec::new();
    for (index, record) in payload.records.into_iter().enumerate() {
        let key = format!("{:?}", record.change.keys.get("pk"));
        match lanes.iter_mut().find(|(lane, _)| *lane == key) {
            Some((_, lane)) => lane.push((index, record)),
            None => lanes.push((key, vec![(index, record)])),
        }
    }
    let (handler, request_id) = (&handler, context.request_id.as_str());
    let lane_results = invocation
        .within(futures::future::join_all(lanes.into_iter().map(|(_, lane)| async move {
            // The first record of the lane that failed: the rest of the lane waits for the retry.
            for (index, record) in lane {
                let sequence_number = record.change.sequence_number.clone();
                let outcome = handler(resources, record).await;
                if let Some(err) = judge(Some(outcome), &sequence_number, request_id) {
                    return Some((index, sequence_number, err));
                }
            }
            None
        })))
        .await;
    let failure = match lane_results {
        Some(results) => results
            .into_iter()
            .flatten()
            .min_by_key(|(index, _, _)| *index)
            .map(|(_, sequence_number, err)| (sequence_number, err)),
        // The deadline came first: the batch is sent again from its first record.
        None => judge(None, &first_sequence, request_id).map(|err| (first_sequence, err)),
    };
    conclude(invocation, name, request_id, records, failure)
}

/// A 4xx error says the record itself is wrong; sending it again gives the same answer.
fn is_the_records_fault(err: &Error) -> bool {
    (400..500).contains(&status_of(err))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use lambda_http::lambda_runtime::Context;

    use super::*;
    use crate::testing::CapturedLog;

    /// A batch Lambda delivered for the table's stream: a new thread, its first message, then a
    /// second message (recorded shape, `events/dynamodb-stream-batch.json`).
    const BATCH: &str = include_str!("../../events/dynamodb-stream-batch.json");

    fn batch(deadline_in: Duration) -> LambdaEvent<Event> {
        let payload: Event = serde_json::from_str(BATCH).expect("a DynamoDB stream event");
        let mut context = Context::default();
        context.request_id = "batch-1".into();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        context.deadline = (now + deadline_in).as_millis() as u64;
        LambdaEvent::new(payload, context)
    }

    fn failed(response: &DynamoDbEventResponse) -> Vec<Option<&str>> {
        response.batch_item_failures.iter().map(|item| item.item_identifier.as_deref()).collect()
    }

    /// Each record's sort key, in the order the handler saw them.
    type Seen = Arc<Mutex<Vec<String>>>;

    fn sort_key(record: &EventRecord) -> String {
        match record.change.keys.get("sk") {
            Some(serde_dynamo::AttributeValue::S(sk)) => sk.clone(),
            other => panic!("no sort key: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_healthy_batch_is_handled_in_order_and_logged_once() {
        let log = CapturedLog::start();
        let seen = Seen::default();
        let handler = |_: (), record: EventRecord| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(sort_key(&record));
                Ok(())
            }
        };
        let response = answer((), "events", handler, batch(Duration::from_secs(10))).await;
        assert!(response.batch_item_failures.is_empty(), "{response:?}");
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0], "THREAD");
        assert!(seen[1].starts_with("MSG#") && seen[1] < seen[2], "{seen:?}");
        let lines = log.lines_with("kind", KIND);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!((line["route"].as_str(), line["status"].as_u64()), (Some("events"), Some(200)));
        assert_eq!((line["records"].as_u64(), line["failed"].as_u64()), (Some(3), Some(0)));
        assert_eq!(line["dynamodb_requests"].as_u64(), Some(0));
        assert_eq!(line["request_id"].as_str(), Some("batch-1"));
    }

    #[tokio::test]
    async fn the_first_failing_record_is_reported_and_the_rest_wait_for_the_retry() {
        let log = CapturedLog::start();
        let seen = Seen::default();
        let handler = |_: (), record: EventRecord| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(sort_key(&record));
                if record.change.sequence_number.as_deref() == Some("4421584500000000017450439091") {
                    return Err(Error::StorageUnavailable("throttled".into()));
                }
                Ok(())
            }
        };
        let response = answer((), "events", handler, batch(Duration::from_secs(10))).await;
        assert_eq!(failed(&response), [Some("4421584500000000017450439091")]);
        assert_eq!(seen.lock().unwrap().len(), 2, "the third record waits for the retry");
        let line = &log.lines_with("kind", KIND)[0];
        assert_eq!((line["status"].as_u64(), line["failed"].as_u64()), (Some(503), Some(1)));
        // The JSON answer Lambda reads.
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "4421584500000000017450439091"}]})
        );
    }

    #[tokio::test]
    async fn a_malformed_record_is_passed_over_not_retried_forever() {
        let handler = |_: (), record: EventRecord| async move {
            match sort_key(&record).as_str() {
                "THREAD" => Err(Error::invalid("record", "not an item this consumer knows")),
                _ => Ok(()),
            }
        };
        let response = answer((), "events", handler, batch(Duration::from_secs(10))).await;
        assert!(response.batch_item_failures.is_empty(), "{response:?}");
    }

    #[tokio::test]
    async fn a_batch_the_deadline_overtakes_reports_the_record_it_stopped_at() {
        // 3 s of Lambda time, less the answer margin; the second record would take a minute.
        let handler = |_: (), record: EventRecord| async move {
            if sort_key(&record) != "THREAD" {
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            Ok(())
        };
        let response = answer((), "events", handler, batch(Duration::from_secs(3))).await;
        // The thread's record was done; the batch starts again at the first message.
        assert_eq!(failed(&response), [Some("4421584500000000017450439091")]);
    }
}
