//! The functions that are not HTTP routes: the table stream's consumers and the schedule's.
//! Each `serve` is what its function's `main` calls.

#[cfg(feature = "delivery")]
pub mod deliver_webhooks;
#[cfg(feature = "push")]
pub mod publish_events;
#[cfg(feature = "delivery")]
pub mod retry_webhooks;
