//! Everything a function builds once per container: configuration, logging and the store.

use aws_config::{BehaviorVersion, timeout::TimeoutConfig};
use aws_sdk_dynamodb::config::{Credentials, Region};
use std::time::Duration;

use crate::config::Config;
use crate::store::DynamoStore;
use crate::{Result, logging};

pub struct App {
    pub config: Config,
    pub store: DynamoStore,
}

impl App {
    /// Reads the environment, starts logging and builds the DynamoDB client. The app lives as long
    /// as the container, so it is leaked into a `'static` reference handlers can share.
    pub async fn from_env() -> Result<&'static App> {
        App::from_config(Config::from_env()?).await
    }

    /// As [`App::from_env`], with the configuration given.
    pub async fn from_config(config: Config) -> Result<&'static App> {
        logging::init(&config.log_level);
        Ok(Box::leak(Box::new(App::new(config).await)))
    }

    pub async fn new(config: Config) -> App {
        // Chosen with the template's 10 s function timeout: each call fits in the request's
        // budget (`crate::deadline`, the invocation's time left less 0.7 s), a try that hangs
        // is abandoned after 3 s so the SDK can try again, and a transaction's unknown outcome
        // is resolved by the store within the budget.
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(3))
                .operation_timeout(Duration::from_secs(6))
                .build(),
        );
        if let Some(endpoint) = &config.dynamodb_endpoint {
            // DynamoDB Local accepts any credentials; do not wait for a credential chain that has
            // nothing to find on a laptop.
            loader = loader.endpoint_url(endpoint);
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                loader = loader.credentials_provider(Credentials::new("local", "local", None, None, "local"));
            }
            if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
                loader = loader.region(Region::new("us-east-1"));
            }
        }
        let sdk_config = loader.load().await;
        App { store: DynamoStore::new(&sdk_config, config.table_name.clone(), config.id_block), config }
    }
}
