//! SuperOffice dates: read with up to 7 fractional digits and any offset (none: UTC), written
//! with 7 fractional digits in UTC or in the zone `SO-TimeZone` names.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

use crate::{Error, Result};

pub const TIME_ZONE_HEADER: &str = "SO-TimeZone";

/// Where dates are shown: UTC (with `Z`) or a zone, with or without its offset.
#[derive(Debug, Clone, Default)]
pub struct Zone {
    zone: Option<TimeZone>,
    include_offset: bool,
}

impl Zone {
    /// From `SO-TimeZone`: an IANA name or a fixed offset, optionally `, includeTZOffset`.
    pub fn parse(header: Option<&str>) -> Result<Zone> {
        let Some(header) = header.map(str::trim).filter(|value| !value.is_empty()) else { return Ok(Zone::default()) };
        let mut parts = header.split(',').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let mut include_offset = false;
        for flag in parts {
            if flag.eq_ignore_ascii_case("includeTZOffset") {
                include_offset = true;
            } else {
                return Err(bad_zone(header));
            }
        }
        let zone =
            if name.eq_ignore_ascii_case("UTC") || name.eq_ignore_ascii_case("Z") || name.eq_ignore_ascii_case("GMT") {
                TimeZone::UTC
            } else if let Some(offset) = parse_offset(name.strip_prefix("UTC").unwrap_or(name)) {
                TimeZone::fixed(offset)
            } else {
                TimeZone::get(name).map_err(|_| bad_zone(header))?
            };
        Ok(Zone { zone: Some(zone), include_offset })
    }

    /// `2024-07-01T12:00:00.0000000` in the zone (`+02:00` appended when asked), or UTC with `Z`.
    pub fn format(&self, at: Timestamp) -> String {
        let Some(zone) = &self.zone else { return format!("{}Z", civil(at.to_zoned(TimeZone::UTC).datetime())) };
        let zoned = at.to_zoned(zone.clone());
        let local = civil(zoned.datetime());
        if !self.include_offset {
            return local;
        }
        let seconds = zoned.offset().seconds();
        let sign = if seconds < 0 { '-' } else { '+' };
        let minutes = seconds.unsigned_abs() / 60;
        format!("{local}{sign}{:02}:{:02}", minutes / 60, minutes % 60)
    }
}

fn civil(datetime: DateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}",
        datetime.year(),
        datetime.month(),
        datetime.day(),
        datetime.hour(),
        datetime.minute(),
        datetime.second(),
        datetime.subsec_nanosecond() / 100
    )
}

/// `+02:00`, `-0530`, `+2`.
fn parse_offset(raw: &str) -> Option<Offset> {
    let (sign, rest) = match raw.as_bytes().first()? {
        b'+' => (1, &raw[1..]),
        b'-' => (-1, &raw[1..]),
        _ => return None,
    };
    let (hours, minutes) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if !(0..=18).contains(&hours) || !(0..60).contains(&minutes) {
        return None;
    }
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

fn bad_zone(header: &str) -> Error {
    Error::invalid(
        TIME_ZONE_HEADER,
        format!(
            "unknown time zone {header:?}; use an IANA name such as Europe/Oslo or an offset such as +01:00, optionally followed by \", includeTZOffset\""
        ),
    )
}

/// A date sent by the caller: ISO 8601 with up to 7 fractional digits and an offset (`Z`,
/// `+01:00`), or without one, taken as UTC.
pub fn parse(raw: &str, field: &str) -> Result<Timestamp> {
    let raw = raw.trim();
    let invalid = || {
        Error::invalid(
            field,
            format!("{field} must be an ISO 8601 date-time such as 2007-12-18T17:54:08.0543344+01:00"),
        )
    };
    let fraction_digits =
        raw.split_once('.').map_or(0, |(_, rest)| rest.bytes().take_while(u8::is_ascii_digit).count());
    if fraction_digits > 7 {
        return Err(invalid());
    }
    if let Ok(at) = raw.parse::<Timestamp>() {
        return Ok(at);
    }
    let local: DateTime = raw.parse().map_err(|_| invalid())?;
    local.to_zoned(TimeZone::UTC).map(|zoned| zoned.timestamp()).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> Timestamp {
        raw.parse().unwrap()
    }

    #[test]
    fn seven_fractional_digits_and_any_offset_are_read() {
        assert_eq!(
            parse("2007-12-18T17:54:08.0543344+01:00", "WhenPosted").unwrap(),
            at("2007-12-18T16:54:08.0543344Z")
        );
        assert_eq!(parse("2007-12-18T17:54:08.0543344", "WhenPosted").unwrap(), at("2007-12-18T17:54:08.0543344Z"));
        assert_eq!(parse("2024-01-15T10:00:00Z", "WhenPosted").unwrap(), at("2024-01-15T10:00:00Z"));
        assert!(parse("2007-12-18T17:54:08.054334412Z", "WhenPosted").is_err());
        assert!(parse("yesterday", "WhenPosted").is_err());
    }

    #[test]
    fn oslo_in_summer_and_winter_with_and_without_offset() {
        let plain = Zone::parse(Some("Europe/Oslo")).unwrap();
        let with_offset = Zone::parse(Some("Europe/Oslo, includeTZOffset")).unwrap();
        let summer = at("2024-07-01T10:00:00Z");
        let winter = at("2024-01-15T10:00:00Z");
        assert_eq!(plain.format(summer), "2024-07-01T12:00:00.0000000");
        assert_eq!(plain.format(winter), "2024-01-15T11:00:00.0000000");
        assert_eq!(with_offset.format(summer), "2024-07-01T12:00:00.0000000+02:00");
        assert_eq!(with_offset.format(winter), "2024-01-15T11:00:00.0000000+01:00");
        assert_eq!(Zone::default().format(summer), "2024-07-01T10:00:00.0000000Z");
    }

    #[test]
    fn fixed_offsets_and_unknown_zones() {
        let zone = Zone::parse(Some("-05:30, includeTZOffset")).unwrap();
        assert_eq!(zone.format(at("2024-07-01T10:00:00Z")), "2024-07-01T04:30:00.0000000-05:30");
        assert_eq!(Zone::parse(Some("UTC")).unwrap().format(at("2024-07-01T10:00:00Z")), "2024-07-01T10:00:00.0000000");
        for bad in ["Mars/Olympus", "Europe/Oslo, sometimes", "+25:00"] {
            match Zone::parse(Some(bad)) {
                Err(Error::InvalidInput { field: Some(field), .. }) => assert_eq!(field, TIME_ZONE_HEADER),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
