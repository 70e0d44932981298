//! The pure core of Redress: the procedure, the five-stage ladder and its clocks.
//!
//! No I/O, no system clock, no async: every function takes `now` and the [`Procedure`] it
//! needs. The three functions every shell uses:
//! - [`decide`] (and [`receive`] for a new complaint): a command becomes events or a refusal;
//! - [`apply`]: an event changes a complaint;
//! - [`deadlines`]: the clocks running on a complaint, and [`fire_due`] to fire those due.
//!
//! [`execute`] and [`open`] combine them in the order the procedure requires.

pub mod actions;
pub mod automatic;
pub mod clock;
pub mod command;
pub mod complaint;
pub mod correspondence;
pub mod deadline;
pub mod decide;
pub mod erasure;
pub mod event;
pub mod holidays;
pub mod letters;
pub mod model;
pub mod owed;
pub mod procedure;
pub mod regulation;
pub mod report;
pub mod staffing;
pub mod visibility;

pub use actions::{ActionInfo, ActionKind};
pub use command::{Action, Asker, Command, Receive};
pub use complaint::{Complaint, apply};
pub use deadline::{Deadline, DeadlineKind, deadlines, fire, fire_due, next_due};
pub use decide::{
    Outcome, Refusal, RefusalCode, authorise, available, decide, execute, open, receive,
};
pub use event::{Event, EventKind};
pub use letters::{LetterContext, LetterKind, Letters, Recipient, RenderedLetter};
pub use model::{Actor, Channel, Customer, Money, Reference, Role, Stage, Status};
pub use owed::{Owed, Standing, owed};
pub use procedure::{Procedure, ProcedureErrors, Rules};
pub use visibility::{Sight, sight};
