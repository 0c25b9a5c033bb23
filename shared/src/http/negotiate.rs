//! Content negotiation: media types of `Content-Type` and the ranges of `Accept` (and
//! `Accept-Language`) with their q-values.

/// A media type's `type/subtype` in lower case, and its parameters.
pub fn media_type(header: &str) -> (String, Vec<(String, String)>) {
    let mut parts = header.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|param| param.split_once('='))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().trim_matches('"').to_owned()))
        .collect();
    (essence, params)
}

/// One range of an `Accept` (or `Accept-Language`) header and its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRange {
    pub range: String,
    pub q: f32,
}

impl MediaRange {
    /// The ranges of a header, in the order given; a malformed q counts as 0 (refused).
    pub fn parse_all(header: &str) -> Vec<MediaRange> {
        header
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(|part| {
                let (range, params) = media_type(part);
                let q = params
                    .iter()
                    .find(|(name, _)| name == "q")
                    .map_or(Some(1.0), |(_, value)| value.parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q)))
                    .unwrap_or(0.0);
                MediaRange { range, q }
            })
            .collect()
    }

    /// How specifically this range names `offered` (`None`: not at all); `*/*` < `type/*` < exact.
    fn specificity(&self, offered: &str) -> Option<u8> {
        let (kind, _) = offered.split_once('/').unwrap_or((offered, ""));
        if self.range == offered {
            Some(2)
        } else if self.range.strip_suffix("/*") == Some(kind) {
            Some(1)
        } else if self.range == "*/*" || self.range == "*" {
            Some(0)
        } else {
            None
        }
    }
}

/// The offered type the caller prefers: for each offer, the weight of the most specific range
/// that names it; the highest weight wins, ties go to the earlier offer. No header: the first.
pub fn choose<'a>(accept: Option<&str>, offered: &[&'a str]) -> Option<&'a str> {
    let Some(accept) = accept.filter(|header| !header.trim().is_empty()) else { return offered.first().copied() };
    let ranges = MediaRange::parse_all(accept);
    let mut best: Option<(&str, f32)> = None;
    for offer in offered {
        let weight = ranges
            .iter()
            .filter_map(|range| range.specificity(offer).map(|specificity| (specificity, range.q)))
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, q)| q);
        if let Some(q) = weight.filter(|q| *q > 0.0)
            && best.is_none_or(|(_, best_q)| q > best_q)
        {
            best = Some((offer, q));
        }
    }
    best.map(|(offer, _)| offer)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFERED: &[&str] = &["application/json", "text/json", "application/xml", "text/xml"];

    #[test]
    fn the_highest_weight_wins_and_ties_go_to_the_first_offer() {
        assert_eq!(choose(None, OFFERED), Some("application/json"));
        assert_eq!(choose(Some("*/*"), OFFERED), Some("application/json"));
        assert_eq!(choose(Some("application/xml"), OFFERED), Some("application/xml"));
        assert_eq!(choose(Some("application/json;q=0.5, application/xml"), OFFERED), Some("application/xml"));
        assert_eq!(choose(Some("text/*"), OFFERED), Some("text/json"));
        assert_eq!(choose(Some("text/*, text/json;q=0"), OFFERED), Some("text/xml"));
        assert_eq!(choose(Some("Application/XML; charset=utf-8"), OFFERED), Some("application/xml"));
    }

    #[test]
    fn nothing_acceptable_is_none() {
        assert_eq!(choose(Some("text/html"), OFFERED), None);
        assert_eq!(choose(Some("application/json;q=0"), OFFERED), None);
        assert_eq!(choose(Some("application/json;q=abc"), OFFERED), None);
    }

    #[test]
    fn media_types_are_split_from_their_parameters() {
        let (essence, params) = media_type("Application/JSON; charset=\"UTF-8\"");
        assert_eq!(essence, "application/json");
        assert_eq!(params, vec![("charset".to_owned(), "UTF-8".to_owned())]);
    }
}
