//! SuperOffice bodies: the XML, form, JSON, JSON Patch and merge patch decoders
//! (`superoffice::body::fields`), then the wire types (`message_draft`, `session_customer`, with
//! their integers, enums and dates). The first byte picks the `Content-Type` and the entity; the
//! rest is the body. Every refusal must be a 4xx.
#![no_main]

use fuzz_support::{agent, assert_client_error, direct_request};
use libfuzzer_sys::fuzz_target;
use shared::http::{ApiRequest, MAX_BODY_BYTES};
use shared::routes;
use shared::superoffice::{body, wire};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else { return };
    if payload.len() > MAX_BODY_BYTES {
        return; // 413 before any handler runs
    }
    // Seven content types, then none (read as JSON) and one with another charset.
    let content_types = body::CONTENT_TYPES.iter().copied().map(Some).chain([None, Some("text/xml; charset=latin1")]);
    let content_type = content_types.clone().nth(usize::from(selector & 0x0f) % content_types.count()).flatten();
    let message = selector & 0x10 == 0;
    let (route, root, default) = if message {
        (routes::POST_CHAT_MESSAGE, "ChatMessage", wire::default_message())
    } else {
        (routes::CREATE_CHAT_SESSION, "ChatSession", wire::default_session())
    };
    let path = route.pattern.replace("{chatSessionId}", "103");
    let headers = content_type.map(|value| ("content-type", value));
    let request = ApiRequest::from_event(direct_request("POST", &path, headers, payload), route);
    let outcome = body::fields(&request, root, default).and_then(|fields| {
        if message {
            wire::message_draft(&fields, 103, &agent()).map(drop)
        } else {
            wire::session_customer(&fields).map(drop)
        }
    });
    if let Err(err) = outcome {
        assert_client_error(&err, root);
    }
});
