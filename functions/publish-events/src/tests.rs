//! `publish-events` fed the stream records Lambda would deliver for what real requests wrote to
//! DynamoDB Local: the events each change makes, one delivery per subscription that wants it,
//! and nothing more when a batch comes again.

use serde_json::Value;
use shared::App;
use shared::consumers::publish_events::{NAME, handle};
use shared::core::events::EventType;
use shared::core::model::Role;
use shared::core::sending::Recipient;
use shared::core::status;
use shared::core::threads;
use shared::core::validation::RawContent;
use shared::core::webhooks::{Dispatch, NewSubscription, Subscription};
use shared::store::{EventStore, WebhookStore};
use shared::stream;
use shared::testing::{self, stream_batch, stream_record};
use shared::webhooks::subscriptions;

/// A subscription to a public address (no DNS needed) of the given format and event types.
async fn subscribe(app: &'static App, format: &str, events: Option<&[&str]>) -> Subscription {
    let events = events.map(|names| names.iter().map(|name| name.to_string()).collect());
    let new = NewSubscription::check("https://93.184.215.14/hook".into(), events, Some(format.into()), None).unwrap();
    subscriptions::create(&app.store, new, false, None).await.unwrap()
}

/// The subscription's deliveries, oldest event first.
async fn deliveries(app: &'static App, subscription: &Subscription) -> Vec<Dispatch> {
    let page = app.store.dispatches(&subscription.id, None, 100, None).await.unwrap();
    let mut dispatches = page.dispatches;
    dispatches.reverse();
    dispatches
}

