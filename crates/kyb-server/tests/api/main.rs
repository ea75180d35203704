//! Behaviour tests of the /v2 API over real HTTP, each on SQLite and on PostgreSQL.

mod helpers;

mod at_rest;
mod audit;
mod auth;
mod browser;
mod checks;
mod console;
mod create;
mod customers;
mod events;
mod health;
pub mod hosted;
mod idempotency;
mod input;
mod limits;
mod metrics;
mod openapi;
mod outages;
mod platform_branding;
mod prefill;
mod sandbox;
mod validation;
mod webhooks;
