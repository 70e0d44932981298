//! The `redress` application: the shells around the pure core (`redress-core`).
pub mod app;
pub mod cli;
pub mod clock;
pub mod http;
pub mod jobs;
pub mod json;
pub mod keys;
pub mod mail;
pub mod simulate;
pub mod store;
pub mod web;
