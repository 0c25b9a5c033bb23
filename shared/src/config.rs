//! Configuration read once per container from the environment.

use std::time::Duration;

use crate::{Error, Result};

pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, Clone)]
pub struct Config {
    /// The single DynamoDB table (`TABLE_NAME`).
    pub table_name: String,
    /// An endpoint URL such as DynamoDB Local's (`DYNAMODB_ENDPOINT`); unset in AWS.
    pub dynamodb_endpoint: Option<String>,
    /// A PEM file of one more root to trust for DynamoDB, next to Amazon's
    /// (`DYNAMODB_CA_FILE`): for a local endpoint behind TLS, such as the cold-start harness's
    /// proxy. Unset in AWS.
    pub dynamodb_ca_file: Option<String>,
    /// How long a login token stays valid (`TOKEN_TTL_SECONDS`).
    pub token_ttl: Duration,
    /// The `tracing` filter for logs (`LOG_LEVEL`).
    pub log_level: String,
    /// Message ids a container reserves at a time (`ID_BLOCK`); threads and clients take a fifth.
    pub id_block: u64,
    /// Where sampled invocations send their X-Ray subsegments (`AWS_XRAY_DAEMON_ADDRESS`, set by
    /// Lambda); `None` sends none.
    pub xray_daemon: Option<std::net::SocketAddr>,
}

/// Enough that a counter is written once per 100 messages of a container, few enough that a
/// recycled container wastes little of SuperOffice's int32 id space.
pub const DEFAULT_ID_BLOCK: u64 = 100;

impl Config {
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let non_empty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let table_name = non_empty("TABLE_NAME").ok_or_else(|| Error::internal("TABLE_NAME is not set"))?;
        let token_ttl = match non_empty("TOKEN_TTL_SECONDS") {
            None => DEFAULT_TOKEN_TTL,
            Some(raw) => {
                raw.trim().parse::<u64>().ok().filter(|secs| *secs > 0).map(Duration::from_secs).ok_or_else(|| {
                    Error::internal(format!("TOKEN_TTL_SECONDS must be a positive integer, got {raw:?}"))
                })?
            }
        };
        Ok(Config {
            table_name,
            dynamodb_endpoint: non_empty("DYNAMODB_ENDPOINT"),
            dynamodb_ca_file: non_empty("DYNAMODB_CA_FILE"),
            token_ttl,
            xray_daemon: non_empty("AWS_XRAY_DAEMON_ADDRESS").and_then(|value| crate::xray::daemon_address(&value)),
            log_level: non_empty("LOG_LEVEL").unwrap_or_else(|| crate::logging::DEFAULT_LEVEL.to_owned()),
            id_block: match non_empty("ID_BLOCK") {
                None => DEFAULT_ID_BLOCK,
                Some(raw) => {
                    raw.trim().parse::<u64>().ok().filter(|block| (1..=10_000).contains(block)).ok_or_else(|| {
                        Error::internal(format!("ID_BLOCK must be an integer from 1 to 10000, got {raw:?}"))
                    })?
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config> {
        let env: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| env.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_only_the_table_is_set() {
        let config = config(&[("TABLE_NAME", "chat")]).unwrap();
        assert_eq!(config.table_name, "chat");
        assert_eq!(config.token_ttl, DEFAULT_TOKEN_TTL);
        assert_eq!(config.dynamodb_endpoint, None);
        assert_eq!(config.log_level, "info");
    }

    #[test]
    fn a_missing_table_name_is_refused() {
        assert!(config(&[]).is_err());
        assert!(config(&[("TABLE_NAME", " ")]).is_err());
    }

    #[test]
    fn token_lifetime_must_be_a_positive_number_of_seconds() {
        let config_ok = config(&[("TABLE_NAME", "t"), ("TOKEN_TTL_SECONDS", "60")]).unwrap();
        assert_eq!(config_ok.token_ttl, Duration::from_secs(60));
        assert!(config(&[("TABLE_NAME", "t"), ("TOKEN_TTL_SECONDS", "0")]).is_err());
        assert!(config(&[("TABLE_NAME", "t"), ("TOKEN_TTL_SECONDS", "1h")]).is_err());
    }
}
