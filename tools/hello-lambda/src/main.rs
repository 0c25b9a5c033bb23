//! The smallest `lambda_runtime` function: answers every event with a fixed API Gateway response.
//! Built with the same profile as the functions, it is the baseline `scripts/coldstart` compares
//! their init time and invocation latency against (no logging, no SDK, no I/O besides the
//! Runtime API).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(hello)).await
}

async fn hello(_event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(json!({
        "statusCode": 200,
        "headers": { "content-type": "application/json" },
        "body": "{\"message\":\"hello\"}",
    }))
}
