//! Events out: the outbound side of the product. The table's stream is turned into events and
//! one delivery per subscription ([`publish`], no HTTP); deliveries are signed ([`signing`]),
//! rendered in their subscription's format ([`render`]) and sent to addresses the [`guard`]
//! allows ([`deliver`], [`sender`]).

pub mod deliver;
pub mod guard;
pub mod publish;
pub mod render;
#[cfg(feature = "delivery")]
pub mod sender;
pub mod signing;
pub mod subscriptions;

use std::time::Duration;

/// How the outbound side is set up in this deployment (environment, read once per container).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Plain `http` to loopback addresses is allowed (the local stack and its tests:
    /// `WEBHOOK_ALLOW_LOOPBACK_HTTP=true`); deployed, only `https` to public addresses.
    pub allow_loopback_http: bool,
    /// `ContextIdentifier` of the `superoffice` format (`WEBHOOK_CONTEXT`).
    pub context: String,
    /// Shrinks the retry schedule (`WEBHOOK_RETRY_SCALE`, tests only; 1 deployed).
    pub retry_scale: f64,
    /// How long one run of the retry sweep keeps looking for due deliveries
    /// (`WEBHOOK_SWEEP_SECONDS`; 0: one pass).
    pub sweep: Duration,
}

/// This container's settings, read from the environment once.
pub fn settings() -> &'static Settings {
    static SETTINGS: std::sync::OnceLock<Settings> = std::sync::OnceLock::new();
    SETTINGS.get_or_init(Settings::from_env)
}

impl Settings {
    pub fn from_env() -> Settings {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Settings {
        let value = |name: &str| lookup(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
        Settings {
            allow_loopback_http: value("WEBHOOK_ALLOW_LOOPBACK_HTTP").is_some_and(|flag| flag == "true"),
            context: value("WEBHOOK_CONTEXT").unwrap_or_else(|| "chat-center".to_owned()),
            retry_scale: value("WEBHOOK_RETRY_SCALE")
                .and_then(|scale| scale.parse::<f64>().ok())
                .filter(|scale| scale.is_finite() && *scale > 0.0 && *scale <= 1.0)
                .unwrap_or(1.0),
            sweep: Duration::from_secs(
                value("WEBHOOK_SWEEP_SECONDS").and_then(|secs| secs.parse::<u64>().ok()).unwrap_or(0).min(600),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_to_the_safe_deployed_ones() {
        let settings = Settings::from_lookup(|_| None);
        assert!(!settings.allow_loopback_http);
        assert_eq!((settings.retry_scale, settings.sweep), (1.0, Duration::ZERO));
        let local = Settings::from_lookup(|name| match name {
            "WEBHOOK_ALLOW_LOOPBACK_HTTP" => Some("true".into()),
            "WEBHOOK_RETRY_SCALE" => Some("0.02".into()),
            _ => None,
        });
        assert!(local.allow_loopback_http);
        assert_eq!(local.retry_scale, 0.02);
        let odd = Settings::from_lookup(|name| (name == "WEBHOOK_RETRY_SCALE").then(|| "-3".into()));
        assert_eq!(odd.retry_scale, 1.0, "a nonsense scale keeps the real schedule");
    }
}
