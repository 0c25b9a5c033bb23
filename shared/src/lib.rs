//! What every Chat Center function shares, arranged as the architecture:
//! - [`core`]: the conversation domain (entities, rules, an error of kinds); no wire format;
//! - [`store`]: one small trait per aggregate and their DynamoDB adapter;
//! - [`http`]: the HTTP edge, generic over a [`http::Dialect`];
//! - [`edna`] and `superoffice` (feature `superoffice`): the two dialects' wire formats.

pub mod app;
pub mod budget;
pub mod config;
pub mod core;
pub mod edna;
pub mod http;
pub mod json;
pub mod logging;
pub mod routes;
pub mod store;
#[cfg(feature = "superoffice")]
pub mod superoffice;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use app::App;
pub use core::error::{Error, Result};
