//! What the seeded complaints say: summaries by category, and the words of calls, notes,
//! offers, findings and letters, with amounts in pounds where they belong.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::people::pick;

/// Shares of the complaint categories, after the mix in Ofcom's published complaints data
/// (billing and faults most, then complaints handling, switching and sales). A category of a
/// procedure not listed here gets the share of `other`.
pub const CATEGORY_SHARES: &[(&str, f64)] = &[
    ("billing_pricing_charges", 0.36),
    ("faults_service_provision", 0.30),
    ("complaints_handling", 0.12),
    ("changing_provider", 0.08),
    ("mis_selling", 0.07),
    ("unauthorised_transfer", 0.02),
    ("other", 0.05),
];

pub fn summary(rng: &mut ChaCha8Rng, category: Option<&str>) -> String {
    let options: &[&str] = match category {
        Some("billing_pricing_charges") => &[
            "Charged twice for the same month's broadband",
            "The monthly price went up without the notice the contract promised",
            "Early termination charge disputed: the contract had already ended",
            "A refund promised on the phone has not arrived",
            "Still charged for a TV add-on cancelled in the spring",
            "Roaming charges on a bill for a trip inside the UK",
            "Direct debit taken twice in one month",
        ],
        Some("faults_service_provision") => &[
            "Broadband drops every evening between 7 and 10",
            "No dial tone on the landline for two weeks",
            "The engineer missed two appointments in a row",
            "Mobile signal lost at home since a mast upgrade",
            "Speeds far below the minimum guaranteed at sale",
            "Installation delayed three times; still no service",
            "The router was replaced but the fault came back",
        ],
        Some("complaints_handling") => &[
            "Promised call-backs never came",
            "The advisor was rude and ended the call",
            "The complaint was closed without the customer agreeing",
            "Passed between departments and asked to explain again each time",
            "No reply to two emails about an earlier complaint",
        ],
        Some("changing_provider") => &[
            "Still billed after switching to another provider",
            "The switch was delayed by three weeks",
            "The number was not ported on the agreed date",
            "A final bill charges for a month after the switch",
        ],
        Some("mis_selling") => &[
            "Told the contract was 12 months; it is 24",
            "Sold a speed the line cannot reach",
            "A discount promised in the shop never appeared on the bill",
            "Signed up to a bundle on the doorstep without being told the price",
        ],
        Some("unauthorised_transfer") => &[
            "The line was moved to another provider without consent",
            "Services transferred after a call the customer never made",
        ],
        _ => &[
            "Letters sent to an old address after a change was confirmed",
            "The online account shows someone else's details",
            "A payment arrangement was not honoured",
        ],
    };
    (*pick(rng, options)).to_owned()
}

fn pounds(pence: i64) -> String {
    format!("£{}.{:02}", pence / 100, pence % 100)
}

pub fn offer(rng: &mut ChaCha8Rng, category: Option<&str>) -> String {
    let credit = rng.random_range(5..60) * 100;
    match category {
        Some("billing_pricing_charges") => format!(
            "We will refund the overcharge of {} and add a goodwill credit of {} to your next bill.",
            pounds(rng.random_range(800..9_000)),
            pounds(credit)
        ),
        Some("faults_service_provision") => format!(
            "An engineer will repair the line this week, and we will credit {} for the days without service.",
            pounds(credit)
        ),
        Some("changing_provider") | Some("unauthorised_transfer") => format!(
            "We have cancelled the charges after your switch and will refund {} within ten working days.",
            pounds(rng.random_range(1_500..12_000))
        ),
        Some("mis_selling") => {
            "We will let you leave the contract without a charge, or keep it at the price you were promised.".to_owned()
        }
        _ => format!(
            "We apologise; we have corrected your account and added a goodwill credit of {}.",
            pounds(credit)
        ),
    }
}

pub fn call(rng: &mut ChaCha8Rng) -> String {
    (*pick(
        rng,
        &[
            "Called the customer to go through the problem and the account history",
            "The customer called for an update; explained what happens next",
            "Left a voicemail asking the customer to call back",
            "Called to confirm the engineer's visit and the credit applied",
            "The customer called to say the fault is back",
            "Went through the bills with the customer, line by line",
        ],
    ))
    .to_owned()
}

