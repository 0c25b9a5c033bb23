//! The stream's first consumer (`publish-events`): each change a record of the table's stream
//! holds becomes its events, each event is recorded once (the feed, replays, a message's
//! sequence), and each subscription that wants it gets one delivery, rendered in its format.
//! Nothing here calls out: a slow receiver cannot hold up the stream.

use jiff::Timestamp;

use super::render;
use crate::core::events::{Event, Subject, message_created_id};
use crate::core::threads;
use crate::core::webhooks::{Dispatch, Format, Subscription};
use crate::store::changes::{Change, changes_of};
use crate::store::{ClientStore, EventStore, RecordedEvent, ThreadStore, WebhookStore};
use crate::{Error, Result};

/// Everything a record of the stream publishes. Idempotent: a batch the stream delivers again
/// finds its events recorded and its deliveries made, and adds nothing.
pub async fn publish<S>(
    store: &S,
    record: &aws_lambda_events::event::dynamodb::EventRecord,
    context: &str,
) -> Result<Vec<Event>>
where
    S: ThreadStore + ClientStore + EventStore + WebhookStore,
{
    let events = derive(store, record).await?;
    record_all(store, &events, context).await?;
    Ok(events)
}

/// The events a record of the stream holds, with what they carry read from the table.
pub async fn derive<S>(store: &S, record: &aws_lambda_events::event::dynamodb::EventRecord) -> Result<Vec<Event>>
where
    S: ThreadStore + ClientStore + EventStore,
{
    let mut events = Vec::new();
    for change in changes_of(record)? {
        events.extend(events_of(store, change).await?);
    }
    Ok(events)
}

/// Records each event once and gives each subscription that wants it one delivery.
pub async fn record_all<S>(store: &S, events: &[Event], context: &str) -> Result<()>
where
    S: EventStore + WebhookStore,
{
    let mut subscriptions: Option<Vec<Subscription>> = None;
    for event in events {
        let recorded = store.record_event(&recorded(event)?).await?;
        let subscriptions = match &subscriptions {
            Some(subscriptions) => subscriptions,
            None => subscriptions.insert(store.webhooks().await?),
        };
        fan_out(store, event, &recorded, subscriptions, context).await?;
    }
    Ok(())
}

/// The events of one change, with what they carry read from the table.
async fn events_of<S: ThreadStore + ClientStore + EventStore>(store: &S, change: Change) -> Result<Vec<Event>> {
    Ok(match change {
        Change::ThreadOpened { thread, first_message } => {
            let thread_id = thread.thread_id;
            let mut events = vec![Event::thread_opened(threads::summary(store, thread).await?)];
            if let Some(position) = first_message {
                let message =
                    store.message_at(thread_id, position).await?.ok_or_else(|| missing(position.message_id))?;
                events.push(Event::message_created(message, Some(1)));
            }
            events
        }
        Change::MessageAdded { thread_id, position, sequence } => {
            let message = store.message_at(thread_id, position).await?.ok_or_else(|| missing(position.message_id))?;
            vec![Event::message_created(message, Some(sequence))]
        }
        Change::ThreadClosed { thread, at } => vec![Event::thread_closed(threads::summary(store, thread).await?, at)],
        Change::StatusMoved { message } => {
            // The sequence was fixed when the message was published.
            let created = store.event(&message_created_id(message.message_id)).await?;
            vec![Event::status_updated(*message, created.and_then(|event| event.sequence))]
        }
    })
}

/// A message the thread's image names but the table does not hold: it is written in the same
/// transaction, so this is a fault of ours; the batch is retried from here.
fn missing(message_id: u64) -> Error {
    Error::internal(format!("message {message_id} named by its thread was not found"))
}

fn recorded(event: &Event) -> Result<RecordedEvent> {
    let (message_id, sequence) = match &event.subject {
        Subject::Message { message, sequence } => (Some(message.message_id), *sequence),
        Subject::Thread(_) => (None, None),
    };
    Ok(RecordedEvent {
        event_id: event.id.clone(),
        event_type: event.kind,
        at: event.at,
        thread_id: event.thread_id(),
        message_id,
        sequence,
        body: render::standard(event)?,
        recorded_at: Timestamp::now(),
    })
}

/// One delivery per subscription that wants the event. The standard body is the recorded one
/// (the first recording wins), so a re-processed record sends the very same bytes.
async fn fan_out<S: WebhookStore>(
    store: &S,
    event: &Event,
    recorded: &RecordedEvent,
    subscriptions: &[Subscription],
    context: &str,
) -> Result<()> {
    let now = Timestamp::now();
    let wanting = subscriptions.iter().filter(|subscription| subscription.wants(event.kind));
    let dispatches: Vec<Dispatch> = wanting
        .map(|subscription| {
            let body = match subscription.format {
                Format::Standard => recorded.body.clone(),
                Format::SuperOffice => render::superoffice(
                    event,
                    context,
                    subscription.description.as_deref().unwrap_or(&subscription.id),
                )?,
            };
            Ok(Dispatch::new(&subscription.id, &recorded.event_id, event.kind, recorded.at, body, now))
        })
        .collect::<Result<_>>()?;
    futures::future::try_join_all(dispatches.iter().map(|dispatch| store.add_dispatch(dispatch))).await?;
    Ok(())
}
