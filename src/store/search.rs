//! Search: what a complaint's search document holds, and a person's search turned into a
//! full-text query (SQLite FTS5 over `complaints_search`, PostgreSQL `tsvector` over the GIN
//! index `complaints_search`; both built by migration 0007).
//!
//! Both backends split the document at anything that is not a letter or a digit and compare
//! words without case, so a search finds the same complaints on either. A person types a word
//! or the start of one: each word they type must start a word of the complaint's, and the parts
//! of one typed word (`KX-A1`, `ann@example.org`) must follow one another. Telephone numbers and
//! postcodes are normalised on both sides, so `+44 7700 900123`, `07700900123` and
//! `07700 900 123` all find the same complaint, as do `sw1a1aa` and `SW1A 1AA`.

use redress_core::Complaint;
use redress_core::model::Postcode;

/// At most this many typed words are searched for; more narrow nothing a person needs.
const MAX_WORDS: usize = 8;
/// Longer runs of letters are cut: no word of a complaint's is longer that anyone types.
const MAX_TOKEN: usize = 64;

/// The words a complaint is found by: reference, account, name, postcode (as written and
/// without its space), email, telephone (normalised) and the complaint's own words, lower case.
pub(crate) fn document(c: &Complaint) -> String {
    let mut doc = String::with_capacity(c.summary.len() + 160);
    let mut push = |part: &str| {
        if !part.is_empty() {
            if !doc.is_empty() {
                doc.push(' ');
            }
            doc.push_str(&part.to_lowercase());
        }
    };
    push(c.reference.as_str());
    push(&c.customer.account);
    push(&c.customer.name);
    if let Some(postcode) = &c.customer.postcode {
        push(postcode.as_str());
        push(&postcode.as_str().replace(' ', ""));
    }
    push(c.customer.email.as_deref().unwrap_or(""));
    if let Some(phone) = c.customer.telephone.as_deref().and_then(telephone) {
        push(&phone);
    }
    push(&c.summary);
    doc
}

/// A UK telephone number as digits only, the country code +44 written as a leading 0; `None`
/// when it is not made of digits and the usual separators, or is too short to be a number.
pub(crate) fn telephone(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty()
        || !text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '+' | '.'))
    {
        return None;
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let national = if text.starts_with('+') || text.starts_with("0044") {
        let rest = digits
            .strip_prefix("0044")
            .or_else(|| digits.strip_prefix("44"))?;
        // +44 (0)20 ...: the 0 in brackets is written by habit and dialled by nobody.
        let rest = rest.strip_prefix('0').unwrap_or(rest);
        format!("0{rest}")
    } else {
        digits
    };
    (national.len() >= 6 && national.len() <= 15).then_some(national)
}

/// A person's search, as words each made of one or more parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Terms {
    words: Vec<Vec<String>>,
}

impl Terms {
    /// The words of a search, or `None` when it holds no letter or digit.
    pub(crate) fn parse(q: &str) -> Option<Terms> {
        let q = q.trim();
        // A telephone number is one word however it is spaced.
        if let Some(phone) = telephone(q).filter(|_| q.chars().any(|c| !c.is_ascii_digit())) {
            return Some(Terms {
                words: vec![vec![phone]],
            });
        }
        // A postcode: its two halves, in order.
        if let Ok(postcode) = Postcode::parse(q) {
            let parts = postcode
                .as_str()
                .split(' ')
                .map(str::to_lowercase)
                .collect();
            return Some(Terms { words: vec![parts] });
        }
        let words: Vec<Vec<String>> = q
            .split_whitespace()
            .map(parts)
            .filter(|parts| !parts.is_empty())
            .take(MAX_WORDS)
            .collect();
        (!words.is_empty()).then_some(Terms { words })
    }

    /// An FTS5 query: each word a phrase of its parts, the last part a prefix; all words.
    pub(crate) fn fts5(&self) -> String {
        self.words
            .iter()
            .map(|parts| format!("\"{}\"*", parts.join(" ")))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// A PostgreSQL tsquery: each word its parts in sequence, the last a prefix; all words.
    pub(crate) fn tsquery(&self) -> String {
        self.words
            .iter()
            .map(|parts| format!("({}:*)", parts.join(" <-> ")))
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

/// The letters-and-digits runs of one typed word, lower case. Nothing else reaches a query,
/// so no character of a search can be read as query syntax.
fn parts(word: &str) -> Vec<String> {
    word.split(|c: char| !c.is_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| p.to_lowercase().chars().take(MAX_TOKEN).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Terms, telephone};

    #[test]
    fn telephone_numbers_are_normalised() {
        assert_eq!(telephone("+44 7700 900123").as_deref(), Some("07700900123"));
        assert_eq!(
            telephone("+44 (0)20 7946 0018").as_deref(),
            Some("02079460018")
        );
        assert_eq!(
            telephone("0044 20 7946 0018").as_deref(),
            Some("02079460018")
        );
        assert_eq!(telephone("07700-900-123").as_deref(), Some("07700900123"));
        assert_eq!(telephone("Ann"), None);
        assert_eq!(telephone("123"), None);
        assert_eq!(telephone("+1 555 0100"), None);
    }

    #[test]
    fn searches_become_queries_of_words_and_parts() {
        let t = Terms::parse("KX-A1").unwrap();
        assert_eq!(t.fts5(), "\"kx a1\"*");
        assert_eq!(t.tsquery(), "(kx <-> a1:*)");
        let t = Terms::parse("  Ann   Baker ").unwrap();
        assert_eq!(t.fts5(), "\"ann\"* AND \"baker\"*");
        assert_eq!(t.tsquery(), "(ann:*) & (baker:*)");
        assert_eq!(Terms::parse("sw1a1aa").unwrap().fts5(), "\"sw1a 1aa\"*");
        assert_eq!(
            Terms::parse("07700 900 123").unwrap().fts5(),
            "\"07700900123\"*"
        );
        // A number without separators is a word like any other (a reference's digits).
        assert_eq!(Terms::parse("000012").unwrap().fts5(), "\"000012\"*");
    }

    #[test]
    fn query_syntax_in_a_search_is_only_ever_text() {
        for q in ["\"", "*", "' OR 1=1 --", "a:* | b", "NEAR(x y)", "!!", "()"] {
            if let Some(t) = Terms::parse(q) {
                for s in [t.fts5(), t.tsquery()] {
                    let inner: String = s
                        .chars()
                        .filter(|c| {
                            !matches!(c, '"' | '*' | '(' | ')' | ':' | '&' | '<' | '>' | '-' | ' ')
                        })
                        .collect();
                    assert!(inner.chars().all(char::is_alphanumeric), "{q} gave {s}");
                }
            }
        }
        assert_eq!(Terms::parse("  -- ** "), None);
    }
}
