//! The opaque `nextCursor` of a thread's message list.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{Error, Result};

const CURSOR_PREFIX: &str = "before:";

pub fn encode_cursor(before: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{before}"))
}

pub fn decode_cursor(cursor: &str) -> Result<u64> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(CURSOR_PREFIX)?.parse().ok())
        .ok_or_else(|| Error::invalid("cursor", "cursor is not one this API returned; use nextCursor as given"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_look_opaque() {
        let cursor = encode_cursor(1234);
        assert!(!cursor.contains("1234"));
        assert_eq!(decode_cursor(&cursor).unwrap(), 1234);
    }

    #[test]
    fn foreign_cursors_are_refused_naming_the_parameter() {
        for bad in ["", "1234", "!!!", &URL_SAFE_NO_PAD.encode("after:5")] {
            match decode_cursor(bad) {
                Err(Error::InvalidInput { field: Some(field), .. }) => assert_eq!(field, "cursor"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
