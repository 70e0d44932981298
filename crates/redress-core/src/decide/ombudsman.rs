//! Stage 5, the ombudsman (the ADR scheme): the referral, within the window the ADR letter
//! gave; the scheme's decision; and the remedy the provider must then carry out.

use crate::clock;
use crate::deadline::referral_window_ends;
use crate::event::{Event, EventKind, OmbudsmanOutcome};
use crate::model::{self, Money, Stage};

use super::context::Context;
use super::refusal::{Refusal, RefusalCode, invalid, optional_text, refuse};

pub(super) fn refer_to_ombudsman(
    cx: &Context<'_>,
    ombudsman_reference: Option<String>,
) -> Result<Vec<Event>, Refusal> {
    let (c, rules, tz) = (cx.c, cx.rules(), cx.tz());
    if c.stage == Stage::OMBUDSMAN {
        return refuse(
            RefusalCode::AlreadyDone,
            "the complaint has already been referred to the ombudsman",
        );
    }
    if c.adr_eligible_at.is_none() {
        let point = clock::days_passed_at(tz, c.first_received_at, rules.adr_after_days());
        return refuse(
            RefusalCode::NotYet,
            format!(
                "the customer can go to the ombudsman once {} weeks have passed since the complaint was first received (on {}), or once a deadlock letter has been sent",
                rules.adr_after_weeks,
                clock::local_date(tz, point)
            ),
        );
    }
    if let Some(letter) = c.adr_letter_sent_at() {
        let ends = referral_window_ends(c, letter, cx.procedure);
        if clock::local_date(tz, cx.now) > ends {
            return refuse(
                RefusalCode::TooLate,
                format!(
                    "the ombudsman accepts a complaint within {} months of the ADR letter; that time ended on {ends}",
                    rules.adr_referral_window_months
                ),
            );
        }
    }
    let ombudsman_reference = match ombudsman_reference {
        Some(r) if !r.trim().is_empty() => {
            Some(model::short_text("the ombudsman's reference", &r).map_err(invalid)?)
        }
        _ => None,
    };
    cx.one(EventKind::ReferredToOmbudsman {
        from_stage: c.stage,
        ombudsman_reference,
    })
}

pub(super) fn record_ombudsman_decision(
    cx: &Context<'_>,
    outcome: OmbudsmanOutcome,
    customer_accepted: bool,
    remedy: Option<String>,
    award_pence: Option<i64>,
) -> Result<Vec<Event>, Refusal> {
    let c = cx.c;
    if c.stage != Stage::OMBUDSMAN {
        return refuse(
            RefusalCode::NotYet,
            "the ombudsman's decision can only be recorded once the complaint has been referred to the ombudsman",
        );
    }
    if c.ombudsman.is_some() {
        return refuse(
            RefusalCode::AlreadyDone,
            "the ombudsman's decision has already been recorded",
        );
    }
    let limit = cx.procedure.adr_scheme.award_limit_pence;
    if let Some(award) = award_pence {
        if !(0..=limit).contains(&award) {
            return refuse(
                RefusalCode::InvalidInput,
                format!("the ombudsman can award at most {}", Money(limit)),
            );
        }
        if award > 0 && !outcome.requires_remedy() {
            return refuse(
                RefusalCode::InvalidInput,
                "a decision that does not uphold the complaint carries no award",
            );
        }
    }
    let remedy = optional_text("the remedy", remedy)?;
    // The remedy's clock runs only once the customer accepts a decision that needs one.
    let remedy_due_by = (customer_accepted && outcome.requires_remedy()).then(|| {
        cx.rules().period_last_day(
            crate::procedure::Period::Remedy,
            cx.procedure,
            cx.now,
            cx.rules().remedy_days,
        )
    });
    cx.one(EventKind::OmbudsmanDecided {
        outcome,
        customer_accepted,
        remedy,
        award_pence,
        remedy_due_by,
    })
}

pub(super) fn complete_remedy(
    cx: &Context<'_>,
    text: Option<String>,
) -> Result<Vec<Event>, Refusal> {
    if !cx.c.remedy_outstanding() {
        return refuse(
            RefusalCode::NotYet,
            "there is no ombudsman remedy waiting to be completed",
        );
    }
    let text = optional_text("the description", text)?;
    cx.one(EventKind::RemedyCompleted { text })
}
