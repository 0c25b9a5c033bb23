//! `GET /api/v1/events` fed real API Gateway events: every recorded event once, oldest first,
//! across pages and days; a cursor it did not make is a 400.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;
use shared::App;
use shared::core::events::EventType;
use shared::core::model::Role;
use shared::routes::{self, handle};
use shared::store::{EventStore, RecordedEvent};
use shared::testing::{self, Event, FORMATS, Format};

async fn page(app: &'static App, format: Format, token: &str, after: Option<&str>, limit: &str) -> (u16, Value) {
    let mut event = Event::new(format, routes::LIST_EVENTS, &[]).bearer(token).query("limit", limit);
    if let Some(after) = after {
        event = event.query("after", after);
    }
    let (status, body, _) =
        testing::call(app, routes::LIST_EVENTS, handle::<routes::list_events::ListEvents>, event).await;
    (status, body)
}

/// An event recorded `ago` before now (the feed lists events a few seconds old and older).
async fn record(app: &'static App, ago: Duration, n: usize) -> String {
    let id = format!("evt_{}", &testing::unique("f").replace('-', "")[..24]);
    let at = Timestamp::now() - ago;
    let body = format!(r#"{{"id":"{id}","type":"thread.opened","timestamp":"{at}","data":{{"n":{n}}}}}"#);
    let event = RecordedEvent {
        event_id: id.clone(),
        event_type: EventType::ThreadOpened,
        at,
        thread_id: 1,
        message_id: None,
        sequence: None,
        body,
        recorded_at: at,
    };
    app.store.record_event(&event).await.unwrap();
    id
}

#[tokio::test]
async fn the_feed_pages_through_every_event_once_oldest_first() {
    let app = testing::app().await;
    let (_, token) = testing::agent(app, Role::Integrator).await;
    // Two days ago, yesterday and a minute ago: the feed walks the days between.
    let mut mine = Vec::new();
    for (n, ago) in [(0, 2 * 86_400), (1, 86_400 + 60), (2, 86_400), (3, 60), (4, 30)].into_iter() {
        mine.push(record(app, Duration::from_secs(ago), n).await);
    }
    for format in FORMATS {
        let (mut seen, mut after, mut pages) = (Vec::new(), None::<String>, 0);
        loop {
            let (status, body) = page(app, format, &token, after.as_deref(), "2").await;
            assert_eq!(status, 200, "{body}");
            let items = body["items"].as_array().unwrap();
            seen.extend(items.iter().map(|event| event["id"].as_str().unwrap().to_owned()));
            after = Some(body["nextCursor"].as_str().expect("a cursor on every page").to_owned());
            pages += 1;
            if items.is_empty() || pages > 1_000 {
                break;
            }
        }
        let ours: Vec<&String> = seen.iter().filter(|id| mine.contains(id)).collect();
        assert_eq!(ours, mine.iter().collect::<Vec<_>>(), "{format:?}: each once, oldest first");
        assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), seen.len(), "no event twice");
        // Polling again from the last cursor later finds what came since.
        let newer = record(app, Duration::from_secs(10), 5).await;
        let (_, body) = page(app, format, &token, after.as_deref(), "100").await;
        let ids: Vec<&str> =
            body["items"].as_array().unwrap().iter().map(|event| event["id"].as_str().unwrap()).collect();
        assert!(ids.contains(&newer.as_str()), "{body}");
        mine.push(newer);
    }
    for bad in ["nope", "MjAyNi0xMy00MHx4"] {
        let (status, body) = page(app, Format::HttpApiV2, &token, Some(bad), "10").await;
        assert_eq!((status, body["field"].as_str()), (400, Some("after")), "{body}");
    }
    let (status, body) = page(app, Format::HttpApiV2, &token, None, "0").await;
    assert_eq!((status, body["field"].as_str()), (400, Some("limit")), "{body}");
    let (_, operator) = testing::agent(app, Role::Operator).await;
    assert_eq!(page(app, Format::HttpApiV2, &operator, None, "10").await.0, 403);
}
