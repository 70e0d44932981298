//! The `redress` application: the shells around the pure core (`redress-core`).
pub mod app;
pub mod cli;
pub mod client;
pub mod clock;
pub mod durable;
pub mod files;
pub mod http;
pub mod jobs;
pub mod json;
pub mod keys;
pub mod mail;
pub mod seed;
pub mod simulate;
pub mod state;
pub mod store;
pub mod web;
pub mod words;
