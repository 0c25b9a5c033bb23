//! SuperOffice bodies: the XML, form, JSON, JSON Patch and merge patch decoders
//! (`superoffice::body::fields`), then the wire types (`message_draft`, `session_customer`, with
//! their integers, enums and dates), as the routes read them (their `parse`, through
//! `fuzz_support::edge`). The first byte picks the `Content-Type` and the route (every SuperOffice POST of
//! `shared::routes::READERS`); the rest is the
//! body. Every refusal must be a 4xx.
#![no_main]

use fuzz_support::{direct_request, edge};
use libfuzzer_sys::fuzz_target;
use shared::http::MAX_BODY_BYTES;
use shared::superoffice::body;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else { return };
    if payload.len() > MAX_BODY_BYTES {
        return; // 413 before any handler runs
    }
    // Seven content types, then none (read as JSON) and one with another charset.
    let content_types = body::CONTENT_TYPES.iter().copied().map(Some).chain([None, Some("text/xml; charset=latin1")]);
    let content_type = content_types.clone().nth(usize::from(selector & 0x0f) % content_types.count()).flatten();
    let posts = fuzz_support::posts(true);
    let route = posts[usize::from(selector >> 4) % posts.len()];
    let path = route.pattern.replace("{chatSessionId}", "103");
    let headers = content_type.map(|value| ("content-type", value));
    edge(direct_request("POST", &path, headers, payload));
});
