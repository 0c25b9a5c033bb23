//! The `cursor` (and `limit`) query parameters of a thread's message list: any text decodes to
//! a position or a 400 naming `cursor`, and a decoded position encodes back to a cursor that
//! decodes to it again. Eight leading bytes also seed a position that must round-trip exactly.
#![no_main]

use fuzz_support::assert_client_error;
use libfuzzer_sys::fuzz_target;
use shared::core::threads;
use shared::edna::{decode_cursor, encode_cursor};
use shared::store::MessagePosition;
use shared::Error;

fuzz_target!(|data: &[u8]| {
    if data.len() >= 16 {
        let at_micros = i64::from_le_bytes(data[..8].try_into().unwrap()) & i64::MAX;
        let message_id = u64::from_le_bytes(data[8..16].try_into().unwrap());
        let position = MessagePosition { at_micros, message_id };
        assert_eq!(decode_cursor(&encode_cursor(position)).ok(), Some(position));
    }
    let text = String::from_utf8_lossy(data);
    match decode_cursor(&text) {
        Ok(position) => assert_eq!(decode_cursor(&encode_cursor(position)).ok(), Some(position), "{text:?}"),
        Err(err) => {
            assert_client_error(&err, "cursor");
            assert!(matches!(&err, Error::InvalidInput { field: Some(field), .. } if field == "cursor"), "{err:?}");
        }
    }
    if let Err(err) = threads::page_size(Some(&text)) {
        assert_client_error(&err, "limit");
    }
});
