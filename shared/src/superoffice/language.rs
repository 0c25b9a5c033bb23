//! The language of error messages: `SO-Language`, else `Accept-Language`; English and Norwegian.

use crate::http::MediaRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Norwegian,
}

/// The language chosen, and the tag to echo in `Content-Language`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub language: Language,
    pub tag: String,
}

impl Default for Chosen {
    fn default() -> Self {
        Chosen { language: Language::English, tag: "en".into() }
    }
}

fn supported(tag: &str) -> Option<Language> {
    let primary = tag.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
    match primary.as_str() {
        "en" => Some(Language::English),
        "nb" | "no" | "nn" => Some(Language::Norwegian),
        _ => None,
    }
}

/// `SO-Language` overrides `Accept-Language`; the first supported tag with the highest weight
/// wins; nothing supported: English.
pub fn choose(so_language: Option<&str>, accept_language: Option<&str>) -> Chosen {
    if let Some(tag) = so_language.map(str::trim)
        && let Some(language) = supported(tag)
    {
        return Chosen { language, tag: tag.to_owned() };
    }
    let Some(header) = accept_language else { return Chosen::default() };
    let mut ranges = MediaRange::parse_all(header);
    // Stable: among equal weights the caller's order stands.
    ranges.sort_by(|a, b| b.q.total_cmp(&a.q));
    ranges
        .into_iter()
        .filter(|range| range.q > 0.0)
        .find_map(|range| supported(&range.range).map(|language| Chosen { language, tag: range.range }))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn so_language_overrides_accept_language() {
        assert_eq!(choose(Some("nb"), Some("en")).language, Language::Norwegian);
        assert_eq!(choose(None, Some("de, nb-NO;q=0.8, en;q=0.5")).tag, "nb-no");
        assert_eq!(choose(None, Some("en;q=0.4, no;q=0.9")).language, Language::Norwegian);
        assert_eq!(choose(Some("fr"), Some("de")), Chosen::default());
        assert_eq!(choose(None, None), Chosen::default());
    }
}
