//! Deliveries attempted against real receivers on 127.0.0.1: signed as Standard Webhooks says,
//! made once however many senders try, retried on the schedule with the same id, stopped by a
//! 410, and never held up by another subscription's slow receiver.

use std::time::Duration;

use jiff::Timestamp;
use shared::App;
use shared::consumers::deliver_webhooks::{NAME, handle_with};
use shared::core::events::EventType;
use shared::core::webhooks::{Dispatch, DispatchStatus, NewSubscription, Subscription, SubscriptionStatus};
use shared::store::WebhookStore;
use shared::stream;
use shared::testing::{self, Answer, Receiver, stream_batch, stream_record};
use shared::webhooks::sender::HttpSender;
use shared::webhooks::{Settings, deliver, signing, subscriptions};

/// This stack's settings: loopback http allowed, the schedule shrunk a hundred-thousandfold.
fn settings() -> Settings {
    Settings { allow_loopback_http: true, retry_scale: 0.000_01, ..Settings::from_lookup(|_| None) }
}

async fn subscribe(app: &'static App, url: &str, format: &str) -> Subscription {
    let new = NewSubscription::check(url.into(), None, Some(format.into()), None).unwrap();
    subscriptions::create(&app.store, new, true, None).await.unwrap()
}

/// A new delivery of a made-up event to `subscription`.
async fn dispatch(app: &'static App, subscription: &Subscription) -> Dispatch {
    let event_id = format!("evt_{}", &testing::unique("e").replace('-', "")[..24]);
    let body =
        format!(r#"{{"id":"{event_id}","type":"thread.opened","timestamp":"2026-12-04T10:00:00Z","data":{{}}}}"#);
    let now = Timestamp::now();
    let dispatch = Dispatch::new(&subscription.id, &event_id, EventType::ThreadOpened, now, body, now);
    assert_eq!(app.store.add_dispatch(&dispatch).await.unwrap(), shared::store::Write::Done);
    dispatch
}

async fn current(app: &'static App, dispatch: &Dispatch) -> Dispatch {
    let page = app.store.dispatches(&dispatch.webhook_id, None, 100, None).await.unwrap();
    page.dispatches.into_iter().find(|found| found.event_id == dispatch.event_id).unwrap()
}

#[tokio::test]
async fn a_delivery_is_signed_and_sent_once_however_many_senders_try() {
    let app = testing::app().await;
    let receiver = Receiver::start(vec![]).await;
    let subscription = subscribe(app, &receiver.url, "standard").await;
    let dispatch = dispatch(app, &subscription).await;
    let sender = HttpSender::new(true).unwrap();
    let settings = settings();
    let key = dispatch.key();
    let tries = futures::future::join_all((0..4).map(|_| deliver::attempt(&app.store, &sender, &settings, &key))).await;
    assert_eq!(tries.into_iter().filter(|made| *made.as_ref().unwrap()).count(), 1, "one sender wins the claim");

    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.body, dispatch.body);
    assert_eq!(request.headers["webhook-id"], dispatch.event_id);
    let timestamp: i64 = request.headers["webhook-timestamp"].parse().unwrap();
    assert!((Timestamp::now().as_second() - timestamp).abs() < 60);
    let secret = &subscription.secrets[0].secret;
    assert_eq!(
        request.headers["webhook-signature"],
        signing::standard(&[secret], &dispatch.event_id, timestamp, &dispatch.body)
    );
    assert_eq!(request.headers["content-type"], "application/json");

    let after = current(app, &dispatch).await;
    assert_eq!((after.status, after.attempts, after.last_response_status), (DispatchStatus::Delivered, 1, Some(200)));
    assert_eq!(after.next_attempt_at, None);
}

