//! A frame a visitor's page sends on the web chat WebSocket (any bytes): read as `webchat-message`
//! reads it. A refusal must be a 4xx, and its error frame one JSON object of type `error`
//! carrying that status.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::http::status_of;
use shared::webchat::wire::{error_frame, read_frame};

fuzz_target!(|data: &[u8]| {
    if let Err(err) = read_frame(data) {
        let status = status_of(&err);
        assert!((400..500).contains(&status), "a frame refused with {status}: {err:?}");
        let frame: serde_json::Value = serde_json::from_str(&error_frame(&err, data)).expect("the error frame is JSON");
        assert_eq!(frame["type"], "error");
        assert_eq!(frame["status"], status);
    }
});
