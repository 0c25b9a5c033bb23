//! The domain every Chat Center function shares: configuration, request types and their
//! validation, authentication, the thread rule, idempotency, the store (a trait and its DynamoDB
//! adapter) and the one place where errors become HTTP responses.

pub mod app;
pub mod auth;
pub mod clients;
pub mod config;
pub mod devices;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod logging;
pub mod model;
pub mod routes;
pub mod sending;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod threads;
pub mod validation;

pub use app::App;
pub use error::{Error, Result};
