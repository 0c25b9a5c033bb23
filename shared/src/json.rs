//! JSON's numbers as the API reads them. JSON has one number type, and JSON Schema counts a
//! number whose fraction is zero as an integer: `82825.0` and `8.2825e4` are the integer 82825.
//! Wherever a body takes an integer, such a number is accepted as that integer; a number with a
//! fraction, or one outside the JavaScript-safe range, is refused (serde names the field).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// The largest integer a JSON number (an IEEE double) holds exactly: 2^53 - 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A JSON number as an integer of at most [`MAX_SAFE_INTEGER`] in magnitude, when it is one
/// (`5`, `-5`, `5.0`, `5e0`); `None` for `5.5` or a number beyond that range.
pub fn integer(number: &serde_json::Number) -> Option<i64> {
    let value = match number.as_i64() {
        Some(value) => value,
        None => integral(number.as_f64()?)?,
    };
    (value.unsigned_abs() <= MAX_SAFE_INTEGER).then_some(value)
}

fn integral(value: f64) -> Option<i64> {
    (value.fract() == 0.0 && value.abs() <= MAX_SAFE_INTEGER as f64).then_some(value as i64)
}

/// A non-negative integer written in a path or query parameter: `7`, or `7.0` as a JSON Schema
/// generator writes the integer 7 when it comes as a float (a zero fraction, any number of zeros).
pub fn count_text(raw: &str) -> Option<u64> {
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, "0"));
    if fraction.is_empty() || !fraction.bytes().all(|b| b == b'0') || whole.starts_with(['+', '-']) {
        return None;
    }
    whole.parse().ok()
}

/// A non-negative integer field of a JSON body (`#[serde(default, deserialize_with =
/// "crate::json::optional_count")]` on an `Option<u64>`): absent or `null` is `None`; `7`, `7.0`
/// and `7e0` are 7; `7.5`, `-1`, a string or anything over [`MAX_SAFE_INTEGER`] is refused.
pub fn optional_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(Option::<Count>::deserialize(deserializer)?.map(|Count(value)| value))
}

/// What [`optional_count`] reads when the value is not `null`.
struct Count(u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CountVisitor).map(Count)
    }
}

struct CountVisitor;

impl CountVisitor {
    fn in_range<E: de::Error>(self, value: u64) -> Result<u64, E> {
        if value <= MAX_SAFE_INTEGER {
            Ok(value)
        } else {
            Err(E::invalid_value(de::Unexpected::Unsigned(value), &self))
        }
    }
}

impl<'de> Visitor<'de> for CountVisitor {
    type Value = u64;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "an integer from 0 to {MAX_SAFE_INTEGER}")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<u64, E> {
        self.in_range(value)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<u64, E> {
        match u64::try_from(value) {
            Ok(value) => self.in_range(value),
            Err(_) => Err(E::invalid_value(de::Unexpected::Signed(value), &self)),
        }
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<u64, E> {
        match integral(value) {
            Some(integer) if integer >= 0 => Ok(integer as u64),
            _ => Err(E::invalid_value(de::Unexpected::Float(value), &self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::{Number, json};

    #[derive(Debug, Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "optional_count")]
        size: Option<u64>,
    }

    fn size(body: serde_json::Value) -> Result<Option<u64>, String> {
        serde_json::from_value::<Probe>(body).map(|probe| probe.size).map_err(|err| err.to_string())
    }

    fn size_of_text(body: &str) -> Result<Option<u64>, String> {
        serde_json::from_str::<Probe>(body).map(|probe| probe.size).map_err(|err| err.to_string())
    }

    #[test]
    fn integers_written_with_a_zero_fraction_or_an_exponent_are_integers() {
        assert_eq!(size_of_text(r#"{"size": 82825}"#), Ok(Some(82825)));
        assert_eq!(size_of_text(r#"{"size": 82825.0}"#), Ok(Some(82825)));
        assert_eq!(size_of_text(r#"{"size": 8.2825e4}"#), Ok(Some(82825)));
        assert_eq!(size_of_text(r#"{"size": -0.0}"#), Ok(Some(0)));
        assert_eq!(size_of_text(r#"{"size": 9007199254740991}"#), Ok(Some(MAX_SAFE_INTEGER)));
        assert_eq!(size_of_text(r#"{"size": 9007199254740991.0}"#), Ok(Some(MAX_SAFE_INTEGER)));
    }

    #[test]
    fn absent_and_null_are_none() {
        assert_eq!(size(json!({})), Ok(None));
        assert_eq!(size(json!({"size": null})), Ok(None));
    }

    #[test]
    fn fractions_negatives_strings_and_unsafe_integers_are_refused() {
        for bad in [
            r#"{"size": 82825.5}"#,
            r#"{"size": -1}"#,
            r#"{"size": -1.0}"#,
            r#"{"size": 9007199254740992}"#,
            r#"{"size": 9007199254740992.0}"#,
            r#"{"size": 1e300}"#,
            r#"{"size": "5"}"#,
            r#"{"size": true}"#,
            r#"{"size": [5]}"#,
        ] {
            assert!(size_of_text(bad).is_err(), "{bad}");
        }
        let message = size_of_text(r#"{"size": 1.5}"#).unwrap_err();
        assert!(message.contains("an integer from 0 to 9007199254740991"), "{message}");
    }

    #[test]
    fn parameters_read_integers_written_with_a_zero_fraction() {
        assert_eq!(count_text("7"), Some(7));
        assert_eq!(count_text("7.0"), Some(7));
        assert_eq!(count_text("7.000"), Some(7));
        for bad in ["7.5", "7.", ".0", "", "-1", "+7", "7e0", "1.0.0", "x"] {
            assert_eq!(count_text(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_read_as_integers_when_they_are_integral_and_safe() {
        let number = |text: &str| serde_json::from_str::<Number>(text).unwrap();
        assert_eq!(integer(&number("82825")), Some(82825));
        assert_eq!(integer(&number("82825.0")), Some(82825));
        assert_eq!(integer(&number("-3.0")), Some(-3));
        assert_eq!(integer(&number("1e3")), Some(1000));
        assert_eq!(integer(&number("-9007199254740991")), Some(-(MAX_SAFE_INTEGER as i64)));
        assert_eq!(integer(&number("82825.5")), None);
        assert_eq!(integer(&number("9007199254740992")), None);
        assert_eq!(integer(&number("18446744073709551615")), None);
        assert_eq!(integer(&number("1e300")), None);
    }
}
