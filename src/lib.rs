//! The `redress` application: the shells around the pure core (`redress-core`).
pub mod cli;
pub mod json;
pub mod simulate;
