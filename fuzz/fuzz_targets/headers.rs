//! Request headers, one `Name: value` a line: credentials in every scheme (`Authorization:
//! Bearer`, `Basic`, `SOTicket` with `SO-AppToken`, the session cookie with `X-XSRF-TOKEN`),
//! `Accept`, `Accept-Language` / `SO-Language`, `SO-TimeZone`, `Content-Type` and
//! `Idempotency-Key`, read as both dialects read them. A refusal of credentials must be a 401,
//! any other refusal a 4xx.
#![no_main]

use fuzz_support::{assert_client_error, direct_request};
use libfuzzer_sys::fuzz_target;
use shared::edna::{self, Edna};
use shared::http::{self, ApiRequest, Dialect, Scheme};
use shared::routes;
use shared::superoffice::{self, SuperOffice};
use shared::Error;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let headers = text.lines().filter_map(|line| line.split_once(':'));
    let route = routes::POST_CHAT_MESSAGE;
    let request = ApiRequest::from_event(direct_request("POST", "/api/v1/ChatSession/7/Messages", headers, b"{}"), route);
    let schemes: [&[Scheme]; 6] = [
        edna::SCHEMES,
        superoffice::SCHEMES,
        &[Scheme::Basic],
        &[Scheme::SoTicket],
        &[Scheme::Cookie],
        &[Scheme::Cookie, Scheme::Basic],
    ];
    for schemes in schemes {
        match http::credentials(&request, schemes) {
            Ok(credentials) => drop(credentials),
            Err(err) => assert!(matches!(err, Error::Unauthorized(_)), "{schemes:?}: {err:?}"),
        }
    }
    for outcome in [Edna::negotiate(&request).1, SuperOffice::negotiate(&request).1, request.idempotency_key(1).map(drop)]
    {
        if let Err(err) = outcome {
            assert_client_error(&err, "headers");
        }
    }
    if let Some(content_type) = request.header("content-type") {
        let _ = http::media_type(content_type);
    }
});
