//! The regulatory rules Redress knows, by date, checked against a procedure: where the
//! procedure says otherwise, a warning with its source. Warnings never fail a procedure (the
//! provider may have reasons, and a rule may not yet be confirmed); they are printed by
//! `redress procedure check`, logged by `serve` at start and shown on the staff dashboard to
//! managers and compliance. The facts and their sources are in `docs/compliance.md`.

use jiff::civil::Date;
use serde::Serialize;

use crate::procedure::Procedure;

/// One way a procedure differs from a rule in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleWarning {
    /// A short stable name: `adr_point`, `scheme_name`, `scheme_address`, `general_conditions`.
    pub rule: &'static str,
    pub message: String,
    pub source: &'static str,
}

impl std::fmt::Display for RuleWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (source: {})", self.message, self.source)
    }
}

/// The date from which Ofcom requires the ADR letter at 6 weeks.
pub const SIX_WEEKS_FROM: &str = "2026-04-08";
const SIX_WEEKS_SOURCE: &str = "Ofcom, Review of ADR in the telecoms sector, statement of 8 July 2025 (6 weeks from April 2026; the date 8 April 2026 as reported)";
const SCHEME_SOURCE: &str = "the scheme's own listing: Ombudsman Services: Communications trades as the Communications Ombudsman (Trust Alliance Group), PO Box 730, Warrington WA4 6WU, 0330 440 1614";
const CONDITIONS_SOURCE: &str = "Ofcom General Conditions of Entitlement: the sales conditions once numbered 22 and 23 are now C7 (switching, mis-selling) and C8 (mobile sales)";

/// Every warning for the procedure.
pub fn check(p: &Procedure) -> Vec<RuleWarning> {
    let mut out = Vec::new();
    adr_point(p, &mut out);
    scheme(p, &mut out);
    conditions(p, &mut out);
    out
}

/// From 8 April 2026 the ADR letter is due at 6 weeks: every rule version in force on or after
/// that date must say so.
fn adr_point(p: &Procedure, out: &mut Vec<RuleWarning>) {
    let from: Date = SIX_WEEKS_FROM.parse().expect("a date");
    for (i, r) in p.rules.iter().enumerate() {
        let until = p.rules.get(i + 1).map(|next| next.effective_from);
        let in_force_after = until.is_none_or(|u| u > from);
        if in_force_after && r.adr_after_weeks > 6 {
            out.push(RuleWarning {
                rule: "adr_point",
                message: format!(
                    "from {from} Ofcom requires the ADR letter at 6 weeks; rules version {} of this procedure (in force from {}) says {} weeks: add a [[rules]] version effective {from} with adr_after_weeks = 6",
                    i + 1,
                    r.effective_from,
                    r.adr_after_weeks
                ),
                source: SIX_WEEKS_SOURCE,
            });
        }
    }
}

fn scheme(p: &Procedure, out: &mut Vec<RuleWarning>) {
    let s = &p.adr_scheme;
    let old = |text: &str| text.contains("Ombudsman Services");
    let stage5 = p.stages.iter().find(|st| st.number == 5);
    let named_old = old(&s.name)
        || s.description.as_deref().is_some_and(old)
        || s.address.iter().any(|l| old(l))
        || stage5.is_some_and(|st| old(&st.name) || st.description.as_deref().is_some_and(old));
    if named_old {
        out.push(RuleWarning {
            rule: "scheme_name",
            message: "the ADR scheme is named 'Ombudsman Services: Communications', which now trades as the Communications Ombudsman: rename it in [adr_scheme] and stage 5".to_owned(),
            source: SCHEME_SOURCE,
        });
    }
    let full_address = s.address.join(" ");
    if s.name.contains("Communications Ombudsman")
        && (!full_address.contains("WA4 6WU") || !full_address.contains("PO Box 730"))
    {
        out.push(RuleWarning {
            rule: "scheme_address",
            message: format!(
                "the Communications Ombudsman's address is PO Box 730, Warrington WA4 6WU; [adr_scheme] gives '{full_address}'"
            ),
            source: SCHEME_SOURCE,
        });
    }
    if s.name.contains("Communications Ombudsman") && s.telephone.trim() != "0330 440 1614" {
        out.push(RuleWarning {
            rule: "scheme_address",
            message: format!(
                "the Communications Ombudsman's telephone number is 0330 440 1614; [adr_scheme] gives '{}'",
                s.telephone
            ),
            source: SCHEME_SOURCE,
        });
    }
}

/// Old General Condition numbers (22, 23, 24) cited anywhere the customer reads.
fn conditions(p: &Procedure, out: &mut Vec<RuleWarning>) {
    let cites_old = |text: &str| {
        let t = text.to_lowercase();
        [
            "general condition 22",
            "general condition 23",
            "general condition 24",
            "general conditions 22",
            "gc22",
            "gc 22",
            "gc23",
            "gc 23",
        ]
        .iter()
        .any(|old| t.contains(old))
    };
    let mut places: Vec<String> = Vec::new();
    for (i, line) in p.organisation.codes_of_practice.iter().enumerate() {
        if cites_old(line) {
            places.push(format!("organisation.codes_of_practice[{i}]"));
        }
    }
    for st in &p.stages {
        if st.description.as_deref().is_some_and(cites_old) {
            places.push(format!("stages[{}].description", st.number - 1));
        }
    }
    if !places.is_empty() {
        out.push(RuleWarning {
            rule: "general_conditions",
            message: format!(
                "{} cite{} General Conditions 22 and 23, now C7 and C8",
                places.join(", "),
                if places.len() == 1 { "s" } else { "" }
            ),
            source: CONDITIONS_SOURCE,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_as_published_is_warned_on_each_rule() {
        let warnings = check(&Procedure::default_procedure());
        let rules: Vec<&str> = warnings.iter().map(|w| w.rule).collect();
        assert_eq!(
            rules,
            vec!["adr_point", "scheme_name", "general_conditions"],
            "{warnings:#?}"
        );
        assert!(warnings[0].message.contains("from 2026-04-08 Ofcom requires the ADR letter at 6 weeks; rules version 1 of this procedure"), "{}", warnings[0]);
        assert!(warnings[0].message.contains("says 8 weeks"));
    }

    #[test]
    fn the_2026_example_checks_with_no_warnings() {
        let text = include_str!("../../../examples/procedure-kinex-2026.toml");
        let p = Procedure::from_toml(text).expect("a valid procedure");
        assert_eq!(check(&p), Vec::new());
        assert_eq!(p.warnings(), Vec::<String>::new());
        assert_eq!(p.rules.len(), 2);
        assert_eq!(p.rules[1].adr_after_weeks, 6);
    }
}
