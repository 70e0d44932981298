//! Background jobs that run inside `redress serve`.
pub mod scheduler;
pub mod sealer;
pub mod sender;