#[tokio::test]
async fn refused_attempts_are_retried_with_the_same_id_until_delivered() {
    let app = testing::app().await;
    let receiver = Receiver::start(vec![Answer::status(500), Answer::status(503)]).await;
    let subscription = subscribe(app, &receiver.url, "standard").await;
    let dispatch = dispatch(app, &subscription).await;
    let (sender, settings) = (HttpSender::new(true).unwrap(), settings());
    let mut statuses = Vec::new();
    for _ in 0..50 {
        deliver::attempt(&app.store, &sender, &settings, &dispatch.key()).await.unwrap();
        let now = current(app, &dispatch).await;
        statuses.push((now.status, now.attempts, now.last_response_status));
        if now.status != DispatchStatus::Pending {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    statuses.dedup();
    assert_eq!(
        statuses,
        [
            (DispatchStatus::Pending, 1, Some(500)),
            (DispatchStatus::Pending, 2, Some(503)),
            (DispatchStatus::Delivered, 3, Some(200))
        ]
    );
    let ids: Vec<String> = receiver.received().iter().map(|request| request.headers["webhook-id"].clone()).collect();
    assert_eq!(ids, vec![dispatch.event_id.clone(); 3], "every retry carries the event's id");
}

#[tokio::test]
async fn the_schedule_ends_in_failed_after_ten_tries_and_retry_after_is_honoured() {
    let app = testing::app().await;
    let receiver = Receiver::start((0..20).map(|_| Answer::status(500)).collect()).await;
    let subscription = subscribe(app, &receiver.url, "standard").await;
    let dispatch = dispatch(app, &subscription).await;
    let (sender, settings) = (HttpSender::new(true).unwrap(), settings());
    for _ in 0..200 {
        deliver::attempt(&app.store, &sender, &settings, &dispatch.key()).await.unwrap();
        if current(app, &dispatch).await.status == DispatchStatus::Failed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let failed = current(app, &dispatch).await;
    assert_eq!((failed.status, failed.attempts, failed.next_attempt_at), (DispatchStatus::Failed, 10, None));
    assert_eq!(receiver.received().len(), 10);

    // A receiver that asks for two minutes gets them, however short the schedule.
    let patient =
        Receiver::start(vec![Answer { headers: vec![("retry-after", "120".into())], ..Answer::status(429) }]).await;
    let subscription = subscribe(app, &patient.url, "standard").await;
    let dispatch = self::dispatch(app, &subscription).await;
    deliver::attempt(&app.store, &sender, &settings, &dispatch.key()).await.unwrap();
    let waiting = current(app, &dispatch).await;
    let next = waiting.next_attempt_at.unwrap();
    assert!(next >= Timestamp::now() + Duration::from_secs(110), "{next}");
    assert!(!deliver::attempt(&app.store, &sender, &settings, &dispatch.key()).await.unwrap(), "not due yet");
}

#[tokio::test]
async fn gone_disables_the_subscription_and_a_blocked_address_is_never_called() {
    let app = testing::app().await;
    let log = testing::CapturedLog::start();
    let receiver = Receiver::start(vec![Answer::status(410)]).await;
    let subscription = subscribe(app, &receiver.url, "standard").await;
    let first = dispatch(app, &subscription).await;
    let (sender, settings) = (HttpSender::new(true).unwrap(), settings());
    deliver::attempt(&app.store, &sender, &settings, &first.key()).await.unwrap();
    let gone = app.store.webhook(&subscription.id).await.unwrap().unwrap();
    assert_eq!(gone.status, SubscriptionStatus::Disabled);
    assert_eq!(current(app, &first).await.status, DispatchStatus::Failed);
    let second = dispatch(app, &subscription).await;
    deliver::attempt(&app.store, &sender, &settings, &second.key()).await.unwrap();
    assert_eq!(current(app, &second).await.status, DispatchStatus::Failed);
    assert_eq!(receiver.received().len(), 1, "nothing more is sent to a disabled subscription");
    // Each delivery that ended FAILED counts once in the metric webhook_deliveries_failed.
    let failed = log.lines_with("message", "webhook delivery failed");
    let counted: Vec<(&str, u64)> = failed
        .iter()
        .map(|line| (line["event_id"].as_str().unwrap(), line["webhook_deliveries_failed"].as_u64().unwrap()))
        .collect();
    assert_eq!(counted, [(first.event_id.as_str(), 1), (second.event_id.as_str(), 1)]);
    assert_eq!(failed[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], "webhook_deliveries_failed");

    // Deployed (no loopback allowance), the same URL is refused at the attempt: no request.
    let local = Receiver::start(vec![]).await;
    let subscription = subscribe(app, &local.url, "standard").await;
    let blocked = dispatch(app, &subscription).await;
    let deployed = Settings { allow_loopback_http: false, ..settings };
    deliver::attempt(&app.store, &HttpSender::new(false).unwrap(), &deployed, &blocked.key()).await.unwrap();
    let after = current(app, &blocked).await;
    assert_eq!((after.status, after.last_error.as_deref()), (DispatchStatus::Pending, Some("blocked address")));
    assert!(local.received().is_empty());
    assert_eq!(log.lines_with("message", "webhook delivery failed").len(), 2, "a pending delivery is no failure");
}

#[tokio::test]
async fn the_stream_brings_new_deliveries_and_a_slow_receiver_holds_up_only_its_own() {
    let app = testing::app().await;
    let slow = Receiver::start(vec![Answer { delay: Duration::from_secs(3), ..Answer::status(200) }]).await;
    let fast = Receiver::start(vec![]).await;
    let superoffice = Receiver::start(vec![]).await;
    let (slow_subscription, fast_subscription) =
        (subscribe(app, &slow.url, "standard").await, subscribe(app, &fast.url, "standard").await);
    let so_subscription = subscribe(app, &superoffice.url, "superoffice").await;
    let mut records = Vec::new();
    for subscription in [&slow_subscription, &fast_subscription, &so_subscription] {
        let new = dispatch(app, subscription).await;
        records.push(stream_record(app.store.dispatch_image(&new.key()).await.unwrap().unwrap(), None));
    }
    // The slow receiver's delivery comes first in the batch.
    static LOCAL: std::sync::OnceLock<(HttpSender, Settings)> = std::sync::OnceLock::new();
    LOCAL.get_or_init(|| (HttpSender::new(true).unwrap(), settings()));
    let handle = |app, record| {
        let (sender, settings) = LOCAL.get().unwrap();
        handle_with(app, sender, settings, record)
    };
    let response = stream::answer_side_by_side(app, NAME, handle, stream_batch(records)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let (slow_request, fast_request) = (&slow.received()[0], &fast.received()[0]);
    assert!(
        fast_request.at < slow_request.at + Duration::from_secs(2),
        "the fast receiver waited for the slow one's answer"
    );
    // The SuperOffice format: its headers, the body's own signature.
    let request = &superoffice.received()[0];
    let secret = &so_subscription.secrets[0].secret;
    assert_eq!(request.headers["x-superoffice-signature"], signing::superoffice(&[secret], &request.body));
    assert!(request.headers.contains_key("x-superoffice-eventid") && !request.headers.contains_key("webhook-id"));
}

#[tokio::test]
async fn a_replay_of_any_window_is_answered_and_sends_exactly_its_deliveries_again() {
    let app = testing::app().await;
    let receiver = Receiver::start(vec![]).await;
    let subscription = subscribe(app, &receiver.url, "standard").await;
    let delivered = dispatch(app, &subscription).await;
    let (sender, settings) = (HttpSender::new(true).unwrap(), settings());
    deliver::attempt(&app.store, &sender, &settings, &delivered.key()).await.unwrap();
    assert_eq!(current(app, &delivered).await.status, DispatchStatus::Delivered);
    // Windows whose ends have different numbers of digits, or lie at the ends of time.
    for (since, until) in [
        ("2200-01-01T00:00:00Z", "2300-01-01T00:00:00Z"),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:01Z"),
        ("9999-12-30T00:00:00Z", "9999-12-30T21:59:59Z"),
    ] {
        let replayed =
            subscriptions::replay(&app.store, &subscription.id, since.parse().unwrap(), until.parse().unwrap()).await;
        assert_eq!(replayed.unwrap(), 0, "{since} .. {until}");
    }
    let window = (delivered.event_at - Duration::from_secs(1), Timestamp::now() + Duration::from_secs(1));
    assert_eq!(subscriptions::replay(&app.store, &subscription.id, window.0, window.1).await.unwrap(), 1);
    let again = current(app, &delivered).await;
    assert_eq!((again.status, again.attempts), (DispatchStatus::Pending, 0));
    deliver::attempt(&app.store, &sender, &settings, &delivered.key()).await.unwrap();
    let ids: Vec<String> = receiver.received().iter().map(|request| request.headers["webhook-id"].clone()).collect();
    assert_eq!(ids, vec![delivered.event_id.clone(); 2], "the replay sends the original id");
}

#[tokio::test]
async fn the_sweep_retries_what_is_due_and_leaves_first_attempts_to_the_stream() {
    let app = testing::app().await;
    let receiver = Receiver::start(vec![Answer::status(503)]).await;
    let subscription = subscribe(app, &receiver.url, "standard").await;
    let (sender, settings) = (HttpSender::new(true).unwrap(), settings());
    let sweep = || {
        let until = std::time::Instant::now() + Duration::from_secs(5);
        deliver::sweep_subscription(&app.store, &sender, &settings, &subscription.id, until)
    };
    let first = dispatch(app, &subscription).await;
    assert_eq!(sweep().await.unwrap(), 0, "a new delivery is the stream's to attempt first");
    assert!(receiver.received().is_empty());
    deliver::attempt(&app.store, &sender, &settings, &first.key()).await.unwrap();
    assert_eq!(current(app, &first).await.status, DispatchStatus::Pending);
    tokio::time::sleep(Duration::from_millis(50)).await; // 5 s, shrunk, is past
    assert_eq!(sweep().await.unwrap(), 1);
    let after = current(app, &first).await;
    assert_eq!((after.status, after.attempts), (DispatchStatus::Delivered, 2));
    assert_eq!(receiver.received().len(), 2);
}
