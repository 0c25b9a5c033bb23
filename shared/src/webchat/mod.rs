//! Web chat's own dialect: the frames a visitor's page and the WebSocket functions exchange
//! (`docs/webchat.md`), the three WebSocket routes, and the push of new messages to the pages
//! of their client. The rules are `crate::core::webchat`'s.

pub mod connect;
pub mod disconnect;
pub mod frames;
#[cfg(feature = "push")]
pub mod management;
pub mod push;
pub mod wire;

/// Where pages connect and where pushes are posted, as the template gives them.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The WebSocket URL handed to pages (`WEBSOCKET_URL`): `wss://{api}.execute-api.{region}.amazonaws.com/{stage}`.
    pub websocket_url: Option<String>,
    /// The `@connections` management API (`WEBSOCKET_MANAGEMENT_URL`): the same host over https.
    pub management_url: Option<String>,
}

/// This container's settings, read from the environment once.
pub fn settings() -> &'static Settings {
    static SETTINGS: std::sync::OnceLock<Settings> = std::sync::OnceLock::new();
    SETTINGS.get_or_init(|| Settings::from_lookup(|name| std::env::var(name).ok()))
}

impl Settings {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Settings {
        let value = |name: &str| lookup(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
        Settings { websocket_url: value("WEBSOCKET_URL"), management_url: value("WEBSOCKET_MANAGEMENT_URL") }
    }
}
