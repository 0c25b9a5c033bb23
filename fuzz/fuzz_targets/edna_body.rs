//! edna's JSON bodies and their validation, as the routes read them (their `parse`, through
//! `fuzz_support::edge`): the first byte picks the route (every edna POST of `shared::routes::READERS`)
//! and the `Content-Type`; the rest is the body. Every refusal must be a 4xx.
#![no_main]

use fuzz_support::{direct_request, edge};
use libfuzzer_sys::fuzz_target;
use shared::http::MAX_BODY_BYTES;

const CONTENT_TYPES: &[Option<&str>] = &[Some("application/json"), None, Some("application/json; charset=utf-8")];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    if body.len() > MAX_BODY_BYTES {
        return; // 413 before any handler runs
    }
    let posts = fuzz_support::posts(false);
    let route = posts[usize::from(selector) % posts.len()];
    let content_type = CONTENT_TYPES[usize::from(selector / 16) % CONTENT_TYPES.len()];
    let headers = content_type.map(|value| ("content-type", value));
    edge(direct_request("POST", route.pattern, headers, body));
});
