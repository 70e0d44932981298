//! The table itself: one entry per command, in the order of the ladder.
//!
//! The words are those the staff pages show. Where they name a department, they say
//! `{stage2}`, `{stage3}` or `{stage4}`: the procedure's own name for that stage goes in
//! ([`ActionInfo::label_in`] and its siblings), so another procedure's names are never wrong.

use crate::command::{Action, Asker};
use crate::event::{EvidenceSource, OmbudsmanOutcome};
use crate::model::Stage;

use super::{ActionInfo, ActionKind, FieldInfo, FieldKind, Item, Limit, Who};

const STAFF: Who = Who {
    asker: Asker::Staff,
    compliance: false,
    only_compliance: false,
    also_stage: None,
    manager_at_any_stage: false,
};

const COMPLIANCE_ONLY: Who = Who {
    compliance: true,
    only_compliance: true,
    ..STAFF
};

const CUSTOMER: Who = Who {
    asker: Asker::Customer,
    ..STAFF
};

/// How a message reached us (`Channel`), with the words the staff pages use.
pub(super) const CHANNELS: &[(&str, &str)] = &[
    ("telephone", "Telephone"),
    ("email", "Email"),
    ("letter", "Letter"),
    ("web", "Web form"),
    ("textphone", "Textphone or text relay"),
];

/// The kinds of Ofcom's automatic compensation (`AutoKind`), with the words the pages use.
const AUTOMATIC_KINDS: &[(&str, &str)] = &[
    ("delayed_repair", "A delayed repair"),
    ("missed_appointment", "A missed engineer appointment"),
    ("delayed_provision", "A delayed start of a new service"),
];

/// How a customer may ask to be contacted (`Channel`, as the portal offers it).
const CONTACT_CHANNELS: &[(&str, &str)] = &[
    ("email", "Email"),
    ("letter", "Letter"),
    ("telephone", "Telephone"),
    ("textphone", "Textphone or text relay"),
];

const fn optional(
    name: &'static str,
    kind: FieldKind,
    what: &'static str,
    label: &'static str,
) -> FieldInfo {
    FieldInfo {
        name,
        kind,
        required: false,
        default: None,
        alias: None,
        what,
        label,
    }
}

const fn required(
    name: &'static str,
    kind: FieldKind,
    what: &'static str,
    label: &'static str,
) -> FieldInfo {
    FieldInfo {
        required: true,
        ..optional(name, kind, what, label)
    }
}

/// An optional free-text field that the API also accepts as `text`.
const fn or_text(name: &'static str, what: &'static str, label: &'static str) -> FieldInfo {
    FieldInfo {
        alias: Some("text"),
        ..optional(name, FieldKind::LongText, what, label)
    }
}

/// Why, in the customer's or our words (optional; also accepted as `text`).
const fn reason(label: &'static str) -> FieldInfo {
    or_text("reason", "the reason", label)
}

/// What, in words (optional; also accepted as `text`).
const fn description(label: &'static str) -> FieldInfo {
    or_text("description", "the description", label)
}

/// How a message reached us or was sent (optional).
const fn channel(what: &'static str, label: &'static str) -> FieldInfo {
    optional("channel", FieldKind::Choice(CHANNELS), what, label)
}

/// A sample's free text.
fn text() -> String {
    "a sample".to_owned()
}

/// One entry, with the words and fields that differ from command to command.
#[expect(
    clippy::too_many_arguments,
    reason = "each entry of the table reads as one call, its values in the order of the columns"
)]
const fn entry(
    kind: ActionKind,
    name: &'static str,
    label: &'static str,
    in_words: &'static str,
    button: &'static str,
    done: &'static str,
    fields: &'static [FieldInfo],
    sample: Option<fn() -> Action>,
) -> ActionInfo {
    ActionInfo {
        kind,
        name,
        label,
        in_words,
        button,
        done,
        warning: false,
        fields,
        who: STAFF,
        portal: false,
        sample,
    }
}

/// A command the customer takes, which the portal offers.
const fn on_portal(info: ActionInfo) -> ActionInfo {
    ActionInfo {
        who: CUSTOMER,
        portal: true,
        ..info
    }
}

