//! Plain words for people: what happened (the timeline), and how long each clock has left.
//! Dates are London dates, written the British way ("7 April 2026"). Below both the web pages
//! and the mail shell, which word letters and pages alike.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use redress_core::deadline::DeadlineKind;
use redress_core::event::{AdrReason, EvidenceSource, OmbudsmanOutcome};
use redress_core::{Event, EventKind, Money, Procedure, Role, Rules, Stage};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "7 April 2026".
pub fn date(d: Date) -> String {
    let month = MONTHS
        .get(usize::try_from(d.month() - 1).unwrap_or(0))
        .copied()
        .unwrap_or("");
    format!("{} {month} {}", d.day(), d.year())
}

/// "7 April 2026 at 14:05" in London time.
pub fn instant(t: Timestamp, tz: &TimeZone) -> String {
    let local = tz.to_datetime(t);
    format!(
        "{} at {:02}:{:02}",
        date(local.date()),
        local.hour(),
        local.minute()
    )
}

/// What a clock is for, in words; the ADR point's period is the complaint's own (`rules`).
pub fn deadline_label(kind: DeadlineKind, rules: &Rules) -> String {
    match kind {
        DeadlineKind::Acknowledgement => "acknowledgement".to_owned(),
        DeadlineKind::Evidence => "evidence".to_owned(),
        DeadlineKind::FormalResponse => "formal response".to_owned(),
        DeadlineKind::Adr => format!("{}-week ombudsman point", rules.adr_after_weeks),
        DeadlineKind::Remedy => "ombudsman remedy".to_owned(),
    }
}

/// How the clock stands, e.g. "formal response due in 3 days", "due today", "overdue by 2 days".
/// `due_by` is the last London date to act on; `today` is today's London date.
pub fn time_left(kind: DeadlineKind, due_by: Date, today: Date, rules: &Rules) -> String {
    let label = deadline_label(kind, rules);
    let days = (due_by - today).get_days();
    if kind == DeadlineKind::Adr {
        // The ADR point is when the customer may go to the ombudsman, not a task that is due.
        let period = rules.adr_period_in_words();
        return match days {
            d if d <= 0 => {
                format!("{period} have passed: the customer may go to the ombudsman")
            }
            1 => format!("{period} pass tomorrow"),
            d => format!("{period} pass in {d} days"),
        };
    }
    match days {
        d if d < -1 => format!("{label} overdue by {} days", -d),
        -1 => format!("{label} overdue by 1 day"),
        0 => format!("{label} due today"),
        1 => format!("{label} due tomorrow"),
        d => format!("{label} due in {d} days"),
    }
}

/// Whether a clock is past its last day.
pub fn is_overdue(due_by: Date, today: Date) -> bool {
    due_by < today
}

fn who(event: &Event, procedure: &Procedure) -> String {
    match event.by.role {
        Role::Customer => "You".to_owned(),
        Role::System => "Redress".to_owned(),
        _ => event
            .by
            .department
            .as_deref()
            .and_then(|d| procedure.department(d))
            .map_or_else(|| "Our staff".to_owned(), |d| d.name.clone()),
    }
}

