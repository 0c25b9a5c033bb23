//! An HTTP request in text (method, path and query, headers, body; see `HttpText`), turned into
//! the event API Gateway would send for it in either payload format, read by `lambda_http`, then
//! through the edge and the route's decoders. Every refusal must be a 4xx.
#![no_main]

use fuzz_support::HttpText;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(request) = HttpText::parse(data) else { return };
    // Header names or values that are not HTTP (API Gateway sends none such) do not read.
    let Ok(event) = lambda_http::request::from_str(&request.to_event()) else { return };
    fuzz_support::edge(event);
});