pub(super) const TABLE: [ActionInfo; 33] = [
    entry(
        ActionKind::Acknowledge,
        "acknowledge",
        "Acknowledge the complaint",
        "acknowledge the complaint",
        "Record the acknowledgement",
        "The acknowledgement was recorded.",
        &[channel(
            "how it was sent",
            "How the acknowledgement was sent",
        )],
        Some(|| Action::Acknowledge { channel: None }),
    ),
    ActionInfo {
        who: Who {
            compliance: true,
            ..STAFF
        },
        ..entry(
            ActionKind::AddNote,
            "add_note",
            "Add a note",
            "add a note",
            "Add the note",
            "Your note was added.",
            &[
                required("text", FieldKind::LongText, "the note", "Note"),
                FieldInfo {
                    default: Some("false"),
                    ..optional(
                        "restricted",
                        FieldKind::Bool,
                        "whether it is for managers only",
                        "For managers only",
                    )
                },
                optional(
                    "about_staff",
                    FieldKind::Text,
                    "the staff member",
                    "A staff member the note is about (optional)",
                ),
            ],
            Some(|| Action::AddNote {
                text: text(),
                restricted: false,
                about_staff: None,
            }),
        )
    },
    entry(
        ActionKind::RecordCall,
        "record_call",
        "Record a telephone call",
        "record a call",
        "Record the call",
        "The call was recorded.",
        &[
            FieldInfo {
                default: Some("inbound"),
                ..optional(
                    "direction",
                    FieldKind::Choice(&[
                        ("inbound", "The customer called us"),
                        ("outbound", "We called the customer"),
                    ]),
                    "who called",
                    "Who called",
                )
            },
            or_text("summary", "what was said", "What was said"),
            optional(
                "duration_minutes",
                FieldKind::Number {
                    min: 0,
                    max: Limit::Fixed(24 * 60),
                },
                "the length of the call",
                "Length of the call in minutes (optional)",
            ),
        ],
        Some(|| Action::RecordCall {
            direction: Default::default(),
            summary: Some(text()),
            duration_minutes: None,
        }),
    ),
    entry(
        ActionKind::Assign,
        "assign",
        "Assign the complaint",
        "assign the complaint",
        "Assign",
        "The complaint was assigned.",
        &[required(
            "handler",
            FieldKind::Text,
            "the handler",
            "Handler",
        )],
        None,
    ),
    entry(
        ActionKind::NameStaffConcerned,
        "name_staff_concerned",
        "Name a staff member concerned",
        "name a staff member concerned",
        "Name the staff member",
        "The staff member concerned was named.",
        &[required(
            "staff",
            FieldKind::Text,
            "the staff member",
            "Staff member concerned",
        )],
        None,
    ),
    entry(
        ActionKind::OfferResolution,
        "offer_resolution",
        "Offer a resolution",
        "offer a resolution",
        "Record the offer",
        "The resolution offered was recorded.",
        &[required(
            "text",
            FieldKind::LongText,
            "the resolution offered",
            "The resolution offered",
        )],
        Some(|| Action::OfferResolution { text: text() }),
    ),
    on_portal(entry(
        ActionKind::AcceptResolution,
        "accept_resolution",
        "The customer accepts the resolution",
        "accept the resolution",
        "Record the acceptance",
        "The customer's acceptance of the resolution was recorded.",
        &[],
        Some(|| Action::AcceptResolution {}),
    )),
    on_portal(entry(
        ActionKind::RejectResolution,
        "reject_resolution",
        "The customer does not accept the resolution",
        "reject the resolution",
        "Record the answer",
        "The customer's rejection of the resolution was recorded.",
        &[reason("Why the customer does not accept it (optional)")],
        Some(|| Action::RejectResolution { reason: None }),
    )),
    ActionInfo {
        who: Who {
            also_stage: Some(Stage::ESCALATION_TEAM),
            ..CUSTOMER
        },
        ..on_portal(entry(
            ActionKind::RequestEscalation,
            "request_escalation",
            "The customer asks to escalate",
            "ask for escalation",
            "Escalate the complaint",
            "The complaint was escalated to the {stage2}.",
            &[
                channel("how the customer asked", "How the customer asked"),
                reason("Why the customer is not satisfied (optional)"),
            ],
            Some(|| Action::RequestEscalation {
                channel: None,
                reason: None,
            }),
        ))
    },
    entry(
        ActionKind::TransferToResolution,
        "transfer_to_resolution",
        "Transfer to the {stage3}",
        "transfer the complaint to the {stage3}",
        "Transfer the complaint",
        "The complaint was transferred to the {stage3}.",
        &[reason("Why it cannot be resolved here (optional)")],
        Some(|| Action::TransferToResolution { reason: None }),
    ),
    entry(
        ActionKind::RequestEvidence,
        "request_evidence",
        "Ask for evidence",
        "request evidence",
        "Record the request",
        "The request for evidence was recorded.",
        &[
            required(
                "from",
                FieldKind::Choice(&[
                    ("customer", "The customer"),
                    ("third_party", "A third party"),
                ]),
                "who the evidence is from",
                "Who the evidence is from",
            ),
            required(
                "due_days",
                FieldKind::Number {
                    min: 1,
                    max: Limit::EvidenceMaxDays,
                },
                "the days allowed",
                "Days allowed",
            ),
            description("What is needed (optional)"),
        ],
        Some(|| Action::RequestEvidence {
            from: EvidenceSource::Customer,
            due_days: 1,
            description: None,
        }),
    ),
    on_portal(entry(
        ActionKind::ReceiveEvidence,
        "receive_evidence",
        "Record evidence received",
        "record evidence received",
        "Record the evidence",
        "The evidence received was recorded.",
        &[
            optional(
                "request",
                FieldKind::Item(Item::EvidenceRequest),
                "the request",
                "Which request it answers",
            ),
            description("What was received (optional)"),
            channel("how it arrived", "How it arrived"),
        ],
        Some(|| Action::ReceiveEvidence {
            request: None,
            description: None,
            channel: None,
        }),
    )),
    entry(
        ActionKind::RecordCourseOfEvents,
        "record_course_of_events",
        "Record the course of events",
        "record the course of events",
        "Record the course of events",
        "The course of events was recorded.",
        &[required(
            "text",
            FieldKind::LongText,
            "the course of events",
            "The course of events",
        )],
        Some(|| Action::RecordCourseOfEvents { text: text() }),
    ),
    entry(
        ActionKind::EstablishFault,
        "establish_fault",
        "Establish genuine fault",
        "establish fault",
        "Record the finding",
        "The finding of genuine fault was recorded.",
        &[description("What went wrong (optional)")],
        Some(|| Action::EstablishFault { description: None }),
    ),
    entry(
        ActionKind::FindNoFault,
        "find_no_fault",
        "Find no fault",
        "find no fault",
        "Record the finding",
        "The finding of no fault was recorded.",
        &[reason("Why there was no fault (optional)")],
        Some(|| Action::FindNoFault { reason: None }),
    ),
    entry(
        ActionKind::OfferCompensation,
        "offer_compensation",
        "Offer compensation",
        "offer compensation",
        "Record the offer",
        "The compensation offer was recorded.",
        &[
            required(
                "amount_pence",
                FieldKind::MoneyPence {
                    min: 1,
                    max: Limit::CompensationMaxPence,
                },
                "the amount",
                "Amount in pounds",
            ),
            reason("What it is for (optional)"),
        ],
        Some(|| Action::OfferCompensation {
            amount_pence: 1,
            reason: None,
        }),
    ),
    ActionInfo {
        who: Who {
            manager_at_any_stage: true,
            ..STAFF
        },
        ..entry(
            ActionKind::ApproveCompensation,
            "approve_compensation",
            "Approve compensation",
            "approve compensation",
            "Approve",
            "The compensation was approved.",
            &[optional(
                "offer",
                FieldKind::Item(Item::CompensationOffer),
                "the offer",
                "Which offer",
            )],
            Some(|| Action::ApproveCompensation { offer: None }),
        )
    },
    on_portal(entry(
        ActionKind::AcceptCompensation,
        "accept_compensation",
        "The customer accepts compensation",
        "accept compensation",
        "Record the acceptance",
        "The customer's acceptance of the compensation was recorded.",
        &[optional(
            "offer",
            FieldKind::Item(Item::CompensationOffer),
            "the offer",
            "Which offer",
        )],
        Some(|| Action::AcceptCompensation { offer: None }),
    )),
    entry(
        ActionKind::UpdateCustomer,
        "update_customer",
        "Update the customer's details",
        "update the customer's details",
        "Update the details",
        "The customer's details were updated.",
        &[
            optional("name", FieldKind::Text, "the name", "Name"),
            optional(
                "email",
                FieldKind::Text,
                "the email address",
                "Email address",
            ),
            optional(
                "telephone",
                FieldKind::Text,
                "the telephone number",
                "Telephone",
            ),
            optional(
                "address",
                FieldKind::LongText,
                "the postal address",
                "Postal address, a line each",
            ),
            optional("postcode", FieldKind::Text, "the postcode", "Postcode"),
            optional(
                "preferred_channel",
                FieldKind::Choice(CONTACT_CHANNELS),
                "how to contact them",
                "How they would like us to contact them",
            ),
            optional(
                "accessibility_needs",
                FieldKind::LongText,
                "accessibility needs",
                "Accessibility needs, one a line",
            ),
            optional(
                "vulnerabilities",
                FieldKind::LongText,
                "circumstances",
                "Circumstances that make them vulnerable, one a line",
            ),
        ],
        Some(|| Action::UpdateCustomer {
            name: None,
            email: None,
            telephone: Some("0161 000 0000".into()),
            address: None,
            postcode: None,
            preferred_channel: None,
            accessibility_needs: None,
            vulnerabilities: None,
        }),
    ),
    entry(
        ActionKind::WithdrawOffer,
        "withdraw_offer",
        "Withdraw a compensation offer",
        "withdraw a compensation offer",
        "Withdraw the offer",
        "The compensation offer was withdrawn.",
        &[
            optional(
                "offer",
                FieldKind::Item(Item::CompensationOffer),
                "the offer",
                "Which offer",
            ),
            required(
                "reason",
                FieldKind::LongText,
                "the reason",
                "Why it is withdrawn",
            ),
        ],
        Some(|| Action::WithdrawOffer {
            offer: None,
            reason: "Made in error".into(),
        }),
    ),
    entry(
        ActionKind::IssueFormalResponse,
        "issue_formal_response",
        "Issue the formal written response",
        "issue the formal written response",
        "Record the response as issued",
        "The formal written response was recorded as issued.",
        &[optional(
            "text",
            FieldKind::LongText,
            "the response",
            "The response, or a summary of it (optional)",
        )],
        Some(|| Action::IssueFormalResponse { text: None }),
    ),
    ActionInfo {
        who: Who {
            also_stage: Some(Stage::RESOLUTION_MANAGER),
            ..CUSTOMER
        },
        ..on_portal(entry(
            ActionKind::RequestManagerReview,
            "request_manager_review",
            "The customer asks the {stage4} to review",
            "ask for the {stage4}'s review",
            "Record the request",
            "The customer's request for the {stage4}'s review was recorded.",
            &[optional(
                "text",
                FieldKind::LongText,
                "the customer's letter",
                "The customer's letter, or a summary of it (optional)",
            )],
            Some(|| Action::RequestManagerReview { text: None }),
        ))
    },
    entry(
        ActionKind::RecordReviewOutcome,
        "record_review_outcome",
        "Record the outcome of the review",
        "record the outcome of the {stage4}'s review",
        "Record the outcome",
        "The outcome of the review was recorded.",
        &[required(
            "text",
            FieldKind::LongText,
            "the outcome of the review",
            "The outcome of the review",
        )],
        Some(|| Action::RecordReviewOutcome { text: text() }),
    ),
    ActionInfo {
        warning: true,
        ..entry(
            ActionKind::IssueDeadlockLetter,
            "issue_deadlock_letter",
            "Issue a deadlock letter",
            "issue a deadlock letter",
            "Issue the deadlock letter",
            "The deadlock letter was recorded as issued.",
            &[optional(
                "text",
                FieldKind::LongText,
                "the letter",
                "The letter, or a summary of it (optional)",
            )],
            Some(|| Action::IssueDeadlockLetter { text: None }),
        )
    },
    // The customer goes to the ombudsman themselves; staff record it, so the portal has no
    // form for it.
    ActionInfo {
        who: Who {
            also_stage: Some(Stage::OMBUDSMAN),
            ..CUSTOMER
        },
        ..entry(
            ActionKind::ReferToOmbudsman,
            "refer_to_ombudsman",
            "Record a referral to the ombudsman",
            "record a referral to the ombudsman",
            "Record the referral",
            "The referral to the ombudsman was recorded.",
            &[optional(
                "ombudsman_reference",
                FieldKind::Text,
                "the ombudsman's reference",
                "The ombudsman's reference (optional)",
            )],
            Some(|| Action::ReferToOmbudsman {
                ombudsman_reference: None,
            }),
        )
    },
    entry(
        ActionKind::RecordOmbudsmanDecision,
        "record_ombudsman_decision",
        "Record the ombudsman's decision",
        "record the ombudsman's decision",
        "Record the decision",
        "The ombudsman's decision was recorded.",
        &[
            required(
                "outcome",
                FieldKind::Choice(&[
                    ("upheld", "Upheld"),
                    ("partly_upheld", "Partly upheld"),
                    ("not_upheld", "Not upheld"),
                ]),
                "the decision",
                "The ombudsman's decision",
            ),
            required(
                "customer_accepted",
                FieldKind::Bool,
                "whether the customer accepted it",
                "Did the customer accept the decision?",
            ),
            optional(
                "remedy",
                FieldKind::LongText,
                "the remedy",
                "The remedy required (optional)",
            ),
            optional(
                "award_pence",
                FieldKind::MoneyPence {
                    min: 0,
                    max: Limit::AwardLimitPence,
                },
                "the award",
                "Award in pounds (optional)",
            ),
        ],
        Some(|| Action::RecordOmbudsmanDecision {
            outcome: OmbudsmanOutcome::Upheld,
            customer_accepted: true,
            remedy: None,
            award_pence: None,
        }),
    ),
    entry(
        ActionKind::CompleteRemedy,
        "complete_remedy",
        "Complete the ombudsman's remedy",
        "complete the remedy",
        "Record the remedy as completed",
        "The ombudsman's remedy was recorded as completed.",
        &[optional(
            "text",
            FieldKind::LongText,
            "the description",
            "What was done (optional)",
        )],
        Some(|| Action::CompleteRemedy { text: None }),
    ),
    ActionInfo {
        warning: true,
        ..entry(
            ActionKind::Close,
            "close",
            "Close the complaint",
            "close the complaint",
            "Close the complaint",
            "The complaint was closed.",
            &[reason("Why it is being closed (optional)")],
            Some(|| Action::Close { reason: None }),
        )
    },
    entry(
        ActionKind::Reopen,
        "reopen",
        "Reopen the complaint",
        "reopen the complaint",
        "Reopen the complaint",
        "The complaint was reopened.",
        &[reason("Why it is being reopened (optional)")],
        Some(|| Action::Reopen { reason: None }),
    ),
    ActionInfo {
        who: Who {
            manager_at_any_stage: true,
            ..STAFF
        },
        ..entry(
            ActionKind::RecordAutomaticCompensation,
            "record_automatic_compensation",
            "Record automatic compensation paid",
            "record automatic compensation",
            "Record the payment",
            "The automatic compensation paid was recorded.",
            &[
                required(
                    "kind",
                    FieldKind::Choice(AUTOMATIC_KINDS),
                    "the kind",
                    "What it is paid for (Ofcom's automatic compensation scheme)",
                ),
                required(
                    "amount_pence",
                    FieldKind::MoneyPence {
                        min: 1,
                        max: Limit::CompensationMaxPence,
                    },
                    "the amount",
                    "Amount paid in pounds (as the calculator works it out)",
                ),
            ],
            Some(|| Action::RecordAutomaticCompensation {
                kind: crate::automatic::AutoKind::MissedAppointment,
                amount_pence: 3231,
            }),
        )
    },
    ActionInfo {
        who: COMPLIANCE_ONLY,
        ..entry(
            ActionKind::PlaceLegalHold,
            "place_legal_hold",
            "Place a legal hold",
            "place a legal hold",
            "Place the hold",
            "A legal hold was placed: the complaint's personal data is kept until it is released.",
            &[required(
                "reason",
                FieldKind::LongText,
                "the reason",
                "Why the record must be kept (litigation, a regulator's inquiry)",
            )],
            Some(|| Action::PlaceLegalHold {
                reason: "Litigation".into(),
            }),
        )
    },
    ActionInfo {
        who: COMPLIANCE_ONLY,
        ..entry(
            ActionKind::ReleaseLegalHold,
            "release_legal_hold",
            "Release the legal hold",
            "release the legal hold",
            "Release the hold",
            "The legal hold was released.",
            &[required(
                "reason",
                FieldKind::LongText,
                "the reason",
                "Why the hold is no longer needed",
            )],
            Some(|| Action::ReleaseLegalHold {
                reason: "Proceedings ended".into(),
            }),
        )
    },
    ActionInfo {
        who: COMPLIANCE_ONLY,
        warning: true,
        ..entry(
            ActionKind::ErasePersonalData,
            "erase_personal_data",
            "Erase the customer's personal data",
            "erase the customer's personal data",
            "Erase the personal data",
            "The customer's personal data was erased; what reports need is kept.",
            &[required(
                "reason",
                FieldKind::LongText,
                "the reason",
                "Why (the customer's request, and when it was made)",
            )],
            Some(|| Action::ErasePersonalData {
                reason: "The customer asked".into(),
            }),
        )
    },
];
