//! The mail shell: letters rendered from the procedure's templates (text, HTML email, PDF),
//! sent from the outbox (email over SMTP, or a file transport; post through a print queue),
//! and email received (an MTA pipe, an HTTP endpoint, an IMAP poller).

pub mod examine;
pub mod imap;
pub mod inbound;
pub mod letters;
pub mod pdf;
pub mod print;
pub mod quarantine;
pub mod send;
