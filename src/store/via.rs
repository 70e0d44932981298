//! Through what a change came (the staff pages, the API, email, the scheduler, the letter
//! sender, the command line): set by each shell around the work it does, read by the store
//! when it writes an event (`events.via`, migration 0012), and shown to compliance staff in a
//! complaint's audit trail. It is not part of the hashed event: it says how the event arrived,
//! not what it is.

use std::future::Future;

tokio::task_local! {
    static VIA: &'static str;
}

/// The staff pages and the portal.
pub const WEB: &str = "web";
/// The JSON API (a bearer token).
pub const API: &str = "api";
/// An email filed (IMAP, a pipe from the mail server, or the inbound API).
pub const EMAIL: &str = "email";
/// The deadline scheduler.
pub const SCHEDULER: &str = "scheduler";
/// The letter sender.
pub const SENDER: &str = "sender";
/// A command run from the command line.
pub const COMMAND_LINE: &str = "command line";

/// Runs `work` with its events recorded as coming through `via`.
pub async fn through<F: Future>(via: &'static str, work: F) -> F::Output {
    VIA.scope(via, work).await
}

/// Through what the work now running came, when a shell said.
pub fn current() -> Option<&'static str> {
    VIA.try_with(|via| *via).ok()
}
