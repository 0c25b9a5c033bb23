//! An API Gateway event as the Lambda runtime hands it over (REST API 1.0 or HTTP API 2.0
//! payload, any JSON): `lambda_http` reads it as the functions' runtime does, then the request
//! goes through the edge and the decoders of the route API Gateway would pick for it. Every
//! refusal must be a 4xx.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return };
    // lambda_http 1.3 panics on some events; the functions answer those 400 before it reads them
    // (`lambda_http_can_read`, tested in shared), so they are skipped here.
    if !shared::http::lambda_http_can_read(&value) {
        return;
    }
    // An event lambda_http cannot read is not a request (API Gateway sends none such).
    let Ok(event) = lambda_http::request::from_str(text) else { return };
    fuzz_support::edge(event);
});