pub fn note(rng: &mut ChaCha8Rng) -> String {
    (*pick(
        rng,
        &[
            "Checked the line test results for the last 30 days",
            "Network team confirm an outage in the area on the dates given",
            "Billing system shows the duplicate charge; refund raised",
            "Asked the field team for the engineer's visit notes",
            "Account notes from the original sale reviewed",
        ],
    ))
    .to_owned()
}

/// A note for managers only: something a handler need not read.
pub fn restricted_note(rng: &mut ChaCha8Rng) -> String {
    (*pick(
        rng,
        &[
            "Customer disclosed a health condition; support needs recorded with their consent",
            "Possible fraud on the account; referred to the security team",
            "Customer mentioned a solicitor; legal team informed",
            "Safeguarding concern raised with the vulnerable customers team",
        ],
    ))
    .to_owned()
}

pub fn about_staff(rng: &mut ChaCha8Rng) -> String {
    (*pick(
        rng,
        &[
            "Call recording reviewed: the advisor did not follow the complaints process",
            "Advisor spoken to about call handling; coaching arranged",
            "No fault found in the advisor's handling after reviewing the recording",
        ],
    ))
    .to_owned()
}

pub fn rejection(rng: &mut ChaCha8Rng) -> String {
    (*pick(
        rng,
        &[
            "The credit does not cover what I lost",
            "The fault is still there",
            "I want the contract cancelled, not a discount",
            "This does not explain why it happened",
        ],
    ))
    .to_owned()
}

pub fn course_of_events(rng: &mut ChaCha8Rng) -> String {
    format!(
        "Spoke to the customer for {} minutes and recorded the course of events from the first report to the escalation.",
        rng.random_range(15..60)
    )
}

pub fn evidence(rng: &mut ChaCha8Rng, third_party: bool) -> String {
    let options: &[&str] = if third_party {
        &[
            "The network operator's fault records for the line",
            "The gaining provider's record of the transfer order",
            "The installer's job sheet for the visit",
        ]
    } else {
        &[
            "Copies of the bank statements showing the payments",
            "Screenshots of the speed tests",
            "The letter confirming the price at sale",
            "Photos of the router's lights during the fault",
        ]
    };
    (*pick(rng, options)).to_owned()
}

pub fn fault(rng: &mut ChaCha8Rng) -> String {
    (*pick(
        rng,
        &[
            "The line was mis-configured at the exchange after an upgrade",
            "The price change was applied without the notice required",
            "The cancellation was never actioned",
            "The switch order was processed late by our team",
        ],
    ))
    .to_owned()
}

pub fn no_fault(rng: &mut ChaCha8Rng) -> String {
    (*pick(
        rng,
        &[
            "The charges follow the contract the customer signed",
            "Line tests show the service within the guaranteed range",
            "The faults were in the customer's own wiring",
        ],
    ))
    .to_owned()
}

pub fn formal_response(rng: &mut ChaCha8Rng) -> String {
    (*pick(
        rng,
        &[
            "We have investigated each point you raised. We found that we were at fault for part of what happened, and we have put it right as set out below.",
            "Having reviewed the account, the line tests and the calls, we do not uphold your complaint, for the reasons set out below.",
            "We partly uphold your complaint. We have corrected the account and explain below what we could not change.",
        ],
    ))
    .to_owned()
}

pub fn review_outcome(rng: &mut ChaCha8Rng) -> String {
    (*pick(
        rng,
        &[
            "I have reviewed your account and the investigation. I agree with its findings and cannot offer more.",
            "I have reviewed your account and found that more should have been done; we will add a further goodwill credit.",
            "I have reviewed the investigation and uphold it; this is our final position.",
        ],
    ))
    .to_owned()
}

pub fn remedy(rng: &mut ChaCha8Rng) -> String {
    (*pick(
        rng,
        &[
            "Apologise in writing and correct the account",
            "Refund the disputed charges and apologise",
            "Release the customer from the contract without a charge",
            "Repair the service and credit the months without it",
        ],
    ))
    .to_owned()
}
