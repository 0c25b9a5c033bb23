use serde_json::json;
use shared::http::Route;
use shared::routes;
use shared::superoffice::SuperOffice;
use shared::testing::{self, Event, FORMATS, Format};

use shared::routes::not_found::{handle, handle_superoffice};

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

/// Where a redirect of `path` points: lambda_http puts the event's stage in front of the path
/// (the recorded REST event's stage is `test`; the HTTP API one's is `$default`).
fn expected_location(format: Format, canonical: &str) -> String {
    match format {
        Format::RestApiV1 => format!("/test{canonical}"),
        Format::HttpApiV2 => canonical.to_owned(),
    }
}

fn check_common_headers(response: &lambda_http::Response<lambda_http::Body>) {
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn a_known_path_with_a_trailing_slash_is_redirected_to_its_canonical_path() {
    let cases = [
        ("GET", "/api/v1/threads/5/", "/api/v1/threads/5"),
        ("POST", "/api/v1/messages/outgoing/", "/api/v1/messages/outgoing"),
        ("POST", "/api/auth/login//", "/api/auth/login"),
        // Another method than the canonical path takes: the redirect still, never a 405 there.
        ("DELETE", "/api/v1/threads/5/close/", "/api/v1/threads/5/close"),
        // Behind a stage prefix (HTTP API with a named stage keeps it in rawPath).
        ("GET", "/prod/api/v1/webhooks/wh_1/deliveries/", "/prod/api/v1/webhooks/wh_1/deliveries"),
    ];
    for format in FORMATS {
        for (method, path, canonical) in cases {
            let event = Event::new(format, any("/"), &[]).method(method).path(path);
            let (status, body, response) = testing::call((), routes::CATCH_ALL, handle, event).await;
            let location = expected_location(format, canonical);
            assert_eq!(status, 308, "{format:?} {method} {path}: {body}");
            assert_eq!(response.headers()["location"], location.as_str(), "{format:?} {method} {path}");
            assert_eq!(response.headers()["content-type"], "application/json");
            assert_eq!(
                body,
                json!({"code": "PERMANENT_REDIRECT", "message": format!("moved permanently to {location}"), "location": location})
            );
            assert!(!response.headers().contains_key("allow"));
            check_common_headers(&response);
        }
    }
}

#[tokio::test]
async fn the_redirect_keeps_the_query_string() {
    for format in FORMATS {
        let event = Event::new(format, any("/"), &[])
            .path("/api/v1/threads/5/messages/")
            .query("limit", "2")
            .query("order", "asc");
        let (status, _, response) = testing::call((), routes::CATCH_ALL, handle, event).await;
        assert_eq!(status, 308);
        // The REST payload gives the query as a map, so its order is not kept.
        let location = response.headers()["location"].to_str().unwrap();
        let (path, query) = location.split_once('?').expect("a query string");
        let mut pairs: Vec<&str> = query.split('&').collect();
        pairs.sort();
        assert_eq!(path, expected_location(format, "/api/v1/threads/5/messages"));
        assert_eq!(pairs, ["limit=2", "order=asc"]);
    }
}

#[tokio::test]
async fn superoffice_paths_are_redirected_in_its_error_shape() {
    for format in FORMATS {
        for (method, path, canonical) in [
            ("POST", "/api/v1/ChatSession/", "/api/v1/ChatSession"),
            ("GET", "/api/v1/ChatSession/7/Messages/", "/api/v1/ChatSession/7/Messages"),
        ] {
            let event = Event::new(format, any("/"), &[]).method(method).path(path);
            let response =
                testing::call_in::<SuperOffice, _, _, _>((), routes::CATCH_ALL, handle_superoffice, event).await;
            let (status, body) = testing::status_and_body(&response);
            let location = expected_location(format, canonical);
            assert_eq!(status, 308, "{format:?} {method} {path}: {body}");
            assert_eq!(response.headers()["location"], location.as_str());
            assert_eq!(
                body,
                json!({"Error": false, "ErrorType": "PermanentRedirect",
                       "ErrorMessage": format!("moved permanently to {location}"), "ErrorSource": ""})
            );
            check_common_headers(&response);
        }
        // Asked for XML, the same answer in XML.
        let event = Event::new(format, any("/"), &[])
            .path("/api/v1/ChatSession/")
            .method("POST")
            .header("Accept", "application/xml");
        let response = testing::call_in::<SuperOffice, _, _, _>((), routes::CATCH_ALL, handle_superoffice, event).await;
        let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
        assert_eq!(response.status(), 308);
        assert!(body.contains("<ErrorType>PermanentRedirect</ErrorType>"), "{body}");
    }
}

#[tokio::test]
async fn the_whole_function_picks_the_dialect_by_path() {
    for format in FORMATS {
        let event = Event::new(format, any("/"), &[]).method("POST").path("/api/v1/ChatSession/");
        let response = shared::routes::not_found::answer(event.into_request()).await;
        let (status, body) = testing::status_and_body(&response);
        assert_eq!((status, body["ErrorType"].as_str()), (308, Some("PermanentRedirect")));
        let event = Event::new(format, any("/"), &[]).path("/api/v1/threads/5/");
        let response = shared::routes::not_found::answer(event.into_request()).await;
        let (status, body) = testing::status_and_body(&response);
        assert_eq!((status, body["code"].as_str()), (308, Some("PERMANENT_REDIRECT")));
    }
}

#[tokio::test]
async fn a_path_unknown_without_its_slash_stays_404() {
    for format in FORMATS {
        for path in ["/api/v1/nothing/", "/api/v1/threads/", "//api/v1/threads/5/", "/"] {
            let event = Event::new(format, any("/"), &[]).path(path);
            let (status, body, response) = testing::call((), routes::CATCH_ALL, handle, event).await;
            assert_eq!((status, body["code"].as_str()), (404, Some("NOT_FOUND")), "{format:?} {path}: {body}");
            assert!(!response.headers().contains_key("location"));
            check_common_headers(&response);
        }
        let event = Event::new(format, any("/"), &[]).path("/api/v1/ChatSession/7/Nothing/");
        let response = testing::call_in::<SuperOffice, _, _, _>((), routes::CATCH_ALL, handle_superoffice, event).await;
        let (status, body) = testing::status_and_body(&response);
        assert_eq!((status, body["ErrorType"].as_str()), (404, Some("NotFound")), "{body}");
    }
}
