//! The retention run (`redress retention run`, and daily inside `serve`): every closed
//! complaint past the procedure's `retention_months` with nothing holding it has its personal
//! data erased, as `erase_personal_data` does at once on a customer's request. The rules
//! (when the period ends, what holds it) are the core's `erasure`; this carries them out and
//! then deletes the files erasures left and clears the database's free space.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use redress_core::erasure::{self, Retention};
use redress_core::{Action, Actor, Command, EventKind, Reference};
use serde::Serialize;

use crate::store::{CommandOutcome, Store, StoreError};

/// Said of a letter of a complaint whose personal data was erased.
pub const ERASED_LETTER: &str = "the customer's personal data was erased, and this letter with it; the record keeps that it went";

/// Where an erasure's files are: files_dir (by SHA-256) and the print queue folder.
#[derive(Debug, Clone)]
pub struct Folders {
    pub files_dir: PathBuf,
    pub print_dir: PathBuf,
}

/// What a retention run did (or, dry, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RetentionReport {
    pub as_of: Option<Timestamp>,
    pub dry_run: bool,
    /// Closed complaints looked at.
    pub looked_at: u64,
    pub erased: Vec<Erased>,
    pub held: Vec<Held>,
    /// Closed, and kept: their retention period has not ended.
    pub kept: u64,
    /// Refused by the core at the last moment (changed since it was looked at).
    pub refused: Vec<Held>,
    pub files_deleted: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Erased {
    pub reference: String,
    pub retention_ended: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct Held {
    pub reference: String,
    pub holds: Vec<String>,
}

/// How many complaints are read at a time.
const BATCH: i64 = 200;

/// After a command from a page or the API: when it erased personal data, the files it left
/// go and the database's free space is cleared, before the answer is given.
pub async fn after_command(
    store: &Store,
    folders: &Folders,
    outcome: &CommandOutcome,
) -> Result<(), StoreError> {
    let erased = outcome.refusal.is_none()
        && outcome
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::PersonalDataErased { .. }));
    if erased {
        finish_erasures(store, folders, true).await?;
    }
    Ok(())
}

/// Runs retention as of `as_of`.
pub async fn run(
    store: &Store,
    folders: &Folders,
    as_of: Timestamp,
    dry_run: bool,
) -> Result<RetentionReport, StoreError> {
    let procedure = store.procedure().clone();
    let mut report = RetentionReport {
        as_of: Some(as_of),
        dry_run,
        ..RetentionReport::default()
    };
    let mut after = 0_i64;
    loop {
        let batch = store.retention_candidates(as_of, after, BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        // When each is looked at again, written for the whole batch at once.
        let mut later = Vec::with_capacity(batch.len());
        for candidate in batch {
            report.looked_at += 1;
            let c = &candidate.complaint;
            match erasure::retention(c, as_of, &procedure) {
                Retention::NotApplicable => later.push((candidate.id, None)),
                Retention::Kept { until } => {
                    report.kept += 1;
                    later.push((candidate.id, Some(until)));
                }
                Retention::Held { holds } => {
                    report.held.push(Held {
                        reference: candidate.reference.to_string(),
                        holds: holds.iter().map(erasure::Hold::in_words).collect(),
                    });
                    // Looked at again tomorrow: a hold may be released any day.
                    let tomorrow = as_of
                        .checked_add(jiff::SignedDuration::from_hours(24))
                        .unwrap_or(as_of);
                    later.push((candidate.id, Some(tomorrow)));
                }
                Retention::Erase => {
                    let ended = erasure::retention_ends(c, &procedure).unwrap_or(as_of);
                    if !dry_run
                        && let Some(refusal) =
                            erase(store, &candidate.reference, c.rules.retention_months, as_of)
                                .await?
                    {
                        report.refused.push(Held {
                            reference: candidate.reference.to_string(),
                            holds: vec![refusal],
                        });
                        continue;
                    }
                    report.erased.push(Erased {
                        reference: candidate.reference.to_string(),
                        retention_ended: ended,
                    });
                }
            }
        }
        if !dry_run {
            store.retention_check_at_many(&later).await?;
        }
    }
    if !dry_run {
        report.files_deleted = finish_erasures(store, folders, !report.erased.is_empty()).await?;
    }
    Ok(report)
}

/// Erases one complaint at the end of its retention period, as Redress itself; the refusal's
/// words if the core refuses.
async fn erase(
    store: &Store,
    reference: &Reference,
    months: i64,
    now: Timestamp,
) -> Result<Option<String>, StoreError> {
    let command = Command {
        by: Actor::system(),
        action: Action::ErasePersonalData {
            reason: format!("its retention period of {months} months after closing ended"),
        },
    };
    let outcome = store.run_command(reference, command, now).await?;
    Ok(outcome.refusal.map(|r| r.reason))
}

/// After erasures: deletes the files they left (unless another complaint still holds the same
/// bytes) and, when something was erased (`erased`) or files were left, clears the
/// database's free space. Returns how many files were deleted. Safe to repeat: what a crash
/// left undone is done next time.
pub async fn finish_erasures(
    store: &Store,
    folders: &Folders,
    erased: bool,
) -> Result<u64, StoreError> {
    let mut deleted = 0;
    let names = store.erasure_files().await?;
    for name in &names {
        let path = match name.strip_prefix("print:") {
            Some(file) => safe_join(&folders.print_dir, file),
            None if !store.file_still_held(name).await? => safe_join(&folders.files_dir, name),
            None => None,
        };
        if let Some(path) = path {
            match std::fs::remove_file(&path) {
                Ok(()) => deleted += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(error = %e, "an erased file could not be deleted; the next run tries again");
                    continue;
                }
            }
            if let Some(dir) = path.parent() {
                let _ = crate::durable::sync_dir(dir);
            }
        }
        store.erasure_file_done(name).await?;
    }
    if erased || !names.is_empty() {
        store.compact().await?;
    }
    Ok(deleted)
}

/// `dir/name` for a plain file name only (no folders, no way out of `dir`).
fn safe_join(dir: &Path, name: &str) -> Option<PathBuf> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.contains('\0');
    plain.then(|| dir.join(name))
}

impl RetentionReport {
    /// The report for people, a line each.
    pub fn lines(&self) -> Vec<String> {
        let verb = if self.dry_run {
            "would be erased"
        } else {
            "erased"
        };
        let mut lines = vec![format!(
            "Retention{} as of {}: {} closed complaints looked at; {} {verb}, {} held, {} kept{}.",
            if self.dry_run { " (dry run)" } else { "" },
            self.as_of.map(|t| t.to_string()).unwrap_or_default(),
            self.looked_at,
            self.erased.len(),
            self.held.len(),
            self.kept,
            if self.dry_run {
                String::new()
            } else {
                format!("; {} files deleted", self.files_deleted)
            }
        )];
        for e in &self.erased {
            lines.push(format!(
                "{} {verb}: its retention period ended {}",
                e.reference, e.retention_ended
            ));
        }
        for h in &self.held {
            lines.push(format!("{} held: {}", h.reference, h.holds.join("; ")));
        }
        for r in &self.refused {
            lines.push(format!(
                "{} not erased: {}",
                r.reference,
                r.holds.join("; ")
            ));
        }
        lines
    }
}
