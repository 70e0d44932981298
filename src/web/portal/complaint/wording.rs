//! The customer's page in words: where the complaint is and what we owe them (from the
//! core's `owed`), when they may go to the ombudsman, the letters, and the sentences shown
//! once a form worked.

use super::*;

/// "The Escalation Team" in the middle of a sentence: "the Escalation Team".
pub(super) fn mid(name: &str) -> String {
    match name.strip_prefix("The ") {
        Some(rest) => format!("the {rest}"),
        None => name.to_owned(),
    }
}

pub(super) fn department_name(procedure: &Procedure, stage: Stage) -> String {
    procedure
        .department(procedure.department_of(stage))
        .map_or_else(|| procedure.stage(stage).name.clone(), |d| d.name.clone())
}

/// The customer's words for an event, if the core's visibility rule shows it to customers
/// (`redress_core::visibility::customer_sees`).
pub(super) fn customer_sentence(event: &Event, procedure: &Procedure) -> Option<String> {
    if !redress_core::visibility::customer_sees(&event.kind) {
        return None;
    }
    if let EventKind::CompensationApproved { amount_pence, .. } = &event.kind {
        return Some(format!(
            "We offered compensation of {}",
            Money(*amount_pence)
        ));
    }
    Some(words::event_sentence(event, procedure, true))
}

/// A letter's kind in words.
pub(crate) fn letter_words(kind: &str, procedure: &Procedure) -> String {
    match kind {
        "acknowledgement" => "Acknowledgement of your complaint".to_owned(),
        "resolution_offer" => "Our offer to resolve your complaint".to_owned(),
        "escalation_acknowledgement" => "Confirmation that your complaint was escalated".to_owned(),
        "transfer_notice" => format!(
            "Notice that {} is investigating your complaint",
            mid(&department_name(procedure, Stage::CUSTOMER_RESOLUTION))
        ),
        "evidence_request" => "Request for more information".to_owned(),
        "formal_response" => "Our formal written response".to_owned(),
        "adr_notice" => format!("Your right to go to {}", procedure.adr_scheme.name),
        "deadlock_letter" => "Deadlock letter (our final position)".to_owned(),
        "compensation_offer" => "Our offer of compensation".to_owned(),
        "compensation_withdrawn" => "Withdrawal of our offer of compensation".to_owned(),
        "remedy_confirmation" => {
            "Confirmation that we carried out the ombudsman's decision".to_owned()
        }
        other => sentence(&other.replace('_', " "))
            .trim_end_matches('.')
            .to_owned(),
    }
}

