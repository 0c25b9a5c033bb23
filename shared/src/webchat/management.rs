//! The [`Pusher`] of a deployment: API Gateway's `@connections` management API through
//! `aws-sdk-apigatewaymanagement`, built like the DynamoDB client (this crate's HTTP client,
//! timeouts and retries; the role's credentials from the environment). Locally its endpoint is
//! the stack's WebSocket gateway, which serves the same API.

use std::sync::OnceLock;

use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_apigatewaymanagement::error::SdkError;
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;

use super::push::{Pushed, Pusher};
use crate::{Error, Result, app, budget};

pub struct ManagementApi {
    client: Client,
}

impl ManagementApi {
    pub fn new(endpoint: &str) -> Result<ManagementApi> {
        let region = std::env::var("AWS_REGION").ok().filter(|region| !region.is_empty());
        // The local gateway checks no signature; in AWS the role's credentials are always set.
        let credentials =
            app::environment_credentials().unwrap_or_else(|| Credentials::new("local", "local", None, None, "local"));
        let config = aws_sdk_apigatewaymanagement::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.unwrap_or_else(|| "us-east-1".to_owned())))
            .credentials_provider(credentials)
            .endpoint_url(endpoint)
            .http_client(app::aws_http_client(None)?)
            .timeout_config(budget::sdk_timeouts())
            .retry_config(budget::sdk_retries())
            .interceptor(crate::xray::SdkCalls)
            .build();
        Ok(ManagementApi { client: Client::from_conf(config) })
    }
}

/// The container's management API client, when the function is given its endpoint
/// (`WEBSOCKET_MANAGEMENT_URL`); `None` leaves pushes out (a stack without web chat).
pub fn shared() -> Result<Option<&'static ManagementApi>> {
    static API: OnceLock<Option<ManagementApi>> = OnceLock::new();
    if let Some(api) = API.get() {
        return Ok(api.as_ref());
    }
    let api = match &super::settings().management_url {
        Some(endpoint) => Some(ManagementApi::new(endpoint)?),
        None => None,
    };
    Ok(API.get_or_init(|| api).as_ref())
}

impl Pusher for ManagementApi {
    async fn push(&self, connection_id: &str, frame: &str) -> Result<Pushed> {
        let sent = self
            .client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(frame.as_bytes()))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Pushed::Sent),
            Err(SdkError::ServiceError(failed)) if matches!(failed.err(), PostToConnectionError::GoneException(_)) => {
                Ok(Pushed::Gone)
            }
            // A gateway that answers 410 with an unmodelled body is as gone.
            Err(err) if err.raw_response().is_some_and(|raw| raw.status().as_u16() == 410) => Ok(Pushed::Gone),
            Err(err) => Err(Error::StorageUnavailable(format!(
                "POST @connections: {}",
                aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&err)
            ))),
        }
    }
}
