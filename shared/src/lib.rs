//! What every Chat Center function shares, arranged as the architecture:
//! - [`core`]: the conversation domain (entities, rules, an error of kinds); no wire format;
//! - [`store`]: one small trait per aggregate and their DynamoDB adapter;
//! - [`routes`]: one module per HTTP route (its parse and its run), and the one driver of them;
//! - [`http`]: the HTTP edge, generic over a [`http::Dialect`]; [`stream`] and [`websocket`]: the
//!   edges for DynamoDB stream batches and WebSocket events; [`invocation`]: what every edge
//!   shares (the deadline, the log line);
//! - [`edna`] and `superoffice` (feature `superoffice`): the two dialects' wire formats.

pub mod app;
pub mod budget;
pub mod config;
pub mod consumers;
pub mod core;
pub mod edna;
pub mod http;
pub mod invocation;
pub mod json;
pub mod logging;
pub mod routes;
pub mod store;
pub mod stream;
#[cfg(feature = "superoffice")]
pub mod superoffice;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod webchat;
pub mod webhooks;
pub mod websocket;
pub mod wording;
pub mod xray;

pub use app::App;
pub use core::error::{Error, Result};
