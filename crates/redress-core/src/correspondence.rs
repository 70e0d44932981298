//! Which letter an event causes, to whom, and by which route: the procedure's rule for what the
//! provider writes, kept beside the other rules so every shell (the store's outbox, previews,
//! tests) asks the same question and gets the same answer.

use serde::{Deserialize, Serialize};

use crate::complaint::Complaint;
use crate::event::{Event, EventKind, EvidenceSource};
use crate::letters::{LetterKind, Recipient};
use crate::model::Channel;

/// How a letter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Email,
    Post,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Email => "email",
            Route::Post => "post",
        }
    }
}

/// A letter an event calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caused {
    pub kind: LetterKind,
    pub recipient: Recipient,
    pub route: Route,
}

/// The letter `event` causes on `complaint` (the complaint as it stands after the event), if
/// any. Only an evidence request can go to a third party.
pub fn caused_by(event: &Event, complaint: &Complaint) -> Option<Caused> {
    let (kind, recipient) = letter_and_recipient(event, complaint)?;
    Some(Caused {
        kind,
        recipient,
        route: route(complaint, recipient),
    })
}

fn letter_and_recipient(event: &Event, complaint: &Complaint) -> Option<(LetterKind, Recipient)> {
    let customer = |kind| Some((kind, Recipient::Customer));
    match &event.kind {
        EventKind::Acknowledged { .. } => customer(LetterKind::Acknowledgement),
        EventKind::ResolutionOffered { .. } => customer(LetterKind::ResolutionOffer),
        EventKind::Escalated { .. } => customer(LetterKind::EscalationAcknowledgement),
        EventKind::Transferred { .. } => customer(LetterKind::TransferNotice),
        EventKind::EvidenceRequested { from, .. } => Some((
            LetterKind::EvidenceRequest,
            match from {
                EvidenceSource::Customer => Recipient::Customer,
                EvidenceSource::ThirdParty => Recipient::ThirdParty,
            },
        )),
        EventKind::FormalResponseIssued { .. } => customer(LetterKind::FormalResponse),
        EventKind::ReviewOutcomeRecorded { .. } => customer(LetterKind::ManagerReviewOutcome),
        EventKind::AdrNoticeSent { .. } => customer(LetterKind::AdrNotice),
        EventKind::DeadlockIssued { .. } => customer(LetterKind::DeadlockLetter),
        EventKind::CompensationOffered { approved: true, .. }
        | EventKind::CompensationApproved { .. } => customer(LetterKind::CompensationOffer),
        // An offer the customer was told of is taken back in writing too; one that never
        // reached them needs no letter (its own letter is held back: [`cancels`]).
        EventKind::CompensationWithdrawn {
            made_to_customer: true,
            ..
        } => customer(LetterKind::CompensationWithdrawn),
        // The customer accepted a decision that asks something of us: we confirm what we will
        // do and by when; and again once it is done.
        EventKind::OmbudsmanDecided {
            customer_accepted: true,
            outcome,
            ..
        } if outcome.requires_remedy() => customer(LetterKind::RemedyConfirmation),
        EventKind::RemedyCompleted { .. } if complaint.ombudsman.is_some() => {
            customer(LetterKind::RemedyConfirmation)
        }
        _ => None,
    }
}

/// The member of staff `event` should tell by email (their identifier): whoever is given a
/// complaint by someone else. Giving it to oneself tells nobody.
pub fn staff_notice(event: &Event) -> Option<&str> {
    match &event.kind {
        EventKind::HandlerAssigned { handler }
            if !event
                .by
                .staff
                .as_deref()
                .is_some_and(|by| by.trim().eq_ignore_ascii_case(handler.trim())) =>
        {
            Some(handler.as_str())
        }
        _ => None,
    }
}

/// The letter not yet sent that `event` makes wrong, if any: the offer letter of compensation
/// withdrawn before it went out (its kind and the offer). The store holds it back.
pub fn cancels(event: &Event) -> Option<(LetterKind, u32)> {
    match &event.kind {
        EventKind::CompensationWithdrawn { offer, .. } => {
            Some((LetterKind::CompensationOffer, *offer))
        }
        _ => None,
    }
}

/// Which offer a letter caused by `event` is about, if it is about one.
pub fn offer_of(event: &Event) -> Option<u32> {
    match &event.kind {
        EventKind::CompensationOffered { offer, .. }
        | EventKind::CompensationApproved { offer, .. }
        | EventKind::CompensationWithdrawn { offer, .. } => Some(*offer),
        _ => None,
    }
}

/// By email where the customer gave an address and did not ask for letters; by post
/// otherwise, and always by post to a third party (we hold no address for them: staff address
/// it from the print queue).
pub fn route(complaint: &Complaint, recipient: Recipient) -> Route {
    match (
        recipient,
        &complaint.customer.email,
        complaint.customer.preferred_channel,
    ) {
        (Recipient::ThirdParty, _, _) => Route::Post,
        (Recipient::Customer, Some(_), Some(Channel::Email) | None) => Route::Email,
        _ => Route::Post,
    }
}
