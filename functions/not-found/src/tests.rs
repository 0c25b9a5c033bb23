use serde_json::json;
use shared::http::Route;
use shared::routes;
use shared::testing::{self, Event, FORMATS};

use shared::routes::not_found::handle;

fn any(path: &'static str) -> Route {
    Route { method: "GET", pattern: path }
}

#[tokio::test]
async fn unknown_paths_get_a_json_404() {
    for format in FORMATS {
        let event = Event::new(format, any("/api/v1/nothing/here"), &[]);
        let (status, body, response) = testing::call((), routes::CATCH_ALL, handle, event).await;
        assert_eq!((status, body["code"].as_str()), (404, Some("NOT_FOUND")), "{body}");
        assert_eq!(response.headers()["content-type"], "application/json");
    }
}

#[tokio::test]
async fn known_paths_with_another_method_get_405_with_allow() {
    for format in FORMATS {
        let event = Event::new(format, any("/api/v1/threads/7"), &[]).method("DELETE");
        let (status, body, response) = testing::call((), routes::CATCH_ALL, handle, event).await;
        assert_eq!((status, body["code"].clone()), (405, json!("METHOD_NOT_ALLOWED")));
        assert_eq!(response.headers()["allow"], "GET");
        let event = Event::new(format, any("/api/v1/messages/outgoing"), &[]);
        let (_, _, response) = testing::call((), routes::CATCH_ALL, handle, event).await;
        assert_eq!(response.headers()["allow"], "POST");
    }
}