/// One event as a sentence. `for_customer` speaks to the customer ("you") and leaves out
/// internal detail.
pub fn event_sentence(event: &Event, procedure: &Procedure, for_customer: bool) -> String {
    let tz = procedure.time_zone();
    let customer = if for_customer { "You" } else { "The customer" };
    let stage_name = |n: redress_core::Stage| procedure.stage(n).name.clone();
    let by = who(event, procedure);
    let by = if !for_customer && by == "You" {
        "The customer".to_owned()
    } else {
        by
    };
    match &event.kind {
        EventKind::Received(r) => format!(
            "Complaint received by {} on {}",
            r.channel.as_str(),
            instant(r.received_at, tz)
        ),
        EventKind::Acknowledged { .. } => "We acknowledged the complaint".to_owned(),
        EventKind::SubjectAccessExported { .. } => {
            format!("{by} exported everything held about the customer, at their request")
        }
        EventKind::AutomaticCompensationPaid { kind, amount_pence } => format!(
            "{by} recorded {} of automatic compensation paid for {}",
            Money(*amount_pence),
            kind.in_words()
        ),
        EventKind::LegalHoldPlaced { reason } => {
            format!("{by} placed a legal hold on the record: {reason}")
        }
        EventKind::LegalHoldReleased { reason } => {
            format!("{by} released the legal hold: {reason}")
        }
        EventKind::PersonalDataErased {
            on_request, events, ..
        } => {
            let why = if *on_request {
                "at the customer's request"
            } else {
                "at the end of the retention period"
            };
            format!(
                "The customer's personal data was erased {why} ({events} entries blanked); what reports need is kept"
            )
        }
        EventKind::CaseFileGenerated { files, .. } => {
            format!("{by} made the case file for the ombudsman ({files} files)")
        }
        EventKind::LetterSent {
            letter,
            kind,
            route,
            ..
        } => format!(
            "Letter {letter} ({}) {}; a copy of it as sent is kept",
            kind.as_str().replace('_', " "),
            match route {
                redress_core::correspondence::Route::Email => "emailed",
                redress_core::correspondence::Route::Post => "put in the print queue",
            }
        ),
        EventKind::NoteAdded { restricted, .. } => {
            if *restricted {
                format!("{by} added a note for managers")
            } else {
                format!("{by} added a note")
            }
        }
        EventKind::CallRecorded { summary, .. } => format!("{by} recorded a call: {summary}"),
        EventKind::HandlerAssigned { handler } => format!("Assigned to {handler}"),
        EventKind::StaffConcernedNamed { staff, .. } => {
            format!("{staff} named as a staff member concerned")
        }
        EventKind::ResolutionOffered { text, .. } => format!("{by} offered a resolution: {text}"),
        EventKind::ResolutionAccepted {} => format!("{customer} accepted the resolution"),
        EventKind::ResolutionRejected { .. } => format!("{customer} did not accept the resolution"),
        EventKind::Escalated { to_stage, .. } => format!("Escalated to {}", stage_name(*to_stage)),
        EventKind::Transferred {
            to_stage,
            response_due_by,
            ..
        } => format!(
            "Transferred to {} for a detailed investigation; formal written response due by {}",
            stage_name(*to_stage),
            date(*response_due_by)
        ),
        EventKind::EvidenceRequested {
            from,
            due_by,
            description,
            ..
        } => {
            let from = match from {
                EvidenceSource::Customer if for_customer => "you",
                EvidenceSource::Customer => "the customer",
                EvidenceSource::ThirdParty => "a third party",
            };
            let what = description
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            format!("We asked {from} for evidence by {}{what}", date(*due_by))
        }
        EventKind::EvidenceReceived { .. } => "Evidence received".to_owned(),
        EventKind::EvidenceOverdue { .. } => {
            "Evidence we asked for did not arrive in time".to_owned()
        }
        EventKind::CourseOfEventsRecorded { .. } => "We recorded the course of events".to_owned(),
        EventKind::FaultEstablished { .. } => "We found that we were at fault".to_owned(),
        EventKind::NoFaultFound { .. } => "We found no fault on our part".to_owned(),
        EventKind::CompensationOffered {
            amount_pence,
            approved,
            ..
        } => {
            if *approved || for_customer {
                format!("We offered compensation of {}", Money(*amount_pence))
            } else {
                format!(
                    "Compensation of {} proposed, waiting for approval",
                    Money(*amount_pence)
                )
            }
        }
        EventKind::CompensationApproved { amount_pence, .. } => {
            format!("Compensation of {} approved", Money(*amount_pence))
        }
        EventKind::CompensationAccepted { amount_pence, .. } => {
            format!(
                "{customer} accepted compensation of {}",
                Money(*amount_pence)
            )
        }
        EventKind::CustomerUpdated { changed, .. } => {
            let fields: Vec<&str> = changed
                .iter()
                .map(|f| match f.as_str() {
                    "name" => "name",
                    "email" => "email address",
                    "telephone" => "telephone number",
                    "address" => "postal address",
                    "postcode" => "postcode",
                    "preferred_channel" => "how to contact",
                    "accessibility_needs" => "accessibility needs",
                    "vulnerabilities" => "circumstances",
                    _ => "details",
                })
                .collect();
            if for_customer {
                format!("We updated your details: {}", fields.join(", "))
            } else {
                format!("{by} updated the customer's details: {}", fields.join(", "))
            }
        }
        EventKind::CompensationWithdrawn {
            offer,
            amount_pence,
            reason,
            ..
        } => {
            if for_customer {
                format!(
                    "We withdrew our offer of {} in compensation",
                    Money(*amount_pence)
                )
            } else {
                format!(
                    "{by} withdrew compensation offer {offer} of {}: {reason}",
                    Money(*amount_pence)
                )
            }
        }
        EventKind::FormalResponseIssued { .. } => "We sent our formal written response".to_owned(),
        EventKind::ResponseOverdue { .. } => "Our formal written response is overdue".to_owned(),
        EventKind::AcknowledgementOverdue { .. } => "Our acknowledgement is overdue".to_owned(),
        EventKind::ManagerReviewRequested { .. } => format!(
            "{customer} asked the {} to review the complaint",
            procedure.stage(Stage::RESOLUTION_MANAGER).name
        ),
        EventKind::ReviewOutcomeRecorded { .. } => format!(
            "We sent the outcome of the {}'s review",
            procedure.stage(Stage::RESOLUTION_MANAGER).name
        ),
        EventKind::DeadlockIssued { .. } => {
            "We sent a deadlock letter (our final position)".to_owned()
        }
        EventKind::AdrEligible { because, .. } => match because {
            AdrReason::PeriodPassed => format!(
                "{customer} may now take the complaint to {}",
                procedure.adr_scheme.name
            ),
            AdrReason::DeadlockLetter => format!(
                "{customer} may take the complaint to {} at once",
                procedure.adr_scheme.name
            ),
        },
        EventKind::AdrNoticeSent {
            referral_window_ends,
            ..
        } => format!(
            "We wrote about the right to go to {} (until {})",
            procedure.adr_scheme.name,
            date(*referral_window_ends)
        ),
        EventKind::ReferredToOmbudsman { .. } => {
            format!("The complaint went to {}", procedure.adr_scheme.name)
        }
        EventKind::OmbudsmanDecided {
            outcome,
            customer_accepted,
            remedy_due_by,
            ..
        } => {
            let outcome = match outcome {
                OmbudsmanOutcome::Upheld => "upheld the complaint",
                OmbudsmanOutcome::PartlyUpheld => "partly upheld the complaint",
                OmbudsmanOutcome::NotUpheld => "did not uphold the complaint",
            };
            let accepted = if *customer_accepted {
                "accepted"
            } else {
                "did not accept"
            };
            let due = remedy_due_by
                .map(|d| format!("; we must carry it out by {}", date(d)))
                .unwrap_or_default();
            format!(
                "The ombudsman {outcome}; {} {accepted} the decision{due}",
                customer.to_lowercase()
            )
        }
        EventKind::RemedyCompleted { .. } => "We carried out the ombudsman's remedy".to_owned(),
        EventKind::RemedyOverdue { .. } => "The ombudsman's remedy is overdue".to_owned(),
        EventKind::Closed { .. } => "The complaint was closed".to_owned(),
        EventKind::Reopened { .. } => "The complaint was reopened".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date as d;

    #[test]
    fn clocks_read_in_plain_words() {
        let today = d(2026, 4, 4);
        let rules = Procedure::default_procedure().rules_for(today);
        assert_eq!(
            time_left(DeadlineKind::FormalResponse, d(2026, 4, 7), today, &rules),
            "formal response due in 3 days"
        );
        assert_eq!(
            time_left(DeadlineKind::FormalResponse, d(2026, 4, 5), today, &rules),
            "formal response due tomorrow"
        );
        assert_eq!(
            time_left(DeadlineKind::Evidence, d(2026, 4, 4), today, &rules),
            "evidence due today"
        );
        assert_eq!(
            time_left(DeadlineKind::FormalResponse, d(2026, 4, 3), today, &rules),
            "formal response overdue by 1 day"
        );
        assert_eq!(
            time_left(DeadlineKind::FormalResponse, d(2026, 4, 2), today, &rules),
            "formal response overdue by 2 days"
        );
        assert_eq!(
            time_left(DeadlineKind::Adr, d(2026, 4, 14), today, &rules),
            "8 weeks pass in 10 days"
        );
        // The period is the complaint's own: under 6-week rules the words say 6 weeks.
        let six = Rules {
            adr_after_weeks: 6,
            ..rules
        };
        assert_eq!(
            time_left(DeadlineKind::Adr, d(2026, 4, 14), today, &six),
            "6 weeks pass in 10 days"
        );
        assert_eq!(
            deadline_label(DeadlineKind::Adr, &six),
            "6-week ombudsman point"
        );
        assert!(is_overdue(d(2026, 4, 3), today) && !is_overdue(today, today));
    }

    #[test]
    fn dates_are_written_the_british_way() {
        assert_eq!(date(d(2026, 4, 7)), "7 April 2026");
        let tz = TimeZone::get("Europe/London").expect("London");
        assert_eq!(
            instant("2026-04-07T13:05:00Z".parse().expect("instant"), &tz),
            "7 April 2026 at 14:05"
        );
    }
}

/// What `redress compensation quote` and the case page's calculator ask: the kind and the
/// fields that kind needs, as given.
#[derive(Debug, Clone, Default)]
pub struct QuoteAsked<'a> {
    pub kind: &'a str,
    pub reported: Option<jiff::Timestamp>,
    pub restored: Option<jiff::Timestamp>,
    pub nation: &'a str,
    pub date: Option<jiff::civil::Date>,
    pub due: Option<jiff::civil::Date>,
    pub started: Option<jiff::civil::Date>,
}

