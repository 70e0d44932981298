//! The pure core of Redress.
pub mod clock;
pub mod model;
pub mod procedure;