async fn publish(app: &'static App, records: Vec<stream::Record>) {
    let response = stream::answer_side_by_side(app, NAME, handle, stream_batch(records)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
}

fn body(dispatch: &Dispatch) -> Value {
    serde_json::from_str(&dispatch.body).unwrap()
}

#[tokio::test]
async fn a_conversation_becomes_its_events_once_in_both_formats() {
    let app = testing::app().await;
    let standard = subscribe(app, "standard", None).await;
    let superoffice = subscribe(app, "superoffice", Some(&["message.created"])).await;
    let (agent, _) = testing::agent(app, Role::Integrator).await;
    let client = testing::client(app).await;
    let content = |text: &str| RawContent { text: Some(text.into()), attachments: None }.validate().unwrap();
    let recipient = Recipient::ThreadsClientId(client.client_id);

    // The first message opens the thread: one INSERT of the thread carries both events.
    let first = testing::send(app, &agent, &recipient, content("first")).await;
    let opened = app.store.thread_image(first.thread_id).await.unwrap().unwrap();
    let inserted = stream_record(opened.clone(), None);
    publish(app, vec![inserted.clone()]).await;

    // The second joins it: a MODIFY of the thread whose count went up.
    let second = testing::send(app, &agent, &recipient, content("second")).await;
    let joined = app.store.thread_image(first.thread_id).await.unwrap().unwrap();
    let modified = stream_record(joined.clone(), Some(opened));
    // A delivered status: a MODIFY of the message item.
    let before = app.store.message_image(first.id).await.unwrap().unwrap();
    let update = status::check(Some("DELIVERED".into()), None, None, None).unwrap();
    status::report(&app.store, status::locate(&app.store, first.id).await.unwrap(), &update).await.unwrap();
    let after = app.store.message_image(first.id).await.unwrap().unwrap();
    let delivered = stream_record(after, Some(before));
    // Closed.
    threads::close_thread(&app.store, first.thread_id).await.unwrap();
    let closed = stream_record(app.store.thread_image(first.thread_id).await.unwrap().unwrap(), Some(joined));
    publish(app, vec![modified.clone(), delivered.clone(), closed.clone()]).await;

    // Other tests publish into the same subscriptions: keep this thread's deliveries.
    let thread_id = first.thread_id;
    let mine = |dispatches: Vec<Dispatch>| -> Vec<Dispatch> {
        let ours = |event: &Value| {
            event["data"]["thread"]["id"] == thread_id
                || event["data"]["message"]["threadId"] == thread_id
                || [first.id, second.id].iter().any(|id| event["PrimaryKey"] == *id)
        };
        dispatches.into_iter().filter(|dispatch| ours(&body(dispatch))).collect()
    };
    // In time order; a thread opens at its first message's time, so that tie goes by kind.
    let mut sent = mine(deliveries(app, &standard).await);
    sent.sort_by_key(|dispatch| (dispatch.event_at, dispatch.event_type));
    let kinds: Vec<EventType> = sent.iter().map(|dispatch| dispatch.event_type).collect();
    assert_eq!(
        kinds,
        [
            EventType::ThreadOpened,
            EventType::MessageCreated,
            EventType::MessageCreated,
            EventType::MessageStatusUpdated,
            EventType::ThreadClosed
        ],
        "{sent:#?}"
    );
    let created: Vec<Value> = sent[1..3].iter().map(|dispatch| body(dispatch)["data"]["message"].clone()).collect();
    assert_eq!((created[0]["id"].as_u64(), created[0]["sequence"].as_u64()), (Some(first.id), Some(1)));
    assert_eq!((created[1]["id"].as_u64(), created[1]["sequence"].as_u64()), (Some(second.id), Some(2)));
    assert_eq!(created[1]["text"], "second");
    let status = body(&sent[3]);
    assert_eq!(status["data"]["message"]["status"], "DELIVERED");
    assert_eq!(status["data"]["message"]["sequence"], 1, "a status event keeps its message's sequence");
    assert_eq!(body(&sent[4])["data"]["thread"]["status"], "CLOSED");
    assert_eq!(body(&sent[0])["data"]["thread"]["clientExternalId"], client.external_id.clone().unwrap());
    for dispatch in &sent {
        // The body is the recorded event, whose id the delivery carries.
        assert_eq!(body(dispatch)["id"], dispatch.event_id.as_str());
        let recorded = app.store.event(&dispatch.event_id).await.unwrap().unwrap();
        assert_eq!(recorded.body, dispatch.body);
    }

    // The SuperOffice subscription asked for messages only, in its own body.
    let mut so: Vec<Value> = mine(deliveries(app, &superoffice).await).iter().map(body).collect();
    so.sort_by_key(|event| event["PrimaryKey"].as_u64());
    assert_eq!(so.len(), 2, "{so:#?}");
    assert_eq!((so[0]["Event"].as_str(), so[0]["PrimaryKey"].as_u64()), (Some("chatmessage.created"), Some(first.id)));
    assert_eq!(so[0]["ChangedByAssociateId"], agent.agent_id);

    // The stream delivers the batches again (a retry after a timeout): nothing is added.
    let count = deliveries(app, &standard).await.len();
    publish(app, vec![inserted, modified, delivered, closed]).await;
    assert_eq!(deliveries(app, &standard).await.len(), count);
}

#[tokio::test]
async fn items_that_are_not_events_publish_nothing() {
    let app = testing::app().await;
    let client = testing::client(app).await;
    // A session opened with no message: thread.opened only; a client item: nothing.
    let customer = threads::SessionCustomer::ClientId(client.client_id);
    let summary = threads::open_session(&app.store, customer, None).await.unwrap();
    let subscription = subscribe(app, "standard", Some(&["thread.opened", "message.created"])).await;
    let image = app.store.thread_image(summary.thread.thread_id).await.unwrap().unwrap();
    let mut unrelated = image.clone();
    unrelated.insert("entity".into(), serde_dynamo::AttributeValue::S("CLIENT".into()));
    publish(app, vec![stream_record(image, None), stream_record(unrelated, None)]).await;
    let mine: Vec<EventType> = deliveries(app, &subscription)
        .await
        .into_iter()
        .filter(|dispatch| body(dispatch)["data"]["thread"]["id"] == summary.thread.thread_id)
        .map(|dispatch| dispatch.event_type)
        .collect();
    assert_eq!(mine, [EventType::ThreadOpened]);
}
