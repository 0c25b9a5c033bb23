//! `retry-webhooks`: on a schedule, every delivery whose next attempt is due, each subscription's
//! in its own lane.

use std::time::Instant;

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

use crate::http::status_of;
use crate::invocation::{Invocation, Outcome};
use crate::webhooks::sender::{self, HttpSender};
use crate::webhooks::{deliver, settings};
use crate::{App, Result};

pub const NAME: &str = "retry-webhooks";
/// The log line's `kind`.
pub const KIND: &str = "schedule";

/// One run: sweeps until nothing is due, or for `WEBHOOK_SWEEP_SECONDS` at most, while the
/// invocation's time lasts.
pub async fn run(app: &'static App, sender: &HttpSender, deadline_ms: Option<u64>, request_id: &str) -> Result<u64> {
    let invocation = Invocation::start(app, deadline_ms);
    let settings = settings();
    let started = Instant::now();
    let until = invocation.deadline().min(started + settings.sweep.max(std::time::Duration::from_secs(1)));
    let mut attempts = 0;
    let result = invocation
        .within(async {
            loop {
                attempts += deliver::sweep(&app.store, sender, settings, until).await?;
                if Instant::now() + std::time::Duration::from_secs(1) >= until {
                    return Ok(attempts);
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        })
        .await
        .unwrap_or(Ok(attempts));
    let status = match &result {
        Ok(_) => 200,
        Err(err) => status_of(err),
    };
    invocation.finish(Outcome {
        kind: KIND,
        route: NAME,
        method: "",
        status,
        request_id,
        records: Some(attempts),
        failed: None,
    });
    result
}

pub async fn serve() -> Result<(), lambda_http::Error> {
    crate::budget::set_function_timeout(crate::budget::RETRY_WEBHOOKS_TIMEOUT);
    let app = App::from_env().await?;
    let sender = sender::shared()?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        let context = event.context;
        run(app, sender, Some(context.deadline), &context.request_id)
            .await
            .map(|attempts| serde_json::json!({ "attempts": attempts }))
            .map_err(|err| lambda_http::Error::from(err.to_string()))
    }))
    .await
}
