//! edna's JSON bodies and their validation, as the handlers read them (`edna::body`, then
//! `validate`): the first byte picks the body (login, `outgoing`, `outgoing-to-device`) and the
//! `Content-Type`; the rest is the body. Every refusal must be a 4xx.
#![no_main]

use fuzz_support::{assert_client_error, direct_request};
use libfuzzer_sys::fuzz_target;
use shared::edna::{self, wire};
use shared::http::{ApiRequest, MAX_BODY_BYTES};
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
    let request = ApiRequest::from_event(direct_request("POST", route.pattern, headers, body), route);
    let outcome = match route {
        routes::LOGIN => edna::body::<wire::LoginRequest>(&request).map(drop),
        routes::SEND_OUTGOING => {
            edna::body::<wire::OutgoingRequest>(&request).and_then(wire::OutgoingRequest::validate).map(drop)
        }
        _ => edna::body::<wire::OutgoingToDeviceRequest>(&request)
            .and_then(wire::OutgoingToDeviceRequest::validate)
            .map(drop),
    };
    if let Err(err) = outcome {
        assert_client_error(&err, route.pattern);
    }
});
