//! The opaque `nextCursor` of a thread's message list.
//!
//! A cursor is the position the next (older) page starts before, as 16 bytes (the message's
//! time in µs since the epoch, then its id, both big-endian), in unpadded base64url: 22
//! characters. Every such string whose time is not negative is a cursor (openapi.yaml's pattern
//! says exactly which strings those are), so a well-formed cursor is never refused; a position no
//! message has simply starts the page there.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::store::MessagePosition;
use crate::{Error, Result};

const CURSOR_BYTES: usize = 16;

pub fn encode_cursor(before: MessagePosition) -> String {
    let mut bytes = [0u8; CURSOR_BYTES];
    bytes[..8].copy_from_slice(&before.at_micros.to_be_bytes());
    bytes[8..].copy_from_slice(&before.message_id.to_be_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode_cursor(cursor: &str) -> Result<MessagePosition> {
    // The engine refuses padding and a last character with bits beyond the 16 bytes set.
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| <[u8; CURSOR_BYTES]>::try_from(bytes).ok())
        .and_then(|bytes| {
            let (at, id) = bytes.split_at(8);
            let at_micros = i64::from_be_bytes(at.try_into().ok()?);
            let message_id = u64::from_be_bytes(id.try_into().ok()?);
            (at_micros >= 0).then_some(MessagePosition { at_micros, message_id })
        })
        .ok_or_else(|| Error::invalid("cursor", "cursor is not one this API returned; use nextCursor as given"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// openapi.yaml's pattern of the `cursor` parameter.
    const PATTERN: &str = "^[A-Za-f][A-Za-z0-9_-]{20}[AQgw]$";

    fn matches_pattern(cursor: &str) -> bool {
        let bytes = cursor.as_bytes();
        bytes.len() == 22
            && matches!(bytes[0], b'A'..=b'Z' | b'a'..=b'f')
            && bytes[1..21].iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
            && matches!(bytes[21], b'A' | b'Q' | b'g' | b'w')
    }

    #[test]
    fn cursors_round_trip_and_look_opaque() {
        for position in [
            MessagePosition { at_micros: 1_700_000_000_000_000, message_id: 1234 },
            MessagePosition { at_micros: 0, message_id: 0 },
            MessagePosition { at_micros: i64::MAX, message_id: u64::MAX },
        ] {
            let cursor = encode_cursor(position);
            assert!(!cursor.contains("1234"));
            assert!(matches_pattern(&cursor), "{cursor} against {PATTERN}");
            assert_eq!(decode_cursor(&cursor).unwrap(), position);
        }
    }

    #[test]
    fn every_string_of_the_documented_pattern_is_a_cursor() {
        // The pattern's corners: first and last characters of each class.
        for first in ['A', 'Z', 'a', 'f'] {
            for last in ['A', 'Q', 'g', 'w'] {
                for middle in ["A".repeat(20), "_".repeat(20), "-".repeat(20), "9".repeat(20), "z".repeat(20)] {
                    let cursor = format!("{first}{middle}{last}");
                    assert!(matches_pattern(&cursor));
                    assert!(decode_cursor(&cursor).is_ok(), "{cursor}");
                }
            }
        }
    }

    #[test]
    fn foreign_cursors_are_refused_naming_the_parameter() {
        let text_cursor = URL_SAFE_NO_PAD.encode("before:5:7");
        for bad in [
            "",
            "0",
            "1234",
            "!!!",
            &text_cursor,
            "gAAAAAAAAAAAAAAAAAAAAA", // a negative time
            "AAAAAAAAAAAAAAAAAAAAAB", // bits beyond the 16 bytes
            "AAAAAAAAAAAAAAAAAAAAAA==",
            "AAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(!matches_pattern(bad), "{bad}");
            match decode_cursor(bad) {
                Err(Error::InvalidInput { field: Some(field), .. }) => assert_eq!(field, "cursor"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
