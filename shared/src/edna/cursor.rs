//! The opaque `nextCursor` of a thread's message list.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::store::MessagePosition;
use crate::{Error, Result};

const CURSOR_PREFIX: &str = "before:";

/// `before:<µs>:<id>`, base64url: where the next (older) page starts.
pub fn encode_cursor(before: MessagePosition) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{}:{}", before.at_micros, before.message_id))
}

pub fn decode_cursor(cursor: &str) -> Result<MessagePosition> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            let (at, id) = text.strip_prefix(CURSOR_PREFIX)?.split_once(':')?;
            Some(MessagePosition {
                at_micros: at.parse().ok().filter(|at: &i64| *at >= 0)?,
                message_id: id.parse().ok()?,
            })
        })
        .ok_or_else(|| Error::invalid("cursor", "cursor is not one this API returned; use nextCursor as given"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_look_opaque() {
        let position = MessagePosition { at_micros: 1_700_000_000_000_000, message_id: 1234 };
        let cursor = encode_cursor(position);
        assert!(!cursor.contains("1234"));
        assert_eq!(decode_cursor(&cursor).unwrap(), position);
    }

    #[test]
    fn foreign_cursors_are_refused_naming_the_parameter() {
        for bad in ["", "1234", "!!!", &URL_SAFE_NO_PAD.encode("after:5"), &URL_SAFE_NO_PAD.encode("before:5")] {
            match decode_cursor(bad) {
                Err(Error::InvalidInput { field: Some(field), .. }) => assert_eq!(field, "cursor"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
