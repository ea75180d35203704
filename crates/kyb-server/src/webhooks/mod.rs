//! Webhooks: signing, the SSRF guard, and the dispatcher that delivers the outbox.

pub mod dispatcher;
pub mod guard;
pub mod signing;

pub use dispatcher::Dispatcher;
