//! Email ingestion, from any bytes: `examine` (parsing and every filing decision that needs no
//! database) must never panic, and whatever it decides must be something the store and the
//! core will take — a valid customer, texts within the core's limits, attachments within the
//! limits, a complaint choice consistent with the names found.
#![no_main]

// The very file `redress` compiles as `mail::examine`, compiled here on its own.
#[path = "../../src/mail/examine.rs"]
#[allow(dead_code)]
mod examine;

use examine::{Choice, Decision, Limits, examine};
use libfuzzer_sys::fuzz_target;
use redress_core::model::long_text;

/// Panics inside mail-parser are caught by `examine` (it quarantines the message), as in
/// `redress`; libFuzzer's hook would abort on them before they unwind, so let those through.
/// Any other panic still aborts: a crash of ours.
fn let_parser_panics_unwind() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_parser = info
                .location()
                .is_some_and(|l| l.file().contains("mail-parser-"));
            if !in_parser {
                abort(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    let_parser_panics_unwind();
    // Small limits, so that the fuzzer reaches them.
    let limits = Limits {
        message_bytes: 1 << 20,
        attachment_bytes: 2048,
        attachments: 3,
        attachments_total_bytes: 4096,
    };
    let examined = examine(data, "CMP", &limits);
    assert!(!examined.key.is_empty());
    assert!(
        examined.key.len() <= 220,
        "key too long: {}",
        examined.key.len()
    );
    if let Some(subject) = &examined.subject {
        assert!(subject.chars().count() <= 200);
    }
    if let Some(sender) = &examined.sender {
        assert!(sender.chars().count() <= 200);
    }
    let filing = match examined.decision {
        Decision::Quarantine(reason) => {
            assert!(!reason.trim().is_empty());
            return;
        }
        Decision::File(filing) => filing,
    };
    let customer = filing
        .customer
        .clone()
        .validated()
        .expect("the customer is valid");
    assert_eq!(
        customer, filing.customer,
        "the customer is already normalised"
    );
    assert_eq!(
        long_text("the summary", &filing.summary).expect("the summary is valid"),
        filing.summary
    );
    assert_eq!(
        long_text("the description", &filing.description).expect("the description is valid"),
        filing.description
    );
    if let Some(note) = filing.note() {
        assert_eq!(
            long_text("the note", &note).expect("the note is valid"),
            note
        );
    }
    assert!(filing.attachments.len() <= limits.attachments);
    let total: usize = filing.attachments.iter().map(|a| a.bytes.len()).sum();
    assert!(total <= limits.attachments_total_bytes);
    for a in &filing.attachments {
        assert!(!a.bytes.is_empty() && a.bytes.len() <= limits.attachment_bytes);
        assert!(!a.filename.is_empty() && a.filename.chars().count() <= 100);
        assert!(!a.filename.contains(['/', '\\']) && !a.filename.chars().any(char::is_control));
        assert!(a.content_type.contains('/') && a.content_type.len() <= 121);
    }
    assert!(filing.names.len() <= 8);
    for name in &filing.names {
        assert!(name.as_str().starts_with("CMP-"));
    }
    match (filing.names.first(), filing.choose(|_| true)) {
        (Some(first), Choice::AddTo(chosen)) => assert_eq!(first, &chosen),
        (None, Choice::NewComplaint) => assert!(!filing.automatic),
        (None, Choice::Quarantine(_)) => assert!(filing.automatic),
        (first, choice) => panic!("named {first:?} but chose {choice:?}"),
    }
    match filing.choose(|_| false) {
        Choice::NewComplaint => assert!(!filing.automatic),
        Choice::Quarantine(_) => assert!(filing.automatic),
        Choice::AddTo(r) => panic!("chose {r} though no complaint exists"),
    }
});
