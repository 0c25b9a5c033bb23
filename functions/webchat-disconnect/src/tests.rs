//! `$disconnect` fed recorded API Gateway WebSocket events.

use shared::core::webchat::{self, VisitorRequest};
use shared::store::VisitorStore;
use shared::testing::{self, websocket_call, websocket_event};
use shared::webchat::disconnect::handle;
use shared::websocket::edna_error;

#[tokio::test]
async fn a_closed_connection_is_forgotten_under_its_id_and_its_client() {
    let app = testing::app().await;
    let visitor = webchat::create_visitor(&app.store, &VisitorRequest::default()).await.unwrap();
    let (kept, closed) = (testing::unique("conn"), testing::unique("conn"));
    for id in [&kept, &closed] {
        webchat::connect(&app.store, Some(&visitor.token), id).await.unwrap();
    }
    let (status, _) =
        websocket_call(app, handle, edna_error, websocket_event("$disconnect", &closed, None, None)).await;
    assert_eq!(status, 200);
    assert!(app.store.connection(&closed).await.unwrap().is_none());
    let left = app.store.connections_of(visitor.client.client_id).await.unwrap();
    assert_eq!(left.iter().map(|c| c.connection_id.as_str()).collect::<Vec<_>>(), [kept.as_str()]);

    // API Gateway may report a connection gone twice, or one never recorded: nothing to do.
    for id in [closed.as_str(), "never-connected"] {
        let (status, _) = websocket_call(app, handle, edna_error, websocket_event("$disconnect", id, None, None)).await;
        assert_eq!(status, 200, "{id}");
    }
}