pub(super) fn size_words(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

/// What is happening now and what is due, in sentences.
pub(super) fn happening(
    procedure: &Procedure,
    c: &Complaint,
    events: &[Event],
    now: Timestamp,
) -> Vec<String> {
    let mut out = Vec::new();
    let adr = &procedure.adr_scheme.name;
    let handling = department_name(procedure, c.stage);
    match c.status {
        Status::Resolved => out.push(
            "You accepted our resolution, so your complaint is resolved. If things go wrong again, please contact us and we can look at it again."
                .to_owned(),
        ),
        Status::Closed => out.push("Your complaint is closed. If you think it should not be, please contact us.".to_owned()),
        Status::ReferredToAdr => {
            out.push(format!("Your complaint is with {adr}. They will look at it independently and tell you their decision."));
        }
        Status::Deadlocked => out.push(
            "We have sent you a deadlock letter: our final position on your complaint. You can take your complaint to the ombudsman (see below)."
                .to_owned(),
        ),
        Status::ResolutionOffered => {
            out.push("We have offered a resolution. Please tell us below whether you accept it.".to_owned());
        }
        Status::Open => match c.stage.number() {
            1 | 2 => out.push(format!(
                "{handling} are looking into your complaint and will contact you {}.",
                contact_words(c.customer.preferred_channel)
            )),
            3 if c.formal_response_at.is_none() => out.push(format!(
                "{handling} are investigating your complaint in detail. They may contact you to go through what happened, or ask you for documents."
            )),
            3 => out.push(format!(
                "We have sent you our formal written response. If you are unhappy with the outcome, you can ask {} to review your complaint (see below).",
                mid(&department_name(procedure, Stage::RESOLUTION_MANAGER))
            )),
            4 if c.review_outcome_at.is_some() => out.push(format!(
                "{handling} has reviewed your complaint, and we have sent you the outcome of the review."
            )),
            4 => out.push(format!("{handling} is reviewing your complaint.")),
            _ => {}
        },
    }
    // What we owe them, from the core's one answer: due, or late and still not done.
    let live =
        !c.is_settled() && c.status != Status::ReferredToAdr && c.deadlock_issued_at.is_none();
    for item in owed(c, procedure, now) {
        let due = words::date(item.due_by);
        let late = item.standing == Standing::Overdue;
        match item.kind {
            DeadlineKind::Acknowledgement if late => out.push(format!(
                "We should have acknowledged your complaint by {due}. We are sorry this is late."
            )),
            DeadlineKind::Acknowledgement => {
                out.push(format!("We will acknowledge your complaint by {due}."))
            }
            DeadlineKind::FormalResponse if late => {
                let mut text = format!(
                    "Our formal written response was due by {due} and is late. We are sorry."
                );
                if live {
                    text.push_str(&format!(
                        " If {} have passed since you first complained, you can take your complaint to {adr}.",
                        c.rules.adr_period_in_words()
                    ));
                }
                out.push(text);
            }
            DeadlineKind::FormalResponse => out.push(format!(
                "We will send our formal written response by {due}."
            )),
            DeadlineKind::Remedy if late => out.push(
                "We have not yet carried out the ombudsman's decision, and it is late. We are sorry."
                    .to_owned(),
            ),
            DeadlineKind::Remedy => out.push(format!(
                "We will carry out the ombudsman's decision by {due}."
            )),
            DeadlineKind::Evidence => {
                let asked = events.iter().find_map(|e| match &e.kind {
                    EventKind::EvidenceRequested {
                        request,
                        from,
                        description,
                        ..
                    } if Some(*request) == item.request => Some((*from, description.clone())),
                    _ => None,
                });
                match asked {
                    Some((EvidenceSource::Customer, description)) => {
                        let what = description.map(|d| format!(": {d}")).unwrap_or_default();
                        out.push(if late {
                            format!("We asked you for more information{what} by {due}. Please send it as soon as you can, using the form below.")
                        } else {
                            format!("We have asked you for more information{what}. Please send it by {due}, using the form below.")
                        });
                    }
                    _ if late => out.push(format!(
                        "We are still waiting for information from someone else, which was due by {due}."
                    )),
                    _ => out.push(format!(
                        "We are waiting for information from someone else, which is due by {due}."
                    )),
                }
            }
            // The ADR point is said in its own section (see `ombudsman`).
            DeadlineKind::Adr => {}
        }
    }
    out
}

/// When the customer may go to the ombudsman, in sentences.
pub(super) fn ombudsman(procedure: &Procedure, c: &Complaint) -> Vec<String> {
    let adr = &procedure.adr_scheme.name;
    let rules = &c.rules;
    let months = rules.adr_referral_window_months;
    if c.referred_at.is_some() || c.stage == Stage::OMBUDSMAN {
        return vec![format!(
            "Your complaint is with {adr}. You can contact them about it using the details below."
        )];
    }
    if c.adr_eligible_at.is_some() {
        let mut out = vec![if c.deadlock_issued_at.is_some() {
            format!(
                "Because we have sent you a deadlock letter, you can take your complaint to {adr} now."
            )
        } else {
            format!(
                "{} have passed since you first complained, so you can take your complaint to {adr} now if you are not happy with how we have handled it.",
                rules.adr_period_in_words()
            )
        }];
        if let Some(letter_at) = c.adr_letter_sent_at() {
            out.push(format!(
                "You have until {} to do so ({months} months from the date of our letter). It is free for you.",
                words::date(referral_window_ends(c, letter_at, procedure))
            ));
        } else {
            out.push("It is free for you.".to_owned());
        }
        return out;
    }
    if c.is_settled() {
        return vec![format!(
            "If you think we have not resolved your complaint, you can take it to {adr}, an independent ombudsman, once {} have passed since you first complained, or after we send you a deadlock letter. It is free for you.",
            rules.adr_period_in_words()
        )];
    }
    let from = redress_core::owed::adr_reached_on(c, procedure);
    vec![
        format!(
            "If your complaint is not resolved by {} ({} after you first complained), you can take it to {adr}, an independent ombudsman. It is free for you.",
            words::date(from),
            rules.adr_period_in_words()
        ),
        format!(
            "You can go sooner if we send you a deadlock letter (our final position). You then have {months} months from the date of our letter to go to them."
        ),
    ]
}

pub(super) fn adr_contact(procedure: &Procedure) -> AdrContact {
    let adr = &procedure.adr_scheme;
    AdrContact {
        description: adr.description.clone(),
        address: adr.address.clone(),
        telephone: adr.telephone.clone(),
        telephone_href: adr
            .telephone
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect(),
        textphone: adr.textphone.clone(),
        facsimile: adr.facsimile.clone(),
        website: adr.website.clone(),
    }
}

/// The confirmation shown after a form worked (fixed sentences: nothing from the address).
pub(super) fn done_words(done: &str, procedure: &Procedure) -> Option<String> {
    Some(match done {
        "accepted" => "Thank you. You have accepted our resolution.".to_owned(),
        "rejected" => {
            "Thank you. We have noted that you do not accept our offer, and we will be in touch."
                .to_owned()
        }
        "escalated" => format!(
            "Your complaint has been escalated to {}. They will be in touch.",
            mid(&department_name(procedure, Stage::ESCALATION_TEAM))
        ),
        "review" => format!(
            "We have passed your message to {}, who will review your complaint.",
            mid(&department_name(procedure, Stage::RESOLUTION_MANAGER))
        ),
        "compensation" => "Thank you. You have accepted our offer of compensation.".to_owned(),
        "evidence" => {
            "Thank you. We have received what you sent and added it to your complaint.".to_owned()
        }
        _ => return None,
    })
}
