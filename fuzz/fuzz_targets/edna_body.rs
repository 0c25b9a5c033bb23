//! edna's JSON bodies and their validation, as the routes read them (their `parse`, through
//! `fuzz_support::edge`): the first byte picks the route (login, `outgoing`, `outgoing-to-device`)
//! and the `Content-Type`; the rest is the body. Every refusal must be a 4xx.
#![no_main]

use fuzz_support::{direct_request, edge};
use libfuzzer_sys::fuzz_target;
use shared::http::MAX_BODY_BYTES;
use shared::routes;

const CONTENT_TYPES: &[Option<&str>] = &[Some("application/json"), None, Some("application/json; charset=utf-8")];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    if body.len() > MAX_BODY_BYTES {
        return; // 413 before any handler runs
    }
    let route = [routes::LOGIN, routes::SEND_OUTGOING, routes::SEND_OUTGOING_TO_DEVICE][usize::from(selector % 3)];
    let content_type = CONTENT_TYPES[usize::from(selector / 3) % CONTENT_TYPES.len()];
    let headers = content_type.map(|value| ("content-type", value));
    edge(direct_request("POST", route.pattern, headers, body));
});
