//! `$connect` fed recorded API Gateway WebSocket events.

use serde_json::json;
use shared::core::webchat::{self, VisitorRequest};
use shared::store::VisitorStore;
use shared::testing::{self, CapturedLog, websocket_call, websocket_event};
use shared::webchat::connect::handle;
use shared::websocket::edna_error;

#[tokio::test]
async fn a_live_token_connects_and_its_connection_is_found_under_its_client() {
    let app = testing::app().await;
    let log = CapturedLog::start();
    let visitor = webchat::create_visitor(&app.store, &VisitorRequest::default()).await.unwrap();
    let connection_id = testing::unique("conn");
    let meter = testing::Meter::start(app);
    let event = websocket_event("$connect", &connection_id, Some(&visitor.token), None);
    let (status, body) = websocket_call(app, handle, edna_error, event).await;
    assert_eq!((status, body), (200, None));
    // The token's item, then the connection's two items in one transaction.
    meter.assert_cost(2, 2, "connect");
    let connections = app.store.connections_of(visitor.client.client_id).await.unwrap();
    assert_eq!(connections.iter().map(|c| c.connection_id.as_str()).collect::<Vec<_>>(), [connection_id.as_str()]);
    let connection = app.store.connection(&connection_id).await.unwrap().unwrap();
    assert_eq!(connection.device_address, visitor.visitor.device_address);
    assert!(!log.text().contains(&visitor.token[3..]), "the token reached the log");
}

#[tokio::test]
async fn a_missing_wrong_or_expired_token_is_refused_with_401() {
    let app = testing::app().await;
    let live = webchat::create_visitor(&app.store, &VisitorRequest::default()).await.unwrap();
    let expired_token = testing::unique("vt_expired");
    let mut expired = live.visitor.clone();
    expired.token_hash = shared::core::credentials::token_hash(&expired_token);
    expired.expires_at = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1);
    assert_eq!(app.store.create_visitor(&expired, None, None).await.unwrap(), shared::store::Write::Done);
    let wrong = format!("{}x", live.token);
    for token in [None, Some(wrong.as_str()), Some(expired_token.as_str()), Some("1.agent-token")] {
        let connection_id = testing::unique("conn");
        let (status, body) =
            websocket_call(app, handle, edna_error, websocket_event("$connect", &connection_id, token, None)).await;
        assert_eq!(status, 401, "{token:?}");
        assert_eq!(body.unwrap()["code"], json!("UNAUTHORIZED"));
        assert!(app.store.connection(&connection_id).await.unwrap().is_none(), "nothing recorded for {token:?}");
    }
}
