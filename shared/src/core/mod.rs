//! The conversation core: entities, the rules (recipients, threads, devices, idempotency,
//! credentials) and an error of kinds. It knows no wire format; the dialects (`crate::edna`,
//! `crate::superoffice`) translate to and from it.

pub mod clients;
pub mod credentials;
pub mod devices;
pub mod error;
pub mod events;
pub mod idempotency;
pub mod incoming;
pub mod model;
pub mod sending;
pub mod status;
pub mod threads;
pub mod validation;
pub mod webchat;
pub mod webhooks;
