//! Everything a function builds once per container: configuration, logging and the store.

use aws_sdk_dynamodb::config::http::HttpRequest;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, HttpClient, Region, RuntimeComponents, SharedHttpClient};
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};

use crate::config::Config;
use crate::store::DynamoStore;
use crate::{Error, Result, budget, logging};

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
        Ok(Box::leak(Box::new(App::new(config).await?)))
    }

    /// The app with a DynamoDB client configured from the environment as Lambda sets it up:
    /// region `AWS_REGION`, the execution role's credentials in `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`. Without aws-config's credential chain
    /// the functions link neither the STS nor the SSO client.
    pub async fn new(config: Config) -> Result<App> {
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let local = config.dynamodb_endpoint.is_some();
        let mut dynamodb = aws_sdk_dynamodb::Config::builder().behavior_version(BehaviorVersion::latest());
        if let Some(region) = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")) {
            dynamodb = dynamodb.region(Region::new(region));
        } else if local {
            dynamodb = dynamodb.region(Region::new("us-east-1"));
        }
        match environment_credentials() {
            Some(credentials) => dynamodb = dynamodb.credentials_provider(credentials),
            // DynamoDB Local accepts any credentials.
            _ if local => {
                dynamodb = dynamodb.credentials_provider(Credentials::new("local", "local", None, None, "local"))
            }
            _ => tracing::warn!("no AWS credentials in the environment; DynamoDB calls will fail"),
        }
        if let Some(endpoint) = &config.dynamodb_endpoint {
            dynamodb = dynamodb.endpoint_url(endpoint);
        }
        App::with_dynamodb(config, dynamodb)
    }

    /// The app with a DynamoDB client from `dynamodb` (the operator's command passes one built
    /// by aws-config's full credential chain), with this crate's HTTP client, timeouts and
    /// retries (which replace any the builder had).
    pub fn with_dynamodb(config: Config, dynamodb: aws_sdk_dynamodb::config::Builder) -> Result<App> {
        // Timeouts and retries are `crate::budget`'s; a transaction's try overrides them.
        let dynamodb = dynamodb
            .http_client(aws_http_client(config.dynamodb_ca_file.as_deref())?)
            .timeout_config(budget::sdk_timeouts())
            .retry_config(budget::sdk_retries());
        Ok(App { store: DynamoStore::new(dynamodb, config.table_name.clone(), config.id_block), config })
    }
}

/// The HTTP client of the AWS SDK clients (DynamoDB, API Gateway's management API): rustls on
/// ring (one TLS stack, smaller than aws-lc), trusting Amazon's roots (and `ca_file`'s).
pub fn aws_http_client(ca_file: Option<&str>) -> Result<SharedHttpClient> {
    let tls = TlsContext::builder()
        .with_trust_store(trust_store(ca_file)?)
        .build()
        .map_err(|err| Error::internal(format!("the TLS context for AWS: {err}")))?;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https();
    Ok(SharedHttpClient::new(MadeTogether(http)))
}

/// The credentials Lambda gives a function's role (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`), if set.
pub fn environment_credentials() -> Option<Credentials> {
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let (key, secret) = (env("AWS_ACCESS_KEY_ID")?, env("AWS_SECRET_ACCESS_KEY")?);
    Some(Credentials::new(key, secret, env("AWS_SESSION_TOKEN"), None, "environment"))
}

/// The HTTP client, made to yield once before it sends each request: calls made together (a
/// `join!` of reads) are then all made before any is sent. Without it, on a multi-threaded
/// runtime a call's first poll could send, be answered and return before the next call was
/// made (the thread descheduled meanwhile), which ran reads meant to share a round trip one
/// after the other: a third of warm sends took 3 round trips instead of 2 on a busy machine.
#[derive(Debug)]
struct MadeTogether(SharedHttpClient);

impl HttpClient for MadeTogether {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(YieldFirst(self.0.http_connector(settings, components)))
    }
}

#[derive(Debug)]
struct YieldFirst(SharedHttpConnector);

impl HttpConnector for YieldFirst {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let connector = self.0.clone();
        HttpConnectorFuture::new(async move {
            tokio::task::yield_now().await;
            connector.call(request).await
        })
    }
}

/// The roots DynamoDB's certificates chain to (Amazon Trust Services).
const AMAZON_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// Amazon's roots only, plus `ca_file`'s when one is given. The system's trust store would be
/// parsed whole, ~150 roots, at every cold start: the largest part of init (docs/performance.md),
/// to trust authorities DynamoDB never uses.
fn trust_store(ca_file: Option<&str>) -> Result<TrustStore> {
    let store = TrustStore::empty().with_native_roots(false).with_pem_certificate(AMAZON_ROOTS);
    let Some(path) = ca_file else { return Ok(store) };
    let pem = std::fs::read(path).map_err(|err| Error::internal(format!("DYNAMODB_CA_FILE {path}: {err}")))?;
    Ok(store.with_pem_certificate(pem))
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use sha2::{Digest, Sha256};

    use super::*;

    /// The bundled roots are the five its header names, by SHA-256 fingerprint of each DER.
    #[test]
    fn the_bundled_roots_are_amazon_trust_services() {
        let pem = std::str::from_utf8(AMAZON_ROOTS).unwrap();
        let fingerprints: Vec<String> = pem
            .split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|block| {
                let body: String =
                    block.split("-----END CERTIFICATE-----").next().unwrap().split_whitespace().collect();
                let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
                hex::encode_upper(Sha256::digest(der))
            })
            .collect();
        let listed: Vec<String> = pem
            .lines()
            .filter(|line| line.starts_with('#'))
            .filter_map(|line| line.split_whitespace().last())
            .filter(|word| word.len() == 95 && word.matches(':').count() == 31)
            .map(|fingerprint| fingerprint.replace(':', ""))
            .collect();
        assert_eq!(fingerprints.len(), 5);
        assert_eq!(fingerprints, listed);
    }

    #[test]
    fn an_unreadable_ca_file_stops_the_start() {
        let err = trust_store(Some("/nonexistent/ca.pem")).unwrap_err();
        assert!(err.to_string().contains("DYNAMODB_CA_FILE") || format!("{err:?}").contains("DYNAMODB_CA_FILE"));
    }
}
