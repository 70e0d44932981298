//! Background jobs that run inside `redress serve`.
pub mod retention;
pub mod scheduler;
pub mod sealer;
pub mod sender;