/// Works out an automatic compensation amount with the procedure's rates and bank holidays,
/// or says in a sentence what is missing or wrong.
pub fn quote(
    procedure: &Procedure,
    asked: &QuoteAsked<'_>,
) -> Result<redress_core::automatic::Quote, String> {
    use redress_core::automatic::{self, AutoKind};
    let kind = AutoKind::parse(asked.kind).ok_or_else(|| {
        format!(
            "'{}' is not a kind of automatic compensation; the kinds are delayed_repair, missed_appointment, delayed_provision",
            asked.kind.chars().take(40).collect::<String>()
        )
    })?;
    let rates = &procedure.automatic_compensation;
    let need = |what: &str| format!("{} needs {what}", kind.as_str());
    match kind {
        AutoKind::DelayedRepair => {
            let reported = asked
                .reported
                .ok_or_else(|| need("--reported (RFC 3339)"))?;
            let restored = asked
                .restored
                .ok_or_else(|| need("--restored (RFC 3339)"))?;
            let nation: redress_core::holidays::Nation = asked.nation.parse()?;
            automatic::delayed_repair(
                rates,
                procedure.calendar(nation),
                procedure.time_zone(),
                reported,
                restored,
            )
        }
        AutoKind::MissedAppointment => {
            let date = asked.date.ok_or_else(|| need("--date (YYYY-MM-DD)"))?;
            automatic::missed_appointment(rates, date)
        }
        AutoKind::DelayedProvision => {
            let due = asked.due.ok_or_else(|| need("--due (YYYY-MM-DD)"))?;
            let started = asked
                .started
                .ok_or_else(|| need("--started (YYYY-MM-DD)"))?;
            automatic::delayed_provision(rates, due, started)
        }
    }
}
